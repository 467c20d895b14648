/**
 * The member health gate: what makes `pulumi up` roll a change through the
 * cluster one member at a time. One gate per member, a Pulumi dynamic
 * resource keyed by the member's instance id, asks the load balancers'
 * target groups through the AWS API (so it works from wherever `pulumi up`
 * runs, usually outside the VPC):
 *
 * - **Before a member's instance is stopped** (the gate is deleted first, as
 *   a dependent of the instance being replaced): wait until every other
 *   member is healthy, so a stop never costs quorum; then deregister the
 *   instance from every target group and wait while it drains (and at least
 *   `minimumDrainSeconds`), so no request is in flight to it when it stops.
 *   A clean stop of the instance then stops etcd with SIGTERM, and a leader
 *   hands leadership to a follower by itself.
 * - **After the new instance is up** (the gate is created again): wait until
 *   it is healthy in every target group and every other target is too. The
 *   next member's instance depends on this gate, so it is not touched before.
 *
 * On the first `pulumi up` no target is healthy yet (members become healthy
 * together, once a quorum has formed), so nothing waits. Every wait is bounded
 * and ends with an error that stops the roll at that member.
 */
import { randomUUID } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { inputsChanged } from "./provider-inputs";

// A module-level copy: the serialized provider captures the function, not the module that exports it.
const changedInputs = inputsChanged;

/** What a gate is made from. */
export interface MemberHealthGateInputs {
    memberName: string;
    /** The member's current instance: a new one replaces the gate. */
    instanceId: string;
    /** The target groups the instance is registered in (the ALB's, and the NLB's if any). */
    targetGroupArns: string[];
    /** Region of the target groups. */
    region: string;
    /** The AWS profile of the stack's `aws:profile` config, if any; otherwise the AWS SDK's default credential chain. */
    profile?: string;
    /** Bound on each wait, in seconds; 0 turns the gate off (no wait, no AWS call). */
    timeoutSeconds: number;
    /**
     * Seconds a member is kept running after its deregistration, even when the
     * target groups report it gone sooner: an ALB's nodes learn of a
     * deregistration a moment after its API does. Default 0.
     */
    minimumDrainSeconds?: number;
    /** Test seam: another ELB API endpoint (a local stand-in). */
    endpoint?: string;
    /** Test seam: ms between two looks at the target groups. Default 5000, the target groups' check interval. */
    pollIntervalMs?: number;
}

/** A target's state in one target group, as DescribeTargetHealth gives it. */
export interface TargetState {
    targetGroupArn: string;
    id: string;
    /** `initial`, `healthy`, `unhealthy`, `unused`, `draining`, `unavailable`. */
    state: string;
    reason?: string;
}

/** What the gate waits on, decided from the target groups' states alone. */
export type GateVerdict =
    | { kind: "go" }
    | { kind: "new-cluster" }
    | { kind: "wait"; why: string };

const describeStates = (states: TargetState[]) =>
    states.map((t) => `${t.id} ${t.state}${t.reason ? ` (${t.reason})` : ""}`).join(", ") || "no targets";

/** After a member's (new) instance is up: go once it and every other target are healthy; a group with no healthy target at all is a new cluster. */
export function verdictAfterStart(states: TargetState[], instanceId: string): GateVerdict {
    if (!states.some((t) => t.state === "healthy")) {
        return { kind: "new-cluster" };
    }
    const self = states.filter((t) => t.id === instanceId);
    if (self.length === 0 || self.some((t) => t.state !== "healthy")) {
        return { kind: "wait", why: `${instanceId} is not healthy yet: ${describeStates(self)}` };
    }
    const others = states.filter((t) => t.id !== instanceId && t.state !== "healthy");
    return others.length > 0 ? { kind: "wait", why: `other members are not healthy: ${describeStates(others)}` } : { kind: "go" };
}

