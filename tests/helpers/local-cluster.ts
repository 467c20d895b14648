/**
 * Shared by the local-cluster tests: one cluster per suite with guaranteed
 * teardown, HTTP calls shaped like the seed's curl session, and etcdctl runs
 * shaped like the README's.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    defaultJoinTimeoutMs, defaultNodeStopWaitMs, defaultReplaceTimeoutMs, defaultStartTimeoutMs, defaultTargetWaitMs, LocalCluster, LocalClusterOptions,
    LocalNode, replaceGraceMs, startLocalCluster, teardownBoundMs,
} from "../../local/cluster";
import { probeTimeoutMs } from "../../local/http";
import { requireHostEtcd } from "../../local/system-tools";
import { waitUntil } from "../../local/processes";
import { promisify } from "util";
import { snapshotSettingsPath } from "../../lib/snapshots";

/** Room a mocha timeout keeps above the harness's own bound, so the harness always fails (and cleans up) first. */
export const marginMs = 5_000;

/**
 * How far past its bound a harness wait on /health or on a target's state
 * can end: a 100 ms pause, then one more probe.
 */
export const probeOverrunMs = 100 + probeTimeoutMs;

/** Bound on one HTTP request of `curl`, `putKey`, `getKeyWithQuorum`, `v3Put` and `v3Get`, unless given a shorter one. */
export const requestTimeoutMs = 10_000;

/**
 * Worst case of `PacedWriter.stop` with its default request timeout, and of
 * `readDirectoryWithQuorum` with its default bound (tests/helpers/paced-writes.ts).
 */
export const writerStopMs = 15_000;
export const readBackMs = 30_000;

/** Worst case of `LocalNode.stop()` (and `stopNode`): the harness's bound on the shutdown. */
export const nodeStopMs = defaultNodeStopWaitMs;

/**
 * Worst case of `LocalNode.start()` (and `startNode`) on a cluster started
 * with `options`: its wait for /health has the cluster's start bound.
 */
export function nodeStartMs(options: Pick<LocalClusterOptions, "startTimeoutMs"> = {}): number {
    return (options.startTimeoutMs ?? defaultStartTimeoutMs) + probeOverrunMs;
}

/** Worst case of `replaceNode` with `timeoutMs` (default the harness's): it rejects `replaceGraceMs` after it at the latest. */
export function replaceNodeMs(timeoutMs = defaultReplaceTimeoutMs): number {
    return timeoutMs + replaceGraceMs;
}

/** Worst case of `waitForTarget` with `timeoutMs` (default the harness's). */
export function waitForTargetMs(timeoutMs = defaultTargetWaitMs): number {
    return timeoutMs + probeOverrunMs;
}

/**
 * Worst case of a `waitUntil` (local/processes.ts) bounded by `timeoutMs`
 * whose check takes at most `checkMs`, polled every `intervalMs`: a check
 * ending just before the deadline, the pause, and one more check.
 */
export function waitUntilMs(timeoutMs: number, checkMs: number, intervalMs = 100): number {
    return timeoutMs + intervalMs + checkMs;
}

/**
 * Mocha timeout for a hook that starts a cluster with `options`: the start's
 * own bound (it cleans up and rejects when that runs out) plus its teardown.
 */
export function startHookTimeoutMs(options: Pick<LocalClusterOptions, "startTimeoutMs"> = {}): number {
    return (options.startTimeoutMs ?? defaultStartTimeoutMs) + teardownBoundMs + marginMs;
}

/**
 * Mocha timeout for a hook or test that takes `steps` steps, each an
 * `updateObjects` and then `replaceNode` for each of `members` members, at the
 * harness's default bounds or the `bounds` they are given: a stalled roll fails
 * in the harness, which stops what it started, before mocha gives up on the hook.
 */
export function rollTimeoutMs(steps: number, members: number, bounds: RollBounds = {}): number {
    const updateMs = bounds.updateTimeoutMs ?? defaultReplaceTimeoutMs;
    return steps * (updateMs + members * replaceNodeMs(bounds.replaceTimeoutMs)) + marginMs;
}

