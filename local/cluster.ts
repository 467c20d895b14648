/**
 * Boots the cluster the component describes on this machine, from what the
 * component registers: each instance's user data (the very bytes EC2 would
 * receive, the real discovery token's URL in place of the mocks'), booted by
 * real Ignition and a played systemd (local/systemd.ts) with a real discovery
 * service, the metadata file the OS's metadata unit would write, the etcd
 * container mapped to the host's etcd, and haproxy built from the registered
 * listeners and target groups where the ALB (and, when asked, the gRPC NLB) is.
 */
import * as fs from "fs";
import * as path from "path";
import { requestDiscoveryUrl } from "../lib/discovery-request";
import { resolveArgs, Etcd3ClusterArgs } from "../lib/args";
import { clientPort, clientUrl, peerPort, UrlScheme } from "../lib/etcd";
import { peerCaCertificateKey } from "../lib/member-certificate";
import { accessControlUnitName } from "../lib/access-control";
import { etcdUnitName } from "../lib/ignition";
import { planSlots, slotCount } from "../lib/plan";
import type { OperatingSystem } from "../lib/os";
import type { BootstrapMethod } from "../lib/bootstrap";
import { ClusterState, releaseSubnet, removeWorkDir, reserveSubnet, workDirPrefix, writeState } from "./cluster-registry";
import {
    bucketsOf, componentResources, departuresOf, DynamicResourceBlueprint, guardIdOf, healthGatesOf, InstanceBlueprint, instancesOf, LoadBalancerKind,
    keptValuesOf, loadBalancersOf, localStackRegion, nodeInternetPortsOf, objectsOf, RegisteredResource, slotAddressesOf, stackHas, withDiscoveryUrl,
    withGuardId, withKeptUserData, withKeptValues, withSlotAddresses,
} from "./component-resources";
import { Ec2ApiStandIn, Ec2InstancesModel, Ec2InstanceState, startEc2Api } from "./ec2-api";
import { ElbApiStandIn, startElbApi } from "./elb-api";
import { LocalTargetGroups } from "./target-groups";
import { ContainerStore } from "./container-runtime";
import { startDiscoveryService } from "./discovery-server";
import { registerTarget, startLoadBalancer, targetStates } from "./haproxy";
import { DeviceTable, NodeDevice, NodeHost } from "./host-commands";
import { answersOk, probe } from "./http";
import { applyIgnition, validateUserData } from "./ignition-apply";
import { InstanceMetadata, metadataUnitOf, writeInstanceMetadata } from "./instance-metadata";
import { InstanceMetadataService, startInstanceMetadataService } from "./instance-metadata-service";
import { issueRoleSession, RoleSession } from "./iam-policy";
import { S3ApiStandIn, startS3Api } from "./s3-api";
import { createTestCertificateAuthority } from "./test-certificates";
import { killStrays, ProcessGroup, waitUntil, within } from "./processes";
import { HostEtcd, requireHostEtcd } from "./system-tools";
import { JobOutcome, NodeSystemd, PlayedUnit, TimerStatus, unmount, UnitStatus } from "./systemd";
import { defaultVolumeBytes, SlotVolumes, volumeAttachmentsOf, withSlotVolumeIds } from "./volumes";

export { etcdUnitName };
export type { LoadBalancerKind, NodeDevice, UnitStatus };

/** Health checks at a tenth of the ALB's times: a 5 s interval becomes 500 ms. */
export const defaultHealthCheckTimeScale = 0.1;

/**
 * How long teardown lets each process exit after SIGTERM. Everything is
 * deleted right after, so waiting out a leader's attempts to hand over
 * leadership to peers that are stopping too (about 7 s) buys nothing.
 */
export const teardownGraceMs = 2000;

/** Default bound on a whole start, from the call to the first write acknowledged. */
export const defaultStartTimeoutMs = 60_000;

/**
 * Bound on teardown: every process gets `teardownGraceMs` after SIGTERM, then
 * SIGKILL; unmounting and removing the files take well under the rest.
 */
export const teardownBoundMs = 15_000;

/** Default bound on a whole `replaceNode`: the drain, a clean stop, Ignition, a boot to /health, and the health checks' rise. */
export const defaultReplaceTimeoutMs = 90_000;
/** How long after its `timeoutMs` a `replaceNode` that a phase has not failed rejects by itself. */
export const replaceGraceMs = 5_000;
/** Default bound on `LocalNode.startUnit`'s wait for the start job. */
export const defaultUnitStartWaitMs = 60_000;
/** Default bound on `LocalNode.stop`: each unit's stop is capped at 30 s, and a shutdown stops them one after another. */
export const defaultNodeStopWaitMs = 60_000;

/** The component name the local cluster's arguments are resolved under, as a stack's `new Etcd3Cluster(name, …)` would. */
const localComponentName = "local";

/** Last octet of the address the discovery service, the load balancers and their stats page share; slots use 1..7. */
const servicesHost = 254;

/** The certificate ARN the local cluster gives the component with `https`: the one certificate its ACM stand-in holds. */
export const localCertificateArn = "arn:aws:acm:eu-west-2:123456789012:certificate/local-load-balancer";

/**
 * What to boot. `size`, `etcdVersion`, `os` and the raft timing are the
 * component's arguments, resolved and checked by the component's own code, so
 * the defaults and the errors are the component's.
 */
export interface LocalClusterOptions {
    /** Number of members: 1, 3, 5 or 7. */
    size: number;
    /** The etcd release the user data names; the host's etcd of the same branch stands in for its image. */
    etcdVersion?: string;
    /** The component's `bootstrap`: with `static` no discovery service is started at all. Default the component's (`discovery`). */
    bootstrap?: BootstrapMethod;
    /** The component's `enableV2Api`; default the component's (on for etcd 3.5). */
    enableV2Api?: boolean;
    os?: OperatingSystem;
    /** The component's `heartbeatIntervalMs` (etcd `--heartbeat-interval`); default the component's (etcd's own). */
    heartbeatIntervalMs?: number;
    /** The component's `electionTimeoutMs` (etcd `--election-timeout`); default the component's (etcd's own). */
    electionTimeoutMs?: number;
    /** The component's `quotaBackendMiB` (etcd `--quota-backend-bytes`); default the component's. */
    quotaBackendMiB?: number;
    /**
     * The component's `backups`: its bucket played by an S3 stand-in on
     * loopback (over TLS, SigV4 and the role's policy checked), each instance's
     * role credentials served by its metadata stand-in. Default off.
     */
    backups?: boolean;
    /** The component's `backupIntervalMinutes`; default the component's. */
    backupIntervalMinutes?: number;
    /** The component's `restoreFrom` (`s3://bucket/key`); the object must be among `s3Objects`. */
    restoreFrom?: string;
    /**
     * Objects already in S3 when the cluster starts, each in a bucket of its
     * own that the S3 stand-in plays in the stack's region (`localStackRegion`):
     * a snapshot to restore from, for one.
     */
    s3Objects?: { bucket: string; key: string; body: Buffer }[];
    /** The nodes' wall clock, ms since the epoch, that their timers' calendar times are read on (default the host's). */
    clock?: () => number;
    /** Multiplies the target groups' health-check times (see `defaultHealthCheckTimeScale`). */
    healthCheckTimeScale?: number;
    /** Use 127.0.N.0/24; default the first free one from 127.0.10.0. */
    subnet?: number;
    /** Port the ALB stand-in listens on (at 127.0.N.254); default a free one. */
    loadBalancerPort?: number;
    /**
     * The component's `certificateArn`: an ACM stand-in holds a certificate for
     * the load balancer's address, issued by a test CA (`caFile`), and the ALB
     * stand-in serves HTTPS with it under the listener's `sslPolicy`; its port
     * 80 redirects. Default off.
     */
    https?: boolean;
    /** The component's `sslPolicy`, with `https`; default the component's. */
    sslPolicy?: string;
    /**
     * The component's `peerTls`: the members issue their peer certificates from
     * the CA the component stores (the S3 stand-in serves it under its KMS
     * key) and talk mutual TLS on their peer ports. Default off.
     */
    peerTls?: boolean;
    /**
     * The component's `peerCaCertificate` and `peerCaPrivateKey` (with
     * `peerTls`): the members sign with, and trust, this CA instead of one the
     * component makes. Default none.
     */
    peerCa?: { certificate: string; privateKey: string };
    /**
     * The component's `clientTls` (with `peerTls`): the members serve their
     * client port over TLS with their certificates, the load balancer
     * stand-ins speak HTTPS to them, and the harness's own probes verify them
     * with the cluster's CA (`memberCaFile`). Default off.
     */
    clientTls?: boolean;
    /**
     * The component's `rootPassword` (with `clientTls`): the members turn
     * etcd's access control on with it, read from the S3 stand-in, and run
     * their own etcdctl as root. Default none.
     */
    rootPassword?: string;
    /**
     * The component's `grpcLoadBalancer`: a TCP load balancer on the NLB's
     * listener port (2379) at 127.0.N.254, whose address `grpcEndpoint` gives.
     */
    grpcLoadBalancer?: boolean;
    /** Leave the processes running when this process exits (`--keep`); `stopKeptClusters` stops them. */
    keep?: boolean;
    /**
     * Bound on the whole start, in ms (default 60000): every wait inside it
     * gets what is left. A start that runs out stops everything it started and
     * rejects, so a test timeout longer than this never fires first.
     */
    startTimeoutMs?: number;
    /**
     * Unit failures a boot tolerates before the start fails with the first
     * one beyond (default 0: the first failed start of any unit, or the first
     * main process to exit with a failure, fails the start). Restart= is played
     * either way; a unit that only works after restarts is worth knowing about.
     */
    toleratedBootFailures?: number;
    /** Block devices of node `index`, by the path the node sees (`/dev/disk/by-id/…`); each must be a loop device. */
    devices?: (index: number) => Record<string, NodeDevice>;
    /**
     * Size in bytes of the sparse file playing each volume the component
     * attaches to an instance (default 1 GiB; the registered size is not
     * played, a sparse file costs nothing until written).
     */
    volumeBytes?: number;
    /** Milliseconds node `index` boots after the others (default none): a member that is late at the first bootstrap. Counts against `startTimeoutMs`. */
    bootDelayMs?: (index: number) => number;
    /** Receives progress lines. */
    log?: (line: string) => void;
    /** Aborting it interrupts the start: everything started so far is stopped and the start rejects. */
    abortSignal?: AbortSignal;
    /**
     * Test seam: the path of a module loaded before the component is built
     * under mocks, which may alter its tables or resources as a bug in lib/
     * would. Leave unset to boot what the component registers.
     */
    componentPatch?: string;
    /**
     * Test seam: rewrites a node's user data between the component and
     * Ignition, to prove that broken user data fails the boot. Leave unset to
     * boot exactly what the component would send.
     */
    userDataTransform?: (userData: string, nodeIndex: number) => string;
}

