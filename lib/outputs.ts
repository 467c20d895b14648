/**
 * The component's outputs, defined once: their documentation here (the
 * README's table is generated from it), their names in one list that
 * `registerOutputs` and the program's exports are checked against.
 */
import type * as pulumi from "@pulumi/pulumi";

export interface Etcd3ClusterOutputs {
    /** `http://<dnsName or the ALB's DNS name>` (`https://` with `certificateArn`): the seed's one URL for curl and the REST API. */
    readonly etcd3ClusterUrl: pulumi.Output<string>;
    /** The discovery URL the members formed the cluster with (requested, or the `discoveryUrl` given); undefined with `bootstrap: "static"`. */
    readonly etcd3DiscoveryUrl: pulumi.Output<string | undefined>;
    /** The ALB's own DNS name. */
    readonly loadBalancerDnsName: pulumi.Output<string>;
    /** The etcd member names, `<ecosystem>-0`, `-1`, ..., in member order. */
    readonly memberNames: string[];
    /** The members' EC2 instance ids, in member order. */
    readonly instanceIds: pulumi.Output<string[]>;
    /** The members' private IPv4 addresses, in member order: their slots' network interfaces' addresses, which outlive instances. */
    readonly privateIps: pulumi.Output<string[]>;
    /** The members' network interfaces (`eni-…`), in member order: each member's stable address. */
    readonly networkInterfaceIds: pulumi.Output<string[]>;
    /** The members' data volumes (`vol-…`), in member order: each member's data, kept when it leaves the stack unless `retainDataVolumes` is false. */
    readonly dataVolumeIds: pulumi.Output<string[]>;
    /** The VPC the cluster is in (new or given). */
    readonly vpcId: pulumi.Output<string>;
    /** The private subnets the members are spread over. */
    readonly privateSubnetIds: pulumi.Output<string[]>;
    /** The members' security group, to add rules of your own. */
    readonly nodeSecurityGroupId: pulumi.Output<string>;
    /** The ALB's security group, to add rules of your own. */
    readonly loadBalancerSecurityGroupId: pulumi.Output<string>;
    /** The ALB's target group, e.g. for alarms on unhealthy members. */
    readonly targetGroupArn: pulumi.Output<string>;
    /** `http://<private ip>:2379` per member (`https://` with `clientTls`), in member order: what `etcdctl --endpoints` and gRPC client libraries take. */
    readonly clientEndpoints: pulumi.Output<string[]>;
    /** `http://<private ip>:2380` per member (`https://` with `peerTls`), in member order. */
    readonly peerUrls: pulumi.Output<string[]>;
    /** `<NLB DNS name>:2379` for gRPC clients with `grpcLoadBalancer`, otherwise undefined. */
    readonly grpcEndpoint: pulumi.Output<string | undefined>;
    /** `s3://<bucket>/<prefix>` where the snapshots go with `backups`, otherwise undefined. */
    readonly backupLocation: pulumi.Output<string | undefined>;
    /**
     * The cluster CA's certificate (PEM) with `peerTls`, otherwise undefined:
     * with `clientTls`, what clients verify the members with
     * (`etcdctl --cacert`, a gRPC client's root CA). During a rotation of
     * the peer CA, both CAs' certificates, one after the other. Not a secret.
     */
    readonly caCertificate: pulumi.Output<string | undefined>;
}

/** Every output, once, in the README's order. The type makes a missing or extra name a compile error. */
const outputs: Record<keyof Etcd3ClusterOutputs, true> = {
    etcd3ClusterUrl: true, etcd3DiscoveryUrl: true, loadBalancerDnsName: true, memberNames: true, instanceIds: true,
    privateIps: true, networkInterfaceIds: true, dataVolumeIds: true, vpcId: true, privateSubnetIds: true, nodeSecurityGroupId: true,
    loadBalancerSecurityGroupId: true,
    targetGroupArn: true, clientEndpoints: true, peerUrls: true, grpcEndpoint: true, backupLocation: true,
    caCertificate: true,
};

export const outputNames = Object.keys(outputs) as (keyof Etcd3ClusterOutputs)[];