/** The bounds a roll passes to the harness: `updateObjects`'s `timeoutMs` and each `replaceNode`'s (default the harness's). */
export interface RollBounds {
    updateTimeoutMs?: number;
    replaceTimeoutMs?: number;
}

/**
 * Worst case of `grow` by `members` members with `timeoutMsPerMember`
 * (default the harness's), each member's `afterMember` taking at most
 * `afterMemberMs`: the grow's deadline does not bound its callbacks, and each
 * member's two waits may each run one probe past it.
 */
export function growMs(members: number, { timeoutMsPerMember = defaultJoinTimeoutMs, afterMemberMs = 0 } = {}): number {
    return members * (timeoutMsPerMember + afterMemberMs + 2 * probeOverrunMs);
}

/** Mocha timeout for a suite's cluster start with the default bound. */
export const clusterStartTimeoutMs = startHookTimeoutMs();
/** Mocha timeout for teardown (SIGTERM, grace, SIGKILL for every process, then unmounting and removing the files). */
export const clusterStopTimeoutMs = teardownBoundMs + marginMs;

/**
 * Starts a cluster before the suite's tests and stops it after them, even if
 * a test or the start failed. Returns a getter for the running cluster.
 */
export function useLocalCluster(options: LocalClusterOptions): () => LocalCluster {
    let cluster: LocalCluster | undefined;
    before(async function () {
        this.timeout(startHookTimeoutMs(options));
        cluster = await startLocalCluster(options);
    });
    after(async function () {
        this.timeout(clusterStopTimeoutMs);
        await cluster?.stop();
    });
    return () => {
        if (!cluster) {
            throw new Error("the suite's local cluster did not start");
        }
        return cluster;
    };
}

/** An HTTP answer with its body parsed as JSON when it is JSON. */
export interface Answer {
    status: number;
    body: any;
}

/**
 * Like `curl URL [-X METHOD] [-d DATA]`: `-d` sends the data as a form body
 * exactly as written (curl does not encode it). Bounded by `timeoutMs`
 * (default `requestTimeoutMs`).
 */
export async function curl(url: string, options: { method?: string; data?: string; timeoutMs?: number } = {}): Promise<Answer> {
    const response = await fetch(url, {
        method: options.method ?? (options.data === undefined ? "GET" : "POST"),
        body: options.data,
        headers: options.data === undefined ? undefined : { "content-type": "application/x-www-form-urlencoded" },
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs ?? requestTimeoutMs),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
        body = JSON.parse(text);
    } catch {
        // Not JSON (e.g. haproxy's 503 page): keep the text.
    }
    return { status: response.status, body };
}

/** `curl URL -XPUT -d value=VALUE` on a v2 key. */
export function putKey(baseUrl: string, key: string, value: string, timeoutMs = requestTimeoutMs): Promise<Answer> {
    return curl(`${baseUrl}/v2/keys/${key}`, { method: "PUT", data: `value=${value}`, timeoutMs });
}

/** A v2 read that a write through another member cannot have overtaken (see notes: reads lag without quorum). */
export function getKeyWithQuorum(baseUrl: string, key: string, timeoutMs = requestTimeoutMs): Promise<Answer> {
    return curl(`${baseUrl}/v2/keys/${key}?quorum=true`, { timeoutMs });
}

