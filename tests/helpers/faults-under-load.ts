/**
 * One fault under load, start to finish: boot a local cluster, write through
 * the ALB stand-in on a fixed cadence, inject the fault (stop or crash the
 * leader, stop a follower, stop the whole cluster), wait for the load
 * balancer to take the dead out, bring them back, and read every write back
 * with a quorum read. Used by tests/local-faults-under-load.test.ts, which
 * asserts on the outcome, and by `npm run bench` (its `faults` section),
 * which reports the figures: both run exactly this code.
 *
 * Every wait is bounded, the whole run has a deadline, and the cluster is
 * stopped (every process, every file) whatever happens.
 */
import { LocalCluster, startLocalCluster } from "../../local/cluster";
import { within } from "../../local/processes";
import {
    checkWrites, countWindow, failuresBetween, isAcknowledged, outcomeOf, PacedWriter, readDirectoryWithQuorum,
    WindowCount, WriteCheck, writeCheckProblems, WriteRecord,
} from "./paced-writes";

export type FaultId = "stop-leader" | "crash-leader" | "stop-follower" | "stop-cluster";

export interface FaultScenario {
    id: FaultId;
    /** How the README and the test titles say it. */
    title: string;
}

export const faultScenarios: FaultScenario[] = [
    { id: "stop-leader", title: "stop the leader (SIGTERM: it hands leadership over first)" },
    { id: "crash-leader", title: "crash the leader (SIGKILL, like a failed instance)" },
    { id: "stop-follower", title: "stop a follower" },
    { id: "stop-cluster", title: "stop the whole cluster and start it again" },
];

export interface FaultRunOptions {
    fault: FaultId;
    /** Members; default 3. */
    size?: number;
    /** The target group's health-check times are multiplied by this (default: the harness's, 0.1). */
    healthCheckTimeScale?: number;
    /** Milliseconds between two writes; default 50. */
    intervalMs?: number;
    /** Writing before the fault, during which nothing may fail; default 1000 ms. */
    baselineMs?: number;
    /** Writing once the load balancer has taken the dead out (or, for the whole cluster, while it is down); default 1000 ms. */
    holdMs?: number;
    /** Writing after everything is back, during which nothing may fail; default 1000 ms. */
    tailMs?: number;
    /** Bound on the whole run from the call, cluster start included (teardown comes after); default 150000 ms. */
    deadlineMs?: number;
    /** The component's `heartbeatIntervalMs` and `electionTimeoutMs` for the cluster; default the component's. */
    heartbeatIntervalMs?: number;
    electionTimeoutMs?: number;
    /** The window after the fault that `FaultFigures.afterFault` counts; default 2500 ms. */
    afterFaultWindowMs?: number;
    log?: (line: string) => void;
}

/** Milliseconds since the writer started at which each step happened. */
export interface FaultTimeline {
    /** The fault was injected (stop or crash called). */
    faultMs: number;
    /** The stop or crash call returned. */
    faultDoneMs: number;
    /** The load balancer saw every failed member DOWN. */
    downMs: number;
    /**
     * Single-member faults: the survivors had a leader and every one was UP
     * again behind the load balancer. Whole cluster: equal to `downMs`.
     */
    stableMs: number;
    /** The failed members were started again. */
    restartMs: number;
    /** The load balancer saw every member UP again. */
    upMs: number;
    /** The writer stopped sending. */
    endMs: number;
}

/** What a client writing through the load balancer saw. */
export interface FaultFigures {
    intervalMs: number;
    sent: number;
    acknowledged: number;
    unacknowledged: number;
    /** Unacknowledged writes by how they ended: HTTP status or error. */
    unacknowledgedBy: Record<string, number>;
    unacknowledgedPresent: number;
    unacknowledgedAbsent: number;
    /** Writes sent from the fault until every member was UP behind the load balancer again. */
    whileDown: WindowCount;
    /** Writes sent in the first `afterFaultWindowMs` after the fault: the share answered is what a client feels. */
    afterFault: WindowCount & { windowMs: number };
    /** From the fault to the send of the first write after it that was acknowledged (after a crash: the election); undefined if none was. */
    resumedMs?: number;
    /** From the fault to the load balancer seeing the failed members DOWN. */
    faultToDownMs: number;
    /** From the fault to the send of the first write that failed (negative if it was already in flight); undefined if none failed. */
    firstFailureMs?: number;
    /** From the first failed write's send to the last's: how long clients saw failures. 0 if at most one failed. */
    failingWindowMs: number;
    /** The longest any write took to be answered (or to fail). */
    longestWaitMs: number;
    /** Writes that took longer than a second to settle. */
    slowWrites: number;
    /** Sends the writer made more than one interval late (a busy event loop): the cadence's honesty. */
    lateSends: number;
}

