/**
 * A rolling replacement as `pulumi up` orders it, on the local cluster: each
 * member's health gate (lib/rolling.ts), as the component registered it, runs
 * serialized in Pulumi's own dynamic-provider host and talks to the target
 * groups with the real AWS SDK through the loopback ELB API stand-in, which
 * haproxy's state answers for (local/target-groups.ts). The engine's order is
 * played: for each member, the old gate's delete (the others healthy, then
 * deregister and drain), the instance's replacement, the new gate's create
 * (the new instance and the others healthy), and only then the next member.
 *
 * Used by tests/local-rolling.test.ts, which asserts on the order and the
 * writes, and by `npm run bench` (its `rolling` section), which reports the
 * figures: both run exactly this code.
 */
import { LocalCluster, ReplacementTimings } from "../../local/cluster";
import { ElbApiStandIn } from "../../local/elb-api";
import { EngineProviderHost, hostEnvironment, makeProgramDirectory, Properties } from "../support/engine-provider";
import { PacedWriter, WriteRecord } from "./paced-writes";

/** Credentials the SDK signs with; the stand-in refuses an unsigned request, as AWS does. */
export const fakeCredentials = { AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

/**
 * haproxy's states without the count of checks under way (`UP 1/2`: up, one
 * failed check short of down), which a target group does not show either: a
 * target stays healthy until its unhealthy threshold is reached.
 */
export const withoutCheckCounts = (states: Record<string, string>) =>
    Object.fromEntries(Object.entries(states).map(([name, state]) => [name, state.split(" ")[0]]));

/**
 * Pulumi's provider host in a program directory holding what the gates
 * require (`@aws-sdk/client-elastic-load-balancing-v2`, as npm hoists it),
 * signing with the fake credentials. `stop` stops the host and removes the
 * directory; safe to call when the start failed halfway.
 */
export async function startGateHost(callMs: number): Promise<{ host: EngineProviderHost; stop(): Promise<void> }> {
    const program = makeProgramDirectory({ packages: ["@aws-sdk/client-elastic-load-balancing-v2"] });
    try {
        const host = await EngineProviderHost.start(program.directory, { callMs }, hostEnvironment(fakeCredentials));
        return {
            host,
            stop: async () => {
                try {
                    await host.stop();
                } finally {
                    program.remove();
                }
            },
        };
    } catch (error) {
        program.remove();
        throw error;
    }
}

/** The engine's side of a roll: the gates as the component registered them, pointed at the stand-in, and their state. */
export class Roll {
    readonly states: Properties[] = [];
    /** What happened, in order: `<member> <step>`. */
    readonly events: string[] = [];
    /** haproxy's view of the ALB's targets the moment each gate let the roll go on: `<member> <step>` → states. */
    readonly seen: Record<string, Record<string, string>> = {};

    constructor(private readonly host: EngineProviderHost, private readonly cluster: LocalCluster, private readonly api: ElbApiStandIn,
        private readonly timeoutSeconds: number) {}

    /** Gate `index` as the engine gets it: the component's inputs, with the test seams (endpoint, poll interval) and a local bound. */
    gate(index: number) {
        const blueprint = this.cluster.healthGates[index];
        return {
            urn: `urn:pulumi:local::etcd3-cluster::pulumi-nodejs:dynamic/etcd3-cluster:MemberHealthGate::${blueprint.resourceName}`,
            inputs: {
                ...blueprint.inputs, endpoint: this.api.endpoint, pollIntervalMs: 100, timeoutSeconds: this.timeoutSeconds,
                // The cluster's health checks run at its time scale: so does the drain the component asks for.
                minimumDrainSeconds: Number(blueprint.inputs.minimumDrainSeconds ?? 0) * this.cluster.healthCheckTimeScale,
            },
        };
    }

    /** The first `pulumi up`: every gate created. */
    async createAll(): Promise<void> {
        for (const index of this.cluster.nodes.keys()) {
            this.states[index] = (await this.host.create(this.gate(index))).outs;
        }
    }

    /** Replaces member `index` between its gate's delete and create, as a delete-before-replace of its instance does. */
    replace(index: number, etcdVersion: string): Promise<ReplacementTimings> {
        const name = this.cluster.nodes[index].name;
        return this.cluster.replaceNode(index, {
            args: { etcdVersion },
            healthGate: {
                beforeStop: async () => {
                    this.events.push(`${name} gate delete`);
                    await this.host.delete(this.gate(index), "gate", this.states[index]);
                    this.seen[`${name} before the stop`] = withoutCheckCounts(await this.cluster.targetStates());
                    this.events.push(`${name} stopped`);
                },
                afterStart: async () => {
                    this.events.push(`${name} gate create`);
                    this.states[index] = (await this.host.create(this.gate(index))).outs;
                    this.seen[`${name} after the start`] = withoutCheckCounts(await this.cluster.targetStates());
                    this.events.push(`${name} healthy`);
                },
            },
        });
    }
}

/** The order of events a roll of `names` must show: each member's gate delete, stop, gate create and healthy, one member after another. */
export const expectedRollEvents = (names: string[]) =>
    names.flatMap((name) => [`${name} gate delete`, `${name} stopped`, `${name} gate create`, `${name} healthy`]);

export interface RollUnderWritesOptions {
    /** The `etcdVersion` the roll changes to. */
    etcdVersion: string;
    /** Key directory of the writes, one per run. */
    directory: string;
    /** Milliseconds between two writes; default 50. */
    intervalMs?: number;
    /** Each gate's own bound, as `rollingHealthTimeoutMinutes` in seconds. */
    gateTimeoutSeconds: number;
    /** Writing before the first member is touched and after the last is back; default 1000 ms. */
    settleMs?: number;
    /** Called after each member's replacement. */
    onMember?: (index: number, timings: ReplacementTimings) => void;
}

export interface RollUnderWritesResult {
    roll: Roll;
    /** Every write, from `settleMs` before the roll to `settleMs` after it. */
    records: WriteRecord[];
    /** The writer's clock (ms since its start) when the first member's gate was deleted and when the last member's gate was created. */
    rollStartMs: number;
    rollEndMs: number;
    /** Each member's replacement, in member order. */
    replacements: ReplacementTimings[];
    /** The instance ids of each `DeregisterTargets` call the gates made during the roll, comma-joined. */
    deregistered: string[];
    /** Sends that went out later than one interval after their slot (the event loop was busy). */
    lateSends: number;
}

/**
 * Creates every member's gate (the first `pulumi up`), then rolls every member
 * to `etcdVersion` in member order through its gate while a paced writer sends
 * one write every `intervalMs` through the load balancer. The writer is stopped
 * (every write in flight settled) whatever happens; the cluster is the
 * caller's to stop.
 */
export async function rollUnderWrites(cluster: LocalCluster, host: EngineProviderHost, options: RollUnderWritesOptions): Promise<RollUnderWritesResult> {
    const intervalMs = options.intervalMs ?? 50;
    const settleMs = options.settleMs ?? 1000;
    const api = await cluster.startElbApi();
    const roll = new Roll(host, cluster, api, options.gateTimeoutSeconds);
    await roll.createAll();
    // Bounds for the writer only: each gate wait (two per member) and each replacement's own bound end the roll long before.
    const maxDurationMs = 2 * settleMs + cluster.nodes.length * (2 * options.gateTimeoutSeconds * 1000 + 90_000);
    const writer = new PacedWriter({
        baseUrl: cluster.clusterUrl, directory: options.directory, intervalMs, maxDurationMs, maxWrites: Math.ceil(maxDurationMs / intervalMs) + 1,
    });
    const firstCall = api.calls.length;
    const replacements: ReplacementTimings[] = [];
    let rollStartMs = 0;
    let rollEndMs = 0;
    let records: WriteRecord[] = [];
    writer.start();
    try {
        await new Promise((resolve) => setTimeout(resolve, settleMs));
        rollStartMs = writer.now();
        for (const index of cluster.nodes.keys()) {
            const timings = await roll.replace(index, options.etcdVersion);
            replacements.push(timings);
            options.onMember?.(index, timings);
        }
        rollEndMs = writer.now();
        await new Promise((resolve) => setTimeout(resolve, settleMs));
        if (!writer.sending) {
            throw new Error(`the writer reached its bound (${maxDurationMs} ms) before the roll and the ${settleMs} ms after it were over`);
        }
    } finally {
        records = await writer.stop();
    }
    const deregistered = api.calls.slice(firstCall).filter((call) => call.action === "DeregisterTargets").map((call) => call.targetIds.join(","));
    return { roll, records, rollStartMs, rollEndMs, replacements, deregistered, lateSends: writer.lateSends };
}