/** A v3 write through the JSON gateway: the HTTP status and body. */
export async function v3Put(baseUrl: string, key: string, value: Buffer, timeoutMs = requestTimeoutMs): Promise<{ status: number; body: string }> {
    const response = await fetch(`${baseUrl}/v3/kv/put`, {
        method: "POST",
        body: JSON.stringify({ key: Buffer.from(key).toString("base64"), value: value.toString("base64") }),
        signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, body: await response.text() };
}

/** A key's value through the JSON gateway, or undefined if it has none. */
export async function v3Get(baseUrl: string, key: string, timeoutMs = requestTimeoutMs): Promise<Buffer | undefined> {
    const response = await fetch(`${baseUrl}/v3/kv/range`, {
        method: "POST",
        body: JSON.stringify({ key: Buffer.from(key).toString("base64") }),
        signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status !== 200) {
        throw new Error(`range ${key}: HTTP ${response.status} ${await response.text()}`);
    }
    const kvs = ((await response.json()) as { kvs?: { value?: string }[] }).kvs;
    return kvs ? Buffer.from(kvs[0].value ?? "", "base64") : undefined;
}

/** A loop of requests bounded as a whole: see `requestBudget`. */
export type RequestBudget = <T>(send: (timeoutMs: number) => Promise<T>) => Promise<T>;

/**
 * A bound on a loop of requests as a whole, for a loop whose requests' own
 * bounds would add up to far more than it ever takes: each request the budget
 * sends gets `requestTimeoutMs` at most and never past `budgetMs` from now, and
 * once that has run out the request fails, naming `what` and the budget.
 */
export function requestBudget(budgetMs: number, what: string): RequestBudget {
    const deadline = Date.now() + budgetMs;
    const ranOut = (why: string) => new Error(`${what} ran out of its ${budgetMs} ms${why}`);
    return async (send) => {
        const left = deadline - Date.now();
        if (left <= 0) {
            throw ranOut("");
        }
        try {
            return await send(Math.min(requestTimeoutMs, left));
        } catch (error) {
            throw Date.now() >= deadline ? ranOut(`: ${(error as Error).message}`) : error;
        }
    };
}

/** The running member that says it is the leader right now, if one does. */
async function currentLeader(cluster: LocalCluster): Promise<{ index: number; id: string } | undefined> {
    for (const [index, node] of cluster.nodes.entries()) {
        if (node.running) {
            const self = await curl(`${node.clientUrl}/v2/stats/self`).catch(() => undefined);
            if (self?.body?.state === "StateLeader") {
                return { index, id: self.body.id };
            }
        }
    }
    return undefined;
}

/** Bound on waiting out an election: several election timeouts of etcd's default 1 s. */
export const electionWaitMs = 10_000;

/** Worst case of `findLeader` on a cluster of `members`: `electionWaitMs`, then one more round asking each member. */
export function findLeaderMs(members: number): number {
    return electionWaitMs + 100 + members * requestTimeoutMs;
}

/** Worst case of `makeLeader` on a cluster of `members`: `electionWaitMs`, then one more round of finding, asking and moving. */
export function makeLeaderMs(members: number): number {
    return electionWaitMs + 100 + findLeaderMs(members) + requestTimeoutMs + etcdctlTimeouts.processMs;
}

/**
 * The running member that says it is the leader: its node index and member id
 * (hex, as in /v2/stats/leader). Waits out an election in progress, bounded.
 */
export async function findLeader(cluster: LocalCluster): Promise<{ index: number; id: string }> {
    const deadline = Date.now() + electionWaitMs;
    for (;;) {
        const leader = await currentLeader(cluster);
        if (leader) {
            return leader;
        }
        if (Date.now() > deadline) {
            throw new Error(`no running member said it was the leader within ${electionWaitMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

/**
 * Makes member `index` the leader (etcd's leadership transfer, `etcdctl
 * move-leader`), so a test that needs a particular leader has one rather
 * than hoping one stays put; waits until it says so, bounded.
 */
export async function makeLeader(cluster: LocalCluster, index: number): Promise<{ index: number; id: string }> {
    const deadline = Date.now() + electionWaitMs;
    for (;;) {
        const leader = await findLeader(cluster);
        if (leader.index === index) {
            return leader;
        }
        const self = await curl(`${cluster.nodes[index].clientUrl}/v2/stats/self`);
        await etcdctl([cluster.nodes[leader.index].clientUrl], ["move-leader", self.body.id]).catch(() => undefined);
        if (Date.now() > deadline) {
            throw new Error(`member ${index} did not become the leader within ${electionWaitMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

/** Member ids and names as the cluster lists them (`/v2/members` on a running member). */
export async function memberList(cluster: LocalCluster): Promise<string[]> {
    const node = cluster.nodes.find((n) => n.running);
    if (!node) {
        throw new Error("no running member to ask for the member list");
    }
    const answer = await curl(`${node.clientUrl}/v2/members`);
    return (answer.body.members as { id: string; name: string }[]).map((m) => `${m.name}=${m.id}`).sort();
}

/** Bounds on one etcdctl run: its gRPC dial, each request, and the process itself should etcdctl hang past both. */
export const etcdctlTimeouts = { dial: "2s", command: "5s", processMs: 15_000 };

/** The etcdctl installed beside the host's etcd (setup.sh puts both in /usr/local/bin): client and server of one release. */
export function hostEtcdctl(): string {
    return path.join(path.dirname(requireHostEtcd().path), "etcdctl");
}

/** This environment with ETCDCTL_API=3 and no other ETCDCTL_* variable: etcdctl refuses to start when one shadows a flag it is given. */
function etcdctlEnvironment(): NodeJS.ProcessEnv {
    const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith("ETCDCTL_"));
    return { ...Object.fromEntries(inherited), ETCDCTL_API: "3" };
}

/**
 * `ETCDCTL_API=3 etcdctl --endpoints=<endpoints joined by commas> ARGS` with
 * bounded dial and command timeouts; resolves to its standard output. Rejects
 * with its standard error if it fails, and kills it if it outlives
 * `etcdctlTimeouts.processMs`.
 */
export function etcdctl(endpoints: string[], args: string[]): Promise<string> {
    const flags = [
        `--endpoints=${endpoints.join(",")}`,
        `--dial-timeout=${etcdctlTimeouts.dial}`,
        `--command-timeout=${etcdctlTimeouts.command}`,
    ];
    const options = { env: etcdctlEnvironment(), timeout: etcdctlTimeouts.processMs, killSignal: "SIGKILL" as const };
    return new Promise((resolve, reject) => {
        execFile(hostEtcdctl(), [...flags, ...args], options, (error, stdout, stderr) => {
            if (error) {
                const how = error.killed ? `was killed after ${etcdctlTimeouts.processMs} ms` : `exited with code ${error.code}`;
                reject(new Error(`etcdctl ${[...flags, ...args].join(" ")} ${how}: ${stderr.trim()}`));
            } else {
                resolve(stdout);
            }
        });
    });
}

/** etcdctl's options to reach the members: with `clientTls` the CA it trusts them by, with `rootPassword` root's credentials; none otherwise. */
export const reachingMembers = (cluster: LocalCluster): string[] => [
    ...cluster.memberCaFile ? [`--cacert=${cluster.memberCaFile}`] : [],
    ...cluster.rootPassword !== undefined ? ["--user=root", `--password=${cluster.rootPassword}`] : [],
];

/** Member ids as `etcdctl member list -w json` gives them (hex), by name, asked of the members that run. */
export async function memberIds(cluster: LocalCluster): Promise<Record<string, string>> {
    const running = cluster.nodes.filter((node) => node.running).map((node) => node.clientUrl);
    const text = await etcdctl(running, [...reachingMembers(cluster), "member", "list", "-w", "json"]);
    // JSON.parse would round the 64-bit ids to doubles: read them from the text.
    const members = [...text.matchAll(/"ID":(\d+),"name":"([^"]*)"/g)].map((match) => [match[2], BigInt(match[1]).toString(16)]);
    if (members.length === 0) {
        throw new Error(`etcdctl member list -w json listed no member: ${text}`);
    }
    return Object.fromEntries(members);
}

/** A member as `etcdctl member list -w simple` lists it. */
export interface Member {
    id: string;
    started: boolean;
    name: string;
    peerUrl: string;
    learner: boolean;
}

/** The members etcd lists (asked of the running members), by peer URL. */
export async function members(cluster: LocalCluster): Promise<Member[]> {
    const running = cluster.nodes.filter((node) => node.running).map((node) => node.clientUrl);
    const text = await etcdctl(running, [...reachingMembers(cluster), "member", "list", "-w", "simple"]);
    return text.trim().split("\n").map((line) => {
        const [id, status, name, peerUrl, , learner] = line.split(",").map((field) => field.trim());
        return { id, started: status === "started", name, peerUrl, learner: learner === "true" };
    }).sort((a, b) => a.peerUrl.localeCompare(b.peerUrl));
}

/** Every slot's member started, voting, under its own name at its own peer URL: the cluster as the slots describe it. */
export async function settledMembers(cluster: LocalCluster, peerScheme: "http" | "https" = "http"): Promise<boolean> {
    const listed = await members(cluster).catch(() => []);
    return listed.length === cluster.nodes.length && cluster.nodes.every((node) =>
        listed.some((member) => member.name === node.name && member.peerUrl === `${peerScheme}://${node.ip}:2380` && member.started && !member.learner));
}

/** Bound on a rejoin: the boot, the bootstrap's etcdctl calls, the learner catching up and its promotion (retried every 2 s). */
export const rejoinWaitMs = 120_000;

/** Bound on `wipefs` in `loseData`, per volume. */
export const wipeTimeoutMs = 10_000;

/** Node `index` stopped and its data volume wiped to a blank device (a new empty volume, a volume lost with its zone). */
export async function loseData(cluster: LocalCluster, index: number): Promise<void> {
    const node = cluster.nodes[index];
    await node.stop();
    for (const volume of node.volumes) {
        await promisify(execFile)("wipefs", ["--all", "--quiet", volume.hostDevice], { timeout: wipeTimeoutMs });
    }
}

/** Worst case of `loseData` on `node`: its shutdown, then a `wipefs` per volume. */
export function loseDataMs(node: LocalNode): number {
    return nodeStopMs + node.volumes.length * wipeTimeoutMs;
}

/**
 * Node `index` stopped, its data volume wiped to a blank device, and booted
 * again; resolves once the cluster's members match its slots again, at
 * `peerScheme` peer URLs, within `timeoutMs` (unless `settled` is false: once
 * the member is healthy).
 */
export async function loseDataAndReboot(cluster: LocalCluster, index: number,
    { settled = true, peerScheme = "http", timeoutMs = rejoinWaitMs }: { settled?: boolean; peerScheme?: "http" | "https"; timeoutMs?: number } = {},
): Promise<void> {
    const node = cluster.nodes[index];
    await loseData(cluster, index);
    await node.start();
    if (!settled) {
        return;
    }
    await waitUntil(() => settledMembers(cluster, peerScheme), { timeoutMs, intervalMs: 1000, description: `${node.name} to rejoin as a voting member` });
}

/**
 * Worst case of `loseDataAndReboot` on `node` with `options`, on a cluster
 * started with `clusterOptions`: `loseData`, the boot to /health, and (unless
 * `settled` is false) the wait for the members to settle, each check an etcdctl run.
 */
export function loseDataAndRebootMs(node: LocalNode, { settled = true, timeoutMs = rejoinWaitMs }: { settled?: boolean; timeoutMs?: number } = {},
    clusterOptions: Pick<LocalClusterOptions, "startTimeoutMs"> = {}): number {
    return loseDataMs(node) + nodeStartMs(clusterOptions) + (settled ? waitUntilMs(timeoutMs, etcdctlTimeouts.processMs, 1000) : 0);
}

/** The README's runbook `name`, as written between its `<!-- runbook:NAME:start -->` and `<!-- runbook:NAME:end -->` markers. */
export function readmeRunbook(name: string): string {
    const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
    const block = new RegExp(`<!-- runbook:${name}:start -->\n\`\`\`bash\n([\\s\\S]*?)\`\`\`\n<!-- runbook:${name}:end -->`).exec(readme);
    if (!block) {
        throw new Error(`README.md has no ${name} runbook between <!-- runbook:${name}:start --> and <!-- runbook:${name}:end -->`);
    }
    return block[1];
}

/** The bucket a cluster with backups uploads to, as Ignition wrote it into the first node's snapshot settings. */
export function backupBucketOf(cluster: LocalCluster): string {
    const settings = fs.readFileSync(path.join(cluster.nodes[0].root, snapshotSettingsPath.slice(1)), "utf8");
    return /^BACKUP_BUCKET=(.*)$/m.exec(settings)![1];
}