/** Milliseconds each phase of the start took, for the benchmark. */
export interface StartupTimings {
    /** Starting the discovery service and requesting the token; 0 with `bootstrap: "static"`, which needs neither. */
    discoveryMs: number;
    /** Validation plus both Ignition stages, per node. */
    ignitionMs: number[];
    /** From booting the first node to every member answering /health with 200. */
    etcdHealthyMs: number;
    /** From starting haproxy to every target of every load balancer UP and /health answering through each. */
    loadBalancerReadyMs: number;
    /** One v3 put through the load balancer. */
    firstWriteMs: number;
    totalMs: number;
}

/** One member: a node root written by Ignition and the units its systemd runs. */
export interface LocalNode {
    /** etcd member name, the component's, e.g. `etcd3-cluster-0`. */
    readonly name: string;
    /** The node's loopback address, its "private IP". */
    readonly ip: string;
    /** `http://<ip>:2379` (`https://` with `clientTls`) */
    readonly clientUrl: string;
    /** The directory playing the current instance's root filesystem (a replacement gets a new one). */
    readonly root: string;
    /** 0 for the instance the cluster started with, then one more for each replacement. */
    readonly generation: number;
    /** The user data the current instance was booted with: the component's, with the cluster's discovery URL. */
    readonly userData: string;
    /** The current instance's id, as EC2 (and the EC2 API stand-in) knows it: a replacement is a new id. */
    readonly instanceId: string;
    /** The slot's volumes attached to the current instance (none until lib/ attaches any). */
    readonly volumes: readonly NodeVolume[];
    /** True while the member's etcd process runs. */
    readonly running: boolean;
    /**
     * Boots the node again from its root (same data dir, no new token) and
     * waits until the member is healthy. A member can only be healthy with a
     * quorum: after a whole-cluster stop, start the nodes together.
     */
    start(): Promise<void>;
    /**
     * A clean shutdown: every unit stopped (ExecStop=, as `podman stop` does:
     * SIGTERM, a bounded wait, SIGKILL), volumes unmounted. Rejects after
     * `timeoutMs` (default `defaultNodeStopWaitMs`) if the shutdown has not
     * finished; the cluster's teardown ends what is left.
     */
    stop(timeoutMs?: number): Promise<void>;
    /** The instance fails: every process SIGKILLed at once, no clean shutdown, no leadership hand-over, nothing restarts. */
    crash(): Promise<void>;
    /**
     * The member's process dies while the instance runs (the OOM killer,
     * a crash): systemd then applies the unit's Restart= and RestartSec=.
     */
    killMember(signal?: NodeJS.Signals): void;
    /** A unit's state at the current boot (default the etcd unit). */
    unit(name?: string): UnitStatus;
    /** What the node's systemd logged since it last booted. */
    journal(): string[];
    /** What a unit's processes wrote (stdout and stderr, as the journal has it) on the current instance, every boot. */
    unitOutput(name: string): string;
    /**
     * `systemctl start NAME` on the node: resolves with the start job's outcome
     * once the job is over, or rejects after `timeoutMs` (default
     * `defaultUnitStartWaitMs`): a oneshot has no start timeout unless its unit
     * sets `TimeoutStartSec=`, as in systemd, and a wait on one must end.
     */
    startUnit(name: string, timeoutMs?: number): Promise<JobOutcome>;
    /** `systemctl list-timers --all` on the node: each timer, the unit it starts, its next elapse and its last trigger. */
    timers(): TimerStatus[];
}

/** A slot's volume as the node sees it and as the test host plays it. */
export interface NodeVolume {
    volumeId: string;
    /** The by-id path the node's units name. */
    nodePath: string;
    /** The loop device playing it. */
    hostDevice: string;
    /** The sparse file behind the loop device. */
    backingFile: string;
}

/** What a replacement does differently from booting the member's current user data again. */
export interface ReplaceNodeOptions {
    /**
     * The new instance's user data, as the component renders it (with the
     * mocks' placeholder discovery URL, replaced like the rest) or as a node
     * booted with it (`node.userData`). Default: the component's user data for
     * the member, taken again from the component (with `args` if given).
     */
    userData?: string;
    /**
     * Component arguments changed for the new instance, a configuration change
     * being rolled out: the component is constructed again with them merged
     * over the cluster's, and the member's new user data taken from it. The
     * size cannot change. The host's etcd still stands in for the image, so a
     * changed `etcdVersion` only changes the image tag in the user data. The
     * slot keeps its volumes: their ids replace the new construction's (under
     * mocks each construction makes new ids; a stack's update keeps them).
     */
    args?: Partial<Etcd3ClusterArgs>;
    /** false: the slot's volumes are never attached to the new instance (a volume attachment that never happens). Default true. */
    attachVolumes?: boolean;
    /**
     * The member's health gate as `pulumi up` runs it around the replacement
     * (lib/rolling.ts, through the ELB API stand-in of `startElbApi`):
     * `beforeStop` in place of the stand-in's own drain (the gate deregisters
     * the targets), `afterStart` in place of the wait for UP, once the new
     * instance's targets are registered again. Default: the harness drains
     * and waits by itself.
     */
    healthGate?: { beforeStop(): Promise<void>; afterStart(): Promise<void> };
    /** Bound on the whole replacement (default `defaultReplaceTimeoutMs`), `replaceGraceMs` more if no phase fails on it first. */
    timeoutMs?: number;
}

/** How `grow` goes. */
export interface GrowOptions {
    /** Bound on each new member's boot, join, promotion and health checks (default `defaultJoinTimeoutMs`). */
    timeoutMsPerMember?: number;
    /** Called once member `index` is in service, before the next one boots. */
    afterMember?: (index: number) => Promise<void>;
}

/** How \`shrink\` goes. */
export interface ShrinkOptions {
    /**
     * The leaving member's health gate as \`pulumi up\` deletes it (drain it
     * from the target groups). Default: the harness drains its targets itself.
     */
    healthGate?: (index: number) => Promise<void>;
    /** The leaving member's departure as \`pulumi up\` deletes it (lib/departure.ts through \`startEc2Api\`'s stand-in). */
    departure: (index: number) => Promise<void>;
    /** Bound on each leaving member's drain (default \`defaultJoinTimeoutMs\`); the departure bounds itself. */
    timeoutMsPerMember?: number;
    /** Called once member \`index\`'s instance is terminated, before the next one leaves. */
    afterMember?: (index: number) => Promise<void>;
}

/** Default bound on one member's join: its boot, the bootstrap's etcdctl calls, catching up, promotion (retried every 2 s), the health checks. */
export const defaultJoinTimeoutMs = 120_000;

