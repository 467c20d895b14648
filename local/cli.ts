/**
 * `npm run local -- --size 3`: boots the cluster on this machine from the
 * component's own user data and prints the stack's outputs. Runs until Ctrl-C
 * (or SIGTERM), then stops everything; `--keep` leaves it running for curl
 * experiments and `--stop` stops what `--keep` left.
 */
import { parseArgs } from "util";
import { argumentDefaults } from "../lib/args";
import { BootstrapMethod, bootstrapMethods } from "../lib/bootstrap";
import { supportedClusterSizes } from "../lib/etcd";
import { supportedOperatingSystems, OperatingSystem } from "../lib/os";
import { stopOrphanedClusters } from "./cluster-registry";
import { defaultHealthCheckTimeScale, startLocalCluster, teardownGraceMs } from "./cluster";

const usage = `Usage: npm run local -- [options]
  --size N              members (the component's clusterSize): ${supportedClusterSizes.join(", ")} (default ${argumentDefaults.clusterSize})
  --etcd-version V      etcd release the user data names (etcdVersion; default ${argumentDefaults.etcdVersion})
  --bootstrap METHOD    ${bootstrapMethods.join(" | ")} (bootstrap; default ${argumentDefaults.bootstrap}; static starts no discovery service)
  --no-v2-api           etcd without the v2 API (enableV2Api: false)
  --os NAME             ${supportedOperatingSystems.join(" | ")} (os; default ${argumentDefaults.os})
  --heartbeat-interval MS  etcd --heartbeat-interval (heartbeatIntervalMs; default etcd's)
  --election-timeout MS   etcd --election-timeout (electionTimeoutMs; default etcd's)
  --time-scale X        health-check times relative to the target groups' (default ${defaultHealthCheckTimeScale})
  --subnet N            use 127.0.N.0/24 (default: the first free from 127.0.10.0)
  --port P              load balancer port (default: a free one)
  --grpc-load-balancer  also a TCP load balancer for gRPC clients (the NLB) on port 2379
  --https               HTTPS at the load balancer (certificateArn) with a test CA's certificate; port 80 redirects
  --peer-tls            mutual TLS between the members (peerTls): each issues its certificate from the CA in the S3 stand-in
  --client-tls          TLS on the members' client port too (clientTls; needs --peer-tls): the load balancers speak HTTPS to them
  --root-password PW    etcd's access control with this password for root (rootPassword; needs --client-tls)
  --keep                leave the cluster running and exit
  --stop                stop clusters left by --keep (or by a crashed run)
  --help`;

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

function numberOption(value: string | undefined, name: string): number | undefined {
    if (value === undefined) {
        return undefined;
    }
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) {
        throw new Error(`--${name} ${value} is not a number`);
    }
    return parsed;
}

async function main(): Promise<number> {
    const { values } = parseArgs({
        options: {
            size: { type: "string" },
            "etcd-version": { type: "string" },
            bootstrap: { type: "string" },
            "no-v2-api": { type: "boolean", default: false },
            os: { type: "string" },
            "time-scale": { type: "string" },
            "heartbeat-interval": { type: "string" },
            "election-timeout": { type: "string" },
            subnet: { type: "string" },
            port: { type: "string" },
            "grpc-load-balancer": { type: "boolean", default: false },
            https: { type: "boolean", default: false },
            "peer-tls": { type: "boolean", default: false },
            "client-tls": { type: "boolean", default: false },
            "root-password": { type: "string" },
            keep: { type: "boolean", default: false },
            stop: { type: "boolean", default: false },
            help: { type: "boolean", default: false },
        },
        strict: true,
    });
    if (values.help) {
        console.log(usage);
        return 0;
    }
    if (values.stop) {
        const stopped = await stopOrphanedClusters(teardownGraceMs);
        console.log(stopped.length === 0 ? "no local cluster was left running" : stopped.join("\n"));
        return 0;
    }

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
        size: numberOption(values.size, "size") ?? argumentDefaults.clusterSize,
        etcdVersion: values["etcd-version"],
        bootstrap: values.bootstrap as BootstrapMethod | undefined,
        enableV2Api: values["no-v2-api"] ? false : undefined,
        os: values.os as OperatingSystem | undefined,
        healthCheckTimeScale: numberOption(values["time-scale"], "time-scale"),
        heartbeatIntervalMs: numberOption(values["heartbeat-interval"], "heartbeat-interval"),
        electionTimeoutMs: numberOption(values["election-timeout"], "election-timeout"),
        subnet: numberOption(values.subnet, "subnet"),
        loadBalancerPort: numberOption(values.port, "port"),
        grpcLoadBalancer: values["grpc-load-balancer"],
        https: values.https,
        peerTls: values["peer-tls"],
        clientTls: values["client-tls"],
        rootPassword: values["root-password"],
        keep: values.keep,
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
    if (values.keep) {
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
