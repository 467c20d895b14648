/**
 * An etcd cluster in a VPC the program already has (here an awsx.ec2.Vpc; any
 * VPC id and private subnet ids will do). The members go in the private
 * subnets, which need outbound access through NAT for the etcd image and the
 * discovery service.
 */
import * as awsx from "@pulumi/awsx";
import { Etcd3Cluster } from "etcd3-cluster";

const vpc = new awsx.ec2.Vpc("shared", {
    cidrBlock: "10.20.0.0/16",
    numberOfAvailabilityZones: 2,
    natGateways: { strategy: "Single" },
});

// #region cluster
const cluster = new Etcd3Cluster("etcd3", {
    vpcId: vpc.vpcId,
    privateSubnetIds: vpc.privateSubnetIds,   // at least 2, in different zones
});
// #endregion cluster

export const vpcId = vpc.vpcId;
export const etcd3ClusterUrl = cluster.etcd3ClusterUrl;
export const nodeSecurityGroupId = cluster.nodeSecurityGroupId;   // add your own rules to it
