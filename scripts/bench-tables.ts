/**
 * Renders the README's measured figures from bench/results.json: the
 * conditions of the run, the Performance tables, the fault figures in
 * "Operating the cluster" and the roll's in "Rolling replacement". Each goes between markers
 * `<!-- bench:NAME:start (generated …) -->` and `<!-- bench:NAME:end -->`.
 * `npm run bench` prints the same blocks.
 *
 *   npx ts-node --transpile-only scripts/bench-tables.ts --write   rewrite README.md
 *   npx ts-node --transpile-only scripts/bench-tables.ts           exit 1 if README.md differs
 */
import * as fs from "fs";
import * as path from "path";
import type { BenchResults, Conditions, FaultScenarioResult, RollingResult, Summary } from "../bench/results-format";

export const root = path.join(__dirname, "..");
export const readmeFile = path.join(root, "README.md");
export const resultsFile = path.join(root, "bench", "results.json");
export const benchTablesCommand = "npx ts-node --transpile-only scripts/bench-tables.ts --write";

const round = (n: number) => Math.round(n);

/** `795 ms (676–1182)`: median, and the range when the runs differ. */
export function ms(summary: Summary): string {
    const [median, min, max] = [round(summary.median), round(summary.min), round(summary.max)];
    return min === max ? `${median} ms` : `${median} ms (${min}–${max})`;
}

/** `5.4 s (5.1–5.9)` */
function seconds(summary: Summary): string {
    const s = (n: number) => (n / 1000).toFixed(1);
    return s(summary.min) === s(summary.max) ? `${s(summary.median)} s` : `${s(summary.median)} s (${s(summary.min)}–${s(summary.max)})`;
}

/** Milliseconds below a second, seconds above: `30 ms (27–52)`, `7.0 s`. */
function duration(summary: Summary): string {
    return summary.max < 1000 ? ms(summary) : seconds(summary);
}

/** `56 (40–61)` */
function count(summary: Summary, digits = 0): string {
    const f = (n: number) => n.toFixed(digits);
    return f(summary.min) === f(summary.max) ? f(summary.median) : `${f(summary.median)} (${f(summary.min)}–${f(summary.max)})`;
}

function percent(summary: Summary): string {
    const p = (n: number) => `${Math.round(n * 100)}`;
    return p(summary.min) === p(summary.max) ? `${p(summary.median)} %` : `${p(summary.median)} % (${p(summary.min)}–${p(summary.max)})`;
}

function table(headers: string[], rows: (string | number)[][]): string {
    return [
        `| ${headers.join(" | ")} |`,
        `| ${headers.map(() => "---").join(" | ")} |`,
        ...rows.map((row) => `| ${row.join(" | ")} |`),
    ].join("\n");
}

function need<T>(value: T | undefined, section: string): T {
    if (value === undefined) {
        throw new Error(`bench/results.json has no ${section} section; run: npm run bench -- --only ${section.toLowerCase()}`);
    }
    return value;
}

const load = (conditions: Conditions) => `${conditions.loadAverageBefore[0].toFixed(1)} → ${conditions.loadAverageAfter[0].toFixed(1)}`;

/** How far apart the fastest and slowest runs were, as a factor. */
const spread = (summary: Summary) => summary.max / Math.max(1, summary.min);

function conditionsSection(results: BenchResults): string {
    const m = results.machine;
    // In the order bench/run.ts runs them.
    const sections: [string, Conditions | undefined][] = [
        ["program", results.program?.conditions],
        ["bootstrap", results.bootstrap?.conditions],
        ["load balancer", results.loadBalancer?.conditions],
        ["faults", results.faults?.conditions],
        ["rolling", results.rolling?.conditions],
        ["failover", results.failover?.conditions],
    ];
    const dates = [...new Set(sections.map(([, c]) => c?.date.slice(0, 10)).filter(Boolean))];
    return [
        `Measured on a shared ${m.cpus}-core ${m.cpuModel.trim()}, ${m.memoryGiB} GiB, Node.js ${m.node.replace(/^v/, "")}, etcd ${m.etcd}, `
        + `haproxy ${m.haproxy}, on ${dates.join(" and ")}. Other work shared the CPU; the 1-minute load average when each part `
        + `started → ended: ${sections.filter(([, c]) => c).map(([name, c]) => `${name} ${load(c!)}`).join(", ")}.`,
    ].join("\n");
}

