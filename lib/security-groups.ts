/**
 * Who may talk to whom. Clients reach the members' 2379 only through the ALB;
 * members reach each other's 2380 and nobody else does; the ALB accepts port
 * 80 only from the allowed CIDRs. Each rule is its own resource, so rules can
 * change without replacing a group.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { clientPort, peerPort } from "./etcd";
import { loadBalancerSettings } from "./loadbalancer";
import { ClusterNetwork } from "./network";

export interface ClusterSecurityGroups {
    nodes: aws.ec2.SecurityGroup;
    loadBalancer: aws.ec2.SecurityGroup;
}

export interface SecurityGroupOptions {
    /** CIDRs allowed to reach the ALB listener. */
    allowedCidrs: pulumi.Input<string>[];
    /** CIDRs allowed to reach the members' SSH port, or none to leave it closed. */
    sshCidrs: pulumi.Input<string>[];
}

export function createSecurityGroups(
    name: string,
    network: ClusterNetwork,
    options: SecurityGroupOptions,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): ClusterSecurityGroups {
    const group = (suffix: string, description: string) => new aws.ec2.SecurityGroup(`${name}-${suffix}`, {
        vpcId: network.vpcId,
        description,
        tags: { ...tags, Name: `${tags.ecosystem}-${suffix}` },
    }, { parent });
    const nodes = group("nodes", "etcd members: clients via the load balancer, peers from each other");
    const loadBalancer = group("alb", "etcd load balancer: HTTP from the allowed CIDRs");

    const ingress = (suffix: string, args: Omit<aws.vpc.SecurityGroupIngressRuleArgs, "ipProtocol">) =>
        new aws.vpc.SecurityGroupIngressRule(`${name}-${suffix}`, { ipProtocol: "tcp", ...args, tags }, { parent });
    const egress = (suffix: string, args: aws.vpc.SecurityGroupEgressRuleArgs) =>
        new aws.vpc.SecurityGroupEgressRule(`${name}-${suffix}`, { ...args, tags }, { parent });

    ingress("nodes-client-from-alb", {
        securityGroupId: nodes.id, referencedSecurityGroupId: loadBalancer.id,
        fromPort: clientPort, toPort: clientPort, description: "etcd client API from the load balancer",
    });
    ingress("nodes-peer-from-nodes", {
        securityGroupId: nodes.id, referencedSecurityGroupId: nodes.id,
        fromPort: peerPort, toPort: peerPort, description: "etcd peer traffic between members",
    });
    options.sshCidrs.forEach((cidr, index) => ingress(`nodes-ssh-${index}`, {
        securityGroupId: nodes.id, cidrIpv4: cidr, fromPort: 22, toPort: 22, description: "SSH",
    }));
    // The members pull the etcd image and reach the discovery service over the internet (through NAT).
    egress("nodes-outbound", {
        securityGroupId: nodes.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "image pulls, discovery, OS updates",
    });

    options.allowedCidrs.forEach((cidr, index) => ingress(`alb-http-${index}`, {
        securityGroupId: loadBalancer.id, cidrIpv4: cidr,
        fromPort: loadBalancerSettings.listenerPort, toPort: loadBalancerSettings.listenerPort, description: "etcd REST API clients",
    }));
    egress("alb-to-nodes", {
        securityGroupId: loadBalancer.id, referencedSecurityGroupId: nodes.id, ipProtocol: "tcp",
        fromPort: clientPort, toPort: clientPort, description: "requests and health checks to the members",
    });

    return { nodes, loadBalancer };
}
