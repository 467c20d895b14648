/**
 * lib/nodes.ts called directly under the suite's Pulumi mocks: the AMI lookup
 * and each member's instance inputs, compared whole.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { calls, installMocks, resourcesOf, settle, uniqueName } from "./support/pulumi-mocks";

installMocks();
import { resolveArgs } from "../lib/args";
import { renderUserData } from "../lib/ignition";
import { createNodes } from "../lib/nodes";
import { memberIgnitionOptions, planMembers } from "../lib/plan";

const discoveryUrl = "https://discovery.etcd.io/0123456789abcdef0123456789abcdef";

describe("the members' instances (lib/nodes.ts)", () => {
    it("looks up the OS's latest HVM image for the architecture, through the parent's AWS provider", async () => {
        const name = uniqueName();
        const provider = new aws.Provider(`${name}-aws`, { region: "eu-west-2" });
        const parent = new pulumi.ComponentResource("test:index:Parent", name, {}, { providers: { aws: provider } });
        const guard = new pulumi.ComponentResource("test:index:Guard", `${name}-guard`);
        createNodes(name, resolveArgs(name, { os: "flatcar", instanceType: "m7g.large" }), {
            discoveryUrl, privateSubnetIds: pulumi.output(["subnet-a", "subnet-b"]), securityGroupId: "sg-1", guard,
        }, { ecosystem: "etcd3-cluster" }, parent);
        await settle();
        const lookups = calls.filter((call) => call.token === "aws:ec2/getAmi:getAmi" && call.provider?.includes(`${name}-aws`));
        expect(lookups.map((call) => call.inputs)).to.deep.equal([{
            owners: ["075585003325"],
            mostRecent: true,
            filters: [
                { name: "name", values: ["Flatcar-stable-*"] },
                { name: "architecture", values: ["arm64"] },
                { name: "virtualization-type", values: ["hvm"] },
            ],
        }]);
    });

    it("gives each member exactly these inputs: image, type, subnet round robin, its group, user data, IMDSv2, its root volume, tags", async () => {
        const name = uniqueName();
        const parent = new pulumi.ComponentResource("test:index:Parent", name);
        const guard = new pulumi.ComponentResource("test:index:Guard", `${name}-guard`);
        const args = resolveArgs(name, { ecosystem: "kv", amiId: "ami-0123456789abcdef0", rootVolumeSizeGiB: 30 });
        createNodes(name, args, {
            discoveryUrl, privateSubnetIds: pulumi.output(["subnet-a", "subnet-b"]), securityGroupId: "sg-1", guard,
        }, { ecosystem: "kv", team: "db" }, parent);
        await settle();
        const members = planMembers(args);
        expect(resourcesOf(name, "aws:ec2/instance:Instance").map((instance) => [instance.name, instance.inputs])).to.deep.equal(members.map((member) => [
            `${name}-${member.index}`,
            {
                ami: "ami-0123456789abcdef0",
                instanceType: "t3.small",
                subnetId: ["subnet-a", "subnet-b", "subnet-a"][member.index],
                vpcSecurityGroupIds: ["sg-1"],
                userData: renderUserData(memberIgnitionOptions(args, member, discoveryUrl)),
                metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
                rootBlockDevice: { volumeType: "gp3", volumeSize: 30, encrypted: true, deleteOnTermination: true },
                tags: { ecosystem: "kv", team: "db", Name: member.name, "etcd-member": member.name },
                volumeTags: { ecosystem: "kv", team: "db", Name: member.name },
            },
        ]));
    });
});
