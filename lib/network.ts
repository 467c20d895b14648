/**
 * The network the cluster lives in: a new awsx VPC (public and private subnets
 * over two or three zones, NAT for the members' outbound traffic), or an
 * existing VPC and its subnets.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import { minimumSubnets, privateSubnetProblem, publicSubnetProblem, ResolvedEtcd3ClusterArgs } from "./args";

export interface ClusterNetwork {
    vpcId: pulumi.Output<string>;
    /** The VPC's primary CIDR: the default for who may reach the internal ALB. */
    vpcCidr: pulumi.Output<string>;
    privateSubnetIds: pulumi.Output<string[]>;
    publicSubnetIds: pulumi.Output<string[]>;
}

export function createNetwork(
    name: string,
    args: ResolvedEtcd3ClusterArgs,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): ClusterNetwork {
    const network = args.network;
    if (network.kind === "existing") {
        const vpcId = pulumi.output(network.vpcId);
        // Plain lists were counted by resolveArgs before anything was registered; outputs are counted once they resolve.
        const counted = (ids: pulumi.Input<pulumi.Input<string>[]>, problem: (count: number) => string, needed: boolean) =>
            Array.isArray(ids) || !needed ? pulumi.output(ids) : pulumi.output(ids).apply((resolved) => {
                if (resolved.length < minimumSubnets) {
                    throw new Error(`Etcd3Cluster "${name}" has invalid arguments: ${problem(resolved.length)}`);
                }
                return resolved;
            });
        return {
            vpcId,
            vpcCidr: aws.ec2.getVpcOutput({ id: vpcId }, { parent }).cidrBlock,
            privateSubnetIds: counted(network.privateSubnetIds, privateSubnetProblem, true),
            publicSubnetIds: counted(network.publicSubnetIds, publicSubnetProblem, args.internetFacing),
        };
    }
    const vpc = new awsx.ec2.Vpc(`${name}-vpc`, {
        cidrBlock: network.vpcCidr,
        numberOfAvailabilityZones: network.availabilityZoneCount,
        natGateways: { strategy: network.natGateways },
        subnetStrategy: "Auto",
        subnetSpecs: [{ type: "Public" }, { type: "Private" }],
        enableDnsHostnames: true,
        tags: { ...tags, Name: `${args.ecosystem}-vpc` },
    }, { parent });
    return {
        vpcId: vpc.vpcId,
        vpcCidr: pulumi.output(network.vpcCidr),
        privateSubnetIds: vpc.privateSubnetIds,
        publicSubnetIds: vpc.publicSubnetIds,
    };
}