function bootstrapSection(results: BenchResults): string {
    const bootstrap = need(results.bootstrap, "bootstrap");
    const rows = bootstrap.results.map((b) => [
        b.size, ms(b.bootstrapMs), ms(b.etcdHealthyMs), ms(b.loadBalancerReadyMs), ms(b.firstWriteMs), ms(b.discoveryMs),
        ms(b.ignitionPerNodeMs), ms(b.totalMs),
    ]);
    const worst = Math.max(...bootstrap.results.map((b) => spread(b.bootstrapMs)));
    return [
        table(["nodes", "etcd start → LB healthy + write", "etcd healthy", "LB ready", "first write", "discovery token", "Ignition per node", "whole start"], rows),
        "",
        `Medians, with the range over ${bootstrap.runsPerSize} runs per size in brackets; within this run the slowest start of a size `
        + `took up to ${worst.toFixed(1)}× its fastest (first column).`,
    ].join("\n");
}

function loadBalancerSection(results: BenchResults): string {
    const lb = need(results.loadBalancer, "loadBalancer");
    const rows = lb.results.flatMap((l) => ([["through the LB", l.throughLoadBalancer], ["one member", l.direct]] as const).map(([pathName, run]) => [
        `v2 ${l.operation}`, pathName, count(run.requestsPerSecond), `${count(run.meanLatencyMs, 2).replace(/^([\d.]+)/, "$1 ms")}`, ms(run.p99Ms),
    ]));
    const ratio = (operation: string) => percent(lb.results.find((l) => l.operation === operation)!.throughputRatio);
    const worst = Math.max(...lb.results.flatMap((l) => [spread(l.throughLoadBalancer.requestsPerSecond), spread(l.direct.requestsPerSecond)]));
    return [
        `**Load balancer overhead**, 3 nodes, ${lb.connections} connections, ${lb.durationSeconds} s per run with autocannon, `
        + `${lb.runs} runs per path alternating between haproxy and one member (median and range):`,
        "",
        table(["operation", "path", "req/s", "mean latency", "p99"], rows),
        "",
        `Through the stand-in, reads reached ${ratio("read")} of one member's rate and writes ${ratio("write")} (each ratio from runs made side by side). `
        + `The fastest run of a path reached up to ${worst.toFixed(1)}× the slowest's rate. No request failed: a run with a failed request fails the benchmark.`,
    ].join("\n");
}

function programSection(results: BenchResults): string {
    const program = need(results.program, "program");
    const [first, last] = [program.results[0], program.results[program.results.length - 1]];
    const perNodeResources = (last.resources - first.resources) / (last.size - first.size);
    // The least-squares slope of the medians, and whether the runs' own spread swamps it.
    const sizes = program.results.map((p) => p.size);
    const medians = program.results.map((p) => p.constructMs.median);
    const meanSize = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    const meanMs = medians.reduce((a, b) => a + b, 0) / medians.length;
    const perNodeMs = sizes.reduce((sum, size, i) => sum + (size - meanSize) * (medians[i] - meanMs), 0)
        / sizes.reduce((sum, size) => sum + (size - meanSize) ** 2, 0);
    const noiseMs = Math.max(...program.results.map((p) => p.constructMs.max - p.constructMs.min));
    const growth = Math.abs(perNodeMs * (last.size - first.size)) < noiseMs
        ? `no per-node time this run can resolve: the fitted slope (${Math.round(perNodeMs)} ms per node) changes the time less from `
            + `${first.size} to ${last.size} nodes than the processes of one size spread (up to ${Math.round(noiseMs)} ms)`
        : `about ${Math.round(perNodeMs)} ms per added node (least squares over the medians)`;
    return [
        `**Program cost**, constructing the component under mocks, median and range of ${program.processesPerSize} fresh processes:`,
        "",
        table(["nodes", "resources", "time", "heap"], program.results.map((p) => [p.size, p.resources, ms(p.constructMs), `${(p.heapBytes.median / 2 ** 20).toFixed(1)} MiB`])),
        "",
        `${perNodeResources} resources (instance and target attachment) per added node on top of a fixed cost that is mostly the Pulumi SDK's `
        + `first registrations, and ${growth}.`,
    ].join("\n");
}

