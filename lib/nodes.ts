/**
 * The etcd members: a slot per member (its address and data volume, see
 * slots.ts), a disposable instance that runs it, booted with the member's
 * Ignition config as user data, its registration in the load balancers'
 * target groups, and its health gate (rolling.ts).
 *
 * A change that reaches an instance (image, user data, instance type)
 * replaces it: the gate first waits for the other members to be healthy and
 * drains the instance from the load balancers, the old instance is stopped
 * and deleted (its slot's interface can be the primary interface of one
 * instance only), then the new one takes the slot and comes back as the same
 * member, and the gate waits until it is healthy. Each member's instance
 * depends on the previous member's gate: members are replaced one at a time.
 *
 * A member that leaves (a smaller `clusterSize`) goes in the reverse order of
 * those dependencies, highest slot first: its gate drains it, its departure
 * (departure.ts) has it remove itself from etcd and power off, then its
 * instance and volume attachment are deleted.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ResolvedEtcd3ClusterArgs } from "./args";
import type { MemberStorage } from "./backup";
import { memberImage } from "./image";
import { renderUserData } from "./ignition";
import { MemberDeparture } from "./departure";
import { ClusterLoadBalancer, loadBalancerSettings, registerTarget } from "./loadbalancer";
import { MemberHealthGate } from "./rolling";
import { memberIgnitionOptions, MemberPlan, MemberRuntimeFacts, planMembers, planSlots } from "./plan";
import { createSlot, createSlotAddress, dataVolumeDeviceName, MemberSlot } from "./slots";

export interface ClusterNode {
    member: MemberPlan;
    slot: MemberSlot;
    instance: aws.ec2.Instance;
    dataVolumeAttachment: aws.ec2.VolumeAttachment;
    targets: aws.lb.TargetGroupAttachment[];
    departure: MemberDeparture;
    healthGate: MemberHealthGate;
}

/**
 * How the members form the cluster: through the discovery URL they share, or
 * statically from the slots' addresses with the cluster's token.
 */
export type ClusterFormation =
    | { method: "discovery"; discoveryUrl: pulumi.Input<string> }
    | { method: "static"; clusterToken: pulumi.Input<string> };

export interface NodeOptions {
    formation: ClusterFormation;
    /** The size the cluster was created with: its first slots formed it, the later ones joined it (see founding.ts). */
    foundingClusterSize: pulumi.Input<number>;
    /** The subnets the members are spread over, round robin. */
    privateSubnetIds: pulumi.Output<string[]>;
    /** The members' security group. */
    securityGroupId: pulumi.Input<string>;
    /** The resource whose diff refuses changes the members cannot take: no member is touched before it. */
    guard: pulumi.Resource;
    /** The load balancers whose target groups the members are registered in. */
    balancers: ClusterLoadBalancer[];
    /** The target groups' region, for the health gates' AWS calls. */
    region: pulumi.Input<string>;
    /** The stack's `aws:profile`, if any, for the same calls. */
    profile?: string;
    /** With backups, restoreFrom or peer TLS: the buckets the members use, and their instance profile. */
    storage?: MemberStorage;
}