/** Milliseconds each step of a replacement took. */
export interface ReplacementTimings {
    /** Draining the member's targets until no request was under way on them (bounded by the scaled deregistration delay). */
    drainMs: number;
    /** The clean shutdown of the old instance. */
    stopMs: number;
    /** The new root: the user data, validation and both Ignition stages. */
    ignitionMs: number;
    /** From the boot to the member answering /health (with a health gate: to the gate letting the roll go on). */
    healthyMs: number;
    /** From putting the targets back to every load balancer seeing them UP (0 with a health gate, whose wait is in `healthyMs`). */
    inServiceMs: number;
    totalMs: number;
}

export interface LocalCluster {
    /** The load balancer URL: what the stack outputs as `etcd3ClusterUrl`. */
    readonly clusterUrl: string;
    /** With `https`: the PEM file of the test CA the load balancer's certificate chains to, what clients trust (`curl --cacert`). */
    readonly caFile?: string;
    /** With `https`: the URL of the ALB's port-80 listener, which redirects to `clusterUrl`. */
    readonly redirectUrl?: string;
    /** Each member's `http://<ip>:2379` (`https://` with `clientTls`), in member order: what the stack outputs as `clientEndpoints`. */
    readonly clientEndpoints: string[];
    /**
     * With `peerTls`: the PEM file of the cluster's CA, which the members'
     * certificates chain to: what the stack outputs as `caCertificate` (the
     * latest update's: see `updateObjects`).
     */
    readonly memberCaFile?: string;
    /** With `rootPassword`: root's password, as the stack's config gives it. */
    readonly rootPassword?: string;
    /** `127.0.N.254:2379` with `grpcLoadBalancer`, otherwise undefined: what the stack outputs as `grpcEndpoint`. */
    readonly grpcEndpoint?: string;
    /** What the stack outputs as `etcd3DiscoveryUrl`: undefined with `bootstrap: "static"`, where no discovery service runs. */
    readonly discoveryUrl?: string;
    /** haproxy's stats page (loopback only). */
    readonly statsUrl: string;
    /** The haproxy configuration the load balancers were rendered into. */
    readonly loadBalancerConfig: string;
    readonly nodes: LocalNode[];
    readonly timings: StartupTimings;
    readonly subnet: number;
    readonly workDir: string;
    stopNode(index: number): Promise<void>;
    startNode(index: number): Promise<void>;
    /**
     * Replaces member `index`'s instance, as a rolling replacement does: its
     * targets are drained (no new requests, those under way finish), the old
     * instance shuts down cleanly, a new one gets a fresh root from the user
     * data (Ignition again) with the same private IP and the slot's volumes,
     * boots, answers /health, and its targets are put back and seen UP.
     * Rejects if a step fails, leaving the new instance as it is for a look
     * at its units and journal (its targets stay drained); `stop` still
     * removes everything.
     */
    replaceNode(index: number, options?: ReplaceNodeOptions): Promise<ReplacementTimings>;
    /**
     * What \`pulumi up\` does to the component's bucket objects before it
     * replaces any instance, for the component constructed again with `args`
     * merged over the cluster's: each object written over the one stored.
     * The stack keeps its buckets, KMS keys and the tls provider's keys and
     * certificates across updates, so those of the constructions before stand
     * in for this one's of the same name; a new one (the next CA of a
     * rotation) is kept from now on. `memberCaFile` then holds the update's
     * `caCertificate`, as a client that takes it again after each update
     * does. Resolves to the keys written. Needs the S3 stand-in (an instance
     * with a role).
     */
    updateObjects(args: Partial<Etcd3ClusterArgs>, timeoutMs?: number): Promise<string[]>;
    /**
     * Grows the cluster to `size` members, as \`pulumi up\` does after
     * \`clusterSize\` goes up: the component is constructed again as a stack
     * created with the size the cluster started with (the staying members'
     * user data must come out unchanged, or this rejects), and each new
     * member, one at a time, boots from its user data into the next slot,
     * joins through its bootstrap script, is registered with the load
     * balancers and waited for until healthy (promoted) and UP.
     */
    grow(size: number, options?: GrowOptions): Promise<void>;
    /**
     * Shrinks the cluster to \`size\` members, as \`pulumi up\` does after
     * \`clusterSize\` goes down: the component is constructed again with the
     * smaller size (the staying members' user data must come out unchanged, or
     * this rejects), and each leaving member, highest slot first and one at a
     * time, is drained (its health gate), leaves through its departure (which
     * must return once its instance has stopped, or this rejects), and its
     * instance is terminated: volumes detached (kept), targets left drained.
     */
    shrink(size: number, options: ShrinkOptions): Promise<void>;
    /** The factor the target groups' health-check times (and deregistration delay) run at. */
    readonly healthCheckTimeScale: number;
    /** The members' health gates as the component registered them (its latest construction), in member order: what a roll runs in Pulumi's provider host. */
    readonly healthGates: DynamicResourceBlueprint[];
    /** The members' departures as the component registered them (its latest construction), in member order: what a shrink runs in Pulumi's provider host. */
    readonly departures: DynamicResourceBlueprint[];
    /**
     * Starts (once) the ELB API stand-in on loopback over the cluster's target
     * groups, as haproxy plays them (see local/target-groups.ts): the endpoint
     * to point the health gates at. Stopped with the cluster.
     */
    startElbApi(): Promise<ElbApiStandIn>;
    /**
     * Starts (once) the EC2 API stand-in on loopback over the members'
     * instances, by the ids the component's construction gave them: their
     * state (running, stopped once a member powered itself off, terminated once
     * a shrink removed it), their tags (which each node's instance metadata
     * serves, if the component enabled it) and their start. Stopped with the cluster.
     */
    startEc2Api(): Promise<Ec2ApiStandIn>;
    /**
     * The S3 stand-in playing the component's backup bucket (`backups`),
     * started with the first instance that has an instance profile; undefined
     * without one. Stopped with the cluster.
     */
    s3Api(): Promise<S3ApiStandIn> | undefined;
    /**
     * Each target's state as a load balancer's health checks see it (`UP`,
     * `DOWN`, `UP 1/2`, …): the ALB's unless `kind` names another.
     */
    targetStates(kind?: LoadBalancerKind): Promise<Record<string, string>>;
    /** Waits (default at most 30 s) until every load balancer (the ALB, and the NLB if any) sees target `name` as exactly `state`. */
    waitForTarget(name: string, state: "UP" | "DOWN", timeoutMs?: number): Promise<void>;
    /** Stops every process and removes every file the cluster made. Safe to call twice. */
    stop(): Promise<void>;
}

/** Default bound of `waitForTarget`: a member's restart plus the health checks' rise, with room. */
export const defaultTargetWaitMs = 30_000;

function elapsedSince(start: number): number {
    return Date.now() - start;
}

/**
 * Fake but well-formed EC2 facts for node `index`; only the private IP matters
 * to etcd. No public address: the members are in private subnets. Each
 * replacement (`generation`) is a new instance id at the same private IP.
 */
function instanceMetadata(index: number, ip: string, instanceType: string, generation = 0): InstanceMetadata {
    const zones = ["eu-west-2a", "eu-west-2b", "eu-west-2c"];
    return {
        privateIpv4: ip,
        hostname: `ip-${ip.replace(/\./g, "-")}.eu-west-2.compute.internal`,
        instanceId: `i-${ip.split(".").map((octet) => Number(octet).toString(16).padStart(2, "0")).join("")}${generation.toString(16).padStart(9, "0")}`,
        instanceType,
        availabilityZone: zones[index % zones.length],
        region: "eu-west-2",
    };
}

/** One instance of a member: the root Ignition wrote for it, what its commands act on, the units played for it. */
interface NodeInstance {
    generation: number;
    instanceId: string;
    /** Its tags as EC2 holds them: what the EC2 stand-in's CreateTags adds to and its instance metadata serves. */
    tags: Record<string, string>;
    /** The component enabled its tags in its metadata. */
    metadataTags: boolean;
    root: string;
    nodeDir: string;
    host: NodeHost;
    playedUnits: PlayedUnit[];
    userData: string;
    volumes: NodeVolume[];
}

/** Everything a member needs to boot, again and again, whichever instance it is on. */
interface NodeSetup {
    name: string;
    ip: string;
    /** `https` with client TLS. */
    clientScheme: UrlScheme;
    /** With client TLS: the CA the member's certificate chains to, which the harness's probes trust. */
    memberCaFile?: string;
    processes: ProcessGroup;
    log: (line: string) => void;
    toleratedFailures: number;
    /** Bound on the wait for /health, given when the wait starts: what is left of the cluster's start, or a whole start's bound after it. */
    timeoutMs: () => number;
    /** A reason to stop waiting for /health other than the node's own failure (the start was interrupted). */
    interrupted: () => string | undefined;
    /** Called when the node's processes start or stop, to keep the state file current. */
    changed: () => void;
    /** The node's wall clock, for its timers. */
    clock?: () => number;
}

