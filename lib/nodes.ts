/**
 * The etcd members: one EC2 instance per member, booted from the OS's latest
 * stable image with its Ignition config as user data, spread round robin over
 * the private subnets (and so over the zones).
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ResolvedEtcd3ClusterArgs } from "./args";
import { renderUserData } from "./ignition";
import { memberIgnitionOptions, MemberPlan, planMembers } from "./plan";

export interface ClusterNode {
    member: MemberPlan;
    instance: aws.ec2.Instance;
}

/** The latest stable image of the cluster's OS for the instance type's architecture, unless an AMI was given. */
function imageId(args: ResolvedEtcd3ClusterArgs, parent: pulumi.Resource): pulumi.Input<string> {
    if (args.amiId) {
        return args.amiId;
    }
    const os = args.osProfile;
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

export interface NodeOptions {
    /** The discovery URL every member's user data names. */
    discoveryUrl: pulumi.Input<string>;
    /** The subnets the members are spread over, round robin. */
    privateSubnetIds: pulumi.Output<string[]>;
    /** The members' security group. */
    securityGroupId: pulumi.Input<string>;
    /** The resource whose diff refuses changes the members cannot take: no member is touched before it. */
    guard: pulumi.Resource;
}

export function createNodes(
    name: string,
    args: ResolvedEtcd3ClusterArgs,
    { discoveryUrl, privateSubnetIds, securityGroupId, guard }: NodeOptions,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): ClusterNode[] {
    const ami = imageId(args, parent);
    return planMembers(args).map((member) => {
        const userData = pulumi.output(discoveryUrl).apply((url) => renderUserData(memberIgnitionOptions(args, member, url)));
        const subnetId = privateSubnetIds.apply((ids) => ids[member.index % ids.length]);
        const instance = new aws.ec2.Instance(`${name}-${member.index}`, {
            ami,
            instanceType: args.instanceType,
            subnetId,
            vpcSecurityGroupIds: [securityGroupId],
            userData,
            metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
            rootBlockDevice: { volumeType: "gp3", volumeSize: args.rootVolumeSizeGiB, encrypted: true, deleteOnTermination: true },
            tags: { ...tags, Name: member.name, "etcd-member": member.name },
            volumeTags: { ...tags, Name: member.name },
        }, {
            parent,
            dependsOn: [guard],
            // Ignition runs only at first boot: a new image or user data would either do nothing
            // (stop/start) or replace every member at once, and so would a reordered subnet list.
            // A replaced member cannot rejoin by itself: replacement is a deliberate act.
            ignoreChanges: ["ami", "userData", "subnetId"],
        });
        return { member, instance };
    });
}
