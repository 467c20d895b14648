/**
 * `npm run bench`: how fast the local cluster comes up, what the load balancer
 * costs, how the program scales with cluster size, and how big the user data
 * is. Prints tables and writes bench/results.json. Absolute times on shared
 * machines are noisy: every figure is a median over repeated runs, with its
 * spread, and the load-balancer cost is a ratio measured side by side.
 *
 * Options: --runs N (bootstrap runs per size, default 5), --sizes 3,5,7,
 * --duration S (seconds per load run, default 5), --only bootstrap|loadbalancer|program|userdata.
 */
import autocannon from "autocannon";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ec2UserDataLimitBytes, renderUserData } from "../lib/ignition";
import { supportedClusterSizes } from "../lib/etcd";
import { resolveArgs } from "../lib/args";
import { memberIgnitionOptions, planMembers } from "../lib/plan";
import { LocalCluster, startLocalCluster, StartupTimings } from "../local/cluster";

interface Options {
    runs: number;
    sizes: number[];
    durationSeconds: number;
    only?: string;
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
        only: value("--only"),
    };
    if (!Number.isInteger(options.runs) || options.runs < 1) {
        throw new Error("--runs: use a whole number of at least 1");
    }
    if (options.sizes.some((size) => !supportedClusterSizes.includes(size))) {
        throw new Error(`--sizes: use a comma-separated list of ${supportedClusterSizes.join(", ")}`);
    }
    if (!(options.durationSeconds >= 1)) {
        throw new Error("--duration: use at least 1 second");
    }
    return options;
}

/** Median, minimum and maximum of a sample. */
interface Summary { median: number; min: number; max: number }

