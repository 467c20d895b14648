/**
 * Which image the members boot. A pinned `amiId` is used as given, and
 * changing it rolls the cluster. Without one, the OS's latest stable image is
 * looked up at every `pulumi up`, but the choice is kept in the stack's state
 * by a dynamic resource: Fedora CoreOS and Flatcar publish releases every few
 * weeks and update running members themselves in their staggered windows, so
 * a new release must not replace every member. The choice changes only when
 * the OS or the architecture does (a switch to Graviton needs an arm64 image).
 */
import { randomUUID } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { ResolvedEtcd3ClusterArgs } from "./args";

/** What the choice depends on, and the image the lookup found this time. */
export interface ImageChoiceInputs {
    os: string;
    architecture: string;
    /** The latest image the lookup returned at this `pulumi up`. */
    latestImageId: string;
}

/** The state: the inputs as last applied, and the image chosen then. */
export interface ImageChoiceState extends ImageChoiceInputs {
    imageId: string;
}

/** True when the kept image no longer fits: another OS or architecture. */
export function imageChoiceChanges(olds: ImageChoiceInputs, news: ImageChoiceInputs): boolean {
    return olds.os !== news.os || olds.architecture !== news.architecture;
}

/** Keeps the image chosen at creation until the OS or the architecture changes; a newer release alone changes nothing. */
export const imageChoiceProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: ImageChoiceInputs): Promise<pulumi.dynamic.CreateResult> {
        return { id: randomUUID(), outs: { ...inputs, imageId: inputs.latestImageId } };
    },
    async diff(_id: string, olds: ImageChoiceState, news: ImageChoiceInputs): Promise<pulumi.dynamic.DiffResult> {
        // Reporting the new lookup as no change keeps the old outputs, the kept imageId with them.
        return { changes: imageChoiceChanges(olds, news), replaces: [] };
    },
    async update(_id: string, _olds: ImageChoiceState, news: ImageChoiceInputs): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: { ...news, imageId: news.latestImageId } };
    },
};

export class ImageChoice extends pulumi.dynamic.Resource {
    declare public readonly imageId: pulumi.Output<string>;

    constructor(name: string, inputs: { [K in keyof ImageChoiceInputs]: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
        super(imageChoiceProvider, name, { ...inputs, imageId: undefined }, opts, "etcd3-cluster", "ImageChoice");
    }
}

/** The image every member boots: the pinned `amiId`, else the kept choice of the OS's latest stable image for the architecture. */
export function memberImage(name: string, args: ResolvedEtcd3ClusterArgs, parent: pulumi.Resource): pulumi.Input<string> {
    if (args.amiId) {
        return args.amiId;
    }
    const os = args.osProfile;
    const latest = aws.ec2.getAmiOutput({
        owners: [os.amiOwner],
        mostRecent: true,
        filters: [
            { name: "name", values: [os.amiNamePattern] },
            { name: "architecture", values: [args.architecture] },
            { name: "virtualization-type", values: ["hvm"] },
        ],
    }, { parent });
    return new ImageChoice(`${name}-image`, { os: args.os, architecture: args.architecture, latestImageId: latest.id }, { parent }).imageId;
}
