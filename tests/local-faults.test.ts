/**
 * Members failing behind the load balancer of a locally booted cluster: what
 * clients see once health checks drop the dead members, whether acknowledged
 * writes survive, and whether members come back from their data directories
 * without a new discovery token.
 */
import { expect } from "chai";
import { LocalCluster } from "../local/cluster";
import {
    Answer, curl, findLeader, findLeaderMs, getKeyWithQuorum, makeLeader, makeLeaderMs, marginMs, memberList, nodeStartMs, nodeStopMs, putKey,
    requestBudget, requestTimeoutMs, useLocalCluster, waitForTargetMs,
} from "./helpers/local-cluster";

/** Requests per member in each read or write loop. */
const requestsPerMember = 4;
/**
 * Bound on each read or write loop as a whole (at most 40 requests through
 * the load balancer or to a member, each taking milliseconds): their own
 * bounds would add up to minutes.
 */
const requestLoopMs = 60_000;

function isAcknowledged(answer: Answer): boolean {
    return answer.status === 200 || answer.status === 201;
}

/** Writes `count` keys named `<prefix>-<i>` through the load balancer, within `requestLoopMs`; returns every answer by key. */
async function writeKeys(cluster: LocalCluster, prefix: string, count: number): Promise<Map<string, Answer>> {
    const answers = new Map<string, Answer>();
    const within = requestBudget(requestLoopMs, `${count} writes through the load balancer`);
    for (let i = 0; i < count; i++) {
        const key = `${prefix}-${i}`;
        answers.set(key, await within((timeoutMs) => putKey(cluster.clusterUrl, key, `value of ${key}`, timeoutMs)));
    }
    return answers;
}

/** The discovery token's registry entries (`name=peer URL`), as the discovery service lists them. */
async function discoveryRegistry(cluster: LocalCluster): Promise<string[]> {
    const answer = await curl(cluster.discoveryUrl!);
    return (answer.body.node.nodes as { value: string }[]).map((entry) => entry.value).sort();
}

/** Bound on a wait for the health checks to mark targets: a member's start plus the checks' rise, with room. */
const targetWaitMs = 20_000;

/** Waits (bounded) until the load balancer sees each node as `state`. */
async function waitForTargets(cluster: LocalCluster, indexes: number[], state: "UP" | "DOWN"): Promise<void> {
    await Promise.all(indexes.map((index) => cluster.waitForTarget(cluster.nodes[index].name, state, targetWaitMs)));
}

/** A member stopped cleanly (SIGTERM: the leader hands over first) or crashed (SIGKILL, like a failed instance). */
type Fault = "stopped" | "crashed";

const scenarios: { size: number; failures: number; fault: Fault }[] = [
    { size: 3, failures: 1, fault: "stopped" },
    { size: 3, failures: 1, fault: "crashed" },
    { size: 5, failures: 2, fault: "crashed" },
];