function summarize(values: number[]): Summary {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

const fmt = (summary: Summary, unit = "ms") => `${Math.round(summary.median)} ${unit} (${Math.round(summary.min)}–${Math.round(summary.max)})`;

function table(headers: string[], rows: (string | number)[][]): string {
    const cells = [headers, ...rows.map((row) => row.map(String))];
    const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column].length)));
    const line = (row: string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column])).join(" | ")} |`;
    return [line(cells[0]), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...cells.slice(1).map(line)].join("\n");
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** From the members' etcd processes starting to every target healthy behind the LB and a write through it acknowledged. */
const bootstrapMs = (t: StartupTimings) => t.etcdHealthyMs + t.loadBalancerReadyMs + t.firstWriteMs;

async function benchBootstrap(options: Options) {
    const results = [];
    for (const size of options.sizes) {
        const runs: StartupTimings[] = [];
        for (let run = 1; run <= options.runs; run++) {
            const cluster = await startLocalCluster({ size });
            await cluster.stop();
            runs.push(cluster.timings);
            progress(`bootstrap: ${size} nodes, run ${run}/${options.runs}: ${bootstrapMs(cluster.timings)} ms`);
        }
        results.push({
            size,
            bootstrapMs: summarize(runs.map(bootstrapMs)),
            discoveryMs: summarize(runs.map((t) => t.discoveryMs)),
            ignitionPerNodeMs: summarize(runs.flatMap((t) => t.ignitionMs)),
            etcdHealthyMs: summarize(runs.map((t) => t.etcdHealthyMs)),
            loadBalancerReadyMs: summarize(runs.map((t) => t.loadBalancerReadyMs)),
            firstWriteMs: summarize(runs.map((t) => t.firstWriteMs)),
            totalMs: summarize(runs.map((t) => t.totalMs)),
        });
    }
    return results;
}

async function load(url: string, method: "GET" | "PUT", durationSeconds: number) {
    const result = await autocannon({
        url,
        method,
        connections: 10,
        duration: durationSeconds,
        ...(method === "PUT" ? { body: "value=bench", headers: { "content-type": "application/x-www-form-urlencoded" } } : {}),
    });
    return {
        requestsPerSecond: result.requests.average,
        meanLatencyMs: result.latency.average,
        p99Ms: result.latency.p99,
        errors: result.errors + result.non2xx,
    };
}

async function benchLoadBalancer(options: Options) {
    let cluster: LocalCluster | undefined;
    try {
        cluster = await startLocalCluster({ size: 3 });
        const key = "/v2/keys/bench";
        const member = cluster.nodes[0].clientUrl;
        const results = [];
        for (const [operation, method, suffix] of [["read", "GET", "?quorum=false"], ["write", "PUT", ""]] as const) {
            await fetch(`${cluster.clusterUrl}${key}`, { method: "PUT", body: "value=seed", headers: { "content-type": "application/x-www-form-urlencoded" } });
            progress(`load balancer: ${operation}s through the LB for ${options.durationSeconds} s`);
            const throughLoadBalancer = await load(`${cluster.clusterUrl}${key}${suffix}`, method, options.durationSeconds);
            progress(`load balancer: ${operation}s straight to one member for ${options.durationSeconds} s`);
            const direct = await load(`${member}${key}${suffix}`, method, options.durationSeconds);
            results.push({
                operation,
                throughLoadBalancer,
                direct,
                throughputRatio: throughLoadBalancer.requestsPerSecond / direct.requestsPerSecond,
            });
        }
        return results;
    } finally {
        await cluster?.stop();
    }
}

function benchProgram() {
    const results = [];
    for (const size of supportedClusterSizes) {
        const runs = Array.from({ length: 3 }, () => JSON.parse(execFileSync(process.execPath,
            ["--expose-gc", "-r", "ts-node/register/transpile-only", path.join(__dirname, "construct.ts"), String(size)],
            { encoding: "utf8", cwd: path.join(__dirname, "..") })) as { ms: number; heapBytes: number; resources: number });
        progress(`program: ${size} nodes: ${runs.map((r) => Math.round(r.ms)).join(", ")} ms`);
        results.push({
            size,
            constructMs: summarize(runs.map((r) => r.ms)),
            heapBytes: summarize(runs.map((r) => r.heapBytes)),
            resources: runs[0].resources,
        });
    }
    return results;
}

function benchUserData() {
    const discoveryUrl = "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e";
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";
    return [
        { variant: "default", sshAuthorizedKeys: [] as string[] },
        { variant: "with one SSH key", sshAuthorizedKeys: [key] },
    ].map(({ variant, sshAuthorizedKeys }) => {
        const args = resolveArgs("bench", { clusterSize: 7, sshAuthorizedKeys });
        const bytes = Math.max(...planMembers(args).map((member) =>
            Buffer.byteLength(renderUserData(memberIgnitionOptions(args, member, discoveryUrl)))));
        return { variant, bytes, shareOfLimit: bytes / ec2UserDataLimitBytes };
    });
}

async function main(): Promise<void> {
    const options = parseOptions(process.argv.slice(2));
    const wanted = (section: string) => !options.only || options.only === section;
    const results: Record<string, unknown> = {
        machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() },
        options,
    };
    const output: string[] = [];

    if (wanted("userdata")) {
        const userData = benchUserData();
        results.userData = userData;
        output.push("User data per node (largest of a 7-node cluster) against EC2's 16 KB limit",
            table(["variant", "bytes", "share of 16 KB"], userData.map((u) => [u.variant, u.bytes, `${(u.shareOfLimit * 100).toFixed(1)} %`])), "");
    }
    if (wanted("program")) {
        const program = benchProgram();
        results.program = program;
        const [first, last] = [program[0], program[program.length - 1]];
        const perNodeMs = (last.constructMs.median - first.constructMs.median) / (last.size - first.size);
        output.push("Program: constructing the component under mocks (median of 3 fresh processes)",
            table(["nodes", "resources", "time", "heap"], program.map((p) => [p.size, p.resources, fmt(p.constructMs), `${(p.heapBytes.median / 2 ** 20).toFixed(1)} MiB`])),
            `≈ ${perNodeMs.toFixed(1)} ms and ${(last.resources - first.resources) / (last.size - first.size)} resources per added node`, "");
    }
    if (wanted("bootstrap")) {
        const bootstrap = await benchBootstrap(options);
        results.bootstrap = bootstrap;
        output.push(`Bootstrap of the local cluster (median and range of ${options.runs} runs)`,
            table(["nodes", "etcd start → LB healthy + write", "etcd healthy", "LB ready", "first write", "discovery", "ignition / node", "whole start"],
                bootstrap.map((b) => [b.size, fmt(b.bootstrapMs), fmt(b.etcdHealthyMs), fmt(b.loadBalancerReadyMs), fmt(b.firstWriteMs), fmt(b.discoveryMs), fmt(b.ignitionPerNodeMs), fmt(b.totalMs)])), "");
    }
    if (wanted("loadbalancer")) {
        const loadBalancer = await benchLoadBalancer(options);
        results.loadBalancer = loadBalancer;
        output.push(`Load balancer overhead, 3 nodes, 10 connections, ${options.durationSeconds} s each (autocannon)`,
            table(["operation", "path", "req/s", "mean latency", "p99", "errors"], loadBalancer.flatMap((l) =>
                ([["through the LB", l.throughLoadBalancer], ["one member", l.direct]] as const).map(([pathName, run]) =>
                    [l.operation, pathName, Math.round(run.requestsPerSecond), `${run.meanLatencyMs.toFixed(2)} ms`, `${run.p99Ms} ms`, run.errors]))),
            loadBalancer.map((l) => `${l.operation}s: LB/member throughput ratio ${l.throughputRatio.toFixed(2)}`).join("; "), "");
    }

    const file = path.join(__dirname, "results.json");
    fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${output.join("\n")}\nresults written to ${path.relative(process.cwd(), file)}\n`);
}

main().catch((error) => {
    process.stderr.write(`bench failed: ${(error as Error).message}\n`);
    process.exit(1);
});
