/**
 * `npm run bench`: how fast the local cluster comes up, what the load balancer
 * costs, how the program scales with cluster size, how big the user data is,
 * what clients writing through the load balancer see when members stop or
 * crash, what they see while the members' health gates roll every member,
 * one at a time (tests/helpers/gated-roll.ts, as tests/local-rolling.test.ts
 * does), and how many of their writes a leader's crash fails under three raft
 * timings side by side. Prints the README's tables (scripts/bench-tables.ts renders them),
 * writes bench/results.json and regenerates the README's figures from it.
 *
 * Absolute times on shared machines are noisy: every figure is a median over
 * repeated runs with its range, each section records the load average it ran
 * under, and the load-balancer cost is a ratio measured side by side.
 *
 * A run with errors (a start that failed, a request that failed where none
 * may, a lost write) exits 1 and leaves bench/results.json as it was; what it
 * measured goes to a file in the temp directory instead.
 *
 * Options: --runs N (bootstrap runs per size, default 5), --sizes 3,5,7,
 * --duration S (seconds per load run, default 5), --lb-runs N (load runs per
 * path, default 3), --fault-runs N (runs per fault scenario, default 3),
 * --fault-time-scale X (health-check time scale in the fault section, default
 * 1: the ALB's own times), --rolling-runs N (rolls per cluster size, default 3),
 * --rolling-time-scale X (health-check and deregistration-delay time scale in
 * the rolling section, default 1: the ALB's own times),
 * --failover-runs N (leader crashes per raft timing in the failover section,
 * default 5),
 * --only userdata|program|bootstrap|loadbalancer|faults|rolling|failover (rerun
 * one section; the others are kept from bench/results.json),
 * --no-readme (leave README.md alone; by default a run without errors
 * regenerates its figures, as scripts/bench-tables.ts --write does).
 */
import autocannon from "autocannon";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ec2UserDataLimitBytes, renderUserData } from "../lib/ignition";
import { defaultEtcdVersion, etcdTimingDefaults, supportedClusterSizes } from "../lib/etcd";
import { resolveArgs } from "../lib/args";
import { memberIgnitionOptions, planMembers } from "../lib/plan";
import { LocalCluster, startLocalCluster, StartupTimings } from "../local/cluster";
import { compressedConfigContents, decodeInlineContents, InlineContents } from "../local/ignition-contents";
import { requireHostEtcd } from "../local/system-tools";
import { benchTablesCommand, readmeFile, renderBenchSections, renderReadme } from "../scripts/bench-tables";
import { faultScenarios, runFaultUnderLoad } from "../tests/helpers/faults-under-load";
import { expectedRollEvents, rollUnderWrites, startGateHost } from "../tests/helpers/gated-roll";
import { memberIds } from "../tests/helpers/local-cluster";
import { checkWrites, failuresByOutcome, readDirectoryWithQuorum, writeCheckProblems } from "../tests/helpers/paced-writes";
import {
    BenchResults, BootstrapResult, Conditions, FailoverResult, FailoverSection, FaultScenarioResult, FaultsSection, LoadBalancerResult, LoadRun, Machine,
    ProgramResult, RollingResult, RollingRunResult, RollingSection, SectionName, sectionNames, summarize, UserDataResult,
} from "./results-format";

interface Options {
    runs: number;
    sizes: number[];
    durationSeconds: number;
    loadBalancerRuns: number;
    faultRuns: number;
    faultTimeScale: number;
    rollingRuns: number;
    rollingTimeScale: number;
    failoverRuns: number;
    only?: SectionName;
    writeReadme: boolean;
}

