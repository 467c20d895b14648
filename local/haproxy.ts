/**
 * haproxy standing where the component's load balancers stand: the ALB always,
 * the gRPC NLB when asked. Each is one frontend and backend rendered from the
 * component's profile row (protocol, listener port) and target group settings,
 * with health checks on a uniform time scale so tests need not wait ALB-long,
 * round robin, and no retries because neither load balancer retries a failed
 * request on another target. A loopback stats page shows each target's state.
 */
import * as fs from "fs";
import * as path from "path";
import { LoadBalancerKind, loadBalancerProfiles, loadBalancerSettings } from "../lib/loadbalancer";
import { freePort } from "./cluster-registry";
import { answersOk, probe } from "./http";
import { ManagedProcess, ProcessGroup, waitUntil } from "./processes";
import { requireTool } from "./system-tools";

/** A member behind the load balancer. */
export interface Target {
    name: string;
    address: string;
}

/** One of the component's load balancers, as a haproxy frontend on `port`. */
export interface Listener {
    kind: LoadBalancerKind;
    port: number;
}

export interface LoadBalancerConfig {
    /** Where the listeners and the stats page bind. */
    listenAddress: string;
    listeners: Listener[];
    statsPort: number;
    targets: Target[];
    /** Multiplies every health-check time of the target group, e.g. 0.1 turns a 5 s interval into 500 ms. */
    healthCheckTimeScale: number;
}

/** The target group's health check in haproxy's terms, scaled. */
export function scaledHealthCheck(timeScale: number) {
    const check = loadBalancerSettings.healthCheck;
    if (!(timeScale > 0)) {
        throw new Error(`health-check time scale ${timeScale} must be a positive number`);
    }
    if (!/^\d{3}$/.test(check.matcher)) {
        throw new Error(`health-check matcher "${check.matcher}" is not a single status code; the haproxy stand-in handles only those`);
    }
    return {
        path: check.path,
        intervalMs: Math.max(1, Math.round(check.intervalSeconds * 1000 * timeScale)),
        timeoutMs: Math.max(1, Math.round(check.timeoutSeconds * 1000 * timeScale)),
        rise: check.healthyThreshold,
        fall: check.unhealthyThreshold,
        status: check.matcher,
    };
}

/** haproxy's proxy mode for a listener or target protocol of the component. */
const haproxyModes = { HTTP: "http", TCP: "tcp" } as const;

/** The haproxy backend playing `kind`'s target group; its name is what the stats page reports targets under. */
function targetGroupName(kind: LoadBalancerKind): string {
    return `${kind}-targets`;
}

/**
 * One load balancer: a frontend playing its listener and a backend playing its
 * target group, in the protocols of the component's profile row. Both target
 * groups health-check over HTTP, the NLB's included, so the check is the same.
 */
function renderLoadBalancer(listener: Listener, config: LoadBalancerConfig): string[] {
    const profile = loadBalancerProfiles[listener.kind];
    const check = scaledHealthCheck(config.healthCheckTimeScale);
    const idleTimeout = `${profile.idleTimeoutSeconds}s`;
    return [
        `frontend ${listener.kind}-listener`,
        `    mode ${haproxyModes[profile.listenerProtocol]}`,
        `    bind ${config.listenAddress}:${listener.port}`,
        `    timeout client ${idleTimeout}`,
        `    default_backend ${targetGroupName(listener.kind)}`,
        "",
        `backend ${targetGroupName(listener.kind)}`,
        `    mode ${haproxyModes[profile.targetProtocol]}`,
        `    timeout server ${idleTimeout}`,
        "    balance roundrobin",
        `    option httpchk GET ${check.path}`,
        `    http-check expect status ${check.status}`,
        `    timeout check ${check.timeoutMs}ms`,
        `    default-server check inter ${check.intervalMs}ms fall ${check.fall} rise ${check.rise}`,
        ...config.targets.map((target) => `    server ${target.name} ${target.address}:${loadBalancerSettings.targetPort}`),
        "",
    ];
}

export function renderHaproxyConfig(config: LoadBalancerConfig): string {
    return [
        "global",
        "    maxconn 2000",
        "",
        "defaults",
        // Neither an ALB nor an NLB sends a request or connection whose target is down to another one.
        "    retries 0",
        "    timeout connect 5s",
        "",
        ...config.listeners.flatMap((listener) => renderLoadBalancer(listener, config)),
        "listen stats",
        "    mode http",
        `    bind ${config.listenAddress}:${config.statsPort}`,
        "    timeout client 60s",
        "    timeout server 60s",
        "    stats enable",
        "    stats uri /",
        "",
    ].join("\n");
}