class Node implements LocalNode {
    readonly name: string;
    readonly ip: string;
    readonly clientUrl: string;
    private systemd: NodeSystemd | undefined;
    private booting: Promise<void> | undefined;
    private up = false;
    /** Set once a shrink has deleted the member's instance. */
    terminated = false;

    constructor(private readonly setup: NodeSetup, private instance: NodeInstance) {
        this.name = setup.name;
        this.ip = setup.ip;
        this.clientUrl = clientUrl(setup.ip, setup.clientScheme);
    }

    get root(): string {
        return this.instance.root;
    }

    get generation(): number {
        return this.instance.generation;
    }

    get userData(): string {
        return this.instance.userData;
    }

    get instanceId(): string {
        return this.instance.instanceId;
    }

    /** The current instance's tags, as EC2 holds them. */
    get tags(): Record<string, string> {
        return this.instance.tags;
    }

    get metadataTags(): boolean {
        return this.instance.metadataTags;
    }

    /** The current instance's state, as EC2 reports it. */
    get state(): Ec2InstanceState {
        return this.terminated ? "terminated" : this.up ? "running" : "stopped";
    }

    get volumes(): readonly NodeVolume[] {
        return this.instance.volumes;
    }

    /** The host of the current instance (its device table, for detaching the slot's volumes from it). */
    get host(): NodeHost {
        return this.instance.host;
    }

    /** A new instance takes the member's place; the old one must be shut down. */
    replaceInstance(instance: NodeInstance): void {
        if (this.up) {
            throw new Error(`${this.name}'s instance is still running`);
        }
        this.instance = instance;
        this.systemd = undefined;
        this.booting = undefined;
    }

    get running(): boolean {
        return this.systemd?.mainProcess(etcdUnitName) !== undefined;
    }

    /** Boots the node without waiting for health (a whole cluster becomes healthy together). */
    launch(): void {
        if (this.up) {
            throw new Error(`${this.name} is already running`);
        }
        this.up = true;
        this.systemd = new NodeSystemd({
            node: this.name,
            host: this.instance.host,
            logDirectory: this.instance.nodeDir,
            playedUnits: this.instance.playedUnits,
            processes: this.setup.processes,
            log: this.setup.log,
            clock: this.setup.clock,
            // The instance stopped itself (a member that left the cluster): EC2 then reports it stopped.
            onPowerOff: () => {
                this.up = false;
                this.setup.changed();
            },
        });
        this.booting = this.systemd.boot();
        // A transaction that cannot be built is reported by waitHealthy; this keeps it from going unhandled meanwhile.
        this.booting.then(this.setup.changed, () => undefined);
        this.setup.changed();
    }

    /** Why the member will not become healthy at this boot, as soon as that is known. */
    private bootFailure(bootError: () => Error | undefined): string | undefined {
        const systemd = this.systemd!;
        const error = bootError();
        if (error) {
            return error.message;
        }
        const failure = systemd.failureBeyond(this.setup.toleratedFailures);
        if (failure) {
            return failure;
        }
        if (!systemd.booted) {
            return undefined;
        }
        const notStarted = systemd.whyNotStarted(etcdUnitName);
        if (notStarted) {
            return `${this.name}: ${notStarted}`;
        }
        const unit = systemd.status(etcdUnitName);
        if (unit.activeState === "inactive" || unit.activeState === "failed") {
            return `${this.name} ${etcdUnitName} is ${unit.activeState} (${unit.subState}, result ${unit.result})${unit.failure ? `: ${unit.failure}` : ""}`;
        }
        return undefined;
    }

    async waitHealthy(timeoutMs = this.setup.timeoutMs()): Promise<void> {
        const booting = this.booting;
        if (!booting || !this.systemd) {
            throw new Error(`${this.name} was never started`);
        }
        let bootError: Error | undefined;
        booting.catch((error: Error) => (bootError = error));
        await waitUntil(() => answersOk(`${this.clientUrl}/health`, this.setup.memberCaFile), {
            description: `${this.name} (${this.clientUrl}) to answer /health with 200`,
            timeoutMs,
            failFast: () => this.setup.interrupted() ?? this.bootFailure(() => bootError),
        });
    }

    async start(): Promise<void> {
        this.launch();
        await this.waitHealthy();
    }

    async stop(timeoutMs = defaultNodeStopWaitMs): Promise<void> {
        try {
            if (this.systemd && this.up) {
                this.up = false;
                await within(Date.now() + timeoutMs, `${this.name}'s shutdown`, this.systemd.shutdown());
            }
        } finally {
            this.setup.changed();
        }
    }

    async crash(): Promise<void> {
        if (this.systemd && this.up) {
            this.up = false;
            await this.systemd.crash();
        }
        this.setup.changed();
    }

    killMember(signal: NodeJS.Signals = "SIGKILL"): void {
        if (!this.systemd) {
            throw new Error(`${this.name} was never started`);
        }
        this.systemd.kill(etcdUnitName, signal);
    }

    unit(name = etcdUnitName): UnitStatus {
        return this.booted().status(name);
    }

    journal(): string[] {
        return [...(this.systemd?.journal ?? [])];
    }

    startUnit(name: string, timeoutMs = defaultUnitStartWaitMs): Promise<JobOutcome> {
        return within(Date.now() + timeoutMs, `${name}'s start job on ${this.name}`, this.booted().startUnit(name));
    }

    timers(): TimerStatus[] {
        return this.booted().timers();
    }

    /** The node's systemd, once the node was started. */
    private booted(): NodeSystemd {
        if (!this.systemd) {
            throw new Error(`${this.name} was never started`);
        }
        return this.systemd;
    }

    unitOutput(name: string): string {
        const file = path.join(this.instance.nodeDir, `${name}.log`);
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    }

    /** Teardown: nothing may restart; the process group then kills what runs. */
    halt(): void {
        this.systemd?.halt();
    }

    /** Teardown: the file systems the current boot mounted. */
    mounts(): string[] {
        return this.systemd?.mounts() ?? [];
    }
}

/** The units the test host plays on every node: the OS's metadata unit, writing the node's facts. */
function playedUnits(os: OperatingSystem, root: string, metadata: InstanceMetadata): PlayedUnit[] {
    const facts = metadataUnitOf(os);
    return [{
        name: facts.unit,
        writes: facts.file,
        after: ["network-online.target"],
        wants: ["network-online.target"],
        start: () => {
            writeInstanceMetadata(root, os, metadata);
        },
    }];
}

/** The component's arguments the local cluster boots with `options` (what `npm run local`'s flags become). */
export function componentArgsOf(options: LocalClusterOptions): Etcd3ClusterArgs {
    return {
        clusterSize: options.size,
        etcdVersion: options.etcdVersion,
        bootstrap: options.bootstrap,
        enableV2Api: options.enableV2Api,
        os: options.os,
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        electionTimeoutMs: options.electionTimeoutMs,
        grpcLoadBalancer: options.grpcLoadBalancer,
        quotaBackendMiB: options.quotaBackendMiB,
        backups: options.backups,
        backupIntervalMinutes: options.backupIntervalMinutes,
        restoreFrom: options.restoreFrom,
        certificateArn: options.https ? localCertificateArn : undefined,
        sslPolicy: options.sslPolicy,
        peerTls: options.peerTls,
        peerCaCertificate: options.peerCa?.certificate,
        peerCaPrivateKey: options.peerCa?.privateKey,
        clientTls: options.clientTls,
        rootPassword: options.rootPassword,
    };
}

