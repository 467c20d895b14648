/**
 * Member slots: what a member is, apart from the instance that runs it. Each
 * slot holds a network interface (the member's private address, so its peer
 * URL never changes) and, while it holds a member, an encrypted gp3 data
 * volume in the same zone (its data). Instances come and go; a new instance takes the slot's interface as
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

/**
 * Slot `slot`'s address: its interface in its subnet (round robin). Every slot
 * has one from the start, member or not yet (see `slotCount`): what the other
 * members' user data names never changes, and while the cluster is smaller
 * the address stays reserved, so no other machine can answer at it.
 */
export function createSlotAddress(
    name: string,
    slot: MemberPlan,
    { privateSubnetIds, securityGroupId }: Pick<SlotOptions, "privateSubnetIds" | "securityGroupId">,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): aws.ec2.NetworkInterface {
    const subnetId = privateSubnetIds.apply((ids) => ids[slot.index % ids.length]);
    // A slot never moves: a reordered subnet list must not replace an interface (a new address).
    return new aws.ec2.NetworkInterface(`${name}-${slot.index}-nic`, {
        subnetId,
        securityGroups: [securityGroupId],
        description: `etcd member ${slot.name}: its address, whichever instance runs it (reserved while the cluster is smaller)`,
        tags: { ...tags, "etcd-member": slot.name, Name: slot.name },
    }, { parent, ignoreChanges: ["subnetId"] });
}

/** Member `member`'s slot: its address (made by `createSlotAddress`), and its data volume in the zone of the address's subnet. */
export function createSlot(
    name: string,
    member: MemberPlan,
    networkInterface: aws.ec2.NetworkInterface,
    { dataVolume }: Pick<SlotOptions, "dataVolume">,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): MemberSlot {
    const memberTags = { ...tags, "etcd-member": member.name };
    const zone = aws.ec2.getSubnetOutput({ id: networkInterface.subnetId }, { parent }).availabilityZone;
    // A slot never moves: a new zone must not replace a volume (no data).
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
