/**
 * lib/maintenance.ts: the etcd flags of the maintenance settings, the
 * defragmentation timer and service as whole unit text, and the problems the
 * builder refuses. tests/local-maintenance.test.ts runs the script and the
 * timer on a local cluster with real etcd.
 */
import { expect } from "chai";
import { buildIgnitionConfig } from "../lib/ignition";
import {
    dailyCalendarEvent, defragmentScript, defragmentScriptPath, maintenanceFlags, maintenancePart, maintenanceProblems,
} from "../lib/maintenance";

const context = { memberName: "kv-2", metadataEnvironmentFile: "/run/metadata/afterburn", privateIpVariable: "AFTERBURN_AWS_IPV4_LOCAL" };

describe("member maintenance (lib/maintenance.ts)", () => {
    describe("etcd's flags", () => {
        it("compact every hour, set the quota in bytes and the snapshot count, and serve metrics on 2381", () => {
            expect(maintenanceFlags({ quotaBackendMiB: 8192, snapshotCount: 10000 })).to.deep.equal([
                "--auto-compaction-mode=periodic",
                "--auto-compaction-retention=1h",
                "--quota-backend-bytes=8589934592",
                "--snapshot-count=10000",
                "--listen-metrics-urls=http://0.0.0.0:2381",
            ]);
        });

        it("leave the quota and snapshot count to etcd when they are not given", () => {
            expect(maintenanceFlags({})).to.deep.equal([
                "--auto-compaction-mode=periodic", "--auto-compaction-retention=1h", "--listen-metrics-urls=http://0.0.0.0:2381",
            ]);
        });
    });

    describe("the defragmentation timer", () => {
        it("fires daily at the member's time, in UTC, and is not made up after downtime", () => {
            const timer = maintenancePart({ defragmentationTime: { hourUtc: 9, minute: 5 } }, context).units[0];
            expect(timer).to.deep.equal({
                name: "etcd-member-defragment.timer",
                enabled: true,
                contents: [
                    "[Unit]",
                    "Description=Defragment etcd member kv-2's backend daily at 09:05 UTC, a time no other member uses",
                    "",
                    "[Timer]",
                    "OnCalendar=*-*-* 09:05:00 UTC",
                    "Persistent=false",
                    "",
                    "[Install]",
                    "WantedBy=timers.target",
                    "",
                ].join("\n"),
            });
        });

        it("starts a oneshot that runs the script against the member's private address, after etcd and its promotion", () => {
            const service = maintenancePart({ defragmentationTime: { hourUtc: 9, minute: 5 } }, context).units[1];
            expect(service).to.deep.equal({
                name: "etcd-member-defragment.service",
                enabled: false,
                contents: [
                    "[Unit]",
                    "Description=Defragment etcd member kv-2's backend if every member is healthy and enough of it is free",
                    "After=etcd-member.service etcd-member-promote.service",
                    "",
                    "[Service]",
                    "Type=oneshot",
                    "EnvironmentFile=/run/metadata/afterburn",
                    "EnvironmentFile=/etc/etcd3-cluster/member.env",
                    "ExecStart=/bin/bash /opt/etcd3-cluster/etcd-member-defragment ${AFTERBURN_AWS_IPV4_LOCAL}",
                    "",
                ].join("\n"),
            });
        });

        it("writes the script, executable", () => {
            expect(maintenancePart({ defragmentationTime: { hourUtc: 0, minute: 0 } }, context).files)
                .to.deep.equal([{ path: defragmentScriptPath, mode: 0o755, contents: defragmentScript }]);
        });

        it("is left out, with its service and script, without a defragmentation time", () => {
            expect(maintenancePart({ quotaBackendMiB: 1024 }, context)).to.deep.equal({ units: [], files: [] });
        });

        it("names midnight and single-digit times with two digits each", () => {
            expect([{ hourUtc: 0, minute: 0 }, { hourUtc: 23, minute: 59 }].map(dailyCalendarEvent))
                .to.deep.equal(["*-*-* 00:00:00 UTC", "*-*-* 23:59:00 UTC"]);
        });
    });

    describe("problems", () => {
        it("accepts the limits and nothing given", () => {
            expect([
                {}, { quotaBackendMiB: 16, snapshotCount: 1000, defragmentationTime: { hourUtc: 0, minute: 0 } },
                { quotaBackendMiB: 8192, snapshotCount: 1_000_000, defragmentationTime: { hourUtc: 23, minute: 59 } },
            ].map(maintenanceProblems)).to.deep.equal([[], [], []]);
        });

        it("refuses each value beyond its limits, naming it", () => {
            expect(maintenanceProblems({ quotaBackendMiB: 8193, snapshotCount: 999, defragmentationTime: { hourUtc: 24, minute: 0 } })).to.deep.equal([
                "quotaBackendMiB 8193: use a whole number of MiB from 16 to 8192",
                "snapshotCount 999: use a whole number from 1000 to 1000000",
                "defragmentationTime {\"hourUtc\":24,\"minute\":0}: use { hourUtc: 0 to 23, minute: 0 to 59 }",
            ]);
        });

        it("refuses a minute past 59 and a value that is not whole", () => {
            expect([
                maintenanceProblems({ defragmentationTime: { hourUtc: 3, minute: 60 } }),
                maintenanceProblems({ quotaBackendMiB: 15 }),
                maintenanceProblems({ snapshotCount: 1000.5 }),
            ]).to.deep.equal([
                ["defragmentationTime {\"hourUtc\":3,\"minute\":60}: use { hourUtc: 0 to 23, minute: 0 to 59 }"],
                ["quotaBackendMiB 15: use a whole number of MiB from 16 to 8192"],
                ["snapshotCount 1000.5: use a whole number from 1000 to 1000000"],
            ]);
        });

        it("refuses a defragmentation time that is null, as it would any other value that is not a time", () => {
            expect(maintenanceProblems({ defragmentationTime: null as unknown as undefined }))
                .to.deep.equal(["defragmentationTime null: use { hourUtc: 0 to 23, minute: 0 to 59 }"]);
        });

        it("stop the Ignition builder with the member's name", () => {
            expect(() => buildIgnitionConfig({
                memberName: "kv-0", discoveryUrl: "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e", etcdVersion: "v3.5.33", quotaBackendMiB: 1,
            })).to.throw('cannot build the Ignition config for etcd member "kv-0":\n  - quotaBackendMiB 1: use a whole number of MiB from 16 to 8192');
        });
    });
});
