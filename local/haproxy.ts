/**
 * haproxy standing where the component's load balancers stand: one frontend
 * and backend per load balancer the component registers (the ALB always, the
 * gRPC NLB when asked), each rendered from the registered listener, target
 * group and target attachments (see component-resources.ts): the listener's
 * protocol, the target group's protocol, targets and health check (path,
 * matcher, interval, timeout, thresholds) on a uniform time scale so tests
 * need not wait ALB-long, round robin, and no retries because neither load
 * balancer retries a failed request on another target. An HTTPS target group
 * or health check speaks TLS to the targets without verifying their
 * certificates, as ELB does. A loopback stats page shows each target's state.
 */
import * as fs from "fs";
import * as https from "https";
import * as net from "net";
import * as path from "path";
import { sslPolicyTlsVersions } from "../lib/tls-policy";
import { freePort } from "./cluster-registry";
import { HealthCheckSpec, LoadBalancerKind, LoadBalancerSpec, RedirectSpec } from "./component-resources";
import { answersOk, probe } from "./http";
import { ManagedProcess, ProcessGroup, waitUntil } from "./processes";
import { requireTool } from "./system-tools";

/** A member behind the load balancer. */
export interface Target {
    name: string;
    address: string;
}

/** One of the component's load balancers, played on a local port. */
export interface PlayedLoadBalancer {
    spec: LoadBalancerSpec;
    /** The local port its listener binds. */
    port: number;
    /** Its targets, in attachment order, each with the port the attachment names. */
    targets: (Target & { port: number })[];
    /** Its redirecting listeners, each on a local port of its own. */
    redirects: (RedirectSpec & { localPort: number })[];
    /** With an HTTPS listener: the PEM file (certificate, chain and key) the ACM stand-in holds for its certificate. */
    certificateFile?: string;
}

export interface LoadBalancerConfig {
    /** Where the listeners and the stats page bind. */
    listenAddress: string;
    balancers: PlayedLoadBalancer[];
    statsPort: number;
    /** Multiplies every health-check time of the target groups, e.g. 0.1 turns a 5 s interval into 500 ms. */
    healthCheckTimeScale: number;
    /**
     * haproxy's runtime API on a Unix socket (admin level, owner only): how a
     * target is drained and put back, as a target group deregisters and
     * registers one.
     */
    adminSocket?: string;
}

/** A target group's health check in haproxy's terms, scaled. */
export function scaledHealthCheck(check: HealthCheckSpec, timeScale: number) {
    if (!(timeScale > 0)) {
        throw new Error(`health-check time scale ${timeScale} must be a positive number`);
    }
    return {
        protocol: check.protocol,
        path: check.path,
        port: check.port,
        intervalMs: Math.max(1, Math.round(check.intervalSeconds * 1000 * timeScale)),
        timeoutMs: Math.max(1, Math.round(check.timeoutSeconds * 1000 * timeScale)),
        rise: check.healthyThreshold,
        fall: check.unhealthyThreshold,
        expect: matcherExpectation(check.matcher),
    };
}

/** An ELB matcher (`200`, `200-299`, `200,202`) as haproxy's `http-check expect`. */
export function matcherExpectation(matcher: string): string {
    if (/^\d{3}$/.test(matcher)) {
        return `status ${matcher}`;
    }
    const codes = matcher.split(",").flatMap((part) => {
        const [low, high] = part.split("-").map(Number);
        return Array.from({ length: (high ?? low) - low + 1 }, (_, i) => String(low + i));
    });
    return `rstatus ^(${codes.join("|")})$`;
}

/**
 * haproxy's proxy mode for a listener or target protocol. To an HTTPS target
 * group's servers haproxy speaks HTTP/1.1 (it offers no ALPN and forces no
 * other protocol unless told, `alpn`/`proto`), as the ALB does to targets of
 * its default protocol version, HTTP1.
 */
const haproxyModes = { HTTP: "http", HTTPS: "http", TCP: "tcp" } as const;

