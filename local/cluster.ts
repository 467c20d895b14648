/**
 * Boots the cluster the component describes on this machine, from the very
 * user data an EC2 instance would receive: a real discovery service, real
 * Ignition writing each node's root, the metadata file Afterburn would write,
 * the etcd unit started as systemd would start it (the container mapped to the
 * host's etcd), and haproxy where the ALB (and, when asked, the gRPC NLB) is.
 */
import * as fs from "fs";
import * as path from "path";
import { requestDiscoveryUrl } from "../lib/discovery-request";
import { resolveArgs } from "../lib/args";
import { clientPort, peerPort } from "../lib/etcd";
import { EtcdNodeIgnitionOptions, etcdUnitName, renderUserData } from "../lib/ignition";
import { LoadBalancerKind, loadBalancerProfiles } from "../lib/loadbalancer";
import { memberIgnitionOptions, planMembers } from "../lib/plan";
import { OperatingSystem, OperatingSystemProfile } from "../lib/os";
import { ClusterState, releaseSubnet, removeWorkDir, reserveSubnet, workDirPrefix, writeState } from "./cluster-registry";
import { startDiscoveryService } from "./discovery-server";
import { startLoadBalancer, targetStates } from "./haproxy";
import { answersOk, probe } from "./http";
import { applyIgnition, validateUserData } from "./ignition-apply";
import { writeInstanceMetadata } from "./instance-metadata";
import { ManagedProcess, ProcessGroup, waitUntil } from "./processes";
import { requireHostEtcd } from "./system-tools";
import { planUnitStart, ProvidedUnit } from "./unit-start";

export { etcdUnitName };

/** Health checks at a tenth of the ALB's times: a 5 s interval becomes 500 ms. */
export const defaultHealthCheckTimeScale = 0.1;

/**
 * How long teardown lets each process exit after SIGTERM. Everything is
 * deleted right after, so waiting out a leader's attempts to hand over
 * leadership to peers that are stopping too (about 7 s) buys nothing.
 */
export const teardownGraceMs = 2000;

/** The component name the local cluster's arguments are resolved under, as a stack's `new Etcd3Cluster(name, …)` would. */
const localComponentName = "local";

/** Last octet of the address the discovery service, the load balancers and their stats page share; members use 1..size. */
const servicesHost = 254;

/**
 * What to boot. `size`, `etcdVersion` and `os` are the component's
 * `clusterSize`, `etcdVersion` and `os` arguments, resolved and checked by the
 * component's own code, so the defaults and the errors are the component's.
 */
export interface LocalClusterOptions {
    /** Number of members: 1, 3, 5 or 7. */
    size: number;
    /** The etcd release the user data names; the host's etcd of the same branch stands in for its image. */
    etcdVersion?: string;
    os?: OperatingSystem;
    /** Multiplies the target group's health-check times (see `defaultHealthCheckTimeScale`). */
    healthCheckTimeScale?: number;
    /** Use 127.0.N.0/24; default the first free one from 127.0.10.0. */
    subnet?: number;
    /** Port the load balancer listens on (at 127.0.N.254); default a free one. */
    loadBalancerPort?: number;
    /**
     * Also play the component's `grpcLoadBalancer`: a TCP load balancer on the
     * NLB's listener port (2379) at 127.0.N.254, whose address `grpcEndpoint` gives.
     */
    grpcLoadBalancer?: boolean;
    /** Leave the processes running when this process exits (`--keep`); `stopKeptClusters` stops them. */
    keep?: boolean;
    /** Bound on each wait for members to become healthy, in ms. Default 60000. */
    startTimeoutMs?: number;
    /** Receives progress lines. */
    log?: (line: string) => void;
    /** Aborting it interrupts the start: everything started so far is stopped and the start rejects. */
    abortSignal?: AbortSignal;
    /**
     * Test seam: rewrites a node's user data between rendering and Ignition, to
     * prove that broken user data fails the boot. Leave unset to boot exactly
     * what the component would send.
     */
    userDataTransform?: (userData: string, nodeIndex: number) => string;
}

/** Milliseconds each phase of the start took, for the benchmark. */
export interface StartupTimings {
    discoveryMs: number;
    /** Validation plus both Ignition stages, per node. */
    ignitionMs: number[];
    /** From starting the first member to every member answering /health with 200. */
    etcdHealthyMs: number;
    /** From starting haproxy to every target of every load balancer UP and /health answering through each. */
    loadBalancerReadyMs: number;
    /** One v3 put through the load balancer. */
    firstWriteMs: number;
    totalMs: number;
}

