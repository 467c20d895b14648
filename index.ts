/**
 * The Pulumi program: `pulumi up` with stack config brings up one cluster.
 * Every config key is the component argument of the same name; Pulumi.yaml
 * declares the ones with defaults, README.md lists the optional ones.
 */
import * as pulumi from "@pulumi/pulumi";
import { Etcd3Cluster, Etcd3ClusterArgs, NatGatewayStrategy, OperatingSystem } from "./lib";

const config = new pulumi.Config();

const args: Etcd3ClusterArgs = {
    ecosystem: config.get("ecosystem"),
    vpcCidr: config.get("vpcCidr"),
    availabilityZoneCount: config.getNumber("availabilityZoneCount"),
    natGateways: config.get("natGateways") as NatGatewayStrategy | undefined,
    vpcId: config.get("vpcId"),
    privateSubnetIds: config.getObject<string[]>("privateSubnetIds"),
    publicSubnetIds: config.getObject<string[]>("publicSubnetIds"),
    clusterSize: config.getNumber("clusterSize"),
    instanceType: config.get("instanceType"),
    amiId: config.get("amiId"),
    os: config.get("os") as OperatingSystem | undefined,
    etcdVersion: config.get("etcdVersion"),
    etcdImageRepository: config.get("etcdImageRepository"),
    heartbeatIntervalMs: config.getNumber("heartbeatIntervalMs"),
    electionTimeoutMs: config.getNumber("electionTimeoutMs"),
    discoveryUrl: config.get("discoveryUrl"),
    discoveryService: config.get("discoveryService"),
    // `pulumi config set discoveryLogFile false` turns the log off.
    discoveryLogFile: config.get("discoveryLogFile") === "false" ? false : config.get("discoveryLogFile"),
    sshAuthorizedKeys: config.getObject<string[]>("sshAuthorizedKeys"),
    internetFacing: config.getBoolean("internetFacing"),
    allowedCidrs: config.getObject<string[]>("allowedCidrs"),
    clientCidrs: config.getObject<string[]>("clientCidrs"),
    grpcLoadBalancer: config.getBoolean("grpcLoadBalancer"),
    dnsName: config.get("dnsName"),
    hostedZoneId: config.get("hostedZoneId"),
    rootVolumeSizeGiB: config.getNumber("rootVolumeSizeGiB"),
    tags: config.getObject<Record<string, string>>("tags"),
};
const cluster = new Etcd3Cluster("etcd3", args);

export const etcd3ClusterUrl = cluster.etcd3ClusterUrl;
export const etcd3DiscoveryUrl = cluster.etcd3DiscoveryUrl;
export const loadBalancerDnsName = cluster.loadBalancerDnsName;
export const memberNames = cluster.memberNames;
export const instanceIds = cluster.instanceIds;
export const privateIps = cluster.privateIps;
export const vpcId = cluster.vpcId;
export const privateSubnetIds = cluster.privateSubnetIds;
export const targetGroupArn = cluster.targetGroupArn;
export const nodeSecurityGroupId = cluster.nodeSecurityGroupId;
export const loadBalancerSecurityGroupId = cluster.loadBalancerSecurityGroupId;
export const clientEndpoints = cluster.clientEndpoints;
export const peerUrls = cluster.peerUrls;
export const grpcEndpoint = cluster.grpcEndpoint;
