/**
 * The member departure: what makes a smaller `clusterSize` remove members from
 * etcd before their instances go. One departure per member, a Pulumi dynamic
 * resource that does nothing until it is deleted, which happens only when its
 * member leaves the cluster (a roll replaces the instance and only updates the
 * departure). It stands between the member's health gate and its instance, so
 * `pulumi up` deletes, for each leaving member, highest slot first:
 *
 * 1. the health gate: waits until every other member is healthy, then drains
 *    the member from the load balancers (rolling.ts);
 * 2. the departure: tags the member's instance `etcd3-cluster:leave` through
 *    the EC2 API (from wherever `pulumi up` runs, usually outside the VPC). The
 *    member's leave unit reads its instance's tags from the instance metadata
 *    service, removes its member from etcd through the other members (after
 *    handing leadership over if it leads; etcd's strict reconfiguration check
 *    refuses a removal that would cost quorum) and powers the instance off.
 *    The departure waits, bounded, until the instance has stopped;
 * 3. the volume attachment, the target registrations and the instance.
 *
 * A stopped instance cannot read its tags: the departure starts it after
 * tagging it, so it boots, leaves and powers off again. A terminated one can
 * no longer leave: its member stays in etcd's list, down, until removed by hand
 * or until a member joins that slot again (it removes the stale member first).
 */
import { randomUUID } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { leaveTagKey } from "./bootstrap";
import { inputsChanged } from "./provider-inputs";
import type { Clock } from "./rolling";

/** What a departure is made from. */
export interface MemberDepartureInputs {
    memberName: string;
    /** The member's current instance: a new one (a roll) only updates the departure. */
    instanceId: string;
    /** Region of the instance. */
    region: string;
    /** The AWS profile of the stack's `aws:profile` config, if any; otherwise the AWS SDK's default credential chain. */
    profile?: string;
    /** Bound on the wait for the member to leave and its instance to stop, in seconds; 0 turns the departure off (no AWS call). */
    timeoutSeconds: number;
    /** Test seam: another EC2 API endpoint (a local stand-in). */
    endpoint?: string;
    /** Test seam: ms between two looks at the instance. Default 5000. */
    pollIntervalMs?: number;
}

/** An instance's state as DescribeInstances gives it, or `absent` when EC2 no longer knows it. */
export type InstanceState = "pending" | "running" | "stopping" | "stopped" | "shutting-down" | "terminated" | "absent";

/** What the departure does next, decided from the instance's state alone. */
export type DepartureVerdict =
    | { kind: "done"; why: string }
    | { kind: "start" }
    | { kind: "wait"; why: string };

/**
 * Once the instance is tagged: done when it has stopped after it last ran (the
 * member left and powered off) or is gone; started again when it is stopped and
 * has not run since the tag was set (it must boot to read the tag).
 */
export function departureVerdict(state: InstanceState, ranSinceTagged: boolean): DepartureVerdict {
    switch (state) {
        case "terminated":
        case "shutting-down":
        case "absent":
            return { kind: "done", why: `the instance is ${state}: it can no longer leave, and its member, if still listed, is down` };
        case "stopped":
            return ranSinceTagged ? { kind: "done", why: "the member left the cluster and powered off" } : { kind: "start" };
        case "stopping":
            return { kind: "wait", why: "the instance is stopping" };
        default:
            return { kind: "wait", why: `the instance is ${state}: its member has not left yet` };
    }
}

/** The calls the departure makes: the real ones talk to the EC2 API with the AWS SDK. */
interface Instances {
    state(instanceId: string): Promise<InstanceState>;
    tag(instanceId: string, key: string, value: string): Promise<void>;
    start(instanceId: string): Promise<void>;
}

// Module-level copies: the serialized provider captures the values, not the modules that export them.
const leaveTag = leaveTagKey;
const changedInputs = inputsChanged;

/** The system's clock, which Pulumi runs the provider on (a test passes its own: see rolling.ts' Clock). */
const systemClock: Clock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * The EC2 API through the AWS SDK, loaded when the provider runs: the
 * serialized provider resolves it from the program's directory, where
 * installing this package installs it.
 */