/**
 * The options of every server of a target group (each target): the health
 * check's timing and port, `ssl` when the target group is HTTPS, `check-ssl`
 * when its health check is, and then `verify none`. One text for the rendered
 * config's `default-server` line and for the runtime API's `add server`,
 * which takes nothing from `default-server`.
 */
export function targetServerOptions(targetGroup: LoadBalancerSpec["targetGroup"], healthCheckTimeScale: number): string {
    const check = scaledHealthCheck(targetGroup.healthCheck, healthCheckTimeScale);
    const traffic = targetGroup.protocol === "HTTPS" ? ["ssl"] : [];
    const checks = check.protocol === "HTTPS" ? ["check-ssl"] : [];
    // Neither the ALB nor an HTTPS health check verifies a target's certificate: any one will do (self-signed,
    // expired, naming another host). haproxy verifies by default (and refuses to start without a CA to verify with).
    const verification = traffic.length + checks.length > 0 ? ["verify none"] : [];
    return [
        `check inter ${check.intervalMs}ms fall ${check.fall} rise ${check.rise}`,
        ...(check.port === "traffic-port" ? [] : [`port ${check.port}`]),
        ...traffic, ...checks, ...verification,
    ].join(" ");
}

/**
 * The backend's health-check lines: none for a TCP check (a connection, or a
 * TLS handshake with `check-ssl`), else an HTTP request and the matcher. An
 * HTTP check of an HTTPS target group must stay plain, though haproxy's checks
 * inherit the servers' `ssl` on the traffic port: an explicit connect rule
 * without `ssl` opens a plain connection (the runtime API's `add server` takes
 * no `no-check-ssl`), and then the request must be an explicit rule too.
 */
function healthCheckLines(targetGroup: LoadBalancerSpec["targetGroup"], check: ReturnType<typeof scaledHealthCheck>): string[] {
    if (check.protocol === "TCP") {
        return [];
    }
    const plainOnTls = targetGroup.protocol === "HTTPS" && check.protocol === "HTTP"
        ? ["    http-check connect", `    http-check send meth GET uri ${check.path}`]
        : [];
    return [`    option httpchk GET ${check.path}`, ...plainOnTls, `    http-check expect ${check.expect}`];
}

/** How a target group's targets are checked, for a message about targets that never come UP. */
function healthCheckDescription(targetGroup: LoadBalancerSpec["targetGroup"]): string {
    const check = targetGroup.healthCheck;
    const request = check.protocol === "TCP"
        ? "a TCP connection"
        : `${check.protocol} GET ${check.path}${check.protocol === "HTTPS" ? " over TLS, certificate not verified," : ""} expecting ${check.matcher}`;
    return `target group ${targetGroup.protocol} ${targetGroup.port}, checks ${request} on ${check.port === "traffic-port" ? "the traffic port" : `port ${check.port}`}`;
}

/**
 * The TLS versions an HTTPS listener's policy accepts, in haproxy's bind
 * options: read by the component's own reading of policy names, so the
 * stand-in accepts exactly what the ALB would under that policy.
 */
export function tlsBindOptions(sslPolicy: string): string {
    const versions = sslPolicyTlsVersions(sslPolicy);
    if (!versions) {
        throw new Error(`TLS security policy ${JSON.stringify(sslPolicy)}: not a name the local stand-in can read its TLS versions from`);
    }
    return `ssl-min-ver TLSv${versions.lowest} ssl-max-ver TLSv${versions.highest}`;
}

/**
 * A TCP listener whose targets are checked over HTTPS on the traffic port:
 * they serve TLS there (the members' client TLS), which the listener passes
 * through untouched.
 */
function passesTls(spec: LoadBalancerSpec): boolean {
    return spec.listener.protocol === "TCP" && spec.targetGroup.healthCheck.protocol === "HTTPS" && spec.targetGroup.healthCheck.port === "traffic-port";
}

