/**
 * lib/plan.ts: member names, update windows and defragmentation times, and what each member's
 * Ignition options are made of.
 */
import { expect } from "chai";
import { resolveArgs } from "../lib/args";
import { memberDefragmentationTime, memberIgnitionOptions, memberName, memberUpdateWindow, planMembers } from "../lib/plan";

describe("the per-member plan's pieces (lib/plan.ts)", () => {
    it("names member i <ecosystem>-i", () => {
        expect(memberName("kv", 12)).to.equal("kv-12");
    });

    it("opens member 0's update window at 02:00 UTC for an hour", () => {
        expect(memberUpdateWindow(0)).to.deep.equal({ startHourUtc: 2, lengthMinutes: 60 });
    });

    it("wraps the window past midnight for a member index beyond the seventh", () => {
        expect([7, 8].map(memberUpdateWindow)).to.deep.equal([
            { startHourUtc: 23, lengthMinutes: 60 },
            { startHourUtc: 2, lengthMinutes: 60 },
        ]);
    });

    it("defragments member 0 at 03:30 UTC, half an hour after its update window closes", () => {
        expect(memberDefragmentationTime(0)).to.deep.equal({ hourUtc: 3, minute: 30 });
    });

    it("wraps the defragmentation past midnight for a member index beyond the seventh", () => {
        expect([7, 8].map(memberDefragmentationTime)).to.deep.equal([{ hourUtc: 0, minute: 30 }, { hourUtc: 3, minute: 30 }]);
    });

    it("plans a single member for a cluster of one", () => {
        expect(planMembers({ ecosystem: "solo", clusterSize: 1 })).to.deep.equal([
            { index: 0, name: "solo-0", updateWindow: { startHourUtc: 2, lengthMinutes: 60 }, defragmentationTime: { hourUtc: 3, minute: 30 } },
        ]);
    });

    it("passes etcd's defaults on as left out, and no SSH keys as an empty list", () => {
        const args = resolveArgs("etcd3", {});
        const url = "https://discovery.etcd.io/0123456789abcdef0123456789abcdef";
        expect(memberIgnitionOptions(args, planMembers(args)[2], { discoveryUrl: url })).to.deep.equal({
            memberName: "etcd3-cluster-2", discoveryUrl: url, clusterToken: undefined, members: undefined, foundingClusterSize: undefined, dataVolumeId: undefined, enableV2Api: true, etcdVersion: "v3.5.33", os: "fedora-coreos",
            imageRepository: "gcr.io/etcd-development/etcd", heartbeatIntervalMs: undefined, electionTimeoutMs: undefined,
            sshAuthorizedKeys: [], updateWindow: { startHourUtc: 8, lengthMinutes: 60 },
            quotaBackendMiB: 8192, snapshotCount: 10000, defragmentationTime: { hourUtc: 9, minute: 30 }, snapshots: undefined, restore: undefined,
            peerTls: undefined,
            clientTls: undefined,
            accessControl: false,
            tokenSigningKeyGeneration: undefined,
        });
    });
});