/** One member: a node root written by Ignition and the etcd its unit runs. */
export interface LocalNode {
    /** etcd member name, the component's, e.g. `etcd3-cluster-0`. */
    readonly name: string;
    /** The node's loopback address, its "private IP". */
    readonly ip: string;
    /** `http://<ip>:2379` */
    readonly clientUrl: string;
    /** The directory playing the node's root filesystem. */
    readonly root: string;
    readonly running: boolean;
    /**
     * Runs the unit again from the node root (same data dir, no new token) and
     * waits until the member is healthy. A member can only be healthy with a
     * quorum: after a whole-cluster stop, start the nodes together.
     */
    start(): Promise<void>;
    /** SIGTERM, a bounded wait, then SIGKILL, as `podman stop` does. */
    stop(): Promise<void>;
    /** SIGKILL at once, as when the instance itself fails: no clean shutdown, no leadership hand-over. */
    crash(): Promise<void>;
}

export interface LocalCluster {
    /** The load balancer URL: what the stack outputs as `etcd3ClusterUrl`. */
    readonly clusterUrl: string;
    /** Each member's `http://<ip>:2379`, in member order: what the stack outputs as `clientEndpoints`. */
    readonly clientEndpoints: string[];
    /** `127.0.N.254:2379` with `grpcLoadBalancer`, otherwise undefined: what the stack outputs as `grpcEndpoint`. */
    readonly grpcEndpoint?: string;
    /** What the stack outputs as `etcd3DiscoveryUrl`. */
    readonly discoveryUrl: string;
    /** haproxy's stats page (loopback only). */
    readonly statsUrl: string;
    readonly nodes: LocalNode[];
    readonly timings: StartupTimings;
    readonly subnet: number;
    readonly workDir: string;
    stopNode(index: number): Promise<void>;
    startNode(index: number): Promise<void>;
    /**
     * Each target's state as a load balancer's health checks see it (`UP`,
     * `DOWN`, `UP 1/2`, …): the ALB's unless `kind` names another.
     */
    targetStates(kind?: LoadBalancerKind): Promise<Record<string, string>>;
    /** Waits until every load balancer (the ALB, and the NLB if any) sees target `name` as exactly `state`. */
    waitForTarget(name: string, state: "UP" | "DOWN", timeoutMs?: number): Promise<void>;
    /** Stops every process and removes every file the cluster made. Safe to call twice. */
    stop(): Promise<void>;
}

function elapsedSince(start: number): number {
    return Date.now() - start;
}

/** Everything a node needs to (re)start its unit. */
interface NodeSetup {
    name: string;
    ip: string;
    root: string;
    /** Starts the node's unit as a process. */
    boot: () => ManagedProcess;
    /** Bound on the wait for /health. */
    timeoutMs: number;
    /** A reason to stop waiting for /health other than the member's own exit (the start was interrupted). */
    interrupted: () => string | undefined;
    /** Called when the node's process starts or stops, to keep the state file current. */
    changed: () => void;
}

class Node implements LocalNode {
    readonly name: string;
    readonly ip: string;
    readonly clientUrl: string;
    readonly root: string;
    private process: ManagedProcess | undefined;

    constructor(private readonly setup: NodeSetup) {
        this.name = setup.name;
        this.ip = setup.ip;
        this.clientUrl = `http://${setup.ip}:${clientPort}`;
        this.root = setup.root;
    }

    get running(): boolean {
        return this.process?.running ?? false;
    }

    /** Starts the unit's process without waiting for health (a whole cluster becomes healthy together). */
    launch(): void {
        if (this.running) {
            throw new Error(`${this.name} is already running`);
        }
        this.process = this.setup.boot();
        this.setup.changed();
    }

    async waitHealthy(): Promise<void> {
        const member = this.process;
        if (!member) {
            throw new Error(`${this.name} was never started`);
        }
        await waitUntil(() => answersOk(`${this.clientUrl}/health`), {
            description: `${this.name} (${this.clientUrl}) to answer /health with 200`,
            timeoutMs: this.setup.timeoutMs,
            failFast: () => this.setup.interrupted() ?? member.exitReport(),
        });
    }

    async start(): Promise<void> {
        this.launch();
        await this.waitHealthy();
    }

    async stop(): Promise<void> {
        await this.process?.stop();
        this.setup.changed();
    }

    async crash(): Promise<void> {
        await this.process?.kill();
        this.setup.changed();
    }
}