/**
 * Starts a local cluster and resolves once a write through the load balancer
 * is acknowledged. On any failure (or the start's deadline, or an abort)
 * everything started so far is stopped and removed before the error (which
 * quotes the failing tool's output) is thrown.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
    const log = options.log ?? (() => undefined);
    const args = componentArgsOf(options);
    const componentArgs = resolveArgs(localComponentName, args);
    /** The size the cluster formed with; `grow` adds members after these. */
    const foundingSize = componentArgs.clusterSize;
    let size = foundingSize;
    const slotPlans = planSlots(componentArgs);
    const timeScale = options.healthCheckTimeScale ?? defaultHealthCheckTimeScale;
    const etcd: HostEtcd = requireHostEtcd();
    const startedAt = Date.now();
    const deadline = startedAt + (options.startTimeoutMs ?? defaultStartTimeoutMs);
    const remaining = () => Math.max(1, deadline - Date.now());

    const workDir = fs.mkdtempSync(workDirPrefix);
    log(`files in ${workDir}`);
    const processes = new ProcessGroup(options.keep);
    const interruption = new AbortController();
    const onAbort = () => interruption.abort();
    options.abortSignal?.addEventListener("abort", onAbort);
    if (options.abortSignal?.aborted) {
        interruption.abort();
    }
    // The whole start is bounded: running out of time interrupts it like an abort.
    const deadlineTimer = setTimeout(() => interruption.abort(), remaining());
    let subnet: number | undefined;
    const nodes: Node[] = [];
    const outputs: Pick<ClusterState, "clusterUrl" | "discoveryUrl"> = {};
    const state = (): ClusterState => ({
        subnet: subnet!, ownerPid: process.pid, kept: options.keep ?? false, workDir, processes: processes.records(), ...outputs,
    });
    const interrupted = () => {
        if (!interruption.signal.aborted) {
            return undefined;
        }
        return options.abortSignal?.aborted ? "the start was interrupted" : `the start ran out of its ${options.startTimeoutMs ?? defaultStartTimeoutMs} ms`;
    };
    const throwIfInterrupted = () => {
        const reason = interrupted();
        if (reason) {
            throw new Error(reason);
        }
    };
    let stopped = false;
    /** Set once the cluster is up: a node started later has a whole start's bound of its own. */
    let started = false;
    /** The member slots' volumes: made once, handed to every instance of the slot, released with the cluster. */
    const volumes = new SlotVolumes(path.join(workDir, "volumes"), options.volumeBytes ?? defaultVolumeBytes);
    let elbApi: Promise<ElbApiStandIn> | undefined;
    let ec2Api: Promise<Ec2ApiStandIn> | undefined;
    /** Each instance's metadata service, one per instance ever started (a replacement's too). */
    const metadataServices: InstanceMetadataService[] = [];
    /** The component's buckets, played once an instance has a role (started with the cluster's first such instance). */
    let s3Api: Promise<S3ApiStandIn> | undefined;
    /** Every instance's role session, by its access key id: whom the S3 stand-in authenticates. */
    const roleSessions = new Map<string, RoleSession>();
    /** Every instance a member ever had, by its id: the EC2 API's view (an instance a replacement superseded is terminated). */
    const instancesById = new Map<string, { node: Node; generation: number }>();
    const recordInstance = (node: Node) => instancesById.set(node.instanceId, { node, generation: node.generation });
    const stop = async () => {
        if (stopped) {
            return;
        }
        stopped = true;
        clearTimeout(deadlineTimer);
        options.abortSignal?.removeEventListener("abort", onAbort);
        interruption.abort();
        nodes.forEach((node) => node.halt());
        await processes.stopAll(teardownGraceMs);
        const strays = await killStrays(workDir);
        if (strays.length > 0) {
            log(`teardown: killed ${strays.length} process(es) of this cluster that the harness had not tracked (a bug to report): ${strays.join("; ")}`);
        }
        for (const mount of nodes.flatMap((node) => node.mounts())) {
            await unmount(mount, true);
        }
        // Carried on past: removeWorkDir detaches whatever loop device is still backed by a file of the cluster's.
        const volumeFailure = await volumes.release().then(() => undefined, (error: Error) => error);
        if (subnet !== undefined) {
            releaseSubnet(subnet);
        }
        await elbApi?.then((api) => api.stop(), () => undefined);
        await ec2Api?.then((api) => api.stop(), () => undefined);
        await Promise.all(metadataServices.map((service) => service.stop()));
        await s3Api?.then((api) => api.stop(), () => undefined);
        removeWorkDir(workDir);
        if (volumeFailure) {
            throw volumeFailure;
        }
    };

    try {
        // What the component registers: the instances' user data and the load balancers (cached; a child process otherwise).
        let phase = Date.now();
        const resources = await componentResources(args, {
            timeoutMs: remaining(), signal: interruption.signal, patch: options.componentPatch,
        });
        let instances = instancesOf(resources);
        /** The component's latest construction: the one the stack now matches (after a grow or a shrink). */
        let current = resources;
        /** What the stack holds across updates: the first construction's resources, and any a later update added (a new CA). */
        const stack: RegisteredResource[] = [...resources];
        const loadBalancerSpecs = loadBalancersOf(resources);
        /** Where the members' security group lets them connect outside the VPC: their proxy tunnels nowhere else. */
        const internetPorts = nodeInternetPortsOf(resources);
        if (instances.length !== size) {
            throw new Error(`the component registers ${instances.length} instances for clusterSize ${size}`);
        }
        log(`component: ${instances.length} instances, load balancers ${loadBalancerSpecs.map((spec) => spec.kind).join(" + ")} (${elapsedSince(phase)} ms)`);
        const nlb = loadBalancerSpecs.find((spec) => spec.kind === "nlb");
        // With peer TLS, the CA the component stores for the members (its caCertificate): what verifies their client port with client TLS.
        const memberCaFile = componentArgs.peerTls ? writeMemberCa(resources, workDir) : undefined;
        const clientScheme: UrlScheme = componentArgs.clientTls ? "https" : "http";
        throwIfInterrupted();

        // Every slot's address, spare ones included: the user data names them all, and a member added later takes one.
        const memberHosts = Array.from({ length: slotCount }, (_, i) => i + 1);
        subnet = await reserveSubnet({
            subnet: options.subnet,
            // The NLB listens on the members' client port, so it must be free on the services address too
            // (the registry checks every port on every host, so the peer port there is checked as well).
            hosts: nlb === undefined ? memberHosts : [...memberHosts, servicesHost],
            ports: nlb === undefined ? [clientPort, peerPort] : [...new Set([clientPort, peerPort, nlb.listener.port])],
            workDir,
        });
        const servicesAddress = `127.0.${subnet}.${servicesHost}`;
        log(`loopback subnet 127.0.${subnet}.0/24, files in ${workDir}`);
        throwIfInterrupted();

        phase = Date.now();
        let discoveryUrl: string | undefined;
        if (componentArgs.bootstrap === "discovery") {
            const discoveryService = await startDiscoveryService({ address: servicesAddress, workDir, etcd, processes, timeoutMs: remaining() });
            writeState(state());
            throwIfInterrupted();
            discoveryUrl = await requestDiscoveryUrl(size, { service: discoveryService, log: (line) => log(`  ${line}`) });
            outputs.discoveryUrl = discoveryUrl;
            throwIfInterrupted();
        }
        const discoveryMs = elapsedSince(phase);
        log(discoveryUrl ? `discovery: ${discoveryUrl} (${discoveryMs} ms)` : "discovery: none (bootstrap static: the members' list is in their user data)");
        const memberAddress = (index: number) => `127.0.${subnet}.${index + 1}`;
        /**
         * User data as the component rendered it under mocks, with what this
         * host has in place of what the mocks invented: the discovery URL, and
         * the slots' addresses in a static member list; and, from a later
         * construction, what the stack kept in place of what it made anew.
         */
        const forThisHost = (userData: string, rendered: RegisteredResource[]) => withSlotAddresses(
            withKeptUserData(
                withGuardId(discoveryUrl === undefined ? userData : withDiscoveryUrl(userData, discoveryUrl), guardIdOf(rendered), guardIdOf(resources)),
                keptValuesOf(rendered, stack),
            ),
            new Map(slotAddressesOf(rendered).map((mocked, index) => [mocked, memberAddress(index)])),
        );

        const attachments = volumeAttachmentsOf(resources, instances);
        const volumeAttachmentCount = attachments.flat().length;
        if (volumeAttachmentCount > 0) {
            log(`volumes: ${volumeAttachmentCount} (${attachments.map((list, index) => `${slotPlans[index].name}: ${list.map((a) => a.volumeId).join(", ") || "none"}`).join("; ")})`);
        }

        /**
         * A new instance of member `index`: the user data written where EC2
         * would hand it over, validated and applied by Ignition into a fresh
         * root, and the slot's volumes attached (made on first use).
         */
        const prepareInstance = async (index: number, setup: {
            userData: string; generation: number; os: OperatingSystem; attach: boolean; signal?: AbortSignal;
            /** The component enabled the instance's tags in its metadata. */
            metadataTags: boolean;
            /** The role of the instance's profile, if it has one. */
            role?: InstanceBlueprint["role"];
        }): Promise<NodeInstance> => {
            const name = slotPlans[index].name;
            const ip = memberAddress(index);
            const nodeDir = path.join(workDir, setup.generation === 0 ? name : `${name}.replacement-${setup.generation}`);
            fs.mkdirSync(nodeDir);
            const userDataFile = path.join(nodeDir, "user-data.ign");
            fs.writeFileSync(userDataFile, setup.userData);
            await validateUserData(userDataFile, setup.signal);
            const root = await applyIgnition({ userDataFile, nodeDir, signal: setup.signal });
            const devices = new DeviceTable(options.devices?.(index) ?? {});
            const nodeVolumes: NodeVolume[] = [];
            for (const attachment of attachments[index]) {
                const volume = await volumes.create(attachment.volumeId);
                if (setup.attach) {
                    devices.attach(attachment.nodePath, { hostDevice: volume.hostDevice });
                    nodeVolumes.push({ nodePath: attachment.nodePath, ...volume });
                }
            }
            const metadata = instanceMetadata(index, ip, componentArgs.instanceType, setup.generation);
            const tags: Record<string, string> = { Name: name, "etcd-member": name };
            // An instance profile: its role's credentials in the instance's metadata, and S3 reached through its proxy.
            const session = setup.role && issueRoleSession(setup.role.name, setup.role.policies, { sessionName: metadata.instanceId });
            if (session) {
                roleSessions.set(session.accessKeyId, session);
            }
            const s3 = session ? await (s3Api ??= startSeededS3Api()) : undefined;
            const metadataService = await startInstanceMetadataService({
                instanceId: metadata.instanceId,
                tags: async () => (setup.metadataTags ? tags : undefined),
                credentials: async () => session,
            }, { tunnels: s3 ? [s3.tunnel] : [], egressTcpPorts: internetPorts });
            metadataServices.push(metadataService);
            const host: NodeHost = {
                root, address: ip, etcd, containers: new ContainerStore(path.join(nodeDir, "containers")), devices,
                instanceMetadataProxy: metadataService.proxy, caBundle: s3?.caBundle,
            };
            return {
                generation: setup.generation, instanceId: metadata.instanceId, tags, metadataTags: setup.metadataTags,
                root, nodeDir, host, userData: setup.userData, volumes: nodeVolumes,
                playedUnits: playedUnits(setup.os, root, metadata),
            };
        };

        /**
         * The S3 stand-in: the component's buckets with the objects it puts
         * in them (its first construction's: the stack keeps them), and the
         * given objects' buckets with the objects in them.
         */
        const startSeededS3Api = async () => {
            const seeded = options.s3Objects ?? [];
            const componentObjects = objectsOf(resources);
            const api = await startS3Api({
                buckets: [...bucketsOf(resources), ...[...new Set(seeded.map((object) => object.bucket))].map((name) => ({ name, region: localStackRegion }))],
                session: async (id) => roleSessions.get(id),
            });
            try {
                componentObjects.forEach((object) => api.putObject(object.bucket, object.key, object.body,
                    { contentType: object.contentType, encryption: object.encryption }));
                seeded.forEach((object) => api.putObject(object.bucket, object.key, object.body));
            } catch (error) {
                // A start that fails leaves the teardown no stand-in to stop.
                await api.stop();
                throw error;
            }
            return api;
        };

        /** Once the cluster has grown, every construction plays a stack created with the founding size. */
        const grownStack = () => (size !== foundingSize ? { foundingClusterSize: foundingSize } : {});

        const ignitionMs: number[] = [];
        for (let index = 0; index < size; index++) {
            phase = Date.now();
            const name = slotPlans[index].name;
            const ip = memberAddress(index);
            const userData = forThisHost(instances[index].userData, resources);
            const instance = await prepareInstance(index, {
                userData: options.userDataTransform ? options.userDataTransform(userData, index) : userData,
                generation: 0,
                os: componentArgs.os,
                attach: true,
                signal: interruption.signal,
                metadataTags: instances[index].metadataTags,
                role: instances[index].role,
            });
            ignitionMs.push(elapsedSince(phase));
            throwIfInterrupted();
            log(`ignition: ${name} at ${ip} (${ignitionMs[index]} ms)${instance.volumes.length > 0 ? `, volumes ${instance.volumes.map((v) => `${v.volumeId} on ${v.hostDevice}`).join(", ")}` : ""}`);
            const changed = () => {
                // After teardown the reservation is gone; writing the state again would resurrect it.
                if (!stopped) {
                    writeState(state());
                }
            };
            nodes.push(new Node({
                name, ip, clientScheme, memberCaFile, processes, changed, interrupted,
                log: (line) => log(`  ${line}`),
                toleratedFailures: options.toleratedBootFailures ?? 0,
                timeoutMs: () => (started ? options.startTimeoutMs ?? defaultStartTimeoutMs : remaining()),
                clock: options.clock,
            }, instance));
            recordInstance(nodes[index]);
        }

        phase = Date.now();
        log(`boot: ${size} nodes`);
        throwIfInterrupted();
        // A node whose boot is delayed is launched later, as an instance that is slow to come up (the others do not wait for it).
        const launches = nodes.map(async (node, index) => {
            const delayMs = options.bootDelayMs?.(index) ?? 0;
            if (delayMs > 0) {
                log(`boot: ${node.name} delayed by ${delayMs} ms`);
                await new Promise((resolve) => setTimeout(resolve, delayMs));
                throwIfInterrupted();
            }
            node.launch();
        });
        await Promise.all(launches);
        await Promise.all(nodes.map((node) => node.waitHealthy()));
        const etcdHealthyMs = elapsedSince(phase);
        log(`etcd: ${size} members healthy (${etcdHealthyMs} ms)`);
        throwIfInterrupted();
        if (options.rootPassword !== undefined) {
            phase = Date.now();
            await waitAccessControlOn(nodes, remaining());
            log(`access control: on, every member's ${accessControlUnitName} done (${elapsedSince(phase)} ms)`);
            throwIfInterrupted();
        }

        phase = Date.now();
        const acm = options.https ? await acmStandIn(path.join(workDir, "acm"), servicesAddress) : undefined;
        const loadBalancer = await startLoadBalancer({
            address: servicesAddress,
            specs: loadBalancerSpecs,
            albPort: options.loadBalancerPort,
            certificates: acm?.certificates,
            caFile: acm?.caFile,
            targetCaFile: memberCaFile,
            targetFor: (instance) => ({ name: nodes[instance].name, address: nodes[instance].ip }),
            healthCheckTimeScale: timeScale,
            directory: workDir,
            processes,
            timeoutMs: remaining(),
            interrupted,
        });
        const clusterUrl = loadBalancer.url;
        outputs.clusterUrl = clusterUrl;
        writeState(state());
        const loadBalancerReadyMs = elapsedSince(phase);
        const grpcEndpoint = loadBalancer.grpcEndpoint;
        log(`load balancer: ${clusterUrl}${grpcEndpoint ? `, gRPC ${grpcEndpoint}` : ""} (${loadBalancerReadyMs} ms; health checks at ${timeScale}× the target groups' times)`);

        phase = Date.now();
        await firstWrite(clusterUrl, acm?.caFile, options.rootPassword);
        const firstWriteMs = elapsedSince(phase);
        log(`first write acknowledged (${firstWriteMs} ms)`);
        throwIfInterrupted();
        clearTimeout(deadlineTimer);
        started = true;

        const timings: StartupTimings = {
            discoveryMs, ignitionMs, etcdHealthyMs, loadBalancerReadyMs, firstWriteMs, totalMs: elapsedSince(startedAt),
        };
        const statsUrl = loadBalancer.statsUrl;
        const targetGroups = new LocalTargetGroups(loadBalancer, loadBalancerSpecs, () => instances.map((instance) => instance.id), timeScale);
        const seenByEveryLoadBalancer = async (name: string, expected: string) =>
            (await Promise.all(loadBalancer.kinds.map((kind) => targetStates(statsUrl, kind)))).every((states) => states[name] === expected);
        const waitForTarget = (name: string, expected: "UP" | "DOWN", waitMs = defaultTargetWaitMs) =>
            waitUntil(() => seenByEveryLoadBalancer(name, expected), {
                description: `every load balancer to see ${name} ${expected}`,
                timeoutMs: waitMs,
                failFast: () => loadBalancer.process.exitReport(),
            });

        const replaceNode = async (index: number, replaceOptions: ReplaceNodeOptions = {}): Promise<ReplacementTimings> => {
            const node = nodes[index];
            if (!node) {
                throw new Error(`there is no member ${index}: the cluster has ${nodes.length}`);
            }
            if (stopped) {
                throw new Error("the cluster is stopped");
            }
            const deadline = Date.now() + (replaceOptions.timeoutMs ?? defaultReplaceTimeoutMs);
            // Every phase is bounded by what is left, but a stop or a health gate can hang on its own: the whole is bounded too,
            // a little later, so that a phase's own time-out, which says more, comes first.
            return within(deadline + replaceGraceMs, `the replacement of ${node.name}`, replacing(node, index, replaceOptions, deadline));
        };

        const replacing = async (node: Node, index: number, replaceOptions: ReplaceNodeOptions, deadline: number): Promise<ReplacementTimings> => {
            const begun = Date.now();
            const left = () => Math.max(1, deadline - Date.now());
            const say = (line: string) => log(`replace ${node.name}: ${line}`);
            // The new user data before anything else: arguments the component refuses fail before the member is touched.
            const newArgs: Etcd3ClusterArgs = { ...args, ...replaceOptions.args };
            const resolved = resolveArgs(localComponentName, newArgs);
            if (resolved.clusterSize !== size) {
                throw new Error(`a replacement cannot change the cluster's size (${size} to ${resolved.clusterSize})`);
            }
            let userData: string;
            if (replaceOptions.userData !== undefined) {
                userData = forThisHost(replaceOptions.userData, resources);
            } else {
                const current = await componentResources(newArgs, {
                    timeoutMs: left(), signal: interruption.signal, patch: options.componentPatch, ...grownStack(),
                });
                const currentInstances = instancesOf(current);
                const rendered = volumeAttachmentsOf(current, currentInstances)[index];
                userData = withSlotVolumeIds(forThisHost(currentInstances[index].userData, current), rendered, attachments[index]);
                userData = options.userDataTransform ? options.userDataTransform(userData, index) : userData;
            }

            let phase = Date.now();
            if (replaceOptions.healthGate) {
                say("health gate: before the stop");
                await replaceOptions.healthGate.beforeStop();
                say(`health gate: the others are healthy and the member drained (${elapsedSince(phase)} ms)`);
            } else {
                say(`draining ${loadBalancer.servers.filter((server) => server.instance === index).map((server) => `${server.backend}/${server.server}`).join(", ")}`);
                const underWay = await targetGroups.drain(index, left());
                say(`drained (${elapsedSince(phase)} ms${underWay > 0 ? `; the deregistration delay ran out with ${underWay} requests under way` : ""})`);
            }
            const drainMs = elapsedSince(phase);

            phase = Date.now();
            await node.stop();
            for (const volume of node.volumes) {
                // Terminating the instance detaches its volumes whatever its shutdown left mounted.
                const points = await volumes.forceUnmount(volume.volumeId);
                if (points.length > 0) {
                    say(`${volume.volumeId} was still mounted at ${points.join(", ")} after the shutdown; unmounted as terminating the instance does`);
                }
                node.host.devices.detach(volume.nodePath);
            }
            const stopMs = elapsedSince(phase);
            say(`old instance ${node.generation} shut down (${stopMs} ms)`);

            phase = Date.now();
            const instance = await prepareInstance(index, {
                userData, generation: node.generation + 1, os: resolved.os, attach: replaceOptions.attachVolumes ?? true,
                signal: AbortSignal.any([interruption.signal, AbortSignal.timeout(left())]),
                metadataTags: instances[index].metadataTags, role: instances[index].role,
            });
            node.replaceInstance(instance);
            recordInstance(node);
            const ignitionMs = elapsedSince(phase);
            say(`new instance ${instance.generation}: ignition into a fresh root (${ignitionMs} ms)` +
                `${attachments[index].length > 0 ? `, volumes ${instance.volumes.map((v) => `${v.volumeId} on ${v.hostDevice}`).join(", ") || "not attached"}` : ""}`);

            phase = Date.now();
            node.launch();
            if (replaceOptions.healthGate) {
                // As on EC2: the instance and its target registration are created without waiting for etcd; the gate waits.
                await targetGroups.register(index);
                await replaceOptions.healthGate.afterStart();
                say(`health gate: the new instance and the others are healthy (${elapsedSince(phase)} ms)`);
                const healthyMs = elapsedSince(phase);
                const totalMs = elapsedSince(begun);
                return { drainMs, stopMs, ignitionMs, healthyMs, inServiceMs: 0, totalMs };
            }
            await node.waitHealthy(left());
            const healthyMs = elapsedSince(phase);
            say(`healthy (${healthyMs} ms)`);

            phase = Date.now();
            await targetGroups.register(index);
            await waitForTarget(node.name, "UP", left());
            const inServiceMs = elapsedSince(phase);
            const totalMs = elapsedSince(begun);
            say(`in service (${inServiceMs} ms; ${totalMs} ms in all)`);
            return { drainMs, stopMs, ignitionMs, healthyMs, inServiceMs, totalMs };
        };

        const updateObjects = async (objectArgs: Partial<Etcd3ClusterArgs>, timeoutMs = defaultReplaceTimeoutMs): Promise<string[]> => {
            if (stopped) {
                throw new Error("the cluster is stopped");
            }
            const api = await s3Api;
            if (!api) {
                throw new Error("the cluster has no S3 stand-in: none of its instances has a role to read a bucket with");
            }
            const updated = await componentResources({ ...args, ...objectArgs }, {
                timeoutMs, signal: interruption.signal, patch: options.componentPatch, ...grownStack(),
            });
            const pairs = keptValuesOf(updated, stack);
            if (memberCaFile) {
                fs.writeFileSync(memberCaFile, withKeptValues(storedMemberCa(updated).toString("utf8"), pairs));
            }
            const written = objectsOf(updated).map((object) => {
                api.putObject(withKeptValues(object.bucket, pairs), object.key, withKeptValues(object.body.toString("utf8"), pairs), {
                    contentType: object.contentType,
                    encryption: object.encryption && { kmsKeyArn: withKeptValues(object.encryption.kmsKeyArn, pairs) },
                });
                return object.key;
            });
            // The stack now holds what the update has: a resource it lacks is deleted (a step back drops the next CA, which a
            // step forward then makes anew), one it adds is kept from now on.
            const staying = stack.filter((resource) => stackHas(updated, resource));
            stack.splice(0, stack.length, ...staying, ...updated.filter((resource) => !stackHas(staying, resource)));
            log(`objects written as an update writes them: ${written.join(", ")}`);
            return written;
        };

        /**
         * The component constructed again at another size, as a stack created with the founding size: rejects, as
         * \`pulumi up\` would replace it, when a staying member's user data changes, which a resize must never do.
         */
        const resizedConstruction = async (resizedArgs: Etcd3ClusterArgs, doing: string, timeoutMs: number): Promise<RegisteredResource[]> => {
            const resized = await componentResources(resizedArgs, {
                timeoutMs, signal: interruption.signal, patch: options.componentPatch, foundingClusterSize: foundingSize,
            });
            const resizedInstances = instancesOf(resized);
            const resizedAttachments = volumeAttachmentsOf(resized, resizedInstances);
            for (const [index, node] of nodes.slice(0, Math.min(nodes.length, resizedInstances.length)).entries()) {
                const rendered = withSlotVolumeIds(forThisHost(resizedInstances[index].userData, resized), resizedAttachments[index], attachments[index]);
                if (rendered !== node.userData) {
                    throw new Error(`${doing} to ${resizedArgs.clusterSize} changes the user data of ${node.name}, whose instance \`pulumi up\` would replace`);
                }
            }
            return resized;
        };

        const shrink = async (newSize: number, shrinkOptions: ShrinkOptions): Promise<void> => {
            if (stopped) {
                throw new Error("the cluster is stopped");
            }
            const shrunkArgs: Etcd3ClusterArgs = { ...args, clusterSize: newSize };
            resolveArgs(localComponentName, shrunkArgs);
            if (newSize >= size) {
                throw new Error(`the cluster has ${size} members: shrink to fewer, or grow`);
            }
            const perMemberMs = shrinkOptions.timeoutMsPerMember ?? defaultJoinTimeoutMs;
            const shrunk = await resizedConstruction(shrunkArgs, "shrinking", perMemberMs);
            if (instancesOf(shrunk).length !== newSize) {
                throw new Error(`the component registers ${instancesOf(shrunk).length} instances for clusterSize ${newSize}`);
            }
            // As `pulumi up` deletes what left the program: the highest slot first, each member's chain of deletions before the next.
            for (let index = size - 1; index >= newSize; index--) {
                const node = nodes[index];
                const say = (line: string) => log(`shrink ${node.name}: ${line}`);
                const begun = Date.now();
                if (shrinkOptions.healthGate) {
                    await shrinkOptions.healthGate(index);
                } else {
                    await targetGroups.drain(index, perMemberMs);
                }
                say(`drained (${elapsedSince(begun)} ms)`);
                await shrinkOptions.departure(index);
                if (node.state !== "stopped") {
                    throw new Error(`the departure of ${node.name} returned while its instance is ${node.state}: \`pulumi up\` would now delete a running member`);
                }
                say(`left the cluster and powered off (${elapsedSince(begun)} ms since its drain began)`);
                for (const volume of node.volumes) {
                    // Terminating the instance detaches its volumes (kept: retainDataVolumes) whatever its shutdown left mounted.
                    await volumes.forceUnmount(volume.volumeId);
                    node.host.devices.detach(volume.nodePath);
                }
                node.terminated = true;
                nodes.pop();
                size = index;
                await shrinkOptions.afterMember?.(index);
            }
            args.clusterSize = newSize;
            instances = instancesOf(shrunk);
            current = shrunk;
        };

        /** The member's node if `instanceId` is its current instance; undefined for an unknown or superseded one. */
        const currentInstance = (instanceId: string) => {
            const known = instancesById.get(instanceId);
            return known && known.generation === known.node.generation ? known.node : undefined;
        };
        const ec2Instances: Ec2InstancesModel = {
            describe: async (instanceId) => {
                const known = instancesById.get(instanceId);
                const node = currentInstance(instanceId);
                if (!known || !node) {
                    return known && { state: "terminated", tags: {}, metadataTags: known.node.metadataTags };
                }
                return { state: node.state, tags: { ...node.tags }, metadataTags: node.metadataTags };
            },
            createTags: async (instanceId, tags) => {
                const node = currentInstance(instanceId);
                if (node) {
                    Object.assign(node.tags, tags);
                }
                return node !== undefined;
            },
            start: async (instanceId) => {
                const node = currentInstance(instanceId);
                node?.launch();
                return node !== undefined;
            },
        };

        const grow = async (newSize: number, growOptions: GrowOptions = {}): Promise<void> => {
            if (stopped) {
                throw new Error("the cluster is stopped");
            }
            const begun = Date.now();
            const deadline = begun + (growOptions.timeoutMsPerMember ?? defaultJoinTimeoutMs) * Math.max(1, newSize - size);
            const left = () => Math.max(1, deadline - Date.now());
            // The component's own checks first: a size it refuses fails before anything is touched.
            const grownArgs: Etcd3ClusterArgs = { ...args, clusterSize: newSize };
            resolveArgs(localComponentName, grownArgs);
            if (newSize <= size) {
                throw new Error(`the cluster has ${size} members: grow to more, or shrink`);
            }
            const grown = await resizedConstruction(grownArgs, "growing", left());
            const grownInstances = instancesOf(grown);
            const grownAttachments = volumeAttachmentsOf(grown, grownInstances);
            const specs = loadBalancersOf(grown);
            args.clusterSize = newSize;
            instances = grownInstances;
            current = grown;
            // One member at a time: the component makes each new instance wait for the previous member's health gate.
            for (let index = size; index < newSize; index++) {
                const name = slotPlans[index].name;
                const say = (line: string) => log(`grow ${name}: ${line}`);
                attachments[index] = grownAttachments[index];
                const instance = await prepareInstance(index, {
                    userData: forThisHost(grownInstances[index].userData, grown),
                    generation: 0, os: componentArgs.os, attach: true, signal: interruption.signal, metadataTags: grownInstances[index].metadataTags,
                    role: grownInstances[index].role,
                });
                const node = new Node({
                    name, ip: memberAddress(index), clientScheme, memberCaFile, processes, interrupted,
                    changed: () => {
                        if (!stopped) {
                            writeState(state());
                        }
                    },
                    log: (line) => log(`  ${line}`),
                    toleratedFailures: options.toleratedBootFailures ?? 0,
                    timeoutMs: left,
                    clock: options.clock,
                }, instance);
                nodes.push(node);
                recordInstance(node);
                size = index + 1;
                node.launch();
                // As its target's health check sees it: a learner fails /health until it is promoted.
                await registerTarget(loadBalancer, specs, index, { name, address: node.ip });
                await node.waitHealthy(left());
                await waitForTarget(name, "UP", left());
                say(`joined and in service (${elapsedSince(begun)} ms since the grow began)`);
                await growOptions.afterMember?.(index);
            }
        };

        return {
            clusterUrl, discoveryUrl, statsUrl, nodes, timings, subnet, workDir, grpcEndpoint,
            caFile: acm?.caFile, redirectUrl: loadBalancer.redirectUrl, memberCaFile, rootPassword: options.rootPassword,
            loadBalancerConfig: fs.readFileSync(loadBalancer.configFile, "utf8"),
            get clientEndpoints() {
                return nodes.map((node) => node.clientUrl);
            },
            stopNode: (index) => nodes[index].stop(),
            startNode: (index) => nodes[index].start(),
            targetStates: (kind = "alb") => targetStates(statsUrl, kind),
            waitForTarget,
            replaceNode,
            updateObjects,
            grow,
            shrink,
            get healthGates() {
                return healthGatesOf(current);
            },
            get departures() {
                return departuresOf(current);
            },
            healthCheckTimeScale: timeScale,
            startElbApi: () => (elbApi ??= startElbApi(targetGroups)),
            startEc2Api: () => (ec2Api ??= startEc2Api(ec2Instances)),
            s3Api: () => s3Api,
            stop,
        };
    } catch (error) {
        // A wait bounded by the time left can give up a moment before the deadline's timer fires: it is the deadline.
        if (Date.now() >= deadline) {
            interruption.abort();
        }
        // A wait cut short by the abort or the deadline fails with whatever it was doing: say why first.
        const reason = interrupted();
        const teardownFailure = await stop().then(() => undefined, (failure: Error) => failure);
        if (teardownFailure && error instanceof Error) {
            error.message += `\n(and the teardown: ${teardownFailure.message})`;
        }
        if (reason && error instanceof Error && !error.message.includes(reason)) {
            error.message = `${reason}: ${error.message}`;
        }
        throw error;
    }
}

