/**
 * lib/network.ts called directly under the suite's Pulumi mocks: the new VPC's
 * inputs whole, the existing VPC's lookup, and which subnet lists are counted
 * when they resolve.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { calls, installMocks, resourcesOf, settle, uniqueName, valueOf } from "./support/pulumi-mocks";

installMocks();
import { resolveArgs } from "../lib/args";
import { createNetwork } from "../lib/network";

const tags = { ecosystem: "kv", team: "db" };

describe("the cluster's network (lib/network.ts)", () => {
    it("makes a new VPC with DNS hostnames, public and private subnets over the zones asked for, and the NAT strategy", async () => {
        const name = uniqueName();
        const parent = new pulumi.ComponentResource("test:index:Parent", name);
        createNetwork(name, resolveArgs(name, { ecosystem: "kv", vpcCidr: "10.7.0.0/16", availabilityZoneCount: 2, natGateways: "OnePerAz" }), tags, parent);
        await settle();
        expect(resourcesOf(name, "awsx:ec2:Vpc").map((vpc) => [vpc.name, vpc.inputs])).to.deep.equal([[`${name}-vpc`, {
            cidrBlock: "10.7.0.0/16",
            numberOfAvailabilityZones: 2,
            natGateways: { strategy: "OnePerAz" },
            subnetStrategy: "Auto",
            subnetSpecs: [{ type: "Public" }, { type: "Private" }],
            enableDnsHostnames: true,
            tags: { ecosystem: "kv", team: "db", Name: "kv-vpc" },
        }]]);
    });

    it("looks up an existing VPC by its id, through the parent's AWS provider, for its CIDR", async () => {
        const name = uniqueName();
        const provider = new aws.Provider(`${name}-aws`, { region: "eu-west-2" });
        const parent = new pulumi.ComponentResource("test:index:Parent", name, {}, { providers: { aws: provider } });
        const network = createNetwork(name, resolveArgs(name, { vpcId: "vpc-0a1b2c3d", privateSubnetIds: ["subnet-0a000001", "subnet-0a000002"] }), tags, parent);
        const cidr = await valueOf(network.vpcCidr);
        const lookups = calls.filter((call) => call.token === "aws:ec2/getVpc:getVpc" && call.inputs.id === "vpc-0a1b2c3d" && call.provider?.includes(`${name}-aws`));
        expect([cidr, lookups.length]).to.deep.equal(["10.50.0.0/16", 1]);
    });

    it("does not count public subnets given as an output when the load balancer is internal", async () => {
        const name = uniqueName();
        const parent = new pulumi.ComponentResource("test:index:Parent", name);
        const network = createNetwork(name, resolveArgs(name, {
            vpcId: "vpc-0a1b2c3d", privateSubnetIds: ["subnet-0a000001", "subnet-0a000002"], publicSubnetIds: pulumi.output(["subnet-0b000001"]),
        }), tags, parent);
        expect(await valueOf(network.publicSubnetIds)).to.deep.equal(["subnet-0b000001"]);
    });

    it("passes subnet lists given as plain lists on as they are", async () => {
        const name = uniqueName();
        const parent = new pulumi.ComponentResource("test:index:Parent", name);
        const network = createNetwork(name, resolveArgs(name, {
            vpcId: "vpc-0a1b2c3d", privateSubnetIds: ["subnet-0a000001", "subnet-0a000002"], publicSubnetIds: ["subnet-0b000001", "subnet-0b000002"],
            internetFacing: true, allowedCidrs: ["0.0.0.0/0"],
        }), tags, parent);
        expect([await valueOf(network.vpcId), await valueOf(network.privateSubnetIds), await valueOf(network.publicSubnetIds)]).to.deep.equal([
            "vpc-0a1b2c3d", ["subnet-0a000001", "subnet-0a000002"], ["subnet-0b000001", "subnet-0b000002"],
        ]);
    });
});
