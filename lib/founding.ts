/**
 * The founding record: the size the cluster was created with, kept in the
 * stack's state for the stack's life. The first that many slots formed the
 * cluster, so their user data carries the formation (the discovery URL, or the
 * static member list of exactly those slots); a slot after them joined a
 * running cluster and never forms one. A later change of `clusterSize`
 * therefore leaves every staying member's user data, and its instance, as it
 * was.
 *
 * A dynamic resource whose `diff` never reports a change: the engine then
 * keeps its recorded outputs, at preview too, so a preview of a resize shows
 * the staying members unchanged rather than "unknown until applied".
 */
import { randomUUID } from "crypto";
import * as pulumi from "@pulumi/pulumi";

interface ClusterFoundingInputs {
    /** The size the cluster is created with; read at create only. */
    clusterSize: number;
}

export const clusterFoundingProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: ClusterFoundingInputs): Promise<pulumi.dynamic.CreateResult> {
        return { id: randomUUID(), outs: { clusterSize: inputs.clusterSize } };
    },
    async diff(): Promise<pulumi.dynamic.DiffResult> {
        // A cluster is founded once: what its founding members' user data says must not follow a later clusterSize.
        return { changes: false, replaces: [] };
    },
};

export interface ClusterFoundingArgs {
    /**
     * The size to record when the record is created: the cluster's size before
     * this update (the guard's `foundingClusterSize`), so that a stack made by
     * an earlier version, which had no record, records the size it was created
     * with even when the same update grows it.
     */
    clusterSize: pulumi.Input<number>;
}

/** The size the cluster was created with, recorded once. */
export class ClusterFounding extends pulumi.dynamic.Resource {
    declare public readonly clusterSize: pulumi.Output<number>;

    constructor(name: string, args: ClusterFoundingArgs, opts?: pulumi.CustomResourceOptions) {
        super(clusterFoundingProvider, name, args, opts, "etcd3-cluster", "ClusterFounding");
    }
}
