/**
 * lib/plan.ts: member names and update windows, and what each member's
 * Ignition options are made of.
 */
import { expect } from "chai";
import { resolveArgs } from "../lib/args";
import { memberIgnitionOptions, memberName, memberUpdateWindow, planMembers } from "../lib/plan";

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

    it("plans a single member for a cluster of one", () => {
        expect(planMembers({ ecosystem: "solo", clusterSize: 1 })).to.deep.equal([
            { index: 0, name: "solo-0", updateWindow: { startHourUtc: 2, lengthMinutes: 60 } },
        ]);
    });

    it("passes etcd's defaults on as left out, and no SSH keys as an empty list", () => {
        const args = resolveArgs("etcd3", {});
        const url = "https://discovery.etcd.io/0123456789abcdef0123456789abcdef";
        expect(memberIgnitionOptions(args, planMembers(args)[2], { discoveryUrl: url })).to.deep.equal({
            memberName: "etcd3-cluster-2", discoveryUrl: url, clusterToken: undefined, members: undefined, foundingClusterSize: undefined, dataVolumeId: undefined, enableV2Api: true, etcdVersion: "v3.5.33", os: "fedora-coreos",
            imageRepository: "gcr.io/etcd-development/etcd", heartbeatIntervalMs: undefined, electionTimeoutMs: undefined,
            sshAuthorizedKeys: [], updateWindow: { startHourUtc: 8, lengthMinutes: 60 },
        });
    });
});