/** Before a member's instance stops: go once every other registered target is healthy, or at once when none is (a cluster already down). */
export function verdictBeforeStop(states: TargetState[], instanceId: string): GateVerdict {
    const others = states.filter((t) => t.id !== instanceId);
    if (!others.some((t) => t.state === "healthy")) {
        return { kind: "go" };
    }
    const unhealthy = others.filter((t) => t.state !== "healthy");
    return unhealthy.length > 0
        ? { kind: "wait", why: `stopping ${instanceId} now could cost the cluster its quorum: ${describeStates(unhealthy)}` }
        : { kind: "go" };
}

/** After deregistration: go once the instance has left every group (no longer registered, or `unused`). */
export function verdictAfterDeregistration(states: TargetState[], instanceId: string): GateVerdict {
    const still = states.filter((t) => t.id === instanceId && t.state !== "unused");
    return still.length > 0 ? { kind: "wait", why: `${instanceId} is still draining: ${describeStates(still)}` } : { kind: "go" };
}

/**
 * Time as a provider reads and spends it. Pulumi runs the providers on the
 * system's clock; a test passes one of its own, so the waits' arithmetic (the
 * deadline, the polls, the minimum drain) is seen exactly rather than timed.
 */
export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}

/** The system's clock, which Pulumi runs the provider on: the serialized provider captures it with the provider's methods. */
const systemClock: Clock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The calls the gate makes, given the inputs: the real ones talk to the ELB API with the AWS SDK. */
interface TargetGroups {
    states(): Promise<TargetState[]>;
    deregister(instanceId: string): Promise<void>;
}

/**
 * The ELB API through the AWS SDK, loaded when the provider runs: the
 * serialized provider resolves it from the program's directory, where
 * installing this package installs it.
 */
function targetGroupsOf(inputs: MemberHealthGateInputs): TargetGroups {
    let sdk: typeof import("@aws-sdk/client-elastic-load-balancing-v2");
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        sdk = require("@aws-sdk/client-elastic-load-balancing-v2");
    } catch (error) {
        throw new Error(`${inputs.memberName}: the member health gate needs @aws-sdk/client-elastic-load-balancing-v2, a dependency of ` +
            "etcd3-cluster, resolvable from the program's directory (npm installs it there; with pnpm or yarn PnP, add it to the " +
            `program's own dependencies): ${(error as Error).message.split("\n")[0]}`);
    }
    const client = new sdk.ElasticLoadBalancingV2Client({
        region: inputs.region,
        ...(inputs.profile ? { profile: inputs.profile } : {}),
        ...(inputs.endpoint ? { endpoint: inputs.endpoint } : {}),
        maxAttempts: 5,
    });
    return {
        async states() {
            const all = await Promise.all(inputs.targetGroupArns.map(async (targetGroupArn) => {
                const answer = await client.send(new sdk.DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })).catch((error: Error) => {
                    // A target group already gone (a destroy) holds no target.
                    if (error.name === "TargetGroupNotFoundException") {
                        return { TargetHealthDescriptions: [] };
                    }
                    throw error;
                });
                return (answer.TargetHealthDescriptions ?? []).map((description): TargetState => ({
                    targetGroupArn,
                    id: description.Target?.Id ?? "?",
                    state: description.TargetHealth?.State ?? "unknown",
                    reason: description.TargetHealth?.Reason,
                }));
            }));
            return all.flat();
        },
        async deregister(instanceId) {
            await Promise.all(inputs.targetGroupArns.map((targetGroupArn) =>
                client.send(new sdk.DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }] })).catch((error: Error) => {
                    // A target group already gone (a destroy) has nothing left to drain.
                    if (error.name !== "TargetGroupNotFoundException") {
                        throw error;
                    }
                })));
        },
    };
}