/** Snapshots of the ALB stand-in's target states, taken every 100 ms, kept when they change. */
export interface TargetSample {
    atMs: number;
    states: Record<string, string>;
}

export interface FaultRun {
    fault: FaultId;
    size: number;
    healthCheckTimeScale: number;
    /** Member names that failed. */
    failed: string[];
    timeline: FaultTimeline;
    targets: TargetSample[];
    records: WriteRecord[];
    check: WriteCheck;
    figures: FaultFigures;
    /** Writes that failed where none may: answered before the fault, or sent once everything was back in service. */
    unexpectedFailures: WriteRecord[];
    /** Everything that makes this run a failure: lost or altered writes, unexpected failures, a stalled writer. */
    problems: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The member that says it is the leader (`/v2/stats/self`), if one does. */
async function leaderIndex(cluster: LocalCluster): Promise<number | undefined> {
    for (const [index, node] of cluster.nodes.entries()) {
        if (!node.running) {
            continue;
        }
        try {
            const response = await fetch(`${node.clientUrl}/v2/stats/self`, { signal: AbortSignal.timeout(2000) });
            if ((await response.json()).state === "StateLeader") {
                return index;
            }
        } catch {
            // Not answering right now: not the leader.
        }
    }
    return undefined;
}

/** Polls every 100 ms until `check` holds; rejects after `timeoutMs`. */
async function waitFor(description: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await check().catch(() => false)) {
            return;
        }
        if (Date.now() >= deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
        }
        await sleep(100);
    }
}

const healthy = async (url: string) => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).status === 200;

/** Bound on each wait inside a run: a health-check cycle at the ALB's own times (2 × 5 s) with room, or an election. */
const stepWaitMs = 30_000;

/** From `fromMs` to the send of the first write sent since then that was acknowledged, if any was. */
function firstAcknowledgedFrom(records: WriteRecord[], fromMs: number): number | undefined {
    const first = records.find((r) => r.sentMs >= fromMs && isAcknowledged(r));
    return first === undefined ? undefined : first.sentMs - fromMs;
}