function userDataSection(results: BenchResults): string {
    const userData = need(results.userData, "userData").results;
    const [plain, withKey, everyFeature, withoutComments] = userData;
    const forms = userData.map((result) => result.form);
    const said = ["plain", "plain", "compressed", "compressed without comments"];
    if (JSON.stringify(forms) !== JSON.stringify(said)) {
        throw new Error(`bench/results.json: the user-data variants went out as ${JSON.stringify(forms)}, not ${JSON.stringify(said)} as the README's ` +
            "sentence says; change the variants (bench/run.ts) or the sentence");
    }
    const share = (u: typeof plain) => (u.shareOfLimit * 100).toFixed(1);
    return `**User data** is ${plain.bytes} bytes per member (${withKey.bytes} with one SSH key), ${share(plain)}–${share(withKey)} % of EC2's 16 KB `
        + "limit; a config over the limit goes out gzipped in one that replaces itself with it, its files as text inside it (which "
        + "compresses best), and one over the limit even so goes out with its scripts' comment lines left out (bash reads the same commands); "
        + "only one over the limit even then is refused, rather than letting the launch fail. With every feature that adds to it (static bootstrap, "
        + `backups, peer and client TLS, access control, the gRPC NLB and an SSH key) a 7-member cluster's config is over the limit, and goes out as `
        + `${everyFeature.bytes} bytes (${share(everyFeature)} %); with twenty more ed25519 keys it is over the limit even compressed, and goes out without `
        + `the comments as ${withoutComments.bytes} bytes (${share(withoutComments)} %).`;
}

function scenario(results: BenchResults, fault: FaultScenarioResult["fault"]): FaultScenarioResult {
    const found = need(results.faults, "faults").scenarios.find((s) => s.fault === fault);
    if (!found) {
        throw new Error(`bench/results.json has no ${fault} scenario; run: npm run bench -- --only faults`);
    }
    return found;
}

function timing(results: BenchResults): string {
    const faults = need(results.faults, "faults");
    const check = faults.healthCheck;
    const scale = faults.healthCheckTimeScale === 1 ? "the ALB's own health-check timing" : `health checks at ${faults.healthCheckTimeScale}× the ALB's timing`;
    return `${scale}, a check every ${check.intervalMs / 1000} s, out after ${check.unhealthyThreshold} failures and back after ${check.healthyThreshold} passes`;
}

function faultsSection(results: BenchResults): string {
    const faults = need(results.faults, "faults");
    const runs = Math.min(...faults.scenarios.map((s) => s.runs.length));
    const acknowledged = faults.scenarios.reduce((sum, s) => sum + s.acknowledged, 0);
    const lost = faults.scenarios.reduce((sum, s) => sum + s.lostOrAltered, 0);
    const rows = faults.scenarios.map((s) => [
        s.title, count(s.unacknowledged), count(s.whileDownSent), seconds(s.failingWindowMs), seconds(s.faultToDownMs),
        duration(s.longestWaitMs), count(s.unacknowledgedPresent),
    ]);
    return [
        `**Faults under load**: ${faults.size} members with ${timing(results)}; one v2 write every ${faults.intervalMs} ms `
        + "through the stand-in, each sent once with no retry, from 1 s before the fault until 1 s after every member is back "
        + `(tests/helpers/faults-under-load.ts, which \`npm run test:local\` runs too). Median and range over ${runs} runs per fault:`,
        "",
        table(["fault", "writes failed", "writes sent while down", "failing window", "LB took it out after", "longest wait", "failed but made"], rows),
        "",
        "The failing window runs from the first failed write to the last; \"while down\" from the fault until the load balancer "
        + "has every member back. \"Failed but made\" counts writes that got an error yet were applied: a failed write may or may "
        + `not have happened. Every acknowledged write (${acknowledged} over all runs) read back with a quorum read; ${lost === 0 ? "none was lost" : `${lost} WERE LOST OR ALTERED`}.`,
    ].join("\n");
}