/** Looks at the target groups until `verdict` says go (or new cluster), at most `timeoutSeconds`; throws what it last saw. */
async function waitFor(inputs: MemberHealthGateInputs, groups: TargetGroups, verdict: (states: TargetState[]) => GateVerdict,
    doing: string, clock: Clock): Promise<GateVerdict> {
    const deadline = clock.now() + inputs.timeoutSeconds * 1000;
    for (;;) {
        let seen: GateVerdict;
        try {
            seen = verdict(await groups.states());
        } catch (error) {
            throw new Error(`${inputs.memberName}: could not read the target groups' health while ${doing} ` +
                `(the gate uses the AWS SDK's credential chain${inputs.profile ? ` with profile ${inputs.profile}` : ""}, region ${inputs.region}): ` +
                `${(error as Error).message}`);
        }
        if (seen.kind !== "wait") {
            return seen;
        }
        if (clock.now() >= deadline) {
            throw new Error(`${inputs.memberName}: gave up after ${inputs.timeoutSeconds} s ${doing}: ${seen.why}. The roll stops here; ` +
                "the members after this one were not touched. Look at the member (journalctl -u etcd-member.service on its " +
                "instance), then run `pulumi up` again. rollingHealthTimeoutMinutes sets this bound; 0 turns the gate off.");
        }
        await clock.sleep(Math.min(inputs.pollIntervalMs ?? 5000, Math.max(0, deadline - clock.now())));
    }
}

/** The gate's provider, its waits on `clock`; the provider's methods only pick which checks run. */
export function memberHealthGateProviderOn(clock: Clock): pulumi.dynamic.ResourceProvider {
    return {
        async create(inputs: MemberHealthGateInputs): Promise<pulumi.dynamic.CreateResult> {
            if (inputs.timeoutSeconds > 0) {
                await waitFor(inputs, targetGroupsOf(inputs), (states) => verdictAfterStart(states, inputs.instanceId),
                    `waiting for ${inputs.instanceId} to be healthy behind the load balancer`, clock);
            }
            return { id: randomUUID(), outs: inputs };
        },
        async diff(_id: string, olds: MemberHealthGateInputs, news: MemberHealthGateInputs): Promise<pulumi.dynamic.DiffResult> {
            if (olds.instanceId !== news.instanceId) {
                return { changes: true, replaces: ["instanceId"], deleteBeforeReplace: true };
            }
            return { changes: changedInputs(olds, news), replaces: [] };
        },
        async update(_id: string, _olds: MemberHealthGateInputs, news: MemberHealthGateInputs): Promise<pulumi.dynamic.UpdateResult> {
            return { outs: news };
        },
        async delete(_id: string, olds: MemberHealthGateInputs): Promise<void> {
            if (olds.timeoutSeconds <= 0) {
                return;
            }
            const groups = targetGroupsOf(olds);
            await waitFor(olds, groups, (states) => verdictBeforeStop(states, olds.instanceId),
                `waiting for the other members to be healthy before stopping ${olds.instanceId}`, clock);
            const deregisteredAt = clock.now();
            await groups.deregister(olds.instanceId).catch((error: Error) => {
                throw new Error(`${olds.memberName}: could not deregister ${olds.instanceId} from the load balancers: ${error.message}`);
            });
            await waitFor(olds, groups, (states) => verdictAfterDeregistration(states, olds.instanceId),
                `waiting for ${olds.instanceId} to drain from the load balancers`, clock);
            const rest = (olds.minimumDrainSeconds ?? 0) * 1000 - (clock.now() - deregisteredAt);
            if (rest > 0) {
                await clock.sleep(rest);
            }
        },
    };
}

/** The gate's provider as Pulumi runs it, serialized, on the system's clock. */
export const memberHealthGateProvider = memberHealthGateProviderOn(systemClock);

/**
 * Orders a roll: construct one per member, after the member's instance is
 * registered in the target groups, and make the next member's instance
 * `dependsOn` it.
 */
export class MemberHealthGate extends pulumi.dynamic.Resource {
    constructor(name: string, inputs: { [K in keyof MemberHealthGateInputs]: pulumi.Input<MemberHealthGateInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
        super(memberHealthGateProvider, name, inputs, opts, "etcd3-cluster", "MemberHealthGate");
    }
}
