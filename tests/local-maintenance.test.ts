/**
 * The members' upkeep on local clusters booted from the component's user data,
 * with real etcd: the daily defragmentation timer fires on one member only, at
 * its calendar time by the nodes' clock; its script shrinks that member's
 * backend alone, and skips while a member is down. A cluster whose backend
 * reached its quota (`NOSPACE`) stays behind the load balancer serving reads,
 * and the README's runbook, run as written, brings it back to accepting
 * writes with every key's value kept.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as path from "path";
import { promisify } from "util";
import { defragmentServiceName } from "../lib/maintenance";
import { memberDefragmentationTime } from "../lib/plan";
import { defaultUnitStartWaitMs } from "../local/cluster";
import {
    curl, etcdctl, etcdctlTimeouts, hostEtcdctl, marginMs, nodeStopMs, probeOverrunMs, readmeRunbook, requestBudget, requestTimeoutMs, useLocalCluster,
    v3Get, v3Put,
} from "./helpers/local-cluster";
import { eventually, nodeClockReaching } from "./helpers/node-root";

const run = promisify(execFile);

/** Worst case of `backendSizes` on a cluster of 3: an etcdctl run per member. */
const backendSizesMs = 3 * etcdctlTimeouts.processMs;
/**
 * Bound on a loop of writes as a whole (each taking milliseconds; at most 100
 * of 400 kB), where the writes' own bounds would add up to many minutes.
 */
const writeLoopMs = 60_000;
/** Bound on a run of the README's runbook. */
const runbookMs = 60_000;

/** Each member's backend size in bytes, as `etcdctl endpoint status` reports it, in member order. */
async function backendSizes(endpoints: string[]): Promise<number[]> {
    const sizes = [];
    for (const endpoint of endpoints) {
        const status = await etcdctl([endpoint], ["endpoint", "status", "-w", "json"]);
        sizes.push(Number(/"dbSize":(\d+)/.exec(status)![1]));
    }
    return sizes;
}

/** Bound on `untilFree`'s wait. */
const untilFreeWaitMs = 10_000;
/** Worst case of `untilFree`: its wait, then one more pause and etcdctl run. */
const untilFreeMs = untilFreeWaitMs + 200 + etcdctlTimeouts.processMs;

/**
 * Waits, at most 10 s, until the member at `endpoint` reports more than
 * `share` of its backend free, as its defragmentation script reads it: the
 * in-use size falls only when the backend next commits after a compaction.
 */
