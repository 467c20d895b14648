/**
 * A member whose data is gone rejoins by itself: on a locally booted cluster,
 * a member is stopped, its data volume wiped to blank (a new empty volume, a
 * volume lost with its zone) and the node booted again. etcd's unit first runs
 * the user data's script with etcdctl from the etcd image (played by the
 * harness's runtime): it removes the member that held its slot, adds itself as
 * a learner, starts with the current member list, and its promote unit makes
 * it a voting member once it has caught up.
 */
import { expect } from "chai";
import { promoteUnitName } from "../lib/bootstrap";
import { etcdUnitName } from "../lib/ignition";
import { LocalCluster } from "../local/cluster";
import { waitUntil } from "../local/processes";
import {
    etcdctlTimeouts, getKeyWithQuorum, loseData, loseDataAndReboot, loseDataAndRebootMs, loseDataMs, makeLeader, makeLeaderMs, marginMs, Member, members,
    nodeStartMs, nodeStopMs, putKey, readBackMs, rejoinWaitMs, requestTimeoutMs, settledMembers, useLocalCluster, waitUntilMs, writerStopMs,
} from "./helpers/local-cluster";
import { checkWrites, PacedWriter, readDirectoryWithQuorum, writeCheckProblems } from "./helpers/paced-writes";

const idOf = (listed: Member[], name: string) => listed.find((member) => member.name === name)?.id;

/** Worst case of a `members` call (an etcdctl run). */
const membersMs = etcdctlTimeouts.processMs;
/** Worst case of a wait for the members to settle, polled every second with `settledMembers` (an etcdctl run). */
const settleMs = waitUntilMs(rejoinWaitMs, etcdctlTimeouts.processMs, 1000);

/** The decisions etcd's unit logged before each start, in order (its output also has etcd's own log lines). */
const decisions = (cluster: LocalCluster, index: number) =>
    cluster.nodes[index].unitOutput(etcdUnitName).split("\n").filter((line) => line.startsWith("decide: "));