/** The cluster CA's certificate as the component stores it for the members, written to a file under `workDir`. */
function writeMemberCa(resources: RegisteredResource[], workDir: string): string {
    const file = path.join(workDir, "member-ca.crt");
    fs.writeFileSync(file, storedMemberCa(resources));
    return file;
}

/** The CA bundle the component stores for the members: what it outputs as `caCertificate`. */
function storedMemberCa(resources: RegisteredResource[]): Buffer {
    const stored = objectsOf(resources).find((object) => object.key === peerCaCertificateKey);
    if (!stored) {
        throw new Error(`clientTls: the component stores no ${peerCaCertificateKey} for the members, so nothing could verify their client port`);
    }
    return stored.body;
}

/** Waits until every member's access-control unit has turned etcd's access control on (it stays active once it has). */
async function waitAccessControlOn(nodes: readonly LocalNode[], timeoutMs: number): Promise<void> {
    await Promise.all(nodes.map((node) => waitUntil(async () => node.unit(accessControlUnitName).activeState === "active", {
        description: `${node.name}'s ${accessControlUnitName} to turn access control on`,
        timeoutMs,
        intervalMs: 200,
        failFast: () => (node.unit(accessControlUnitName).activeState === "failed"
            ? `${accessControlUnitName} failed:\n${node.unitOutput(accessControlUnitName)}` : undefined),
    })));
}

