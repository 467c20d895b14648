/**
 * `npm run local`'s command line read into what to do: plain strings in, plain
 * data out. A flag left out is left out of the component's arguments too, so
 * the component's own defaults apply (`--https` or `--root-password` alone
 * bring TLS to and between the members, as `certificateArn` and
 * `rootPassword` do).
 */
import { parseArgs } from "util";
import { argumentDefaults } from "../lib/args";
import { BootstrapMethod, bootstrapMethods } from "../lib/bootstrap";
import { supportedClusterSizes } from "../lib/etcd";
import { supportedOperatingSystems, OperatingSystem } from "../lib/os";
import { defaultHealthCheckTimeScale, LocalClusterOptions } from "./cluster";

export const usage = `Usage: npm run local -- [options]
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
  --https               HTTPS at the load balancer (certificateArn) with a test CA's certificate; port 80 redirects;
                        as in the component, TLS to and between the members comes with it
  --peer-tls            mutual TLS between the members (peerTls): each issues its certificate from the CA in the S3 stand-in
  --client-tls          TLS on the members' client port too (clientTls; needs --peer-tls): the load balancers speak HTTPS to them
  --root-password PW    etcd's access control with this password for root (rootPassword); as in the component, TLS
                        on every hop comes with it
  --keep                leave the cluster running and exit
  --stop                stop clusters left by --keep (or by a crashed run)
  --help`;

/** What the command line asks for; a start's options lack only what the running process adds (its abort signal and log). */
export type LocalCommand =
    | { action: "help" }
    | { action: "stop" }
    | { action: "start"; options: Omit<LocalClusterOptions, "abortSignal" | "log"> };

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

/** Reads `npm run local`'s arguments (without node's and the script's own); throws on an unknown flag or a value that is not a number. */
export function localCommandOf(argv: string[]): LocalCommand {
    const { values } = parseArgs({
        args: argv,
        options: {
            size: { type: "string" },
            "etcd-version": { type: "string" },
            bootstrap: { type: "string" },
            "no-v2-api": { type: "boolean" },
            os: { type: "string" },
            "time-scale": { type: "string" },
            "heartbeat-interval": { type: "string" },
            "election-timeout": { type: "string" },
            subnet: { type: "string" },
            port: { type: "string" },
            "grpc-load-balancer": { type: "boolean" },
            https: { type: "boolean" },
            "peer-tls": { type: "boolean" },
            "client-tls": { type: "boolean" },
            "root-password": { type: "string" },
            keep: { type: "boolean", default: false },
            stop: { type: "boolean", default: false },
            help: { type: "boolean", default: false },
        },
        strict: true,
    });
    if (values.help) {
        return { action: "help" };
    }
    if (values.stop) {
        return { action: "stop" };
    }
    return {
        action: "start",
        options: {
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
        },
    };
}