export interface LoadBalancerOptions {
    /** Loopback address to listen on. */
    address: string;
    /** The ALB's listener port; default a free one (its port 80 is usually not free or not allowed locally). */
    port?: number;
    /** Also play the gRPC NLB, listening on this port; the caller makes sure it is free. */
    grpcPort?: number;
    targets: Target[];
    healthCheckTimeScale: number;
    /** Where the config and log go. */
    directory: string;
    processes: ProcessGroup;
    /** Bound on the wait for every target to be UP. */
    timeoutMs: number;
    /** A reason to stop waiting other than haproxy's exit (the start was interrupted). */
    interrupted: () => string | undefined;
}

/** The running load balancers (one haproxy). */
export interface LoadBalancer {
    /** The ALB's URL, `http://<address>:<port>`. */
    url: string;
    /** The NLB's `<address>:<port>` when `grpcPort` was given. */
    grpcEndpoint?: string;
    statsUrl: string;
    /** The load balancers played, each to be found by `targetStates`. */
    kinds: LoadBalancerKind[];
    process: ManagedProcess;
}

/** The listeners to play: the ALB always, as in the component, and the NLB when it has a port. */
async function listenersFor(options: LoadBalancerOptions): Promise<Listener[]> {
    const listeners: Listener[] = [{ kind: "alb", port: options.port ?? (await freePort(options.address)) }];
    if (options.grpcPort !== undefined) {
        if (options.grpcPort === listeners[0].port) {
            // haproxy binds with SO_REUSEPORT, so both would bind and the kernel would split connections between them.
            throw new Error(`the load balancer port ${listeners[0].port} is the gRPC load balancer's port: choose another`);
        }
        listeners.push({ kind: "nlb", port: options.grpcPort });
    }
    return listeners;
}

/**
 * Starts haproxy in the foreground (`-db`, so the harness owns the process)
 * and resolves once its health checks have every target of every load
 * balancer UP and /health answers through each listener (etcd serves HTTP/1.1
 * and gRPC on one port, so /health passes through the NLB's TCP listener too).
 */
export async function startLoadBalancer(options: LoadBalancerOptions): Promise<LoadBalancer> {
    const listeners = await listenersFor(options);
    const statsPort = await freePort(options.address);
    const configFile = path.join(options.directory, "haproxy.cfg");
    fs.writeFileSync(configFile, renderHaproxyConfig({
        listenAddress: options.address,
        listeners,
        statsPort,
        targets: options.targets,
        healthCheckTimeScale: options.healthCheckTimeScale,
    }));
    const haproxy = options.processes.start({
        name: "haproxy",
        command: requireTool("haproxy"),
        args: ["-db", "-f", configFile],
        logFile: path.join(options.directory, "haproxy.log"),
    });
    const endpoint = (listener: Listener) => `${options.address}:${listener.port}`;
    const statsUrl = `http://${options.address}:${statsPort}`;
    const isReady = async (listener: Listener) => {
        const states = Object.values(await targetStates(statsUrl, listener.kind));
        return states.length === options.targets.length && states.every((state) => state === "UP")
            && (await answersOk(`http://${endpoint(listener)}/health`));
    };
    await waitUntil(
        async () => (await Promise.all(listeners.map(isReady))).every(Boolean),
        {
            description: "every load balancer target to be UP",
            timeoutMs: options.timeoutMs,
            failFast: () => options.interrupted() ?? haproxy.exitReport(),
        },
    );
    const [alb, nlb] = listeners;
    return {
        url: `http://${endpoint(alb)}`,
        grpcEndpoint: nlb && endpoint(nlb),
        statsUrl,
        kinds: listeners.map((listener) => listener.kind),
        process: haproxy,
    };
}

/**
 * Each target's state in `kind`'s target group as haproxy's health checks see
 * it (`UP`, `DOWN`, `UP 1/2`, …), read from the stats page's CSV; empty if
 * haproxy does not play that load balancer.
 */
export async function targetStates(statsUrl: string, kind: LoadBalancerKind): Promise<Record<string, string>> {
    const answer = await probe(`${statsUrl}/;csv`);
    if (answer?.status !== 200) {
        return {};
    }
    const [header, ...rows] = answer.body.trim().split("\n").map((line) => line.split(","));
    // The header line is `# pxname,svname,...`.
    const column = (name: string) => header.map((field) => field.replace(/^# /, "")).indexOf(name);
    const states: Record<string, string> = {};
    for (const row of rows) {
        const server = row[column("svname")];
        if (row[column("pxname")] === targetGroupName(kind) && server !== "FRONTEND" && server !== "BACKEND") {
            states[server] = row[column("status")];
        }
    }
    return states;
}