function parseOptions(argv: string[]): Options {
    const value = (flag: string) => {
        const index = argv.indexOf(flag);
        return index >= 0 ? argv[index + 1] : undefined;
    };
    const options: Options = {
        runs: Number(value("--runs") ?? 5),
        sizes: (value("--sizes") ?? "3,5,7").split(",").map(Number),
        durationSeconds: Number(value("--duration") ?? 5),
        loadBalancerRuns: Number(value("--lb-runs") ?? 3),
        faultRuns: Number(value("--fault-runs") ?? 3),
        faultTimeScale: Number(value("--fault-time-scale") ?? 1),
        rollingRuns: Number(value("--rolling-runs") ?? 3),
        rollingTimeScale: Number(value("--rolling-time-scale") ?? 1),
        failoverRuns: Number(value("--failover-runs") ?? 5),
        only: value("--only") as SectionName | undefined,
        writeReadme: !argv.includes("--no-readme"),
    };
    for (const [flag, n] of [["--runs", options.runs], ["--lb-runs", options.loadBalancerRuns], ["--fault-runs", options.faultRuns],
        ["--rolling-runs", options.rollingRuns], ["--failover-runs", options.failoverRuns]] as const) {
        if (!Number.isInteger(n) || n < 1) {
            throw new Error(`${flag}: use a whole number of at least 1`);
        }
    }
    if (options.sizes.some((size) => !supportedClusterSizes.includes(size))) {
        throw new Error(`--sizes: use a comma-separated list of ${supportedClusterSizes.join(", ")}`);
    }
    if (!(options.durationSeconds >= 1)) {
        throw new Error("--duration: use at least 1 second");
    }
    for (const [flag, scale] of [["--fault-time-scale", options.faultTimeScale], ["--rolling-time-scale", options.rollingTimeScale]] as const) {
        if (!(scale > 0 && scale <= 1)) {
            throw new Error(`${flag}: use a number above 0 and at most 1`);
        }
    }
    if (options.only && !sectionNames.includes(options.only)) {
        throw new Error(`--only: use one of ${sectionNames.join(", ")}`);
    }
    return options;
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** Everything that makes the run a failure; the run goes on to measure the rest, then exits 1. */
const errors: string[] = [];
function fail(section: string, message: string): void {
    errors.push(`${section}: ${message}`);
    progress(`ERROR ${section}: ${message}`);
}

/** Runs a section, recording when and under what load it ran. */
async function timed<T>(work: () => Promise<T> | T): Promise<{ conditions: Conditions; value: T }> {
    const started = Date.now();
    const loadAverageBefore = os.loadavg().map((l) => Math.round(l * 100) / 100);
    const value = await work();
    return {
        conditions: {
            date: new Date(started).toISOString(),
            durationSeconds: Math.round((Date.now() - started) / 1000),
            loadAverageBefore,
            loadAverageAfter: os.loadavg().map((l) => Math.round(l * 100) / 100),
        },
        value,
    };
}

/** From the members' etcd processes starting to every target healthy behind the LB and a write through it acknowledged. */
const bootstrapMs = (t: StartupTimings) => t.etcdHealthyMs + t.loadBalancerReadyMs + t.firstWriteMs;

async function benchBootstrap(options: Options): Promise<BootstrapResult[]> {
    const results: BootstrapResult[] = [];
    for (const size of options.sizes) {
        const runs: StartupTimings[] = [];
        for (let run = 1; run <= options.runs; run++) {
            let cluster: LocalCluster | undefined;
            try {
                cluster = await startLocalCluster({ size });
                runs.push(cluster.timings);
                progress(`bootstrap: ${size} nodes, run ${run}/${options.runs}: ${bootstrapMs(cluster.timings)} ms`);
            } catch (error) {
                fail("bootstrap", `${size} nodes, run ${run}: the start failed: ${(error as Error).message}`);
            } finally {
                await cluster?.stop();
            }
        }
        if (runs.length) {
            results.push({
                size,
                runs: runs.length,
                bootstrapMs: summarize(runs.map(bootstrapMs)),
                discoveryMs: summarize(runs.map((t) => t.discoveryMs)),
                ignitionPerNodeMs: summarize(runs.flatMap((t) => t.ignitionMs)),
                etcdHealthyMs: summarize(runs.map((t) => t.etcdHealthyMs)),
                loadBalancerReadyMs: summarize(runs.map((t) => t.loadBalancerReadyMs)),
                firstWriteMs: summarize(runs.map((t) => t.firstWriteMs)),
                totalMs: summarize(runs.map((t) => t.totalMs)),
            });
        }
    }
    return results;
}

const connections = 10;

async function load(url: string, method: "GET" | "PUT", durationSeconds: number): Promise<LoadRun> {
    const result = await autocannon({
        url,
        method,
        connections,
        duration: durationSeconds,
        ...(method === "PUT" ? { body: "value=bench", headers: { "content-type": "application/x-www-form-urlencoded" } } : {}),
    });
    return {
        requestsPerSecond: result.requests.average,
        meanLatencyMs: result.latency.average,
        p99Ms: result.latency.p99,
        errors: result.errors + result.timeouts + result.non2xx,
    };
}

async function benchLoadBalancer(options: Options): Promise<LoadBalancerResult[]> {
    let cluster: LocalCluster | undefined;
    try {
        cluster = await startLocalCluster({ size: 3 });
        const key = "/v2/keys/bench";
        const member = cluster.nodes[0].clientUrl;
        const results: LoadBalancerResult[] = [];
        for (const [operation, method, suffix] of [["read", "GET", "?quorum=false"], ["write", "PUT", ""]] as const) {
            const seed = await fetch(`${cluster.clusterUrl}${key}`, {
                method: "PUT", body: "value=seed", headers: { "content-type": "application/x-www-form-urlencoded" }, signal: AbortSignal.timeout(10_000),
            });
            if (seed.status !== 200 && seed.status !== 201) {
                fail("loadbalancer", `seeding ${key} answered HTTP ${seed.status}`);
            }
            const throughLoadBalancer: LoadRun[] = [];
            const direct: LoadRun[] = [];
            // Alternating, so that both paths see the same drift in the machine's load.
            for (let run = 1; run <= options.loadBalancerRuns; run++) {
                for (const [pathName, base, runs] of [["through the LB", cluster.clusterUrl, throughLoadBalancer], ["one member", member, direct]] as const) {
                    const result = await load(`${base}${key}${suffix}`, method, options.durationSeconds);
                    progress(`load balancer: ${operation}s ${pathName}, run ${run}/${options.loadBalancerRuns}: ${Math.round(result.requestsPerSecond)} req/s, ${result.errors} errors`);
                    if (result.errors) {
                        fail("loadbalancer", `${operation}s ${pathName}, run ${run}: ${result.errors} requests failed (errors, timeouts or non-2xx answers)`);
                    }
                    runs.push(result);
                }
            }
            const summaries = (runs: LoadRun[]) => ({
                requestsPerSecond: summarize(runs.map((r) => r.requestsPerSecond)),
                meanLatencyMs: summarize(runs.map((r) => r.meanLatencyMs)),
                p99Ms: summarize(runs.map((r) => r.p99Ms)),
            });
            results.push({
                operation,
                throughLoadBalancer: summaries(throughLoadBalancer),
                direct: summaries(direct),
                throughputRatio: summarize(throughLoadBalancer.map((r, i) => r.requestsPerSecond / direct[i].requestsPerSecond)),
            });
        }
        return results;
    } finally {
        await cluster?.stop();
    }
}

const processesPerSize = 3;

function benchProgram(): ProgramResult[] {
    const results: ProgramResult[] = [];
    for (const size of supportedClusterSizes) {
        const runs: { ms: number; heapBytes: number; resources: number }[] = [];
        for (let run = 1; run <= processesPerSize; run++) {
            try {
                runs.push(JSON.parse(execFileSync(process.execPath,
                    ["--expose-gc", "-r", "ts-node/register/transpile-only", path.join(__dirname, "construct.ts"), String(size)],
                    { encoding: "utf8", cwd: path.join(__dirname, ".."), timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] })));
            } catch (error) {
                fail("program", `${size} nodes, process ${run}: ${(error as Error).message.split("\n").slice(0, 5).join(" ")}`);
            }
        }
        if (runs.length) {
            progress(`program: ${size} nodes: ${runs.map((r) => Math.round(r.ms)).join(", ")} ms`);
            results.push({
                size,
                resources: runs[0].resources,
                constructMs: summarize(runs.map((r) => r.ms)),
                heapBytes: summarize(runs.map((r) => r.heapBytes)),
            });
        }
    }
    return results;
}