/** Computes the figures and the verdict from the writes, the read-back and the timeline. */
export function assessRun(
    records: WriteRecord[], check: WriteCheck, timeline: FaultTimeline, intervalMs: number, lateSends: number, fault: FaultId,
    afterFaultWindowMs = 2500,
): { figures: FaultFigures; unexpectedFailures: WriteRecord[]; problems: string[] } {
    const unacknowledged = records.filter((r) => !isAcknowledged(r));
    const unacknowledgedBy: Record<string, number> = {};
    for (const record of unacknowledged) {
        unacknowledgedBy[outcomeOf(record)] = (unacknowledgedBy[outcomeOf(record)] ?? 0) + 1;
    }
    // A write still in flight when the fault came is the fault's too (a crash resets its connection): judged by when it settled.
    const failedAfterFault = unacknowledged.filter((r) => (r.settledMs ?? Infinity) > timeline.faultMs);
    const waits = records.map((r) => (r.settledMs ?? timeline.endMs) - r.sentMs);
    const figures: FaultFigures = {
        intervalMs,
        sent: records.length,
        acknowledged: check.acknowledged,
        unacknowledged: check.unacknowledged,
        unacknowledgedBy,
        unacknowledgedPresent: check.unacknowledgedPresent,
        unacknowledgedAbsent: check.unacknowledgedAbsent,
        whileDown: countWindow(records, timeline.faultMs, timeline.upMs),
        afterFault: { ...countWindow(records, timeline.faultMs, timeline.faultMs + afterFaultWindowMs), windowMs: afterFaultWindowMs },
        resumedMs: firstAcknowledgedFrom(records, timeline.faultMs),
        faultToDownMs: timeline.downMs - timeline.faultMs,
        firstFailureMs: failedAfterFault.length ? failedAfterFault[0].sentMs - timeline.faultMs : undefined,
        failingWindowMs: failedAfterFault.length > 1 ? failedAfterFault[failedAfterFault.length - 1].sentMs - failedAfterFault[0].sentMs : 0,
        longestWaitMs: Math.max(0, ...waits),
        slowWrites: waits.filter((ms) => ms > 1000).length,
        lateSends,
    };
    // Nothing may fail before the fault (answered before it), nor once the dead are out and the survivors serve
    // (single member), nor once all are back (sent after that).
    const serviceResumedMs = fault === "stop-cluster" ? timeline.upMs : timeline.stableMs;
    const unexpectedFailures = [
        ...unacknowledged.filter((r) => r.settledMs !== undefined && r.settledMs <= timeline.faultMs),
        ...failuresBetween(records, serviceResumedMs, Infinity),
    ];
    const problems = writeCheckProblems(check);
    if (unexpectedFailures.length) {
        const described = unexpectedFailures.slice(0, 5).map((r) => `${r.key} sent at ${r.sentMs} ms: ${outcomeOf(r)}`);
        problems.push(`${unexpectedFailures.length} write(s) failed outside the fault's window (answered before ${timeline.faultMs} ms or sent from ${serviceResumedMs} ms): ${described.join("; ")}`);
    }
    // The writer must have kept its cadence to the end: a stalled writer would hide the failing window.
    const expected = Math.floor(timeline.endMs / intervalMs);
    if (records.length < expected - 1) {
        problems.push(`the writer sent ${records.length} writes in ${timeline.endMs} ms, fewer than one every ${intervalMs} ms (${expected})`);
    }
    return { figures, unexpectedFailures, problems };
}

/**
 * Runs one fault under load and returns what happened; rejects only when the
 * run could not be carried out (a start or a wait that failed), never for
 * what the writes show: that is in `problems`.
 */
