/**
 * Snapshots to S3, the members' side (lib/snapshots.ts) and the arguments
 * that turn them on (lib/args.ts): object names, the timer's calendar, what
 * is refused, and the quota a single upload allows. Whole problem lines, as
 * the user reads them.
 */
import { expect } from "chai";
import { problemsOf } from "./support/argument-problems";
import { resolveArgs } from "../lib/args";
import { buildIgnitionConfig } from "../lib/ignition";
import { restoreProblems } from "../lib/restore";
import {
    snapshotCalendarEvent, snapshotIntervals, snapshotObjectKey, snapshotPart, snapshotProblems, snapshotScriptPath, snapshotServiceName,
    snapshotSettingsPath, snapshotTimerName, snapshotWorkDirectory,
} from "../lib/snapshots";

const options = { bucket: "etcd3-backups", region: "eu-west-2", prefix: "etcd3-cluster/", intervalMinutes: 15 };

describe("snapshots to S3 (lib/snapshots.ts)", () => {
    it("names an object by its revision, in 20 digits so that names sort by revision, then the UTC time", () => {
        const at = new Date("2026-11-26T23:15:07.123Z");
        expect([9, 10, 12345678901].map((revision) => snapshotObjectKey("etcd3-cluster/", revision, at))).to.deep.equal([
            "etcd3-cluster/etcd-snapshot-rev-00000000000000000009-20261126T231507Z.db",
            "etcd3-cluster/etcd-snapshot-rev-00000000000000000010-20261126T231507Z.db",
            "etcd3-cluster/etcd-snapshot-rev-00000000012345678901-20261126T231507Z.db",
        ]);
    });

    it("fires on the hour's boundaries below an hour, on the day's from an hour, UTC", () => {
        expect(snapshotIntervals.map((interval) => [interval, snapshotCalendarEvent(interval)])).to.deep.equal([
            [5, "*-*-* *:00/5:00 UTC"], [10, "*-*-* *:00/10:00 UTC"], [15, "*-*-* *:00/15:00 UTC"], [20, "*-*-* *:00/20:00 UTC"],
            [30, "*-*-* *:00/30:00 UTC"], [60, "*-*-* 00/1:00:00 UTC"], [120, "*-*-* 00/2:00:00 UTC"], [180, "*-*-* 00/3:00:00 UTC"],
            [240, "*-*-* 00/4:00:00 UTC"], [360, "*-*-* 00/6:00:00 UTC"], [480, "*-*-* 00/8:00:00 UTC"], [720, "*-*-* 00/12:00:00 UTC"],
            [1440, "*-*-* 00/24:00:00 UTC"],
        ]);
    });

    it("starts the timer at boot and the service only from it, with the script, its settings and its work directory", () => {
        const part = snapshotPart(options, {
            memberName: "kv-1", metadataEnvironmentFile: "/run/metadata/afterburn", privateIpVariable: "AFTERBURN_AWS_IPV4_LOCAL",
            imageRun: (volume) => `podman run --volume ${volume}:${volume} etcd`,
            etcdctl: (volume) => `podman run --volume ${volume}:${volume} etcd /usr/local/bin/etcdctl --cacert=/ca.crt`,
        });
        expect(part.units.map((unit) => [unit.name, unit.enabled])).to.deep.equal([[snapshotTimerName, true], [snapshotServiceName, false]]);
        expect(part.files.map((file) => [file.path, file.mode])).to.deep.equal([[snapshotScriptPath, 0o755], [snapshotSettingsPath, 0o644]]);
        expect(part.files[1].contents).to.equal("BACKUP_BUCKET=etcd3-backups\nBACKUP_REGION=eu-west-2\nBACKUP_PREFIX=etcd3-cluster/\n" +
            `SNAPSHOT_RUN=podman run --volume ${snapshotWorkDirectory}:${snapshotWorkDirectory} etcd\n` +
            `SNAPSHOT_ETCDCTL=podman run --volume ${snapshotWorkDirectory}:${snapshotWorkDirectory} etcd /usr/local/bin/etcdctl --cacert=/ca.crt\n`);
        expect(part.directories).to.deep.equal([snapshotWorkDirectory]);
    });

    it("refuses a bucket with dots, a prefix without its slash, an interval off the clock and a region that is none", () => {
        expect(snapshotProblems({ bucket: "etcd.backups", region: "Ireland", prefix: "etcd3-cluster", intervalMinutes: 7 })).to.deep.equal([
            'backupBucket "etcd.backups": use an S3 bucket name of 3 to 63 lowercase letters, digits and hyphens; ' +
            "a name with dots does not match S3's certificate in the HTTPS URL the members upload to",
            'backupPrefix "etcd3-cluster": use up to 200 letters, digits, ".", "_", "-" in "/"-separated parts, ending with "/", e.g. etcd3-cluster/',
            "backupIntervalMinutes 7: use one of 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440 " +
            "(they divide an hour or a day, so the timer keeps in step with the clock)",
            'backup region "Ireland": use the bucket\'s AWS region, such as eu-west-2',
        ]);
    });

    it("asks for the bucket when the options name none", () => {
        expect(snapshotProblems({ ...options, bucket: undefined as unknown as string })).to.deep.equal(["backupBucket: give the bucket the snapshots go to"]);
    });

    it("takes prefixes of several parts, and refuses an empty part, a leading slash or a character a URL would need encoded", () => {
        const prefixProblems = (prefix: string) => snapshotProblems({ ...options, prefix }).length;
        expect(["a/", "prod/kv.1/etcd_snapshots-x/"].map(prefixProblems)).to.deep.equal([0, 0]);
        expect(["/a/", "a//b/", "a b/", "a+b/", "", `${"a".repeat(200)}/`].map(prefixProblems)).to.deep.equal([1, 1, 1, 1, 1, 1]);
    });
});

