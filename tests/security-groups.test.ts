/**
 * lib/security-groups.ts called directly under the suite's Pulumi mocks: every
 * group and rule, inputs compared whole, descriptions and tags included.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, resourcesOf, settle, uniqueName } from "./support/pulumi-mocks";

installMocks();
import { createSecurityGroups } from "../lib/security-groups";

const tags = { ecosystem: "kv", team: "db" };
const network = {
    vpcId: pulumi.output("vpc-1"), vpcCidr: pulumi.output("10.7.0.0/16"),
    privateSubnetIds: pulumi.output(["subnet-a"]), publicSubnetIds: pulumi.output(["subnet-b"]),
};

describe("the security groups (lib/security-groups.ts)", () => {
    let name: string;
    const inputsOf = (type: string) => Object.fromEntries(resourcesOf(name, type).map((r) => [r.name.slice(name.length + 1), r.inputs]));
    before(async () => {
        name = uniqueName();
        const parent = new pulumi.ComponentResource("test:index:Parent", name);
        createSecurityGroups(name, network, {
            loadBalancers: ["alb", "nlb"], allowedCidrs: ["203.0.113.0/24"], https: false, clientCidrs: ["10.7.0.0/16"], sshCidrs: ["10.7.0.0/16"],
            outbound: [{ protocol: "tcp", port: 443, purposes: ["AWS APIs", "OS updates"] }, { protocol: "udp", port: 123, purposes: ["NTP"] }],
        }, tags, parent);
        await settle();
    });

    it("makes a group for the members and one per load balancer, each described and named", () => {
        expect(inputsOf("aws:ec2/securityGroup:SecurityGroup")).to.deep.equal({
            "nodes-sg": {
                vpcId: "vpc-1", description: "etcd members: clients from the load balancers and client CIDRs, peers from each other",
                tags: { ecosystem: "kv", team: "db", Name: "kv-nodes" },
            },
            "alb-sg": { vpcId: "vpc-1", description: "etcd REST API load balancer: HTTP from the allowed CIDRs", tags: { ecosystem: "kv", team: "db", Name: "kv-alb" } },
            "nlb-sg": { vpcId: "vpc-1", description: "etcd gRPC load balancer: TCP 2379 from the allowed CIDRs", tags: { ecosystem: "kv", team: "db", Name: "kv-nlb" } },
        });
    });

    it("gives every ingress rule its group, protocol, ports, one peer, description and the tags", () => {
        const group = (role: string) => `${name}-${role}-sg-id`;
        expect(inputsOf("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")).to.deep.equal({
            "nodes-peer-from-nodes": {
                ipProtocol: "tcp", securityGroupId: group("nodes"), referencedSecurityGroupId: group("nodes"), fromPort: 2380, toPort: 2380,
                description: "etcd peer traffic between members", tags,
            },
            "nodes-client-from-nodes": {
                ipProtocol: "tcp", securityGroupId: group("nodes"), referencedSecurityGroupId: group("nodes"), fromPort: 2379, toPort: 2379,
                description: "etcd client API between members (joins, promotions, departures, maintenance)", tags,
            },
            "nodes-client-0": {
                ipProtocol: "tcp", securityGroupId: group("nodes"), cidrIpv4: "10.7.0.0/16", fromPort: 2379, toPort: 2379,
                description: "etcd clients (gRPC, REST)", tags,
            },
            "nodes-metrics-0": {
                ipProtocol: "tcp", securityGroupId: group("nodes"), cidrIpv4: "10.7.0.0/16", fromPort: 2381, toPort: 2381,
                description: "etcd metrics and health (monitoring)", tags,
            },
            "nodes-ssh-0": { ipProtocol: "tcp", securityGroupId: group("nodes"), cidrIpv4: "10.7.0.0/16", fromPort: 22, toPort: 22, description: "SSH", tags },
            "alb-in-0": { ipProtocol: "tcp", securityGroupId: group("alb"), cidrIpv4: "203.0.113.0/24", fromPort: 80, toPort: 80, description: "etcd clients", tags },
            "nodes-client-from-alb": {
                ipProtocol: "tcp", securityGroupId: group("nodes"), referencedSecurityGroupId: group("alb"), fromPort: 2379, toPort: 2379,
                description: "etcd client API from the ALB", tags,
            },
            "nlb-in-0": { ipProtocol: "tcp", securityGroupId: group("nlb"), cidrIpv4: "203.0.113.0/24", fromPort: 2379, toPort: 2379, description: "etcd clients", tags },
            "nodes-client-from-nlb": {
                ipProtocol: "tcp", securityGroupId: group("nodes"), referencedSecurityGroupId: group("nlb"), fromPort: 2379, toPort: 2379,
                description: "etcd client API from the NLB", tags,
            },
        });
    });

    it("gives every egress rule its group, protocol, ports, one peer, description and the tags", () => {
        const group = (role: string) => `${name}-${role}-sg-id`;
        expect(inputsOf("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).to.deep.equal({
            "nodes-peer-to-nodes": {
                securityGroupId: group("nodes"), referencedSecurityGroupId: group("nodes"), ipProtocol: "tcp", fromPort: 2380, toPort: 2380,
                description: "etcd peer traffic between members", tags,
            },
            "nodes-client-to-nodes": {
                securityGroupId: group("nodes"), referencedSecurityGroupId: group("nodes"), ipProtocol: "tcp", fromPort: 2379, toPort: 2379,
                description: "etcd client API between members (joins, promotions, departures, maintenance)", tags,
            },
            "nodes-out-tcp-443": {
                securityGroupId: group("nodes"), ipProtocol: "tcp", cidrIpv4: "0.0.0.0/0", fromPort: 443, toPort: 443, description: "AWS APIs, OS updates", tags,
            },
            "nodes-out-udp-123": { securityGroupId: group("nodes"), ipProtocol: "udp", cidrIpv4: "0.0.0.0/0", fromPort: 123, toPort: 123, description: "NTP", tags },
            "alb-to-nodes": {
                securityGroupId: group("alb"), referencedSecurityGroupId: group("nodes"), ipProtocol: "tcp", fromPort: 2379, toPort: 2379,
                description: "requests and health checks to the members", tags,
            },
            "nlb-to-nodes": {
                securityGroupId: group("nlb"), referencedSecurityGroupId: group("nodes"), ipProtocol: "tcp", fromPort: 2379, toPort: 2379,
                description: "requests and health checks to the members", tags,
            },
        });
    });
});