/**
 * The URL of a load balancer's forwarding listener at `address`: `https://`
 * for an HTTPS listener or a TCP one passing the targets' TLS through, else
 * `http://` (etcd serves HTTP/1.1 on its gRPC port, so even the NLB's TCP
 * listener answers it).
 */
function listenerUrl(address: string, balancer: PlayedLoadBalancer): string {
    return `${balancer.spec.listener.protocol === "HTTPS" || passesTls(balancer.spec) ? "https" : "http"}://${address}:${balancer.port}`;
}

/** Milliseconds the probe through a listener passing TLS may take. */
const tlsProbeTimeoutMs = 2000;

/**
 * True if `url`, a listener passing the targets' TLS through, answers 200
 * with a certificate chaining to `caFile`. The name in it is not checked: a
 * target's certificate names the target, not the stand-in's address.
 */
function answersOkThroughTls(url: string, caFile: string): Promise<boolean> {
    return new Promise((resolve) => {
        const request = https.get(url, { ca: fs.readFileSync(caFile), checkServerIdentity: () => undefined, timeout: tlsProbeTimeoutMs }, (response) => {
            response.resume();
            response.on("end", () => resolve(response.statusCode === 200));
            response.on("error", () => resolve(false));
        });
        request.on("timeout", () => request.destroy());
        request.on("error", () => resolve(false));
    });
}

/** The haproxy backend playing `kind`'s target group; its name is what the stats page reports targets under. */
function targetGroupName(kind: LoadBalancerKind): string {
    return `${kind}-targets`;
}

/** One load balancer: a frontend playing its listener and a backend playing its target group. */
function renderLoadBalancer(balancer: PlayedLoadBalancer, config: LoadBalancerConfig): string[] {
    const { spec } = balancer;
    const check = scaledHealthCheck(spec.targetGroup.healthCheck, config.healthCheckTimeScale);
    const idleTimeout = `${spec.idleTimeoutSeconds}s`;
    const tls = spec.listener.tls ? ` ssl crt ${balancer.certificateFile} ${tlsBindOptions(spec.listener.tls.sslPolicy)}` : "";
    return [
        `# ${spec.resourceName}: listener ${spec.listener.protocol} ${spec.listener.port} -> target group ${spec.targetGroup.resourceName} ` +
            `(deregistration delay ${spec.targetGroup.deregistrationDelaySeconds} s: the most a replacement's drain waits for requests under way, scaled)` +
            (spec.listener.tls ? `; certificate ${spec.listener.tls.certificateArn}, policy ${spec.listener.tls.sslPolicy}` : ""),
        `frontend ${spec.kind}-listener`,
        `    mode ${haproxyModes[spec.listener.protocol]}`,
        `    bind ${config.listenAddress}:${balancer.port}${tls}`,
        `    timeout client ${idleTimeout}`,
        `    default_backend ${targetGroupName(spec.kind)}`,
        "",
        ...balancer.redirects.flatMap((redirect) => [
            `# ${spec.resourceName}: listener HTTP ${redirect.port} -> redirect ${redirect.statusCode} to port ${redirect.toPort}`,
            `frontend ${spec.kind}-redirect-${redirect.port}`,
            "    mode http",
            `    bind ${config.listenAddress}:${redirect.localPort}`,
            `    timeout client ${idleTimeout}`,
            `    http-request redirect location ${listenerUrl(config.listenAddress, balancer)}%[capture.req.uri] code ${redirect.statusCode}`,
            "",
        ]),
        `backend ${targetGroupName(spec.kind)}`,
        `    mode ${haproxyModes[spec.targetGroup.protocol]}`,
        `    timeout server ${idleTimeout}`,
        "    balance roundrobin",
        ...healthCheckLines(spec.targetGroup, check),
        `    timeout check ${check.timeoutMs}ms`,
        `    default-server ${targetServerOptions(spec.targetGroup, config.healthCheckTimeScale)}`,
        ...balancer.targets.map((target) => `    server ${target.name} ${target.address}:${target.port}`),
        "",
    ];
}