describe("backup arguments (lib/args.ts)", () => {
    it("are off by default, and on with the component's bucket, the ecosystem's prefix, every 15 minutes, kept 30 days", () => {
        expect(resolveArgs("etcd3", {}).backup).to.equal(undefined);
        expect(resolveArgs("etcd3", { backups: true, ecosystem: "kv" }).backup)
            .to.deep.equal({ bucket: undefined, prefix: "kv/", intervalMinutes: 15, retentionDays: 30 });
    });

    it("refuses each backup argument while backups are off", () => {
        expect(problemsOf({ backupBucket: "b-1", backupPrefix: "p/", backupIntervalMinutes: 60, backupRetentionDays: 7 })).to.deep.equal(
            ["backupBucket", "backupPrefix", "backupIntervalMinutes", "backupRetentionDays"]
                .map((key) => `${key}: only used with backups, which is off; turn backups on or leave it out`));
    });

    it("refuses a retention for a bucket the component did not create", () => {
        expect(problemsOf({ backups: true, backupBucket: "ops-snapshots", backupRetentionDays: 7 })).to.deep.equal([
            "backupRetentionDays: the component adds no lifecycle rule to a bucket it did not create (backupBucket); " +
            "expire the snapshots with that bucket's own rules, or leave backupBucket out for a created bucket",
        ]);
    });

    it("refuses a retention under a day or over ten years", () => {
        expect([0, 3651, 1.5].map((backupRetentionDays) => problemsOf({ backups: true, backupRetentionDays }))).to.deep.equal([0, 3651, 1.5]
            .map((days) => [`backupRetentionDays ${days}: use a whole number of days from 1 to 3650`]));
    });

    it("checks the bucket's name, the prefix and the interval given", () => {
        expect(problemsOf({ backups: true, backupBucket: "Ops.Snapshots", backupPrefix: "/x", backupIntervalMinutes: 45 })).to.have.length(3);
    });

    it("keeps the backend quota to what one upload takes: 5 GiB by default, and refuses more", () => {
        expect(resolveArgs("etcd3", { backups: true }).quotaBackendMiB).to.equal(5120);
        expect(resolveArgs("etcd3", { backups: true, dataVolumeSizeGiB: 8 }).quotaBackendMiB).to.equal(4096);
        expect(problemsOf({ backups: true, quotaBackendMiB: 6000 })).to.deep.equal([
            "quotaBackendMiB 6000: with backups at most 5120, since a snapshot, as large as the backend, goes up to S3 in one request, " +
            "which S3 caps at 5 GiB; lower it or turn backups off",
        ]);
    });
});

