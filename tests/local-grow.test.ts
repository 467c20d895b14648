/**
 * A cluster grows on a live stack: on a locally booted 3-member cluster, the
 * component is constructed again with `clusterSize: 5` as a stack created with
 * 3 (the staying members' user data must come out unchanged), and the two new
 * members boot one at a time from their user data. Each joins through its
 * bootstrap script (a learner, then promoted) while a stream of writes runs
 * through the load balancer.
 */
import { expect } from "chai";
import { LocalCluster } from "../local/cluster";
import { waitUntil } from "../local/processes";
import {
    etcdctlTimeouts, growMs, marginMs, members, readBackMs, settledMembers, useLocalCluster, waitUntilMs, writerStopMs,
} from "./helpers/local-cluster";
import { checkWrites, PacedWriter, readDirectoryWithQuorum, writeCheckProblems } from "./helpers/paced-writes";

/** Each member etcd lists as [name, peer URL, voting and started], in slot order. */
async function memberTable(cluster: LocalCluster): Promise<[string, string, boolean][]> {
    return (await members(cluster)).map((member) => [member.name, member.peerUrl, member.started && !member.learner]);
}

/** The table the slots describe: every node voting under its own name at its own peer URL. */
const slotTable = (cluster: LocalCluster) => cluster.nodes.map((node): [string, string, boolean] => [node.name, `http://${node.ip}:2380`, true]);

/** Bound on the wait for a new member's promotion, polled with `settledMembers` (an etcdctl run). */
const promotionWaitMs = 30_000;
/** Worst case of each `afterMember`: the wait for the promotion, then a member table (an etcdctl run). */
const afterMemberMs = waitUntilMs(promotionWaitMs, etcdctlTimeouts.processMs, 250) + etcdctlTimeouts.processMs;

for (const bootstrap of ["discovery", "static"] as const) {
    describe(`a local cluster that grows from 3 to 5 members (bootstrap ${bootstrap})`, function () {
        const cluster = useLocalCluster({ size: 3, bootstrap });

        it("adds one member at a time, each in its slot and voting before the next boots, losing no acknowledged write", async function () {
            this.timeout(growMs(2, { afterMemberMs }) + writerStopMs + readBackMs + marginMs);
            const afterEachMember: [string, string, boolean][][] = [];
            const writer = new PacedWriter({ baseUrl: cluster().clusterUrl, directory: "grow-stream", intervalMs: 100, maxDurationMs: 5 * 60_000 });
            writer.start();
            try {
                await cluster().grow(5, {
                    afterMember: async () => {
                        // In service once /health passes, which it does on a learner too: the promote unit makes it a voter within seconds.
                        await waitUntil(() => settledMembers(cluster()), { timeoutMs: promotionWaitMs, intervalMs: 250, description: "the new member to be promoted" });
                        afterEachMember.push(await memberTable(cluster()));
                    },
                });
            } finally {
                await writer.stop();
            }
            expect(afterEachMember).to.deep.equal([slotTable(cluster()).slice(0, 4), slotTable(cluster())]);
            const records = writer.snapshot();
            const check = checkWrites(records, await readDirectoryWithQuorum(cluster().clusterUrl, "grow-stream"));
            expect(writeCheckProblems(check)).to.deep.equal([]);
            expect(check.acknowledged).to.be.greaterThan(records.length / 2);
        });

        it("serves the new members through the load balancer", async () => {
            expect(await cluster().targetStates()).to.deep.equal(Object.fromEntries(cluster().nodes.map((node) => [node.name, "UP"])));
        });
    });
}