export function renderHaproxyConfig(config: LoadBalancerConfig): string {
    return [
        "global",
        "    maxconn 2000",
        ...(config.adminSocket ? [`    stats socket ${config.adminSocket} mode 600 level admin`] : []),
        "",
        "defaults",
        // Neither an ALB nor an NLB sends a request or connection whose target is down to another one.
        "    retries 0",
        "    timeout connect 5s",
        "",
        ...config.balancers.flatMap((balancer) => renderLoadBalancer(balancer, config)),
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
    /** The load balancers the component registered. */
    specs: LoadBalancerSpec[];
    /** The ALB's local port; default a free one (its port 80 is usually not free or not allowed locally). Other listeners keep their port. */
    albPort?: number;
    /**
     * The ACM stand-in: each certificate ARN the component may name, with the
     * PEM file (certificate, chain and key) it stands for. An HTTPS listener
     * naming another ARN is refused, as AWS refuses a certificate it does not hold.
     */
    certificates?: ReadonlyMap<string, string>;
    /** The CA the certificates chain to: what the harness's own probes through an HTTPS listener trust. */
    caFile?: string;
    /**
     * The CA the targets' own certificates chain to, needed when a TCP
     * listener passes their TLS through (its target group checked over HTTPS):
     * what the harness's probe through that listener trusts.
     */
    targetCaFile?: string;
    /** The node standing for instance `index` (the component's instance order). */
    targetFor: (instance: number) => Target;
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
    /** The ALB's URL, `http://<address>:<port>` (`https://` when its listener is HTTPS). */
    url: string;
    /** The URL of the ALB's redirecting listener (its port 80 with HTTPS), if it has one. */
    redirectUrl?: string;
    /** The NLB's `<address>:<port>` if the component has one. */
    grpcEndpoint?: string;
    statsUrl: string;
    /** The load balancers played, each to be found by `targetStates`. */
    kinds: LoadBalancerKind[];
    process: ManagedProcess;
    configFile: string;
    /** haproxy's runtime API (see `setTargetAdminState`). */
    adminSocket: string;
    /** Every server of every backend, with the instance it plays: what draining a member acts on (`registerTarget` adds to it). */
    servers: TargetServer[];
    /** The load balancers as played, and the factor their health checks run at: what a target registered later is checked with. */
    played: PlayedLoadBalancer[];
    healthCheckTimeScale: number;
}

/** One haproxy server: a target of one load balancer's target group. */
export interface TargetServer {
    kind: LoadBalancerKind;
    /** The haproxy backend (the target group). */
    backend: string;
    /** The server's name in it, as the stats page reports it. */
    server: string;
    /** The instance (the component's instance order) it stands for. */
    instance: number;
}

/** The local port each load balancer listens on: a free one for the ALB unless given, the listener's own otherwise. */
async function playedBalancers(options: LoadBalancerOptions): Promise<PlayedLoadBalancer[]> {
    const played: PlayedLoadBalancer[] = [];
    for (const spec of options.specs) {
        const port = spec.kind === "alb" ? options.albPort ?? (await freePort(options.address)) : spec.listener.port;
        // Each redirecting listener gets a free port of its own, as the ALB's own listener does.
        const redirects = [];
        for (const redirect of spec.redirects) {
            redirects.push({ ...redirect, localPort: await freePort(options.address) });
        }
        const certificateArn = spec.listener.tls?.certificateArn;
        const certificateFile = certificateArn === undefined ? undefined : options.certificates?.get(certificateArn);
        if (certificateArn !== undefined && certificateFile === undefined) {
            throw new Error(`${spec.resourceName}'s HTTPS listener names certificate ${certificateArn}, which the ACM stand-in does not hold ` +
                `(it holds: ${[...(options.certificates?.keys() ?? [])].join(", ") || "none"}); AWS refuses such a listener`);
        }
        const targets = spec.targets.map((target, index) => {
            const node = options.targetFor(target.instance);
            // Two attachments of one instance are two servers to haproxy; the stats page needs distinct names.
            const repeated = spec.targets.slice(0, index).some((earlier) => earlier.instance === target.instance);
            return { ...node, name: repeated ? `${node.name}-${index}` : node.name, port: target.port };
        });
        played.push({ spec, port, targets, redirects, certificateFile });
    }
    const ports = played.flatMap((balancer) => [balancer.port, ...balancer.redirects.map((redirect) => redirect.localPort)]);
    if (new Set(ports).size !== ports.length) {
        // haproxy binds with SO_REUSEPORT, so both would bind and the kernel would split connections between them.
        throw new Error(`two load balancers would listen on one port (${ports.join(", ")}): choose another load balancer port`);
    }
    return played;
}

/**
 * Starts haproxy in the foreground (`-db`, so the harness owns the process)
 * and resolves once its health checks have every target of every load
 * balancer UP and /health answers through each listener (etcd serves HTTP/1.1
 * and gRPC on one port, so /health passes through the NLB's TCP listener too).
 */
export async function startLoadBalancer(options: LoadBalancerOptions): Promise<LoadBalancer> {
    const balancers = await playedBalancers(options);
    if (!balancers.some((balancer) => balancer.spec.kind === "alb")) {
        throw new Error("the component registers no application load balancer: there is no cluster URL to play");
    }
    const passing = balancers.filter((balancer) => passesTls(balancer.spec));
    if (passing.length > 0 && options.targetCaFile === undefined) {
        throw new Error(`${passing.map((balancer) => balancer.spec.resourceName).join(", ")} passes the targets' TLS through (its target group is checked over HTTPS): ` +
            "give targetCaFile, the CA their certificates chain to, for the harness's probe through its listener");
    }
    const statsPort = await freePort(options.address);
    const configFile = path.join(options.directory, "haproxy.cfg");
    const adminSocket = path.join(options.directory, "haproxy.sock");
    fs.writeFileSync(configFile, renderHaproxyConfig({
        listenAddress: options.address,
        balancers,
        statsPort,
        healthCheckTimeScale: options.healthCheckTimeScale,
        adminSocket,
    }));
    const haproxy = options.processes.start({
        name: "haproxy",
        command: requireTool("haproxy"),
        args: ["-db", "-f", configFile],
        logFile: path.join(options.directory, "haproxy.log"),
    });
    const statsUrl = `http://${options.address}:${statsPort}`;
    const lastStates = new Map<LoadBalancerKind, Record<string, string>>();
    const isReady = async (balancer: PlayedLoadBalancer) => {
        const seen = await targetStates(statsUrl, balancer.spec.kind);
        lastStates.set(balancer.spec.kind, seen);
        const states = Object.values(seen);
        const health = `${listenerUrl(options.address, balancer)}/health`;
        return states.length === balancer.targets.length && states.every((state) => state === "UP")
            && (await (passesTls(balancer.spec) ? answersOkThroughTls(health, options.targetCaFile!) : answersOk(health, options.caFile)));
    };
    // The members answer /health already, so targets that are still not UP after several rounds of checks
    // never will be: the target group's health check does not pass on a healthy member.
    const startedAt = Date.now();
    const checksGraceMs = Math.max(10_000, ...balancers.map((balancer) => {
        const check = scaledHealthCheck(balancer.spec.targetGroup.healthCheck, options.healthCheckTimeScale);
        return 5 * Math.max(check.rise, check.fall) * (check.intervalMs + check.timeoutMs);
    }));
    const checksNeverPass = () => {
        if (Date.now() - startedAt < checksGraceMs) {
            return undefined;
        }
        const stuck = balancers.filter((balancer) => Object.values(lastStates.get(balancer.spec.kind) ?? {}).some((state) => state.startsWith("DOWN")));
        return stuck.length === 0 ? undefined : `after ${checksGraceMs} ms of health checks, targets of healthy members are still DOWN: ` +
            stuck.map((balancer) => `${balancer.spec.targetGroup.resourceName} ${JSON.stringify(lastStates.get(balancer.spec.kind))} ` +
                `(${healthCheckDescription(balancer.spec.targetGroup)})`).join("; ");
    };
    try {
        await waitUntil(
            async () => (await Promise.all(balancers.map(isReady))).every(Boolean),
            {
                description: "every load balancer target to be UP",
                timeoutMs: options.timeoutMs,
                failFast: () => options.interrupted() ?? haproxy.exitReport() ?? checksNeverPass(),
            },
        );
    } catch (error) {
        const states = await Promise.all(balancers.map(async (balancer) => `${balancer.spec.kind} ${JSON.stringify(await targetStates(statsUrl, balancer.spec.kind))}`));
        (error as Error).message += `\n  targets as the health checks see them: ${states.join("; ")}`;
        throw error;
    }
    const alb = balancers.find((balancer) => balancer.spec.kind === "alb")!;
    const nlb = balancers.find((balancer) => balancer.spec.kind === "nlb");
    return {
        url: listenerUrl(options.address, alb),
        redirectUrl: alb.redirects.length > 0 ? `http://${options.address}:${alb.redirects[0].localPort}` : undefined,
        grpcEndpoint: nlb && `${options.address}:${nlb.port}`,
        statsUrl,
        kinds: balancers.map((balancer) => balancer.spec.kind),
        process: haproxy,
        configFile,
        adminSocket,
        servers: balancers.flatMap((balancer) => balancer.targets.map((target, index) => ({
            kind: balancer.spec.kind,
            backend: targetGroupName(balancer.spec.kind),
            server: target.name,
            instance: balancer.spec.targets[index].instance,
        }))),
        played: balancers,
        healthCheckTimeScale: options.healthCheckTimeScale,
    };
}

/**
 * Registers `target`, instance `instance` of a construction of the component
 * with more members (a cluster that grew), in every target group `specs`
 * attach it to: a server added through the runtime API with the target
 * group's health check, failing until its checks pass, as a new target of a
 * target group is `initial` and gets no traffic until it is healthy.
 */
export async function registerTarget(balancer: LoadBalancer, specs: LoadBalancerSpec[], instance: number, target: Target): Promise<void> {
    const command = async (line: string, expected: RegExp) => {
        const answer = (await runtimeCommand(balancer.adminSocket, line)).trim();
        if (!expected.test(answer)) {
            throw new Error(`haproxy refused "${line}": ${answer}`);
        }
    };
    for (const spec of specs) {
        const played = balancer.played.find((candidate) => candidate.spec.kind === spec.kind);
        if (!played) {
            throw new Error(`the component attaches instance ${instance} to a ${spec.kind} target group, which the running load balancers do not play`);
        }
        for (const attachment of spec.targets.filter((candidate) => candidate.instance === instance)) {
            const backend = targetGroupName(spec.kind);
            const server = `${backend}/${target.name}`;
            await command(`add server ${server} ${target.address}:${attachment.port} ${targetServerOptions(played.spec.targetGroup, balancer.healthCheckTimeScale)}`,
                /^New server registered\.$/);
            await command(`enable health ${server}`, /^$/);
            await command(`set server ${server} health down`, /^$/);
            await command(`set server ${server} state ready`, /^$/);
            balancer.servers.push({ kind: spec.kind, backend, server: target.name, instance });
        }
    }
}

/** Bound on one runtime API command. */
const runtimeCommandTimeoutMs = 5_000;

/**
 * Sends one command to haproxy's runtime API and resolves to its answer
 * (haproxy answers and closes the connection).
 */
export function runtimeCommand(socket: string, command: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const connection = net.createConnection(socket);
        let answer = "";
        const timer = setTimeout(() => {
            connection.destroy();
            reject(new Error(`haproxy's runtime API (${socket}) did not answer "${command}" within ${runtimeCommandTimeoutMs} ms`));
        }, runtimeCommandTimeoutMs);
        connection.setEncoding("utf8");
        connection.on("data", (chunk: string) => (answer += chunk));
        connection.on("error", (error) => {
            clearTimeout(timer);
            reject(new Error(`haproxy's runtime API (${socket}) for "${command}": ${error.message}`));
        });
        connection.on("close", () => {
            clearTimeout(timer);
            resolve(answer);
        });
        connection.end(`${command}\n`);
    });
}