describe("restoreFrom (lib/args.ts)", () => {
    const key = "etcd3-cluster/etcd-snapshot-rev-00000000000000001234-20261126T231500Z.db";

    it("takes an s3:// URL with a static bootstrap, as its bucket and key", () => {
        expect(resolveArgs("etcd3", { bootstrap: "static", restoreFrom: `s3://ops-snapshots/${key}` }).restore).to.deep.equal({ bucket: "ops-snapshots", key });
    });

    it("refuses it with a discovery bootstrap, whose members form from the token, not a member list", () => {
        expect(problemsOf({ restoreFrom: `s3://ops-snapshots/${key}` })).to.deep.equal([
            'restoreFrom: a cluster restored from a snapshot forms from its static member list; set bootstrap to "static"',
        ]);
    });

    it("takes a key of one part or of several", () => {
        expect(["s3://ops-snapshots/x.db", "s3://ops-snapshots/a/b/c/x.db"].map((restoreFrom) => resolveArgs("etcd3", { bootstrap: "static", restoreFrom }).restore))
            .to.deep.equal([{ bucket: "ops-snapshots", key: "x.db" }, { bucket: "ops-snapshots", key: "a/b/c/x.db" }]);
    });

    it("refuses what is not an s3 URL, a bucket with dots and a key a URL would need encoded", () => {
        for (const restoreFrom of ["https://ops-snapshots.s3.amazonaws.com/x.db", "s3://ops.snapshots/x.db", "s3://ops-snapshots/a b.db", "s3://ops-snapshots/",
            "xs3://ops-snapshots/x.db", "s3://ops-snapshots/x.db\ny.db", "s3://ops-snapshots/a//x.db"]) {
            expect(problemsOf({ bootstrap: "static", restoreFrom }), restoreFrom).to.deep.equal([
                `restoreFrom "${restoreFrom}": use s3://<bucket>/<key>, a bucket name without dots (the members read it over HTTPS at ` +
                '<bucket>.s3.<region>.amazonaws.com) and a key of letters, digits, ".", "_", "-" in "/"-separated parts',
            ]);
        }
    });
});

describe("restoring a snapshot, the members' side (lib/restore.ts)", () => {
    const restore = { bucket: "ops-snapshots", region: "eu-west-2", key: "etcd3-cluster/etcd-snapshot-rev-00000000000000001234-20261126T231500Z.db" };
    const member = {
        memberName: "kv-0", etcdVersion: "v3.5.33", members: [{ name: "kv-0", ip: "10.0.1.10" }],
        discoveryUrl: "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e",
    };

    it("refuses a restore for a member that forms through discovery, which has no member list to restore with", () => {
        expect(() => buildIgnitionConfig({ ...member, restore }))
            .to.throw("restore: a cluster restored from a snapshot forms from its static member list; give clusterToken");
    });

    it("refuses a bucket with dots, a key a URL would need encoded and a region that is none", () => {
        expect(restoreProblems({ bucket: "ops.snapshots", region: "Ireland", key: "a b.db" })).to.deep.equal([
            'restore "s3://ops.snapshots/a b.db": use s3://<bucket>/<key>, a bucket name without dots and a key of letters, digits, ".", "_", "-" in "/"-separated parts',
            'restore region "Ireland": use the bucket\'s AWS region, such as eu-west-2',
        ]);
        expect(restoreProblems(restore)).to.deep.equal([]);
        expect(restoreProblems({ ...restore, key: "a b.db" })).to.have.length(1);
        expect(restoreProblems({ ...restore, bucket: "ops.snapshots" })).to.have.length(1);
    });
});