function operatingSection(results: BenchResults): string {
    const faults = need(results.faults, "faults");
    const stopLeader = scenario(results, "stop-leader");
    const crashLeader = scenario(results, "crash-leader");
    const stopFollower = scenario(results, "stop-follower");
    const failed = (s: FaultScenarioResult) => `${count(s.unacknowledged)} of about ${round(s.whileDownSent.median)} writes sent while it was down, `
        + `the failures spread over ${seconds(s.failingWindowMs)}`;
    return `In \`npm run bench\`, on ${faults.size} members with ${timing(results)}, and one write every ${faults.intervalMs} ms through the `
        + `stand-in, never retried (median and range over ${Math.min(stopLeader.runs.length, crashLeader.runs.length, stopFollower.runs.length)} runs): stopping the leader failed `
        + `${failed(stopLeader)}; crashing it failed ${failed(crashLeader)}, and the writes that reached the survivors during the election `
        + `waited up to ${seconds(crashLeader.longestWaitMs)} (etcd's request timeout) before failing; stopping a follower failed ${failed(stopFollower)}. `
        + "No acknowledged write was lost.";
}

/** `0`, or `3 (haproxy 503 ×2, ECONNRESET ×1)`: a total over all runs, by outcome. */
function outcomes(runs: RollingResult["runs"], pick: (outcome: string) => boolean): string {
    const totals = new Map<string, number>();
    for (const run of runs) {
        for (const [outcome, n] of Object.entries(run.failedByOutcome).filter(([o]) => pick(o))) {
            totals.set(outcome, (totals.get(outcome) ?? 0) + n);
        }
    }
    const total = [...totals.values()].reduce((a, b) => a + b, 0);
    return total === 0 ? "0" : `${total} (${[...totals].map(([outcome, n]) => `${/^\d+$/.test(outcome) ? `HTTP ${outcome}` : outcome} ×${n}`).join(", ")})`;
}

function rollingSection(results: BenchResults): string {
    const rolling = need(results.rolling, "rolling");
    const scale = rolling.healthCheckTimeScale === 1 ? "the ALB's own timing" : `${rolling.healthCheckTimeScale}× the ALB's timing`;
    const check = rolling.healthCheck;
    const runs = Math.min(...rolling.results.map((r) => r.runs.length));
    const rows = rolling.results.map((r) => [
        r.size, seconds(r.rollMs), seconds(r.perMember.totalMs), duration(r.perMember.drainMs), duration(r.perMember.stopMs),
        duration(r.perMember.ignitionMs), duration(r.perMember.healthyMs), count(r.sentDuringRoll), count(r.failedAtLoadBalancer), count(r.failedByEtcd),
    ]);
    const all = rolling.results.flatMap((r) => r.runs);
    const isEtcd = (outcome: string) => outcome === "500";
    const atLoadBalancer = outcomes(all, (outcome) => ["502", "503", "504"].includes(outcome) || !/^\d+$/.test(outcome));
    const other = outcomes(all, (outcome) => /^\d+$/.test(outcome) && !["500", "502", "503", "504"].includes(outcome));
    const acknowledged = rolling.results.reduce((sum, r) => sum + r.acknowledged, 0);
    const lost = rolling.results.reduce((sum, r) => sum + r.lostOrAltered, 0);
    return [
        `**Measured** (\`npm run bench\`, on the local cluster): every member rolled from etcd ${rolling.fromVersion} to ${rolling.toVersion} through the `
        + `members' real health gates in Pulumi's provider host, with ${scale} (a check every ${check.intervalMs / 1000} s, back after `
        + `${check.healthyThreshold} passes; a deregistration delay of ${rolling.deregistrationDelayMs / 1000} s, which the gate waits out before the `
        + "member stops even when the target group reports it drained sooner), under one v2 write every "
        + `${rolling.intervalMs} ms through the load balancer stand-in, each sent once with no retry. Median and range over ${runs} rolls per size; `
        + "the per-member columns over every member of every roll:",
        "",
        table(["members", "whole roll", "per member", "drain", "stop", "Ignition", "to healthy", "writes during the roll", "failed at the LB", "failed by etcd (500)"], rows),
        "",
        `Over all ${all.length} rolls, writes that failed at the load balancer (haproxy's 502/503/504, failed connections): ${atLoadBalancer}; `
        + `etcd's own 500s (a proposal dropped while leadership moves): ${outcomes(all, isEtcd)}${other === "0" ? "" : `; other answers: ${other}`}. `
        + `Every acknowledged write (${acknowledged}) read back with a quorum read; ${lost === 0 ? "none was lost" : `${lost} WERE LOST OR ALTERED`}. `
        + "On AWS each member also waits for its new instance's launch and boot (see [Performance](#performance)).",
    ].join("\n");
}