/** How user data goes out: the config as it is, compressed, or compressed without its scripts' comment lines. */
function userDataForm(userData: string): UserDataResult["form"] {
    const inner = compressedConfigContents(userData);
    if (inner === undefined) {
        return "plain";
    }
    const scripts = (JSON.parse(inner).storage.files as { contents: InlineContents }[]).map((file) => decodeInlineContents(file.contents))
        .filter((contents) => contents.startsWith("#!"));
    return scripts.some((script) => /^\s*#(?!!)/m.test(script)) ? "compressed" : "compressed without comments";
}

function benchUserData(): UserDataResult[] {
    const discoveryUrl = "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e";
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";
    const withKey = { sshAuthorizedKeys: [key], sshCidrs: ["10.99.0.0/16"] };
    const everyFeature = {
        ...withKey, bootstrap: "static" as const, backups: true, peerTls: true, clientTls: true, rootPassword: "bench-root-password", grpcLoadBalancer: true,
    };
    const everyFeatureFacts = {
        clusterToken: "bench-5f0c6a52-3d1e-4c1b-9a0e-2a4f1c3b7d99", foundingClusterSize: 7,
        backupBucket: { name: "bench-backups-20261127000000000000000001", region: "eu-west-2" },
        secretsBucket: { name: "bench-secrets-20261127000000000000000002", region: "eu-west-2" },
        certificateDnsNames: ["bench-nlb-0123456789abcdef.elb.eu-west-2.amazonaws.com"],
    };
    // Twenty more ed25519 keys, each as random as a real one (32 bytes of key in its base64 blob).
    const moreKeys = Array.from({ length: 20 }, (_, index) => `ssh-ed25519 ${Buffer.concat([Buffer.from(key.split(" ")[1], "base64").subarray(0, 19),
        createHash("sha256").update(`bench-key-${index}`).digest()]).toString("base64")} ops${index}@example`);
    const results = [
        { variant: "default", args: {}, facts: { discoveryUrl } },
        { variant: "with one SSH key", args: withKey, facts: { discoveryUrl } },
        { variant: "every feature: static, backups, peer and client TLS, access control, the gRPC NLB, one SSH key", args: everyFeature, facts: everyFeatureFacts },
        {
            variant: "every feature and twenty more ed25519 SSH keys: its scripts' comment lines left out",
            args: { ...everyFeature, sshAuthorizedKeys: [key, ...moreKeys] },
            facts: everyFeatureFacts,
        },
    ].map(({ variant, args: given, facts }) => {
        const args = resolveArgs("bench", { clusterSize: 7, ...given });
        const members = planMembers(args);
        const slots = members.map((member) => ({ name: member.name, ip: `10.0.${member.index % 3}.${10 + member.index}` }));
        const [largest] = members.map((member) => renderUserData(memberIgnitionOptions(args, member, { members: slots, ...facts, dataVolumeId: "vol-0123456789abcdef0" })))
            .sort((a, b) => Buffer.byteLength(b) - Buffer.byteLength(a));
        const bytes = Buffer.byteLength(largest);
        return { variant, bytes, shareOfLimit: bytes / ec2UserDataLimitBytes, form: userDataForm(largest) };
    });
    for (const result of results.filter((r) => r.shareOfLimit > 1)) {
        fail("userdata", `${result.variant}: ${result.bytes} bytes, over EC2's limit`);
    }
    return results;
}

async function benchFaults(options: Options): Promise<Omit<FaultsSection, "conditions">> {
    const { loadBalancerSettings } = await import("../lib/loadbalancer");
    const size = 3;
    const intervalMs = 50;
    const scenarios: FaultScenarioResult[] = [];
    for (const scenario of faultScenarios) {
        const runs: FaultScenarioResult["runs"] = [];
        let acknowledged = 0;
        let lostOrAltered = 0;
        for (let run = 1; run <= options.faultRuns; run++) {
            try {
                const result = await runFaultUnderLoad({ fault: scenario.id, size, intervalMs, healthCheckTimeScale: options.faultTimeScale });
                const f = result.figures;
                progress(`faults: ${scenario.id}, run ${run}/${options.faultRuns}: ${f.unacknowledged} of ${f.sent} writes unacknowledged, `
                    + `failing for ${f.failingWindowMs} ms, DOWN after ${f.faultToDownMs} ms, longest wait ${f.longestWaitMs} ms`);
                for (const problem of result.problems) {
                    fail("faults", `${scenario.id}, run ${run}: ${problem}`);
                }
                acknowledged += result.check.acknowledged;
                lostOrAltered += result.check.lost.length + result.check.altered.length;
                runs.push({ failed: result.failed, figures: result.figures, timeline: result.timeline });
            } catch (error) {
                fail("faults", `${scenario.id}, run ${run}: ${(error as Error).message}`);
            }
        }
        if (runs.length) {
            const over = (pick: (r: FaultScenarioResult["runs"][number]) => number) => summarize(runs.map(pick));
            scenarios.push({
                fault: scenario.id,
                title: scenario.title,
                runs,
                unacknowledged: over((r) => r.figures.unacknowledged),
                sent: over((r) => r.figures.sent),
                whileDownSent: over((r) => r.figures.whileDown.sent),
                whileDownFailed: over((r) => r.figures.whileDown.failed),
                faultToDownMs: over((r) => r.figures.faultToDownMs),
                failingWindowMs: over((r) => r.figures.failingWindowMs),
                longestWaitMs: over((r) => r.figures.longestWaitMs),
                unacknowledgedPresent: over((r) => r.figures.unacknowledgedPresent),
                acknowledged,
                lostOrAltered,
            });
        }
    }
    const check = loadBalancerSettings.healthCheck;
    return {
        size,
        intervalMs,
        healthCheckTimeScale: options.faultTimeScale,
        healthCheck: {
            intervalMs: Math.round(check.intervalSeconds * 1000 * options.faultTimeScale),
            unhealthyThreshold: check.unhealthyThreshold,
            healthyThreshold: check.healthyThreshold,
        },
        scenarios,
    };
}

/** The cluster sizes the rolling section rolls, and the `etcdVersion` it rolls to from the component's default. */
const rollingSizes = [3, 5];
const rollingEtcdVersion = "3.5.32";

/** Outcomes of a failed write that are the load balancer's: haproxy's own answers, and any failure without an HTTP answer. */
const atLoadBalancer = (outcome: string) => ["502", "503", "504"].includes(outcome) || !/^\d+$/.test(outcome);

/** One roll of every member of a fresh cluster of `size`, under writes; the cluster and the gates' host are stopped whatever happens. */
async function rollOnce(options: Options, size: number, run: number, gateTimeoutSeconds: number): Promise<RollingRunResult | undefined> {
    const label = `${size} nodes, run ${run}/${options.rollingRuns}`;
    const problem = (message: string) => fail("rolling", `${size} nodes, run ${run}: ${message}`);
    let cluster: LocalCluster | undefined;
    let gateHost: Awaited<ReturnType<typeof startGateHost>> | undefined;
    // The harness's own lines, kept to say where a failed run was.
    const harnessLog: string[] = [];
    try {
        cluster = await startLocalCluster({ size, healthCheckTimeScale: options.rollingTimeScale, log: (line) => harnessLog.push(line) });
        // A gate's call may take its whole bound; the host gives each call a little more.
        gateHost = await startGateHost(gateTimeoutSeconds * 1000 + 30_000);
        const idsBefore = await memberIds(cluster);
        const directory = `bench-roll-${size}-${run}-${process.pid}-${Date.now()}`;
        progress(`rolling: ${label}: cluster up, rolling every member to etcd ${rollingEtcdVersion} under a write every 50 ms`);
        const names = cluster.nodes.map((node) => node.name);
        const result = await rollUnderWrites(cluster, gateHost.host, {
            etcdVersion: rollingEtcdVersion, directory, intervalMs: 50, gateTimeoutSeconds,
            onMember: (index, t) => progress(`rolling: ${label}: ${names[index]} replaced in ${(t.totalMs / 1000).toFixed(1)} s `
                + `(drain ${t.drainMs} ms, stop ${t.stopMs} ms, ignition ${t.ignitionMs} ms, healthy ${t.healthyMs} ms)`),
        });
        const check = checkWrites(result.records, await readDirectoryWithQuorum(cluster.clusterUrl, directory));
        for (const writeProblem of writeCheckProblems(check)) {
            problem(writeProblem);
        }
        if (JSON.stringify(result.roll.events) !== JSON.stringify(expectedRollEvents(names))) {
            problem(`the roll's steps came out of order: ${result.roll.events.join(", ")}`);
        }
        if (cluster.nodes.some((node) => node.generation !== 1)) {
            problem(`not every member was replaced once: generations ${cluster.nodes.map((node) => node.generation).join(", ")}`);
        }
        const idsAfter = await memberIds(cluster);
        if (JSON.stringify(idsAfter) !== JSON.stringify(idsBefore)) {
            problem(`member ids changed: ${JSON.stringify(idsBefore)} → ${JSON.stringify(idsAfter)}`);
        }
        const failedByOutcome = failuresByOutcome(result.records);
        const failed = (pick: (outcome: string) => boolean) =>
            Object.entries(failedByOutcome).filter(([outcome]) => pick(outcome)).reduce((sum, [, n]) => sum + n, 0);
        const figures: RollingRunResult = {
            rollMs: result.rollEndMs - result.rollStartMs,
            members: result.replacements,
            sent: check.sent,
            sentDuringRoll: result.records.filter((r) => r.sentMs >= result.rollStartMs && r.sentMs < result.rollEndMs).length,
            acknowledged: check.acknowledged,
            lostOrAltered: check.lost.length + check.altered.length,
            failedByOutcome,
            failedAtLoadBalancer: failed(atLoadBalancer),
            failedByEtcd: failed((outcome) => outcome === "500"),
            failedOther: failed((outcome) => !atLoadBalancer(outcome) && outcome !== "500"),
            unacknowledgedPresent: check.unacknowledgedPresent,
            lateSends: result.lateSends,
        };
        progress(`rolling: ${label}: rolled in ${(figures.rollMs / 1000).toFixed(1)} s; ${check.unacknowledged} of ${check.sent} writes failed `
            + `${JSON.stringify(failedByOutcome)}; ${check.acknowledged} acknowledged, ${check.lost.length + check.altered.length} lost or altered`);
        return figures;
    } catch (error) {
        problem(`${(error as Error).message}\n  the harness's last lines:\n${harnessLog.slice(-8).map((line) => `    ${line}`).join("\n")}`);
        return undefined;
    } finally {
        await gateHost?.stop().catch((error: Error) => problem(`stopping the gates' host: ${error.message}`));
        await cluster?.stop();
    }
}

async function benchRolling(options: Options): Promise<Omit<RollingSection, "conditions">> {
    const { loadBalancerSettings } = await import("../lib/loadbalancer");
    const check = loadBalancerSettings.healthCheck;
    const scaled = (seconds: number) => Math.round(seconds * 1000 * options.rollingTimeScale);
    // Each gate wait is a drain (the deregistration delay) or a boot and the health checks' rise: a few intervals, with room.
    const gateTimeoutSeconds = Math.max(45, Math.ceil(12 * check.intervalSeconds * options.rollingTimeScale));
    const results: RollingResult[] = [];
    for (const size of rollingSizes) {
        const runs: RollingRunResult[] = [];
        for (let run = 1; run <= options.rollingRuns; run++) {
            const figures = await rollOnce(options, size, run, gateTimeoutSeconds);
            if (figures) {
                runs.push(figures);
            }
        }
        if (runs.length) {
            const over = (pick: (r: RollingRunResult) => number) => summarize(runs.map(pick));
            const members = runs.flatMap((r) => r.members);
            const perMember = (pick: (t: RollingRunResult["members"][number]) => number) => summarize(members.map(pick));
            results.push({
                size,
                runs,
                rollMs: over((r) => r.rollMs),
                perMember: {
                    drainMs: perMember((t) => t.drainMs),
                    stopMs: perMember((t) => t.stopMs),
                    ignitionMs: perMember((t) => t.ignitionMs),
                    healthyMs: perMember((t) => t.healthyMs),
                    totalMs: perMember((t) => t.totalMs),
                },
                sent: over((r) => r.sent),
                sentDuringRoll: over((r) => r.sentDuringRoll),
                failedAtLoadBalancer: over((r) => r.failedAtLoadBalancer),
                failedByEtcd: over((r) => r.failedByEtcd),
                failedOther: over((r) => r.failedOther),
                acknowledged: runs.reduce((sum, r) => sum + r.acknowledged, 0),
                lostOrAltered: runs.reduce((sum, r) => sum + r.lostOrAltered, 0),
            });
        }
    }
    return {
        fromVersion: defaultEtcdVersion.replace(/^v/, ""),
        toVersion: rollingEtcdVersion,
        intervalMs: 50,
        healthCheckTimeScale: options.rollingTimeScale,
        healthCheck: { intervalMs: scaled(check.intervalSeconds), unhealthyThreshold: check.unhealthyThreshold, healthyThreshold: check.healthyThreshold },
        deregistrationDelayMs: scaled(loadBalancerSettings.deregistrationDelaySeconds),
        results,
    };
}

/**
 * The raft timings the failover section crashes the leader under: the component's default (etcd's own) between a
 * faster one and the timing OpenShift validates for infrastructure with high network or storage latency.
 */
const failoverTimings = [
    { label: "half of etcd's", heartbeatIntervalMs: 50, electionTimeoutMs: 500 },
    { label: "etcd's own, the component's default", ...etcdTimingDefaults },
    { label: "for slow disks or networks", heartbeatIntervalMs: 500, electionTimeoutMs: 2500 },
];

/**
 * What a client feels when the leader's instance fails: paced single-attempt writes through the load balancer, the
 * leader killed (SIGKILL, no hand-over), and the share of the writes sent in the next 2.5 s that were acknowledged,
 * for each raft timing side by side (tests/helpers/faults-under-load.ts, the faults section's run).
 */
async function benchFailover(options: Options): Promise<Omit<FailoverSection, "conditions">> {
    const [size, intervalMs, windowMs] = [3, 20, 2500];
    const results: FailoverResult[] = [];
    for (const timing of failoverTimings) {
        const runs: FailoverResult["runs"] = [];
        let acknowledged = 0;
        let lostOrAltered = 0;
        for (let run = 1; run <= options.failoverRuns; run++) {
            try {
                const result = await runFaultUnderLoad({
                    fault: "crash-leader", size, intervalMs, afterFaultWindowMs: windowMs, healthCheckTimeScale: options.faultTimeScale,
                    heartbeatIntervalMs: timing.heartbeatIntervalMs, electionTimeoutMs: timing.electionTimeoutMs,
                });
                const { afterFault, resumedMs } = result.figures;
                progress(`failover: ${timing.heartbeatIntervalMs}/${timing.electionTimeoutMs} ms, run ${run}/${options.failoverRuns}: `
                    + `${afterFault.answered} of ${afterFault.sent} writes answered in the ${windowMs} ms after the crash, writes answered again after ${resumedMs ?? "-"} ms`);
                for (const problem of result.problems) {
                    fail("failover", `${timing.heartbeatIntervalMs}/${timing.electionTimeoutMs} ms, run ${run}: ${problem}`);
                }
                acknowledged += result.check.acknowledged;
                lostOrAltered += result.check.lost.length + result.check.altered.length;
                runs.push({ afterFault, resumedMs });
            } catch (error) {
                fail("failover", `${timing.heartbeatIntervalMs}/${timing.electionTimeoutMs} ms, run ${run}: ${(error as Error).message}`);
            }
        }
        if (runs.length) {
            const resumed = runs.flatMap((r) => (r.resumedMs === undefined ? [] : [r.resumedMs]));
            results.push({
                ...timing,
                isDefault: timing.heartbeatIntervalMs === etcdTimingDefaults.heartbeatIntervalMs
                    && timing.electionTimeoutMs === etcdTimingDefaults.electionTimeoutMs,
                runs,
                answeredShare: summarize(runs.map((r) => r.afterFault.answered / Math.max(1, r.afterFault.sent))),
                resumedMs: resumed.length ? summarize(resumed) : undefined,
                acknowledged,
                lostOrAltered,
            });
        }
    }
    return { size, intervalMs, windowMs, healthCheckTimeScale: options.faultTimeScale, results };
}

function machine(): Machine {
    const haproxy = execFileSync("haproxy", ["-v"], { encoding: "utf8" }).match(/version (\S+)/)?.[1] ?? "unknown";
    return {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "unknown",
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        etcd: requireHostEtcd().version,
        haproxy,
    };
}

const resultsFile = path.join(__dirname, "results.json");

/** The sections kept from the last run when only one is rerun. */
function previousResults(): Partial<BenchResults> {
    try {
        return JSON.parse(fs.readFileSync(resultsFile, "utf8")) as BenchResults;
    } catch {
        return {};
    }
}

async function main(): Promise<void> {
    const options = parseOptions(process.argv.slice(2));
    const wanted = (section: SectionName) => !options.only || options.only === section;
    const results: BenchResults = { ...(options.only ? previousResults() : {}), machine: machine() };
    delete results.errors;

    if (wanted("userdata")) {
        const { conditions, value } = await timed(benchUserData);
        results.userData = { conditions, results: value };
    }
    if (wanted("program")) {
        const { conditions, value } = await timed(benchProgram);
        results.program = { conditions, processesPerSize, results: value };
    }
    if (wanted("bootstrap")) {
        const { conditions, value } = await timed(() => benchBootstrap(options));
        results.bootstrap = { conditions, runsPerSize: options.runs, results: value };
    }
    if (wanted("loadbalancer")) {
        const { conditions, value } = await timed(() => benchLoadBalancer(options).catch((error: Error) => {
            fail("loadbalancer", error.message);
            return [];
        }));
        results.loadBalancer = { conditions, runs: options.loadBalancerRuns, durationSeconds: options.durationSeconds, connections, results: value };
    }
    if (wanted("faults")) {
        const { conditions, value } = await timed(() => benchFaults(options));
        results.faults = { conditions, ...value };
    }
    if (wanted("rolling")) {
        const { conditions, value } = await timed(() => benchRolling(options));
        results.rolling = { conditions, ...value };
    }
    if (wanted("failover")) {
        const { conditions, value } = await timed(() => benchFailover(options));
        results.failover = { conditions, ...value };
    }

    if (errors.length) {
        const file = path.join(os.tmpdir(), `etcd3-bench-failed-${Date.now()}.json`);
        fs.writeFileSync(file, `${JSON.stringify({ ...results, errors }, null, 2)}\n`);
        process.stderr.write(`\nbench failed with ${errors.length} error(s); bench/results.json left as it was, this run's figures are in ${file}:\n`
            + errors.map((e) => `  - ${e}`).join("\n") + "\n");
        process.exit(1);
    }
    const rendered = renderBenchSections(results);
    process.stdout.write([...rendered.values()].join("\n\n") + "\n\n");
    fs.writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`results written to ${path.relative(process.cwd(), resultsFile)}\n`);
    if (options.writeReadme) {
        // Only the blocks between the bench: markers change; read and written at once, as other edits may be under way.
        const readme = fs.readFileSync(readmeFile, "utf8");
        fs.writeFileSync(readmeFile, renderReadme(readme, results));
        process.stdout.write(`README.md's figures regenerated (${benchTablesCommand} does the same)\n`);
    } else {
        process.stdout.write(`README.md left as it was; to regenerate its figures: ${benchTablesCommand}\n`);
    }
}

main().catch((error) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
});
