/**
 * The Pulumi program: `pulumi up` with stack config brings up one cluster.
 * Every config key is the component argument of the same name (lib/args.ts
 * defines how each is read); Pulumi.yaml declares the ones with a default.
 * The exports are the component's outputs, one each (lib/outputs.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { argsFromConfig, Etcd3Cluster } from "./lib";

const cluster = new Etcd3Cluster("etcd3", argsFromConfig(new pulumi.Config()));

export const etcd3ClusterUrl = cluster.etcd3ClusterUrl;
export const etcd3DiscoveryUrl = cluster.etcd3DiscoveryUrl;
export const loadBalancerDnsName = cluster.loadBalancerDnsName;
export const memberNames = cluster.memberNames;
export const instanceIds = cluster.instanceIds;
export const privateIps = cluster.privateIps;
export const networkInterfaceIds = cluster.networkInterfaceIds;
export const dataVolumeIds = cluster.dataVolumeIds;
export const vpcId = cluster.vpcId;
export const privateSubnetIds = cluster.privateSubnetIds;
export const nodeSecurityGroupId = cluster.nodeSecurityGroupId;
export const loadBalancerSecurityGroupId = cluster.loadBalancerSecurityGroupId;
export const targetGroupArn = cluster.targetGroupArn;
export const clientEndpoints = cluster.clientEndpoints;
export const peerUrls = cluster.peerUrls;
export const grpcEndpoint = cluster.grpcEndpoint;
export const backupLocation = cluster.backupLocation;
export const caCertificate = cluster.caCertificate;
