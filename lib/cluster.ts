/**
 * The Etcd3Cluster component: wires the network, discovery token, members and
 * load balancer together. Each concern lives in its own module.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Etcd3ClusterArgs, resolveArgs } from "./args";
import { DiscoveryUrl } from "./discovery";
import { createDnsRecord } from "./dns";
import { clientPort, peerPort } from "./etcd";
import { createLoadBalancer, LoadBalancerKind } from "./loadbalancer";
import { createNetwork } from "./network";
import { createNodes } from "./nodes";
import { createSecurityGroups } from "./security-groups";

export class Etcd3Cluster extends pulumi.ComponentResource {
    /** `http://<load balancer or dnsName>`: the seed's cluster URL for curl and the REST API. */
    public readonly etcd3ClusterUrl: pulumi.Output<string>;
    /** The discovery URL the members formed the cluster with. */
    public readonly etcd3DiscoveryUrl: pulumi.Output<string>;
    /** The ALB's own DNS name. */
    public readonly loadBalancerDnsName: pulumi.Output<string>;
    /** The etcd member names, in instance order. */
    public readonly memberNames: string[];
    /** The members' EC2 instance ids, in member order. */
    public readonly instanceIds: pulumi.Output<string[]>;
    /** The members' private IPv4 addresses, in member order. */
    public readonly privateIps: pulumi.Output<string[]>;
    /** The VPC the cluster is in (new or given). */
    public readonly vpcId: pulumi.Output<string>;
    /** The private subnets the members are spread over. */
    public readonly privateSubnetIds: pulumi.Output<string[]>;
    /** The members' security group, to add rules of your own. */
    public readonly nodeSecurityGroupId: pulumi.Output<string>;
    /** The ALB's security group. */
    public readonly loadBalancerSecurityGroupId: pulumi.Output<string>;
    /** The ALB's target group, e.g. for alarms on unhealthy members. */
    public readonly targetGroupArn: pulumi.Output<string>;
    /** `http://<private ip>:2379` per member: what `etcdctl --endpoints` and gRPC client libraries take. */
    public readonly clientEndpoints: pulumi.Output<string[]>;
    /** `http://<private ip>:2380` per member. */
    public readonly peerUrls: pulumi.Output<string[]>;
    /** `<nlb dns name>:2379` for gRPC clients when `grpcLoadBalancer` is set, otherwise undefined. */
    public readonly grpcEndpoint: pulumi.Output<string | undefined>;

    /**
     * @throws Etcd3ClusterArgumentError before registering anything when an argument is invalid.
     */
    constructor(name: string, args: Etcd3ClusterArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        const resolved = resolveArgs(name, args);
        super("etcd3-cluster:index:Etcd3Cluster", name, {}, opts);
        const tags = { ...resolved.tags, ecosystem: resolved.ecosystem };

        const network = createNetwork(name, resolved, tags, this);

        this.etcd3DiscoveryUrl = resolved.discoveryUrl !== undefined
            ? pulumi.output(resolved.discoveryUrl)
            : new DiscoveryUrl(`${name}-discovery`, {
                size: resolved.clusterSize,
                service: resolved.discoveryService,
                logFile: resolved.discoveryLogFile && path.resolve(resolved.discoveryLogFile),
            }, { parent: this }).url;

        const loadBalancerKinds: LoadBalancerKind[] = resolved.grpcLoadBalancer ? ["alb", "nlb"] : ["alb"];
        const securityGroups = createSecurityGroups(name, network, {
            loadBalancers: loadBalancerKinds,
            allowedCidrs: resolved.allowedCidrs ?? [network.vpcCidr],
            clientCidrs: resolved.clientCidrs ?? [network.vpcCidr],
            sshCidrs: resolved.sshAuthorizedKeys.length > 0 ? [network.vpcCidr] : [],
        }, tags, this);

        const nodes = createNodes(name, resolved, this.etcd3DiscoveryUrl, network.privateSubnetIds,
            securityGroups.nodes.id, tags, this);

        const balancers = loadBalancerKinds.map((kind) => createLoadBalancer(name, kind, {
            internetFacing: resolved.internetFacing,
            subnetIds: resolved.internetFacing ? network.publicSubnetIds : network.privateSubnetIds,
            securityGroupId: securityGroups.loadBalancers[kind]!.id,
            vpcId: network.vpcId,
            instanceIds: nodes.map((node) => node.instance.id),
        }, tags, this));
        const [balancer, grpcBalancer] = balancers;

        const record = resolved.dns && createDnsRecord(name, resolved.dns, balancer.loadBalancer, this);

        this.loadBalancerDnsName = balancer.loadBalancer.dnsName;
        this.etcd3ClusterUrl = pulumi.interpolate`http://${record ? record.fqdn : balancer.loadBalancer.dnsName}`;
        this.memberNames = nodes.map((node) => node.memberName);
        this.instanceIds = pulumi.all(nodes.map((node) => node.instance.id));
        this.privateIps = pulumi.all(nodes.map((node) => node.instance.privateIp));
        this.vpcId = network.vpcId;
        this.privateSubnetIds = network.privateSubnetIds;
        this.nodeSecurityGroupId = securityGroups.nodes.id;
        this.loadBalancerSecurityGroupId = securityGroups.loadBalancers.alb!.id;
        this.targetGroupArn = balancer.targetGroup.arn;
        this.clientEndpoints = this.privateIps.apply((ips) => ips.map((ip) => `http://${ip}:${clientPort}`));
        this.peerUrls = this.privateIps.apply((ips) => ips.map((ip) => `http://${ip}:${peerPort}`));
        this.grpcEndpoint = grpcBalancer
            ? pulumi.interpolate`${grpcBalancer.loadBalancer.dnsName}:${clientPort}`
            : pulumi.output<string | undefined>(undefined);

        this.registerOutputs({
            etcd3ClusterUrl: this.etcd3ClusterUrl,
            etcd3DiscoveryUrl: this.etcd3DiscoveryUrl,
            loadBalancerDnsName: this.loadBalancerDnsName,
            memberNames: this.memberNames,
            instanceIds: this.instanceIds,
            privateIps: this.privateIps,
            vpcId: this.vpcId,
            privateSubnetIds: this.privateSubnetIds,
            nodeSecurityGroupId: this.nodeSecurityGroupId,
            loadBalancerSecurityGroupId: this.loadBalancerSecurityGroupId,
            targetGroupArn: this.targetGroupArn,
            clientEndpoints: this.clientEndpoints,
            peerUrls: this.peerUrls,
            grpcEndpoint: this.grpcEndpoint,
        });
    }
}
