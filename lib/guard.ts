/**
 * Facts about a running cluster that an update must not change, or may change
 * only one way, kept in the stack's state by a Pulumi dynamic resource whose
 * `diff` refuses a forbidden change. The engine diffs every resource during
 * `pulumi preview` and before `pulumi up` changes anything, so a refused
 * change stops the run before a single member is touched.
 */
import { randomUUID } from "crypto";
import * as pulumi from "@pulumi/pulumi";

/** The guarded facts: the component's resolved arguments of the same names. */
export interface ClusterGuardFacts {
    /** Number of members. */
    clusterSize: number;
    /** Size of each member's root EBS volume. */
    rootVolumeSizeGiB: number;
}

/** One guarded fact: which changes are refused, why, and what to do instead. */
export interface ClusterGuardRule {
    /** The fact, named as the component's argument is. */
    argument: keyof ClusterGuardFacts;
    /** True when going from `old` (in state) to `next` (in the program) must not happen. */
    refuses(old: number, next: number): boolean;
    /** Why not, completing "<argument> cannot change from <old> to <next> on a running cluster: ". */
    why: string;
    /** What to do instead, as whole sentences. */
    instead(old: number, next: number): string;
}

/**
 * The rules, one row per guarded fact. To guard another fact, add it to
 * {@link ClusterGuardFacts} and a row here. A fact missing from the state (a
 * stack created before its row existed) is recorded without a check.
 */
export const clusterGuardRules: readonly ClusterGuardRule[] = [
    {
        argument: "clusterSize",
        refuses: (old, next) => next !== old,
        why: "its members would not learn of the change (that needs etcd's runtime reconfiguration)",
        instead: () => "To build a new cluster of the new size, run `pulumi destroy` first, or create a second Etcd3Cluster.",
    },
    {
        argument: "rootVolumeSizeGiB",
        refuses: (old, next) => next < old,
        why: "an EBS volume can grow but never shrink, so AWS would refuse the change partway through updating the members",
        instead: (old) => `Keep rootVolumeSizeGiB at ${old} or more (a larger size is applied in place). For smaller ` +
            "volumes, build a new cluster: run `pulumi destroy` first, or create a second Etcd3Cluster.",
    },
];

/** Every refusal for going from `olds` (state) to `news` (program), as the messages the user will read. */
export function clusterGuardRefusals(olds: Partial<ClusterGuardFacts>, news: ClusterGuardFacts): string[] {
    return clusterGuardRules
        .filter((rule) => olds[rule.argument] !== undefined && rule.refuses(olds[rule.argument]!, news[rule.argument]))
        .map((rule) => {
            const [old, next] = [olds[rule.argument]!, news[rule.argument]];
            return `${rule.argument} cannot change from ${old} to ${next} on a running cluster: ${rule.why}. ${rule.instead(old, next)}`;
        });
}

/**
 * Holds the facts; `diff` throws (a plain Error, so the message survives the
 * serialized provider) listing every refused change, reports an allowed change
 * as an in-place update that records the new value, and never replaces.
 */
export const clusterGuardProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: ClusterGuardFacts): Promise<pulumi.dynamic.CreateResult> {
        return { id: randomUUID(), outs: factsOf(inputs) };
    },
    async diff(_id: string, olds: Partial<ClusterGuardFacts>, news: ClusterGuardFacts): Promise<pulumi.dynamic.DiffResult> {
        const refusals = clusterGuardRefusals(olds, news);
        if (refusals.length > 0) {
            throw new Error(refusals.join("\n"));
        }
        return { changes: clusterGuardRules.some((rule) => olds[rule.argument] !== news[rule.argument]), replaces: [] };
    },
    async update(_id: string, _olds: ClusterGuardFacts, news: ClusterGuardFacts): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: factsOf(news) };
    },
};

/** Only the guarded facts (the host adds `__provider` itself). */
function factsOf(inputs: ClusterGuardFacts): ClusterGuardFacts {
    return Object.fromEntries(clusterGuardRules.map((rule) => [rule.argument, inputs[rule.argument]])) as unknown as ClusterGuardFacts;
}

/**
 * Refuses, at preview, changes a running cluster cannot take (see
 * {@link clusterGuardRules}). Resources that a refused change would touch
 * should `dependsOn` it, so that even `pulumi up --skip-preview` stops before
 * them.
 */
export class ClusterGuard extends pulumi.dynamic.Resource {
    /**
     * @param facts the component's resolved values, plain numbers (known at
     * preview); only the facts with a row in {@link clusterGuardRules} are kept.
     */
    constructor(name: string, facts: ClusterGuardFacts, opts?: pulumi.CustomResourceOptions) {
        super(clusterGuardProvider, name, factsOf(facts), opts, "etcd3-cluster", "ClusterGuard");
    }
}