function failoverSection(results: BenchResults): string {
    const failover = need(results.failover, "failover");
    const runs = Math.min(...failover.results.map((r) => r.runs.length));
    const acknowledged = failover.results.reduce((sum, r) => sum + r.acknowledged, 0);
    const lost = failover.results.reduce((sum, r) => sum + r.lostOrAltered, 0);
    const scale = failover.healthCheckTimeScale === 1 ? "the ALB's own health-check timing" : `health checks at ${failover.healthCheckTimeScale}× the ALB's timing`;
    const rows = failover.results.map((r) => [
        `${r.heartbeatIntervalMs} ms / ${r.electionTimeoutMs} ms${r.isDefault ? " (default)" : ""}`, r.label, percent(r.answeredShare),
        r.resumedMs ? seconds(r.resumedMs) : "none in any run",
    ]);
    return [
        `**Failover**: ${failover.size} members with ${scale}; one v2 write every ${failover.intervalMs} ms through the stand-in, each sent once `
        + `with no retry; the leader killed (SIGKILL: no hand-over, like a failed instance). Median and range over ${runs} crashes per timing:`,
        "",
        table(["heartbeat / election timeout", "timing", `writes answered in the ${failover.windowMs / 1000} s after the crash`, "writes answered again after"], rows),
        "",
        "Until the load balancer takes the dead member out, its share of the writes fails whatever the timing; the rest wait "
        + "for a new leader, and a write a survivor takes before the election ends fails after etcd's request timeout. "
        + `Every acknowledged write (${acknowledged} over all runs) read back with a quorum read; ${lost === 0 ? "none was lost" : `${lost} WERE LOST OR ALTERED`}.`,
    ].join("\n");
}

/** Every generated block, by marker name. */
export function renderBenchSections(results: BenchResults): Map<string, string> {
    if (results.errors?.length) {
        throw new Error(`bench/results.json records a failed run (${results.errors.length} error(s)); rerun: npm run bench`);
    }
    return new Map([
        ["conditions", conditionsSection(results)],
        ["bootstrap", bootstrapSection(results)],
        ["loadbalancer", loadBalancerSection(results)],
        ["program", programSection(results)],
        ["userdata", userDataSection(results)],
        ["faults", faultsSection(results)],
        ["operating", operatingSection(results)],
        ["rolling", rollingSection(results)],
        ["failover", failoverSection(results)],
    ]);
}

const startMarker = (name: string) => `<!-- bench:${name}:start (generated by scripts/bench-tables.ts from bench/results.json) -->`;
const endMarker = (name: string) => `<!-- bench:${name}:end -->`;

/**
 * The README with every generated block replaced. A block keeps the
 * indentation of its start marker (one inside a list item stays in it).
 */
export function renderReadme(readme: string, results: BenchResults): string {
    let text = readme;
    for (const [name, content] of renderBenchSections(results)) {
        const start = startMarker(name);
        const end = endMarker(name);
        const from = text.indexOf(start);
        const to = text.indexOf(end);
        if (from < 0 || to < from || text.indexOf(start, from + 1) >= 0) {
            throw new Error(`README.md: the markers ${start} and ${end} must appear once each, in that order`);
        }
        const indent = text.slice(text.lastIndexOf("\n", from) + 1, from);
        const body = content.split("\n").map((line) => (line ? indent + line : line)).join("\n");
        // Up to the end marker's own line, so that its indentation stays as written.
        text = `${text.slice(0, from + start.length)}\n${body}\n${text.slice(text.lastIndexOf("\n", to) + 1)}`;
    }
    return text;
}

export function readResults(): BenchResults {
    return JSON.parse(fs.readFileSync(resultsFile, "utf8")) as BenchResults;
}

if (require.main === module) {
    try {
        const readme = fs.readFileSync(readmeFile, "utf8");
        const rendered = renderReadme(readme, readResults());
        if (process.argv.includes("--write")) {
            if (rendered !== readme) {
                fs.writeFileSync(readmeFile, rendered);
                process.stdout.write("README.md: figures regenerated from bench/results.json\n");
            }
        } else if (rendered !== readme) {
            process.stderr.write(`README.md's figures differ from bench/results.json; run: ${benchTablesCommand}\n`);
            process.exit(1);
        }
    } catch (error) {
        process.stderr.write(`${(error as Error).message}\n`);
        process.exit(1);
    }
}