/** Fake but well-formed EC2 facts for node `index`; only the private IP matters to etcd. */
function instanceMetadata(index: number, ip: string) {
    const zones = ["eu-west-2a", "eu-west-2b", "eu-west-2c"];
    return {
        privateIpv4: ip,
        hostname: `ip-${ip.replace(/\./g, "-")}.eu-west-2.compute.internal`,
        instanceId: `i-${ip.split(".").map((octet) => Number(octet).toString(16).padStart(2, "0")).join("")}${"0".repeat(9)}`,
        availabilityZone: zones[index % zones.length],
        region: "eu-west-2",
    };
}

/** What one node's boot is made from. */
interface NodeIgnition {
    index: number;
    ip: string;
    nodeDir: string;
    /** The component's options for this member's Ignition config. */
    ignition: EtcdNodeIgnitionOptions;
    os: OperatingSystemProfile;
    userDataTransform?: LocalClusterOptions["userDataTransform"];
}

/**
 * Renders the node's user data as the component does, has ignition-validate
 * check it and Ignition apply it, then writes what the metadata unit would.
 * Returns the node root.
 */
async function igniteNode(node: NodeIgnition): Promise<string> {
    const rendered = renderUserData(node.ignition);
    const userDataFile = path.join(node.nodeDir, "user-data.ign");
    fs.writeFileSync(userDataFile, node.userDataTransform ? node.userDataTransform(rendered, node.index) : rendered);
    await validateUserData(userDataFile);
    const root = await applyIgnition({ userDataFile, nodeDir: node.nodeDir });
    writeInstanceMetadata(root, node.os, instanceMetadata(node.index, node.ip));
    return root;
}