/**
 * Puts every server standing for `instance` into an admin state: `drain`
 * takes no new requests (an ALB's deregistering target: health checks go on,
 * requests under way finish), `ready` takes traffic again once its health
 * checks pass (a registered target); `kind` limits it to one load balancer's
 * target group. Throws with haproxy's answer if it refuses.
 */
export async function setTargetAdminState(balancer: Pick<LoadBalancer, "adminSocket" | "servers">, instance: number, state: "drain" | "ready",
    kind?: LoadBalancerKind): Promise<TargetServer[]> {
    const servers = balancer.servers.filter((server) => server.instance === instance && (kind === undefined || server.kind === kind));
    for (const server of servers) {
        const answer = (await runtimeCommand(balancer.adminSocket, `set server ${server.backend}/${server.server} state ${state}`)).trim();
        if (answer !== "") {
            throw new Error(`haproxy refused to set ${server.backend}/${server.server} to ${state}: ${answer}`);
        }
    }
    return servers;
}

/**
 * Marks every server standing for `instance` as failing its health checks, so
 * it takes traffic only after `rise` checks pass again: what a newly registered
 * target of a target group starts from (`initial`), whatever its address
 * answered before.
 */
export async function resetTargetHealth(balancer: Pick<LoadBalancer, "adminSocket" | "servers">, instance: number): Promise<void> {
    for (const server of balancer.servers.filter((candidate) => candidate.instance === instance)) {
        const answer = (await runtimeCommand(balancer.adminSocket, `set server ${server.backend}/${server.server} health down`)).trim();
        if (answer !== "") {
            throw new Error(`haproxy refused to mark ${server.backend}/${server.server} down: ${answer}`);
        }
    }
}

