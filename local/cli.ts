/**
 * `npm run local -- --size 3`: boots the cluster on this machine from the
 * component's own user data and prints the stack's outputs. Runs until Ctrl-C
 * (or SIGTERM), then stops everything; `--keep` leaves it running for curl
 * experiments and `--stop` stops what `--keep` left.
 */
import { localCommandOf, usage } from "./cli-options";
import { stopOrphanedClusters } from "./cluster-registry";
import { startLocalCluster, teardownGraceMs } from "./cluster";

function elapsed(start: number): string {
    return `${((Date.now() - start) / 1000).toFixed(1)}s`;
}

/** The outputs as `pulumi up` prints them: sorted by name, a list one item a line. */
function formatOutputs(outputs: Record<string, string | string[] | undefined>): string {
    const names = Object.keys(outputs).filter((name) => outputs[name] !== undefined).sort();
    const width = Math.max(...names.map((name) => name.length));
    const format = (value: string | string[]) => (typeof value === "string"
        ? JSON.stringify(value)
        : `[\n${value.map((item, index) => `        [${index}]: ${JSON.stringify(item)}`).join("\n")}\n    ]`);
    return names.map((name) => `    ${name.padEnd(width)}: ${format(outputs[name]!)}`).join("\n");
}

async function main(): Promise<number> {
    const command = localCommandOf(process.argv.slice(2));
    if (command.action === "help") {
        console.log(usage);
        return 0;
    }
    if (command.action === "stop") {
        const stopped = await stopOrphanedClusters(teardownGraceMs);
        console.log(stopped.length === 0 ? "no local cluster was left running" : stopped.join("\n"));
        return 0;
    }
    const { options } = command;

    const start = Date.now();
    const interruption = new AbortController();
    const stopSignals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
    const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
        for (const signal of stopSignals) {
            process.once(signal, () => {
                interruption.abort();
                resolve(signal);
            });
        }
    });
    const cluster = await startLocalCluster({
        ...options,
        abortSignal: interruption.signal,
        log: (line) => console.log(`[${elapsed(start)}] ${line}`),
    });
    console.log(`\nOutputs:\n${formatOutputs({
        etcd3ClusterUrl: cluster.clusterUrl,
        etcd3DiscoveryUrl: cluster.discoveryUrl,
        clientEndpoints: cluster.clientEndpoints,
        grpcEndpoint: cluster.grpcEndpoint,
        caCertificate: cluster.memberCaFile && `(PEM in ${cluster.memberCaFile})`,
    })}\n`);
    const trust = cluster.caFile ? `--cacert ${cluster.caFile} ` : "";
    // With access control every read needs a token; /health does not (nor is there a v2 API).
    const path = cluster.rootPassword === undefined ? "/v2/stats/leader" : "/health";
    console.log(`Try: curl ${trust}${cluster.clusterUrl}${path}   (load balancer stats: ${cluster.statsUrl})`);
    // The members' certificates name their addresses and the NLB's AWS name, not the local NLB stand-in's address.
    const endpoints = cluster.clientEndpoints[0]?.startsWith("https://") ? `${cluster.clientEndpoints.join(",")} --cacert=${cluster.memberCaFile}`
        : cluster.grpcEndpoint ?? cluster.clientEndpoints.join(",");
    const credentials = cluster.rootPassword === undefined ? "" : " --user=root";
    console.log(`     ETCDCTL_API=3 etcdctl --endpoints=${endpoints}${credentials} member list -w table`);
    if (options.keep) {
        console.log("Left running. Stop it with: npm run local -- --stop");
        return 0;
    }
    console.log("Press Ctrl-C to stop.");
    const signal = await stopRequested;
    const stopping = Date.now();
    console.log(`\n${signal}: stopping every process and removing ${cluster.workDir}`);
    await cluster.stop();
    console.log(`stopped (${elapsed(stopping)})`);
    return 0;
}

main().then(
    (code) => process.exit(code),
    (error: Error) => {
        console.error(`local cluster: ${error.message}`);
        process.exit(1);
    },
);
