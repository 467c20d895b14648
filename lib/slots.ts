/**
 * Member slots: what a member is, apart from the instance that runs it. Each
 * slot holds a network interface (the member's private address, so its peer
 * URL never changes) and an encrypted gp3 data volume in the same zone (its
 * data). Instances come and go; a new instance takes the slot's interface as
 * its primary one and gets the slot's volume attached, and so *is* the old
 * member, with its address, its member id and its data.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { DataVolumeSettings } from "./args";
import type { MemberPlan } from "./plan";

/** The device name the data volume is attached under; the member finds it by volume id, not by this name. */
export const dataVolumeDeviceName = "/dev/sdf";

export interface MemberSlot {
    member: MemberPlan;
    networkInterface: aws.ec2.NetworkInterface;
    dataVolume: aws.ebs.Volume;
}

export interface SlotOptions {
    /** The subnets the members are spread over, round robin. */
    privateSubnetIds: pulumi.Output<string[]>;
    /** The members' security group, on the interface. */
    securityGroupId: pulumi.Input<string>;
    dataVolume: DataVolumeSettings;
}

/** Member `member`'s slot: its interface in its subnet, and its data volume in that subnet's zone. */
export function createSlot(
    name: string,
    member: MemberPlan,
    { privateSubnetIds, securityGroupId, dataVolume }: SlotOptions,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): MemberSlot {
    const subnetId = privateSubnetIds.apply((ids) => ids[member.index % ids.length]);
    const memberTags = { ...tags, "etcd-member": member.name };
    // A slot never moves: a reordered subnet list must not replace an interface (a new address) or a volume (no data).
    const networkInterface = new aws.ec2.NetworkInterface(`${name}-${member.index}-nic`, {
        subnetId,
        securityGroups: [securityGroupId],
        description: `etcd member ${member.name}: its address, whichever instance runs it`,
        tags: { ...memberTags, Name: member.name },
    }, { parent, ignoreChanges: ["subnetId"] });
    const zone = aws.ec2.getSubnetOutput({ id: subnetId }, { parent }).availabilityZone;
    const volume = new aws.ebs.Volume(`${name}-${member.index}-data`, {
        availabilityZone: zone,
        type: "gp3",
        size: dataVolume.sizeGiB,
        iops: dataVolume.iops,
        throughput: dataVolume.throughputMiBps,
        encrypted: true,
        kmsKeyId: dataVolume.kmsKeyId,
        tags: { ...memberTags, Name: `${member.name}-data` },
    }, {
        parent,
        ignoreChanges: ["availabilityZone"],
        // Kept in AWS when it leaves the stack unless the user opted out: the member's data outlives a mistaken destroy.
        retainOnDelete: dataVolume.retain,
    });
    return { member, networkInterface, dataVolume: volume };
}