/** Requests (HTTP) or connections (TCP) each server of `kind`'s target group is serving now, from the stats page. */
export async function targetSessions(statsUrl: string, kind: LoadBalancerKind): Promise<Record<string, number>> {
    const rows = await statsRows(statsUrl, kind);
    return Object.fromEntries(Object.entries(rows).map(([server, row]) => [server, Number(row.scur)]));
}

/**
 * Each target's state in `kind`'s target group as haproxy's health checks see
 * it (`UP`, `DOWN`, `UP 1/2`, …), read from the stats page's CSV; empty if
 * haproxy does not play that load balancer.
 */
export async function targetStates(statsUrl: string, kind: LoadBalancerKind): Promise<Record<string, string>> {
    const rows = await statsRows(statsUrl, kind);
    return Object.fromEntries(Object.entries(rows).map(([server, row]) => [server, row.status]));
}

/** The stats page's CSV rows of `kind`'s target group's servers, by server name, each field by its column name. */
async function statsRows(statsUrl: string, kind: LoadBalancerKind): Promise<Record<string, Record<string, string>>> {
    const answer = await probe(`${statsUrl}/;csv`);
    if (answer?.status !== 200) {
        return {};
    }
    const [header, ...rows] = answer.body.trim().split("\n").map((line) => line.split(","));
    // The header line is `# pxname,svname,...`.
    const columns = header.map((field) => field.replace(/^# /, ""));
    const servers: Record<string, Record<string, string>> = {};
    for (const row of rows) {
        const fields = Object.fromEntries(columns.map((name, index) => [name, row[index]]));
        if (fields.pxname === targetGroupName(kind) && fields.svname !== "FRONTEND" && fields.svname !== "BACKEND") {
            servers[fields.svname] = fields;
        }
    }
    return servers;
}