/**
 * Starts a local cluster and resolves once a write through the load balancer
 * is acknowledged. On any failure everything started so far is stopped and
 * removed before the error (which quotes the failing tool's output) is thrown.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
    const log = options.log ?? (() => undefined);
    const componentArgs = resolveArgs(localComponentName, { clusterSize: options.size, etcdVersion: options.etcdVersion, os: options.os });
    const size = componentArgs.clusterSize;
    const members = planMembers(componentArgs);
    const osProfile = componentArgs.osProfile;
    const timeScale = options.healthCheckTimeScale ?? defaultHealthCheckTimeScale;
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    const etcd = requireHostEtcd();
    const startedAt = Date.now();

    const workDir = fs.mkdtempSync(workDirPrefix);
    const processes = new ProcessGroup(options.keep);
    let subnet: number | undefined;
    const outputs: Pick<ClusterState, "clusterUrl" | "discoveryUrl"> = {};
    const state = (): ClusterState => ({
        subnet: subnet!, ownerPid: process.pid, kept: options.keep ?? false, workDir, processes: processes.records(), ...outputs,
    });
    const interrupted = () => (options.abortSignal?.aborted ? "the start was interrupted" : undefined);
    const throwIfInterrupted = () => {
        const reason = interrupted();
        if (reason) {
            throw new Error(reason);
        }
    };
    let stopped = false;
    const stop = async () => {
        if (stopped) {
            return;
        }
        stopped = true;
        await processes.stopAll(teardownGraceMs);
        if (subnet !== undefined) {
            releaseSubnet(subnet);
        }
        removeWorkDir(workDir);
    };

    try {
        const grpcPort = options.grpcLoadBalancer ? loadBalancerProfiles.nlb.listenerPort : undefined;
        const memberHosts = Array.from({ length: size }, (_, i) => i + 1);
        subnet = await reserveSubnet({
            subnet: options.subnet,
            // The NLB listens on the members' client port, so it must be free on the services address too
            // (the registry checks every port on every host, so the peer port there is checked as well).
            hosts: grpcPort === undefined ? memberHosts : [...memberHosts, servicesHost],
            ports: [clientPort, peerPort],
            workDir,
        });
        const servicesAddress = `127.0.${subnet}.${servicesHost}`;
        log(`loopback subnet 127.0.${subnet}.0/24, files in ${workDir}`);

        let phase = Date.now();
        const discoveryService = await startDiscoveryService({ address: servicesAddress, workDir, etcd, processes, timeoutMs });
        writeState(state());
        const discoveryUrl = await requestDiscoveryUrl(size, { service: discoveryService, log: (line) => log(`  ${line}`) });
        const discoveryMs = elapsedSince(phase);
        outputs.discoveryUrl = discoveryUrl;
        throwIfInterrupted();
        log(`discovery: ${discoveryUrl} (${discoveryMs} ms)`);

        const provided: ProvidedUnit[] = [
            { name: osProfile.metadataUnit, writes: osProfile.metadataEnvironmentFile },
            // Reached on every networked host, the test host included.
            { name: "network-online.target" },
        ];
        const ignitionMs: number[] = [];
        const nodes: Node[] = [];
        for (let index = 0; index < size; index++) {
            phase = Date.now();
            const name = members[index].name;
            const ip = `127.0.${subnet}.${index + 1}`;
            const nodeDir = path.join(workDir, name);
            fs.mkdirSync(nodeDir);
            const root = await igniteNode({
                index, ip, nodeDir, os: osProfile,
                ignition: memberIgnitionOptions(componentArgs, members[index], discoveryUrl),
                userDataTransform: options.userDataTransform,
            });
            ignitionMs.push(elapsedSince(phase));
            throwIfInterrupted();
            log(`ignition: ${name} at ${ip} (${ignitionMs[index]} ms)`);
            const boot = () => {
                const plan = planUnitStart(root, etcdUnitName, provided, { root, address: ip, etcd });
                plan.notes.forEach((note) => log(`  ${name} ${note}`));
                log(`  ${name} ${etcdUnitName}: image ${plan.image} runs as host etcd ${etcd.version}`);
                return processes.start({ name, command: plan.command, args: plan.args, env: plan.env, logFile: path.join(nodeDir, "etcd.log") });
            };
            const changed = () => {
                // After teardown the reservation is gone; writing the state again would resurrect it.
                if (!stopped) {
                    writeState(state());
                }
            };
            nodes.push(new Node({ name, ip, root, boot, timeoutMs, interrupted, changed }));
        }

        phase = Date.now();
        nodes.forEach((node) => node.launch());
        await Promise.all(nodes.map((node) => node.waitHealthy()));
        const etcdHealthyMs = elapsedSince(phase);
        log(`etcd: ${size} members healthy (${etcdHealthyMs} ms)`);

        phase = Date.now();
        const loadBalancer = await startLoadBalancer({
            address: servicesAddress,
            port: options.loadBalancerPort,
            grpcPort,
            targets: nodes.map((node) => ({ name: node.name, address: node.ip })),
            healthCheckTimeScale: timeScale,
            directory: workDir,
            processes,
            timeoutMs,
            interrupted,
        });
        const clusterUrl = loadBalancer.url;
        outputs.clusterUrl = clusterUrl;
        writeState(state());
        const loadBalancerReadyMs = elapsedSince(phase);
        const grpcEndpoint = loadBalancer.grpcEndpoint;
        log(`load balancer: ${clusterUrl}${grpcEndpoint ? `, gRPC ${grpcEndpoint}` : ""} (${loadBalancerReadyMs} ms; health checks at ${timeScale}× the ALB's times)`);

        phase = Date.now();
        await firstWrite(clusterUrl);
        const firstWriteMs = elapsedSince(phase);
        log(`first write acknowledged (${firstWriteMs} ms)`);

        const timings: StartupTimings = {
            discoveryMs, ignitionMs, etcdHealthyMs, loadBalancerReadyMs, firstWriteMs, totalMs: elapsedSince(startedAt),
        };
        const statsUrl = loadBalancer.statsUrl;
        const seenByEveryLoadBalancer = async (name: string, expected: string) =>
            (await Promise.all(loadBalancer.kinds.map((kind) => targetStates(statsUrl, kind)))).every((states) => states[name] === expected);
        const waitForTarget = (name: string, expected: "UP" | "DOWN", waitMs = timeoutMs) =>
            waitUntil(() => seenByEveryLoadBalancer(name, expected), {
                description: `every load balancer to see ${name} ${expected}`,
                timeoutMs: waitMs,
                failFast: () => loadBalancer.process.exitReport(),
            });
        return {
            clusterUrl, discoveryUrl, statsUrl, nodes, timings, subnet, workDir, grpcEndpoint,
            clientEndpoints: nodes.map((node) => node.clientUrl),
            stopNode: (index) => nodes[index].stop(),
            startNode: (index) => nodes[index].start(),
            targetStates: (kind = "alb") => targetStates(statsUrl, kind),
            waitForTarget,
            stop,
        };
    } catch (error) {
        await stop();
        throw error;
    }
}

/**
 * Writes one key through the v3 JSON gateway, which every supported release
 * serves, so the v2 key space the seed's curl session uses stays untouched.
 */
async function firstWrite(clusterUrl: string): Promise<void> {
    const base64 = (text: string) => Buffer.from(text).toString("base64");
    const body = JSON.stringify({ key: base64("etcd3-cluster-local/first-write"), value: base64(new Date().toISOString()) });
    const answer = await probe(`${clusterUrl}/v3/kv/put`, { method: "POST", body, headers: { "content-type": "application/json" } });
    if (answer?.status !== 200) {
        throw new Error(`the first write through the load balancer failed: ${answer ? `HTTP ${answer.status} ${answer.body}` : "no answer"}`);
    }
}