/** A token for root from `/v3/auth/authenticate` through the load balancer: what a client sends as `Authorization`. */
export async function rootToken(clusterUrl: string, rootPassword: string, caFile?: string): Promise<string> {
    const answer = await probe(`${clusterUrl}/v3/auth/authenticate`, {
        method: "POST", body: JSON.stringify({ name: "root", password: rootPassword }), headers: { "content-type": "application/json" }, caFile,
    });
    const token = answer?.status === 200 ? (JSON.parse(answer.body) as { token?: unknown }).token : undefined;
    if (typeof token !== "string") {
        throw new Error(`root's authentication through the load balancer failed: ${answer ? `HTTP ${answer.status} ${answer.body}` : "no answer"}`);
    }
    return token;
}

/**
 * The ACM stand-in: one certificate, `localCertificateArn`, for the load
 * balancer's address, issued by a test CA made in `directory`; haproxy reads
 * it as one PEM file (certificate, then key).
 */
async function acmStandIn(directory: string, address: string): Promise<{ certificates: Map<string, string>; caFile: string }> {
    fs.mkdirSync(directory);
    const authority = await createTestCertificateAuthority(directory, { commonName: "etcd3-cluster local ACM stand-in CA" });
    const issued = await authority.issue("load-balancer", { ipAddresses: [address] });
    const bundle = path.join(directory, "load-balancer.pem");
    fs.writeFileSync(bundle, issued.certificate + issued.key, { mode: 0o600 });
    return { certificates: new Map([[localCertificateArn, bundle]]), caFile: authority.certificateFile };
}

/**
 * Writes one key through the v3 JSON gateway, which every supported release
 * serves, so the v2 key space the seed's curl session uses stays untouched.
 */
async function firstWrite(clusterUrl: string, caFile?: string, rootPassword?: string): Promise<void> {
    const base64 = (text: string) => Buffer.from(text).toString("base64");
    const body = JSON.stringify({ key: base64("etcd3-cluster-local/first-write"), value: base64(new Date().toISOString()) });
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (rootPassword !== undefined) {
        headers.authorization = await rootToken(clusterUrl, rootPassword, caFile);
    }
    const answer = await probe(`${clusterUrl}/v3/kv/put`, { method: "POST", body, headers, caFile });
    if (answer?.status !== 200) {
        throw new Error(`the first write through the load balancer failed: ${answer ? `HTTP ${answer.status} ${answer.body}` : "no answer"}`);
    }
}