for (const { size, failures, fault } of scenarios) {
    describe(`local cluster of ${size} with ${failures} member(s) ${fault}, the leader first`, function () {
        // The longest test: one loop of reads or two requests.
        this.timeout(requestLoopMs + marginMs);
        const cluster = useLocalCluster({ size });
        const failed: number[] = [];
        let running: number[] = [];
        let membersBefore: string[] = [];
        let registryBefore: string[] = [];
        let writtenBefore = new Map<string, Answer>();
        let writtenDuring = new Map<string, Answer>();

        before(async function () {
            // Bounded steps: two requests, a leadership transfer, each stop (a crash takes no time), two target waits, finding the leader,
            // the writes before and during.
            this.timeout(2 * requestTimeoutMs + makeLeaderMs(size) + failures * nodeStopMs + 2 * waitForTargetMs(targetWaitMs) + findLeaderMs(size) +
                2 * requestLoopMs + marginMs);
            membersBefore = await memberList(cluster());
            registryBefore = await discoveryRegistry(cluster());
            writtenBefore = await writeKeys(cluster(), "before", requestsPerMember * size);
            // The leader, so that the survivors must also elect a new one; then followers in order. The leader is
            // made (a leadership transfer) rather than found, so an election between finding and stopping cannot
            // leave the test stopping a follower.
            const leader = size - 1;
            await makeLeader(cluster(), leader);
            failed.push(leader, ...[...cluster().nodes.keys()].filter((i) => i !== leader).slice(0, failures - 1));
            for (const index of failed) {
                const node = cluster().nodes[index];
                await (fault === "stopped" ? node.stop() : node.crash());
            }
            running = [...cluster().nodes.keys()].filter((i) => !failed.includes(i));
            // The window until health checks drop a dead member is the ALB's too: requests sent to it fail.
            await waitForTargets(cluster(), failed, "DOWN");
            // After a crash the survivors fail /health while they elect a leader, but the load balancer may not have
            // marked them DOWN yet when this runs: wait for the new leader, then for them to be in service.
            await findLeader(cluster());
            await waitForTargets(cluster(), running, "UP");
            writtenDuring = await writeKeys(cluster(), "during", requestsPerMember * size);
        });

        it("acknowledged every write sent before the fault", () => {
            for (const [key, answer] of writtenBefore) {
                expect(isAcknowledged(answer), `${key}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`).to.equal(true);
            }
        });

        it("acknowledges every write through the load balancer once the dead members are marked DOWN", () => {
            for (const [key, answer] of writtenDuring) {
                expect(isAcknowledged(answer), `${key}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`).to.equal(true);
            }
        });

        it("answers every read through the load balancer while the members are down", async () => {
            const within = requestBudget(requestLoopMs, `${writtenBefore.size} reads through the load balancer`);
            for (const [key] of writtenBefore) {
                const answer = await within((timeoutMs) => getKeyWithQuorum(cluster().clusterUrl, key, timeoutMs));
                expect(answer.status, key).to.equal(200);
                expect(answer.body.node.value).to.equal(`value of ${key}`);
            }
        });

        describe("after the failed members start again from their data directories", function () {
            before(async function () {
                // The starts at once, then the target waits at once.
                this.timeout(nodeStartMs() + waitForTargetMs(targetWaitMs) + marginMs);
                await Promise.all(failed.map((index) => cluster().startNode(index)));
                await waitForTargets(cluster(), failed, "UP");
            });

            it("has the same members with the same ids", async () => {
                expect(await memberList(cluster())).to.deep.equal(membersBefore);
            });

            it("has not registered anything new with the discovery service", async () => {
                expect(await discoveryRegistry(cluster())).to.deep.equal(registryBefore);
            });

            it("serves every write acknowledged before and during the fault from every member", async function () {
                this.timeout(size * requestLoopMs + marginMs);
                const acknowledged = [...writtenBefore, ...writtenDuring].filter(([, answer]) => isAcknowledged(answer));
                for (const node of cluster().nodes) {
                    const within = requestBudget(requestLoopMs, `${acknowledged.length} reads from ${node.name}`);
                    for (const [key] of acknowledged) {
                        const answer = await within((timeoutMs) => getKeyWithQuorum(node.clientUrl, key, timeoutMs));
                        expect(answer.status, `${key} on ${node.name}`).to.equal(200);
                        expect(answer.body.node.value, `${key} on ${node.name}`).to.equal(`value of ${key}`);
                    }
                }
            });
        });
    });
}

describe("local cluster of 3 stopped and started as a whole", function () {
    // The longest test: one loop of reads.
    this.timeout(requestLoopMs + marginMs);
    const cluster = useLocalCluster({ size: 3 });
    const everyNode = [0, 1, 2];
    let membersBefore: string[] = [];
    let written = new Map<string, Answer>();
    let answerWhileDown: Answer | undefined;

    before(async function () {
        // Bounded steps: the member list, the writes, the stops at once, two target waits, the starts at once, one request.
        this.timeout(requestTimeoutMs + requestLoopMs + nodeStopMs + 2 * waitForTargetMs(targetWaitMs) + nodeStartMs() + requestTimeoutMs + marginMs);
        membersBefore = await memberList(cluster());
        written = await writeKeys(cluster(), "kept", requestsPerMember * 3);
        await Promise.all(cluster().nodes.map((node) => node.stop()));
        await waitForTargets(cluster(), everyNode, "DOWN");
        answerWhileDown = await curl(`${cluster().clusterUrl}/health`);
        await Promise.all(cluster().nodes.map((node) => node.start()));
        await waitForTargets(cluster(), everyNode, "UP");
    });

    it("answers 503 through the load balancer while no member is up", () => {
        expect(answerWhileDown?.status).to.equal(503);
    });

    it("comes back with the same members with the same ids", async () => {
        expect(await memberList(cluster())).to.deep.equal(membersBefore);
    });

    it("still has every key written before the stop", async () => {
        const within = requestBudget(requestLoopMs, `${written.size} reads through the load balancer`);
        for (const [key, put] of written) {
            expect(isAcknowledged(put), key).to.equal(true);
            const answer = await within((timeoutMs) => getKeyWithQuorum(cluster().clusterUrl, key, timeoutMs));
            expect(answer.status, key).to.equal(200);
            expect(answer.body.node).to.include({ value: `value of ${key}`, modifiedIndex: put.body.node.modifiedIndex });
        }
    });
});
