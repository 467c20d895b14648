/**
 * lib/slots.ts: the lookup of a slot's subnet, for its data volume's zone,
 * goes through the parent's AWS provider, like the component's other lookups.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { calls, installMocks, settle, uniqueName } from "./support/pulumi-mocks";

installMocks();
import { resolveArgs } from "../lib/args";
import { planMembers } from "../lib/plan";
import { createSlot, createSlotAddress } from "../lib/slots";

describe("a member slot's zone lookup (lib/slots.ts)", () => {
    it("looks up the slot's subnet through the parent's AWS provider", async () => {
        const name = uniqueName();
        const provider = new aws.Provider(`${name}-aws`, { region: "eu-west-2" });
        const parent = new pulumi.ComponentResource("test:index:Parent", name, {}, { providers: { aws: provider } });
        const [member] = planMembers({ ecosystem: "kv", clusterSize: 1 });
        const address = createSlotAddress(name, member, { privateSubnetIds: pulumi.output(["subnet-0aaaaaaaaaaaaaaaa"]), securityGroupId: "sg-1" }, {}, parent);
        createSlot(name, member, address, { dataVolume: resolveArgs(name, {}).dataVolume }, {}, parent);
        await settle();
        const lookups = calls.filter((call) => call.token === "aws:ec2/getSubnet:getSubnet" && call.provider?.includes(`${name}-aws`));
        expect(lookups.map((call) => call.inputs)).to.deep.equal([{ id: "subnet-0aaaaaaaaaaaaaaaa" }]);
    });
});