async function untilFree(endpoint: string, share: number): Promise<void> {
    const deadline = Date.now() + untilFreeWaitMs;
    for (;;) {
        const status = await etcdctl([endpoint], ["endpoint", "status", "-w", "json"]);
        const size = Number(/"dbSize":(\d+)/.exec(status)![1]);
        const free = size - Number(/"dbSizeInUse":(\d+)/.exec(status)![1]);
        if (free > size * share) {
            return;
        }
        if (Date.now() > deadline) {
            throw new Error(`the member at ${endpoint} still has only ${free} of ${size} bytes free after 10 s, not more than ${share * 100} %`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
}

/** The current revision, as a member reports it. */
async function currentRevision(endpoint: string): Promise<number> {
    return Number(/"revision":(\d+)/.exec(await etcdctl([endpoint], ["endpoint", "status", "-w", "json"]))![1]);
}

const digest = (value: Buffer) => createHash("sha256").update(value).digest("hex");

/** Seconds from the cluster's start until member 0's defragmentation time comes round on the nodes' clock. */
const firstDefragmentationAfterSeconds = 40;
/**
 * The nodes' clock: member 0's defragmentation time (03:30 UTC) comes `firstDefragmentationAfterSeconds` after the
 * nodes first read it (the first node's boot), however long after the suite was declared the cluster starts.
 */
function clockBeforeFirstDefragmentation(): { clock: () => number; firesAtNodeMs: number } {
    const { hourUtc, minute } = memberDefragmentationTime(0);
    const firesAtNodeMs = Date.UTC(2026, 0, 15, hourUtc, minute);
    return { clock: nodeClockReaching(firesAtNodeMs, firstDefragmentationAfterSeconds), firesAtNodeMs };
}

describe("local cluster of 3: the daily defragmentation", function () {
    this.timeout(120_000);
    const { clock, firesAtNodeMs } = clockBeforeFirstDefragmentation();
    const cluster = useLocalCluster({ size: 3, bootstrap: "static", clock });

    it("fires on member 0 at 03:30 UTC by the nodes' clock, on no other member, and is due again a day later", async () => {
        const [first, ...others] = cluster().nodes;
        expect(first.timers().map((timer) => [timer.name, timer.unit, timer.nextElapseMs])).to.deep.equal([
            ["etcd-member-defragment.timer", defragmentServiceName, firesAtNodeMs],
        ]);
        await eventually(() => first.unitOutput(defragmentServiceName).includes("defragment") &&
            ["inactive", "failed"].includes(first.unit(defragmentServiceName).activeState), (firstDefragmentationAfterSeconds + 30) * 1000,
        "member 0's defragmentation has run");
        expect(first.unit(defragmentServiceName).result, first.unitOutput(defragmentServiceName)).to.equal("success");
        const [timer] = first.timers();
        expect(timer.nextElapseMs).to.equal(firesAtNodeMs + 24 * 3600 * 1000);
        expect(timer.lastTriggerMs! - firesAtNodeMs, "how late it fired, ms").to.be.within(0, 2000);
        expect(others.map((node) => node.unitOutput(defragmentServiceName))).to.deep.equal(["", ""]);
        expect(others.map((node) => node.timers()[0].nextElapseMs)).to.deep.equal([1, 2]
            .map((index) => Date.UTC(2026, 0, 15, memberDefragmentationTime(index).hourUtc, memberDefragmentationTime(index).minute)));
    });

    it("shrinks the member's own backend once compaction has freed most of it, and no other member's", async function () {
        // The writes, the revision and the compaction, the wait for free pages, the sizes before and after, the defragmentation.
        this.timeout(writeLoopMs + 2 * etcdctlTimeouts.processMs + untilFreeMs + 2 * backendSizesMs + defaultUnitStartWaitMs + marginMs);
        const { nodes, clientEndpoints } = cluster();
        const value = randomBytes(100_000);
        const within = requestBudget(writeLoopMs, "60 writes of 100 kB");
        for (let round = 0; round < 3; round++) {
            for (let key = 0; key < 20; key++) {
                expect((await within((timeoutMs) => v3Put(nodes[0].clientUrl, `churn/${key}`, value, timeoutMs))).status).to.equal(200);
            }
        }
        // --physical: returns once the member asked has freed the old revisions' pages, which its script's decision reads.
        await etcdctl([clientEndpoints[1]], ["compact", "--physical", String(await currentRevision(clientEndpoints[0]))]);
        await untilFree(clientEndpoints[1], 0.5);
        const before = await backendSizes(clientEndpoints);
        expect(await nodes[1].startUnit(defragmentServiceName), nodes[1].unitOutput(defragmentServiceName)).to.equal("done");
        const after = await backendSizes(clientEndpoints);
        expect(after[1], `member 1's backend, ${before[1]} bytes before: ${nodes[1].unitOutput(defragmentServiceName)}`).to.be.below(before[1] / 2);
        // The others' files never shrink without a defragmentation of their own (a follower still applying may grow).
        expect([after[0] >= before[0], after[2] >= before[2]], `members 0 and 2: ${before} bytes before, ${after} after`).to.deep.equal([true, true]);
        expect(nodes[1].unitOutput(defragmentServiceName)).to.match(
            new RegExp(`defragmented etcd3-cluster-1: the backend went from ${before[1]} to ${after[1]} bytes`));
    });

    it("skips, as a success, while another member is down, and leaves the backend as it is", async function () {
        this.timeout(nodeStopMs + 2 * backendSizesMs + defaultUnitStartWaitMs + marginMs);
        const { nodes, clientEndpoints } = cluster();
        await cluster().stopNode(2);
        const before = await backendSizes(clientEndpoints.slice(0, 2));
        expect(await nodes[0].startUnit(defragmentServiceName), nodes[0].unitOutput(defragmentServiceName)).to.equal("done");
        expect(nodes[0].unitOutput(defragmentServiceName)).to.include("defragment: skipped: not every member is healthy");
        expect(await backendSizes(clientEndpoints.slice(0, 2))).to.deep.equal(before);
    });
});

describe("local cluster of 3 with a 16 MiB quota: NOSPACE and the README's runbook", function () {
    // The longest test but the runbook's: three requests, three health-check intervals (1.5 s at the default time scale), haproxy's stats.
    this.timeout(3 * requestTimeoutMs + 1_500 + probeOverrunMs + marginMs);
    const cluster = useLocalCluster({ size: 3, bootstrap: "static", quotaBackendMiB: 16 });
    /** Each key's last acknowledged value, by digest. */
    const acknowledged = new Map<string, string>();
    /** What the write that met the full backend was answered. */
    let refusal = { status: 0, body: "" };
    /**
     * That write's key and value: etcd applies the write that crosses the quota and only then answers it NOSPACE
     * (its quota applier), so afterwards the key holds this value or, when the alarm was up before it, the last one.
     */
    let refused = { key: "", value: "" };
    /** The values `key` may hold once the backend has filled: its last acknowledged one, or the refused write's. */
    const keptValues = (key: string) => (key === refused.key ? [acknowledged.get(key), refused.value] : [acknowledged.get(key)]);

    before(async function () {
        this.timeout(writeLoopMs + marginMs);
        const url = cluster().nodes[0].clientUrl;
        const within = requestBudget(writeLoopMs, "the writes filling the backend");
        for (let write = 0; write < 100; write++) {
            const key = `fill/${write % 4}`;
            const value = randomBytes(400_000);
            const answer = await within((timeoutMs) => v3Put(url, key, value, timeoutMs));
            if (answer.status !== 200) {
                refusal = answer;
                refused = { key, value: digest(value) };
                return;
            }
            acknowledged.set(key, digest(value));
        }
        throw new Error("100 writes of 400 kB did not fill a 16 MiB backend");
    });

    it("refuses v3 writes with 429 and the cause once the backend is full, and raises the NOSPACE alarm", async () => {
        expect(refusal.status).to.equal(429);
        expect(refusal.body).to.include("etcdserver: mvcc: database space exceeded");
        expect(await etcdctl(cluster().clientEndpoints, ["alarm", "list"])).to.match(/alarm:NOSPACE/);
    });

    it("keeps every member behind the load balancer: members answer plain /health with 503, the check leaves NOSPACE out", async () => {
        const { nodes } = cluster();
        for (const node of nodes) {
            const health = await curl(`${node.clientUrl}/health`);
            expect([health.status, health.body], node.name).to.deep.equal([503, { health: "false", reason: "ALARM NOSPACE" }]);
        }
        // Three health-check intervals: two failed checks would have taken a member out.
        await new Promise((resolve) => setTimeout(resolve, 3 * 5000 * cluster().healthCheckTimeScale));
        expect(await cluster().targetStates()).to.deep.equal(Object.fromEntries(nodes.map((node) => [node.name, "UP"])));
    });

    it("serves reads and refuses writes through the load balancer while the alarm is raised", async () => {
        const url = cluster().clusterUrl;
        expect(digest((await v3Get(url, "fill/0"))!)).to.be.oneOf(keptValues("fill/0"));
        const write = await v3Put(url, "after/full", Buffer.from("x"));
        expect([write.status, write.body.includes("database space exceeded")]).to.deep.equal([429, true]);
    });

    it("accepts writes again after the README's runbook, run as written, with every key's last acknowledged value", async function () {
        // The sizes before and after, the runbook, the alarm list, a write, a read of each of the four keys.
        this.timeout(2 * backendSizesMs + runbookMs + etcdctlTimeouts.processMs + requestTimeoutMs + 4 * requestTimeoutMs + marginMs);
        const { clientEndpoints, clusterUrl } = cluster();
        const sizesBefore = await backendSizes(clientEndpoints);
        await run("bash", ["-c", readmeRunbook("nospace")], {
            env: { ...process.env, ENDPOINTS: clientEndpoints.join(","), PATH: `${path.dirname(hostEtcdctl())}:${process.env.PATH}` },
            timeout: runbookMs,
        });
        expect((await etcdctl(clientEndpoints, ["alarm", "list"])).trim()).to.equal("");
        const sizesAfter = await backendSizes(clientEndpoints);
        sizesAfter.forEach((size, index) => expect(size, `member ${index}`).to.be.below(sizesBefore[index] / 2));
        expect((await v3Put(clusterUrl, "after/runbook", Buffer.from("written"))).status).to.equal(200);
        for (const key of acknowledged.keys()) {
            expect(digest((await v3Get(clusterUrl, key))!), key).to.be.oneOf(keptValues(key));
        }
    });
});
