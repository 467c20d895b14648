/**
 * Who may talk to whom. Members accept 2379 from the load balancers, from
 * each other and from the client CIDRs (etcd v3 clients balance over the members themselves), 2381
 * (metrics) from the client CIDRs, and 2380 only from each other; each load balancer accepts its listener ports only
 * from the allowed CIDRs (the ALB's 80, and 443 with HTTPS). Out, the members reach each other's 2379 and 2380
 * and, anywhere, only the ports of what they use (lib/egress.ts). Each rule is its own resource, so rules can
 * change without replacing a group.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { OutboundPort } from "./egress";
import { clientPort, metricsPort, peerPort } from "./etcd";
import { httpsListenerPort, LoadBalancerKind, loadBalancerProfiles } from "./loadbalancer";
import { ClusterNetwork } from "./network";

export interface ClusterSecurityGroups {
    nodes: aws.ec2.SecurityGroup;
    /** One group per load balancer the cluster has. */
    loadBalancers: Partial<Record<LoadBalancerKind, aws.ec2.SecurityGroup>>;
    /** The rules that let clients reach the ALB's 443 (none without HTTPS). */
    httpsIngress: aws.vpc.SecurityGroupIngressRule[];
}

export interface SecurityGroupOptions {
    /** The load balancers the cluster has. */
    loadBalancers: LoadBalancerKind[];
    /** CIDRs allowed to reach the load balancers' listeners. */
    allowedCidrs: pulumi.Input<string>[];
    /** Whether the ALB also listens on 443 (HTTPS). */
    https: boolean;
    /** CIDRs allowed to reach the members' client port directly. */
    clientCidrs: pulumi.Input<string>[];
    /** CIDRs allowed to reach the members' SSH port, or none to leave it closed. */
    sshCidrs: pulumi.Input<string>[];
    /** The ports the members reach outside their group (`memberOutboundPorts`); nothing else goes out. */
    outbound: OutboundPort[];
}

export function createSecurityGroups(
    name: string,
    network: ClusterNetwork,
    options: SecurityGroupOptions,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): ClusterSecurityGroups {
    const group = (suffix: string, description: string) => new aws.ec2.SecurityGroup(`${name}-${suffix}-sg`, {
        vpcId: network.vpcId,
        description,
        tags: { ...tags, Name: `${tags.ecosystem}-${suffix}` },
    }, { parent });
    const ingress = (suffix: string, args: Omit<aws.vpc.SecurityGroupIngressRuleArgs, "ipProtocol">) =>
        new aws.vpc.SecurityGroupIngressRule(`${name}-${suffix}`, { ipProtocol: "tcp", ...args, tags }, { parent });
    const egress = (suffix: string, args: aws.vpc.SecurityGroupEgressRuleArgs) =>
        new aws.vpc.SecurityGroupEgressRule(`${name}-${suffix}`, { ...args, tags }, { parent });

    const nodes = group("nodes", "etcd members: clients from the load balancers and client CIDRs, peers from each other");
    ingress("nodes-peer-from-nodes", {
        securityGroupId: nodes.id, referencedSecurityGroupId: nodes.id,
        fromPort: peerPort, toPort: peerPort, description: "etcd peer traffic between members",
    });
    // A member's start decision, promotion, departure and maintenance ask the other members' client port, whatever clientCidrs says.
    ingress("nodes-client-from-nodes", {
        securityGroupId: nodes.id, referencedSecurityGroupId: nodes.id,
        fromPort: clientPort, toPort: clientPort, description: "etcd client API between members (joins, promotions, departures, maintenance)",
    });
    options.clientCidrs.forEach((cidr, index) => {
        ingress(`nodes-client-${index}`, {
            securityGroupId: nodes.id, cidrIpv4: cidr, fromPort: clientPort, toPort: clientPort, description: "etcd clients (gRPC, REST)",
        });
        ingress(`nodes-metrics-${index}`, {
            securityGroupId: nodes.id, cidrIpv4: cidr, fromPort: metricsPort, toPort: metricsPort, description: "etcd metrics and health (monitoring)",
        });
    });
    options.sshCidrs.forEach((cidr, index) => ingress(`nodes-ssh-${index}`, {
        securityGroupId: nodes.id, cidrIpv4: cidr, fromPort: 22, toPort: 22, description: "SSH",
    }));
    // Out, the members reach each other's etcd ports and, through NAT, only the ports of what they use outside (lib/egress.ts).
    egress("nodes-peer-to-nodes", {
        securityGroupId: nodes.id, referencedSecurityGroupId: nodes.id, ipProtocol: "tcp",
        fromPort: peerPort, toPort: peerPort, description: "etcd peer traffic between members",
    });
    egress("nodes-client-to-nodes", {
        securityGroupId: nodes.id, referencedSecurityGroupId: nodes.id, ipProtocol: "tcp",
        fromPort: clientPort, toPort: clientPort, description: "etcd client API between members (joins, promotions, departures, maintenance)",
    });
    for (const { protocol, port, purposes } of options.outbound) {
        egress(`nodes-out-${protocol}-${port}`, {
            securityGroupId: nodes.id, ipProtocol: protocol, cidrIpv4: "0.0.0.0/0", fromPort: port, toPort: port, description: purposes.join(", "),
        });
    }

    const loadBalancers: ClusterSecurityGroups["loadBalancers"] = {};
    const httpsIngress: aws.vpc.SecurityGroupIngressRule[] = [];
    for (const kind of options.loadBalancers) {
        const profile = loadBalancerProfiles[kind];
        const port = profile.listenerPort;
        const balancer = group(kind, profile.description);
        options.allowedCidrs.forEach((cidr, index) => ingress(`${kind}-in-${index}`, {
            securityGroupId: balancer.id, cidrIpv4: cidr, fromPort: port, toPort: port, description: "etcd clients",
        }));
        if (kind === "alb" && options.https) {
            httpsIngress.push(...options.allowedCidrs.map((cidr, index) => ingress(`${kind}-https-in-${index}`, {
                securityGroupId: balancer.id, cidrIpv4: cidr, fromPort: httpsListenerPort, toPort: httpsListenerPort, description: "etcd clients over HTTPS",
            })));
        }
        egress(`${kind}-to-nodes`, {
            securityGroupId: balancer.id, referencedSecurityGroupId: nodes.id, ipProtocol: "tcp",
            fromPort: clientPort, toPort: clientPort, description: "requests and health checks to the members",
        });
        ingress(`nodes-client-from-${kind}`, {
            securityGroupId: nodes.id, referencedSecurityGroupId: balancer.id,
            fromPort: clientPort, toPort: clientPort, description: `etcd client API from the ${kind.toUpperCase()}`,
        });
        loadBalancers[kind] = balancer;
    }
    return { nodes, loadBalancers, httpsIngress };
}