function instancesOf(inputs: MemberDepartureInputs): Instances {
    let sdk: typeof import("@aws-sdk/client-ec2");
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        sdk = require("@aws-sdk/client-ec2");
    } catch (error) {
        throw new Error(`${inputs.memberName}: the member departure needs @aws-sdk/client-ec2, a dependency of etcd3-cluster, ` +
            "resolvable from the program's directory (npm installs it there; with pnpm or yarn PnP, add it to the program's own " +
            `dependencies): ${(error as Error).message.split("\n")[0]}`);
    }
    const client = new sdk.EC2Client({
        region: inputs.region,
        ...(inputs.profile ? { profile: inputs.profile } : {}),
        ...(inputs.endpoint ? { endpoint: inputs.endpoint } : {}),
        maxAttempts: 5,
    });
    return {
        async state(instanceId) {
            const answer = await client.send(new sdk.DescribeInstancesCommand({ InstanceIds: [instanceId] })).catch((error: Error) => {
                if (error.name === "InvalidInstanceID.NotFound") {
                    return { Reservations: [] };
                }
                throw error;
            });
            const instance = (answer.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])
                .find((candidate) => candidate.InstanceId === instanceId);
            return (instance?.State?.Name as InstanceState | undefined) ?? "absent";
        },
        async tag(instanceId, key, value) {
            await client.send(new sdk.CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: key, Value: value }] }));
        },
        async start(instanceId) {
            await client.send(new sdk.StartInstancesCommand({ InstanceIds: [instanceId] }));
        },
    };
}

/** Tags the instance, then follows it until its member has left (starting it if it is stopped), at most `timeoutSeconds`. */
async function depart(inputs: MemberDepartureInputs, instances: Instances, clock: Clock): Promise<void> {
    const { memberName, instanceId } = inputs;
    const failed = (doing: string, error: unknown) => new Error(`${memberName}: could not ${doing} ${instanceId} ` +
        `(the departure uses the AWS SDK's credential chain${inputs.profile ? ` with profile ${inputs.profile}` : ""}, region ${inputs.region}): ` +
        `${(error as Error).message}`);
    const look = () => instances.state(instanceId).catch((error) => { throw failed("read the state of", error); });
    let state = await look();
    // Gone already: nothing can read a tag any more.
    if (departureVerdict(state, false).kind === "done") {
        return;
    }
    await instances.tag(instanceId, leaveTag, memberName).catch((error) => { throw failed("tag", error); });
    let ranSinceTagged = state === "running" || state === "pending";
    const deadline = clock.now() + inputs.timeoutSeconds * 1000;
    for (;;) {
        const verdict = departureVerdict(state, ranSinceTagged);
        if (verdict.kind === "done") {
            return;
        }
        if (clock.now() >= deadline) {
            const why = verdict.kind === "start" ? "the instance was started and EC2 still describes it stopped" : verdict.why;
            throw new Error(`${memberName}: gave up after ${inputs.timeoutSeconds} s waiting for the member to leave the cluster ` +
                `and power off ${instanceId}: ${why}. Nothing after this member was removed. Look at its leave unit ` +
                "(journalctl -u etcd-member-leave.service on the instance; it waits while the other members have no quorum " +
                "or another membership change is under way), then run `pulumi up` again. memberDepartureTimeoutMinutes sets this bound; " +
                "0 turns the departures off.");
        }
        if (verdict.kind === "start") {
            // Until EC2 describes it pending or running, a "stopped" may be from before the start: it is started again
            // (a start of a pending instance changes nothing) rather than taken for a member that left.
            await instances.start(instanceId).catch((error) => { throw failed("start", error); });
        }
        await clock.sleep(Math.min(inputs.pollIntervalMs ?? 5000, Math.max(0, deadline - clock.now())));
        state = await look();
        ranSinceTagged ||= state === "running" || state === "pending";
    }
}

/** The departure's provider, its wait on `clock`. */
export function memberDepartureProviderOn(clock: Clock): pulumi.dynamic.ResourceProvider {
    return {
        async create(inputs: MemberDepartureInputs): Promise<pulumi.dynamic.CreateResult> {
            return { id: randomUUID(), outs: inputs };
        },
        /** Never a replacement: a departure is deleted only when its member leaves. */
        async diff(_id: string, olds: MemberDepartureInputs, news: MemberDepartureInputs): Promise<pulumi.dynamic.DiffResult> {
            return { changes: changedInputs(olds, news), replaces: [] };
        },
        async update(_id: string, _olds: MemberDepartureInputs, news: MemberDepartureInputs): Promise<pulumi.dynamic.UpdateResult> {
            return { outs: news };
        },
        async delete(_id: string, olds: MemberDepartureInputs): Promise<void> {
            if (olds.timeoutSeconds > 0) {
                await depart(olds, instancesOf(olds), clock);
            }
        },
    };
}

/** The departure's provider as Pulumi runs it, serialized, on the system's clock. */
export const memberDepartureProvider = memberDepartureProviderOn(systemClock);

/**
 * Removes a member from etcd before its instance goes: construct one per
 * member, depending on the member's instance, volume attachment and target
 * registrations, and make the member's health gate depend on it.
 */
export class MemberDeparture extends pulumi.dynamic.Resource {
    constructor(name: string, inputs: { [K in keyof MemberDepartureInputs]: pulumi.Input<MemberDepartureInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
        super(memberDepartureProvider, name, inputs, opts, "etcd3-cluster", "MemberDeparture");
    }
}