export async function runFaultUnderLoad(options: FaultRunOptions): Promise<FaultRun> {
    const deadline = Date.now() + (options.deadlineMs ?? 150_000);
    const size = options.size ?? 3;
    const log = options.log ?? (() => undefined);
    const intervalMs = options.intervalMs ?? 50;
    let cluster: LocalCluster | undefined;
    let writer: PacedWriter | undefined;
    let sampling = true;
    let sampler: Promise<void> | undefined;
    try {
        // Not raced against the deadline: the start has its own bound and stops what it started when it fails.
        cluster = await startLocalCluster({
            size, healthCheckTimeScale: options.healthCheckTimeScale, startTimeoutMs: Math.max(1, Math.min(60_000, deadline - Date.now())),
            heartbeatIntervalMs: options.heartbeatIntervalMs, electionTimeoutMs: options.electionTimeoutMs,
        });
        const c = cluster;
        const healthCheckTimeScale = options.healthCheckTimeScale ?? 0.1;
        const leader = await within(deadline, "a leader", (async () => {
            let found: number | undefined;
            await waitFor("a member to say it is the leader", stepWaitMs, async () => (found = await leaderIndex(c)) !== undefined);
            return found!;
        })());
        const failed = options.fault === "stop-cluster" ? [...c.nodes.keys()]
            : options.fault === "stop-follower" ? [[...c.nodes.keys()].find((i) => i !== leader)!]
                : [leader];
        const survivors = [...c.nodes.keys()].filter((i) => !failed.includes(i));
        const names = failed.map((i) => c.nodes[i].name);
        log(`${options.fault}: ${size} members, leader ${c.nodes[leader].name}, failing ${names.join(", ")}, health checks at ${healthCheckTimeScale}×`);

        const directory = `faults-under-load/${options.fault}-${Date.now()}`;
        const w = new PacedWriter({ baseUrl: c.clusterUrl, directory, intervalMs, maxDurationMs: deadline - Date.now() });
        writer = w;
        const targets: TargetSample[] = [];
        w.start();
        sampler = (async () => {
            while (sampling && Date.now() < deadline) {
                const states = await c.targetStates().catch(() => ({}));
                const last = targets[targets.length - 1];
                if (!last || JSON.stringify(last.states) !== JSON.stringify(states)) {
                    targets.push({ atMs: w.now(), states });
                }
                await sleep(100);
            }
        })();

        await sleep(options.baselineMs ?? 1000);
        const faultMs = w.now();
        const crash = options.fault === "crash-leader";
        let faultDoneMs = faultMs;
        // The load balancer may take a member out before its stop has finished (a stopping leader hands over first): watch both at once.
        const faulting = Promise.all(failed.map((i) => (crash ? c.nodes[i].crash() : c.nodes[i].stop()))).then(() => {
            faultDoneMs = w.now();
        });
        faulting.catch(() => undefined);
        await within(deadline, `${names.join(", ")} DOWN`, Promise.all(names.map((name) => c.waitForTarget(name, "DOWN", stepWaitMs))));
        const downMs = w.now();
        await within(deadline, `${names.join(", ")} to ${crash ? "crash" : "stop"}`, faulting);
        let stableMs = downMs;
        if (survivors.length) {
            // The survivors have a leader (etcd's /health says so) and every one is UP behind the load balancer.
            await within(deadline, "the survivors to be healthy and UP", (async () => {
                await waitFor("the survivors to answer /health with 200", stepWaitMs,
                    async () => (await Promise.all(survivors.map((i) => healthy(c.nodes[i].clientUrl)))).every(Boolean));
                await Promise.all(survivors.map((i) => c.waitForTarget(c.nodes[i].name, "UP", stepWaitMs)));
            })());
            stableMs = w.now();
        }
        log(`${options.fault}: DOWN after ${downMs - faultMs} ms, back in service after ${stableMs - faultMs} ms`);
        await sleep(options.holdMs ?? 1000);

        const restartMs = w.now();
        // A member can only be healthy with a quorum: after a whole-cluster stop the members start together.
        await within(deadline, `${names.join(", ")} to start again`, Promise.all(failed.map((i) => c.nodes[i].start())));
        await within(deadline, `${names.join(", ")} UP`, Promise.all(names.map((name) => c.waitForTarget(name, "UP", stepWaitMs))));
        const upMs = w.now();
        await sleep(options.tailMs ?? 1000);
        if (!w.sending) {
            throw new Error("the writer stopped sending before the run ended (its bound on time or count was reached)");
        }
        const endMs = w.now();
        const records = await w.stop();
        writer = undefined;
        sampling = false;
        await sampler;

        const stored = await within(deadline, "the quorum read-back", readDirectoryWithQuorum(c.clusterUrl, directory));
        const check = checkWrites(records, stored);
        const timeline: FaultTimeline = { faultMs, faultDoneMs, downMs, stableMs, restartMs, upMs, endMs };
        const { figures, unexpectedFailures, problems } = assessRun(
            records, check, timeline, intervalMs, w.lateSends, options.fault, options.afterFaultWindowMs,
        );
        log(`${options.fault}: ${figures.unacknowledged} of ${figures.sent} writes unacknowledged, failing for ${figures.failingWindowMs} ms, longest wait ${figures.longestWaitMs} ms${problems.length ? `; PROBLEMS: ${problems.join("; ")}` : ""}`);
        return {
            fault: options.fault, size, healthCheckTimeScale, failed: names, timeline, targets,
            records, check, figures, unexpectedFailures, problems,
        };
    } finally {
        sampling = false;
        await writer?.stop();
        await sampler;
        await cluster?.stop();
    }
}

/**
 * Mocha timeout for a hook that calls `runFaultUnderLoad` with the default
 * deadline: the deadline, then the writes in flight (each bounded by the
 * writer's 15 s request timeout) and the cluster's teardown (15 s), with room.
 */
export const faultRunHookTimeoutMs = 150_000 + 15_000 + 15_000 + 10_000;