describe("local cluster of 3: a member whose data is gone rejoins in its slot by itself", function () {
    const keys = 12;
    // The writes before, and the reads of them from the rejoined member; the tests that do more set their own.
    this.timeout(keys * requestTimeoutMs + marginMs);
    const cluster = useLocalCluster({ size: 3 });
    const written: { key: string; index: number }[] = [];

    before(async function () {
        for (let i = 0; i < keys; i++) {
            const answer = await putKey(cluster().clusterUrl, `kept-${i}`, `value ${i}`);
            expect(answer.status, `write kept-${i}`).to.be.oneOf([200, 201]);
            written.push({ key: `kept-${i}`, index: answer.body.node.modifiedIndex });
        }
    });

    it("rejoins a follower with a blank volume as a new member id, and the cluster has 3 voting members again", async function () {
        this.timeout(2 * membersMs + loseDataAndRebootMs(cluster().nodes[0]) + marginMs);
        const before = await members(cluster());
        await loseDataAndReboot(cluster(), 0);
        const after = await members(cluster());
        expect(after.map((member) => [member.name, member.peerUrl])).to.deep.equal(before.map((member) => [member.name, member.peerUrl]));
        expect(idOf(after, "etcd3-cluster-0")).to.not.equal(idOf(before, "etcd3-cluster-0"));
        expect(after.filter((member) => member.name !== "etcd3-cluster-0")).to.deep.equal(before.filter((member) => member.name !== "etcd3-cluster-0"));
    });

    it("logs each decision: the stale member removed, the learner added, then promoted", () => {
        const node = cluster().nodes[0];
        const decided = decisions(cluster(), 0).join("\n");
        expect(decided).to.match(/decide: no data, and the cluster answers at http:\/\/[\d.]+:2379: etcd3-cluster-0 joins it/);
        expect(decided).to.match(/decide: member [0-9a-f]+ has this slot's peer URL http:\/\/[\d.]+:2380 and its data is gone: removing it/);
        expect(decided).to.match(/decide: adding etcd3-cluster-0 at http:\/\/[\d.]+:2380 as a learner/);
        expect(decided).to.match(/decide: etcd starts with: --initial-cluster=\S+ --initial-cluster-state=existing/);
        expect(node.unitOutput(promoteUnitName)).to.match(/promote: promoted learner [0-9a-f]+ to a voting member/);
    });

    it("serves every write acknowledged before the loss from the rejoined member itself", async () => {
        for (const { key, index } of written) {
            const answer = await getKeyWithQuorum(cluster().nodes[0].clientUrl, key);
            expect([answer.status, answer.body.node?.modifiedIndex], key).to.deep.equal([200, index]);
        }
    });

    it("rejoins the same slot a second time", async function () {
        this.timeout(2 * membersMs + loseDataAndRebootMs(cluster().nodes[0]) + marginMs);
        const before = await members(cluster());
        await loseDataAndReboot(cluster(), 0);
        expect(idOf(await members(cluster()), "etcd3-cluster-0")).to.not.equal(idOf(before, "etcd3-cluster-0"));
    });

    it("rejoins the leader's slot", async function () {
        this.timeout(makeLeaderMs(3) + 2 * membersMs + loseDataAndRebootMs(cluster().nodes[2]) + marginMs);
        await makeLeader(cluster(), 2);
        const before = await members(cluster());
        await loseDataAndReboot(cluster(), 2);
        expect(idOf(await members(cluster()), "etcd3-cluster-2")).to.not.equal(idOf(before, "etcd3-cluster-2"));
    });

    it("loses no acknowledged write of a stream through the load balancer while a member rejoins", async function () {
        this.timeout(loseDataAndRebootMs(cluster().nodes[1]) + writerStopMs + readBackMs + marginMs);
        const writer = new PacedWriter({ baseUrl: cluster().clusterUrl, directory: "rejoin-stream", intervalMs: 100, maxDurationMs: rejoinWaitMs });
        writer.start();
        try {
            await loseDataAndReboot(cluster(), 1);
        } finally {
            await writer.stop();
        }
        const records = writer.snapshot();
        const check = checkWrites(records, await readDirectoryWithQuorum(cluster().clusterUrl, "rejoin-stream"));
        expect(writeCheckProblems(check)).to.deep.equal([]);
        expect(check.acknowledged).to.be.greaterThan(records.length / 2);
    });

    it("decides again each time systemd restarts etcd, so no earlier decision outlives the start it was made for", async function () {
        const restartWaitMs = 30_000;
        this.timeout(waitUntilMs(restartWaitMs, etcdctlTimeouts.processMs, 500) + marginMs);
        const before = decisions(cluster(), 2).length;
        cluster().nodes[2].killMember("SIGKILL");
        await waitUntil(() => settledMembers(cluster()).then((settled) => settled && decisions(cluster(), 2).length >= before + 2),
            { timeoutMs: restartWaitMs, intervalMs: 500, description: "etcd-member.service to be restarted by systemd" });
        expect(decisions(cluster(), 2).slice(before)).to.deep.equal([
            "decide: /var/lib/etcd/member holds this member's data: it starts as the member it was",
            "decide: etcd starts with: its data alone",
        ]);
    });

    it("keeps a member with its data on the normal path: no membership change at a reboot", async function () {
        this.timeout(2 * membersMs + nodeStopMs + nodeStartMs() + settleMs + marginMs);
        const before = await members(cluster());
        const node = cluster().nodes[1];
        await node.stop();
        await node.start();
        await waitUntil(() => settledMembers(cluster()), { timeoutMs: rejoinWaitMs, intervalMs: 1000, description: `${node.name} to be back` });
        expect(await members(cluster())).to.deep.equal(before);
        expect(decisions(cluster(), 1).slice(-2)).to.deep.equal([
            "decide: /var/lib/etcd/member holds this member's data: it starts as the member it was",
            "decide: etcd starts with: its data alone",
        ]);
    });

    it("waits while the cluster has lost its quorum, saying why, and joins once the quorum is back", async function () {
        const sayWaitMs = 30_000;
        // The member lists, member 1's stop, member 0's loss, the wait for its line, member 2's view, both starts, the wait to settle.
        this.timeout(2 * membersMs + nodeStopMs + loseDataMs(cluster().nodes[0]) + waitUntilMs(sayWaitMs, 0, 250) + requestTimeoutMs +
            2 * nodeStartMs() + settleMs + marginMs);
        const before = await members(cluster());
        await cluster().nodes[1].stop();
        await loseData(cluster(), 0);
        // Only member 2 runs: one of three, no quorum. The wiped member must neither form a cluster nor change this one.
        const booting = cluster().nodes[0].start();
        const waitingLine = "the cluster formed before and has lost its quorum; etcd3-cluster-0 waits for it to return rather than form another";
        try {
            await waitUntil(async () => decisions(cluster(), 0).some((line) => line.endsWith(waitingLine)),
                { timeoutMs: sayWaitMs, intervalMs: 250, description: "the wiped member to say it waits for the quorum" });
            // Member 2's own view (its peer port's /members, which needs no quorum): no member was removed or added.
            const view = await fetch(`http://${cluster().nodes[2].ip}:2380/members`, { signal: AbortSignal.timeout(requestTimeoutMs) })
                .then((answer) => answer.text());
            // Ids are 64-bit: read as text, not as JSON numbers.
            expect([...view.matchAll(/"id":(\d+)/g)].map((match) => BigInt(match[1]).toString(16)).sort())
                .to.deep.equal(before.map((member) => member.id).sort());
        } finally {
            await cluster().nodes[1].start();
            await booting;
        }
        await waitUntil(() => settledMembers(cluster()), { timeoutMs: rejoinWaitMs, intervalMs: 1000, description: "the wiped member to join once the quorum is back" });
        expect(idOf(await members(cluster()), "etcd3-cluster-0")).to.not.equal(idOf(before, "etcd3-cluster-0"));
    });
});

describe("local cluster of 5: a member whose data is gone while another member is down", function () {
    const cluster = useLocalCluster({ size: 5 });

    it("joins while another member is down and the others keep the quorum", async function () {
        // The member list, member 4's stop, member 0's loss and boot, the wait for it to vote, member 4's start, the wait to settle.
        this.timeout(membersMs + nodeStopMs + loseDataAndRebootMs(cluster().nodes[0], { settled: false }) + settleMs + nodeStartMs() + settleMs + marginMs);
        const before = await members(cluster());
        await cluster().nodes[4].stop();
        try {
            // Three of five run: the quorum holds, and the wiped member joins through them.
            await loseDataAndReboot(cluster(), 0, { settled: false });
            await waitUntil(async () => (await members(cluster())).some((member) => member.name === "etcd3-cluster-0" && member.started && !member.learner &&
                member.id !== idOf(before, "etcd3-cluster-0")), { timeoutMs: rejoinWaitMs, intervalMs: 1000, description: "etcd3-cluster-0 to join as a voting member" });
        } finally {
            await cluster().nodes[4].start();
        }
        await waitUntil(() => settledMembers(cluster()), { timeoutMs: rejoinWaitMs, intervalMs: 1000, description: "every member back and voting" });
    });
});