export function createNodes(
    name: string,
    args: ResolvedEtcd3ClusterArgs,
    { formation, foundingClusterSize, privateSubnetIds, securityGroupId, guard, balancers, region, profile, storage }: NodeOptions,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): ClusterNode[] {
    const ami = memberImage(name, args, parent);
    const slotPlans = planSlots(args);
    const members = planMembers(args);
    const addresses = slotPlans.map((slot) => createSlotAddress(name, slot, { privateSubnetIds, securityGroupId }, tags, parent));
    const slots = members.map((member) => createSlot(name, member, addresses[member.index], { dataVolume: args.dataVolume }, tags, parent));
    // Every slot's address, member or not yet: whom a member with empty data asks to join, and the founding slots' static member list.
    const slotMembers = pulumi.all(addresses.map((address) => address.privateIp))
        .apply((ips) => slotPlans.map((slot, index) => ({ name: slot.name, ip: ips[index] })));
    const known = pulumi.all([slotMembers, foundingClusterSize]).apply(([list, founding]) => ({ members: list, foundingClusterSize: founding }));
    const bootstrap: pulumi.Output<Pick<MemberRuntimeFacts, "discoveryUrl" | "clusterToken" | "members" | "foundingClusterSize">> = formation.method === "discovery"
        ? pulumi.all([formation.discoveryUrl, known]).apply(([discoveryUrl, facts]) => ({ discoveryUrl, ...facts }))
        : pulumi.all([formation.clusterToken, known]).apply(([clusterToken, facts]) => ({ clusterToken, ...facts }));
    const buckets = pulumi.all([
        storage?.backupBucket?.name, storage?.backupBucket?.region, storage?.restoreSource?.region,
        storage?.secretsBucket?.name, storage?.secretsBucket?.region,
    ]).apply(([backupName, backupRegion, restoreRegion, secretsName, secretsRegion]) => ({
        backupBucket: backupName === undefined ? undefined : { name: backupName, region: backupRegion! },
        restoreSource: storage?.restoreSource && { bucket: storage.restoreSource.bucket, region: restoreRegion!, key: storage.restoreSource.key },
        secretsBucket: secretsName === undefined ? undefined : { name: secretsName, region: secretsRegion! },
    }));
    // With client TLS, gRPC clients reach the members through the NLB by its name: the members' certificates give it.
    const grpcBalancer = balancers.find((balancer) => balancer.kind === "nlb");
    const certificateDnsNames = pulumi.output(args.clientTls && grpcBalancer ? [grpcBalancer.loadBalancer.dnsName] : []);
    const nodes: ClusterNode[] = [];
    for (const [index, member] of members.entries()) {
        const slot = slots[index];
        const userData = pulumi.all([bootstrap, slot.dataVolume.id, buckets, certificateDnsNames]).apply(([formed, dataVolumeId, used, dnsNames]) =>
            renderUserData(memberIgnitionOptions(args, member, { ...formed, dataVolumeId, ...used, certificateDnsNames: dnsNames })));
        const previous = nodes[nodes.length - 1];
        const instance = new aws.ec2.Instance(`${name}-${member.index}`, {
            ami,
            instanceType: args.instanceType,
            primaryNetworkInterface: { networkInterfaceId: slot.networkInterface.id },
            userData,
            // A new instance is the only way new user data reaches a member: Ignition runs at first boot only.
            userDataReplaceOnChange: true,
            // In place: EC2 associates an instance profile with a running instance.
            iamInstanceProfile: storage?.instanceProfile.name,
            // The instance's tags in its metadata: how a member learns it is to leave the cluster (its departure tags it).
            metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1, instanceMetadataTags: "enabled" },
            // A host failure brings the same instance back, with its slot, on healthy hardware.
            maintenanceOptions: { autoRecovery: "default" },
            rootBlockDevice: {
                volumeType: "gp3", volumeSize: args.rootVolumeSizeGiB, encrypted: true, deleteOnTermination: true,
                tags: { ...tags, Name: `${member.name}-root`, "etcd-member": member.name },
            },
            tags: { ...tags, Name: member.name, "etcd-member": member.name },
        }, {
            parent,
            // The guard refuses what a running cluster cannot take before any member is touched; the previous
            // member's health gate orders the replacements one member at a time.
            // With backups, a restore or peer TLS, its role's policy (and the secrets it reads) are in place before the member first reaches S3.
            dependsOn: [guard, ...previous ? [previous.healthGate] : [], ...storage?.bootDependencies ?? []],
            // The slot's interface is the primary interface of one instance at a time.
            deleteBeforeReplace: true,
            // In place, a new type would stop and start the member while the load balancer still sends it requests.
            replaceOnChanges: ["instanceType"],
        });
        const dataVolumeAttachment = new aws.ec2.VolumeAttachment(`${name}-${member.index}-data-attachment`, {
            deviceName: dataVolumeDeviceName,
            volumeId: slot.dataVolume.id,
            instanceId: instance.id,
            // The instance shuts down cleanly (etcd stops, the file system unmounts) before the volume is detached.
            stopInstanceBeforeDetaching: true,
        }, { parent, deleteBeforeReplace: true });
        const targets = balancers.map((balancer) => registerTarget(name, balancer, member.index, instance.id, parent));
        // Deleted, when the member leaves, after its gate drained it and before its volume is detached and its instance deleted.
        const departure = new MemberDeparture(`${name}-${member.index}-departure`, {
            memberName: member.name,
            instanceId: instance.id,
            region,
            profile,
            timeoutSeconds: args.memberDepartureTimeoutMinutes * 60,
        }, { parent, dependsOn: [dataVolumeAttachment, ...targets] });
        const healthGate = new MemberHealthGate(`${name}-${member.index}-health`, {
            memberName: member.name,
            instanceId: instance.id,
            targetGroupArns: pulumi.all(balancers.map((balancer) => balancer.targetGroup.arn)),
            region,
            profile,
            timeoutSeconds: args.rollingHealthTimeoutMinutes * 60,
            minimumDrainSeconds: loadBalancerSettings.deregistrationDelaySeconds,
        }, { parent, dependsOn: [departure] });
        nodes.push({ member, slot, instance, dataVolumeAttachment, targets, departure, healthGate });
    }
    return nodes;
}
