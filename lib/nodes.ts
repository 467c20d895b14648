/**
 * The etcd members: one EC2 instance per member, booted from the OS's latest
 * stable image with its Ignition config as user data, spread round robin over
 * the private subnets (and so over the zones).
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ResolvedEtcd3ClusterArgs } from "./args";
import { EtcdNodeIgnitionOptions, renderUserData } from "./ignition";
import { operatingSystems, UpdateWindow } from "./os";

export interface ClusterNode {
    memberName: string;
    instance: aws.ec2.Instance;
}

/** Member `index`'s name: stable, readable, unique within the cluster. */
export function memberName(ecosystem: string, index: number): string {
    return `${ecosystem}-${index}`;
}

/** The member names of a cluster, in member order. */
export function memberNames(ecosystem: string, clusterSize: number): string[] {
    return Array.from({ length: clusterSize }, (_, index) => memberName(ecosystem, index));
}

/**
 * Each member's daily OS-update window: an hour long and three hours after the
 * previous member's, so automatic updates never reboot two members at once
 * (seven members fit in a day).
 */
export function memberUpdateWindow(index: number): UpdateWindow {
    return { startHourUtc: (2 + 3 * index) % 24, lengthMinutes: 60 };
}

/** What member `index`'s Ignition config is built from: the one place arguments become user data. */
export function memberIgnitionOptions(args: ResolvedEtcd3ClusterArgs, index: number, discoveryUrl: string): EtcdNodeIgnitionOptions {
    return {
        memberName: memberName(args.ecosystem, index),
        discoveryUrl,
        etcdVersion: args.etcdVersion,
        os: args.os,
        imageRepository: args.etcdImageRepository,
        heartbeatIntervalMs: args.heartbeatIntervalMs,
        electionTimeoutMs: args.electionTimeoutMs,
        sshAuthorizedKeys: args.sshAuthorizedKeys,
        updateWindow: memberUpdateWindow(index),
    };
}

/** The latest stable image of the cluster's OS for the instance type's architecture, unless an AMI was given. */
function imageId(args: ResolvedEtcd3ClusterArgs, parent: pulumi.Resource): pulumi.Input<string> {
    if (args.amiId) {
        return args.amiId;
    }
    const os = operatingSystems[args.os];
    return aws.ec2.getAmiOutput({
        owners: [os.amiOwner],
        mostRecent: true,
        filters: [
            { name: "name", values: [os.amiNamePattern] },
            { name: "architecture", values: [args.architecture] },
            { name: "virtualization-type", values: ["hvm"] },
        ],
    }, { parent }).id;
}

export function createNodes(
    name: string,
    args: ResolvedEtcd3ClusterArgs,
    discoveryUrl: pulumi.Input<string>,
    privateSubnetIds: pulumi.Output<string[]>,
    securityGroupId: pulumi.Input<string>,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): ClusterNode[] {
    const ami = imageId(args, parent);
    return memberNames(args.ecosystem, args.clusterSize).map((member, index) => {
        const userData = pulumi.output(discoveryUrl).apply((url) => renderUserData(memberIgnitionOptions(args, index, url)));
        const subnetId = privateSubnetIds.apply((ids) => ids[index % ids.length]);
        const instance = new aws.ec2.Instance(`${name}-${index}`, {
            ami,
            instanceType: args.instanceType,
            subnetId,
            vpcSecurityGroupIds: [securityGroupId],
            userData,
            metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
            rootBlockDevice: { volumeType: "gp3", volumeSize: args.rootVolumeSizeGiB, encrypted: true, deleteOnTermination: true },
            tags: { ...tags, Name: member, "etcd-member": member },
            volumeTags: { ...tags, Name: member },
        }, {
            parent,
            // Ignition runs only at first boot: a new image or user data would either do nothing
            // (stop/start) or replace every member at once, and so would a reordered subnet list.
            // A replaced member cannot rejoin by itself: replacement is a deliberate act.
            ignoreChanges: ["ami", "userData", "subnetId"],
        });
        return { memberName: member, instance };
    });
}
