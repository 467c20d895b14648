/**
 * haproxy standing where the ALB stands: the component's listener and target
 * group settings, health checks on a uniform time scale so tests need not wait
 * ALB-long, round robin, and no retries because an ALB does not retry a failed
 * request on another target. A loopback stats page shows each target's state.
 */
import * as fs from "fs";
import * as path from "path";
import { loadBalancerSettings } from "../lib/loadbalancer";
import { freePort } from "./cluster-registry";
import { answersOk, probe } from "./http";
import { ManagedProcess, ProcessGroup, waitUntil } from "./processes";
import { requireTool } from "./system-tools";

/** A member behind the load balancer. */
export interface Target {
    name: string;
    address: string;
}

export interface LoadBalancerConfig {
    /** Where the listener binds (the ALB's port 80 is usually not free or not allowed locally). */
    listenAddress: string;
    listenPort: number;
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

export function renderHaproxyConfig(config: LoadBalancerConfig): string {
    const check = scaledHealthCheck(config.healthCheckTimeScale);
    const port = loadBalancerSettings.targetPort;
    return [
        "global",
        "    maxconn 2000",
        "",
        "defaults",
        "    mode http",
        // An ALB fails a request whose target is down instead of trying another one.
        "    retries 0",
        "    timeout connect 5s",
        // The ALB's default idle timeout.
        "    timeout client 60s",
        "    timeout server 60s",
        "",
        "frontend listener",
        `    bind ${config.listenAddress}:${config.listenPort}`,
        "    default_backend members",
        "",
        "backend members",
        "    balance roundrobin",
        `    option httpchk GET ${check.path}`,
        `    http-check expect status ${check.status}`,
        `    timeout check ${check.timeoutMs}ms`,
        `    default-server check inter ${check.intervalMs}ms fall ${check.fall} rise ${check.rise}`,
        ...config.targets.map((target) => `    server ${target.name} ${target.address}:${port}`),
        "",
        "listen stats",
        `    bind ${config.listenAddress}:${config.statsPort}`,
        "    stats enable",
        "    stats uri /",
        "",
    ].join("\n");
}

export interface LoadBalancerOptions {
    /** Loopback address to listen on. */
    address: string;
    /** Listener port; default a free one. */
    port?: number;
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

/** A running load balancer. */
export interface LoadBalancer {
    url: string;
    statsUrl: string;
    process: ManagedProcess;
}

/**
 * Starts haproxy in the foreground (`-db`, so the harness owns the process)
 * and resolves once its health checks have every target UP and /health
 * answers through the listener.
 */
export async function startLoadBalancer(options: LoadBalancerOptions): Promise<LoadBalancer> {
    const listenPort = options.port ?? (await freePort(options.address));
    const statsPort = await freePort(options.address);
    const configFile = path.join(options.directory, "haproxy.cfg");
    fs.writeFileSync(configFile, renderHaproxyConfig({
        listenAddress: options.address,
        listenPort,
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
    const url = `http://${options.address}:${listenPort}`;
    const statsUrl = `http://${options.address}:${statsPort}`;
    await waitUntil(
        async () => {
            const states = Object.values(await targetStates(statsUrl));
            return states.length === options.targets.length && states.every((state) => state === "UP") && (await answersOk(`${url}/health`));
        },
        {
            description: "every load balancer target to be UP",
            timeoutMs: options.timeoutMs,
            failFast: () => options.interrupted() ?? haproxy.exitReport(),
        },
    );
    return { url, statsUrl, process: haproxy };
}

/** Each target's state as haproxy's health checks see it (`UP`, `DOWN`, `UP 1/2`, …), read from the stats page's CSV. */
export async function targetStates(statsUrl: string): Promise<Record<string, string>> {
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
        if (row[column("pxname")] === "members" && server !== "FRONTEND" && server !== "BACKEND") {
            states[server] = row[column("status")];
        }
    }
    return states;
}
