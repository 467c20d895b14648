/**
 * lib/nodes.ts called directly under the suite's Pulumi mocks: the AMI lookup
 * and each member's instance inputs, compared whole.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { calls, installMocks, resourcesOf, settle, uniqueName } from "./support/pulumi-mocks";
import { mockAwsId } from "../lib/testing";

installMocks();
import { resolveArgs } from "../lib/args";
import { renderUserData } from "../lib/ignition";
import { createLoadBalancer } from "../lib/loadbalancer";
import { createNodes, NodeOptions } from "../lib/nodes";
import { memberIgnitionOptions, planMembers, planSlots } from "../lib/plan";

const discoveryUrl = "https://discovery.etcd.io/0123456789abcdef0123456789abcdef";

/** The members' surroundings: two subnets, their group, the guard, and an ALB (under mocks) to register in. */
function nodeOptions(name: string, guard: pulumi.Resource, parent: pulumi.Resource): NodeOptions {
    const alb = createLoadBalancer(name, "alb", { internetFacing: false, subnetIds: ["subnet-a", "subnet-b"], securityGroupId: "sg-alb", vpcId: "vpc-1", membersServeTls: false }, {}, parent);
    return {
        formation: { method: "discovery", discoveryUrl }, foundingClusterSize: 3, privateSubnetIds: pulumi.output(["subnet-a", "subnet-b"]), securityGroupId: "sg-1", guard,
        balancers: [alb], region: "eu-west-2", profile: "ops",
    };
}

describe("the members' instances (lib/nodes.ts)", () => {
    it("looks up the OS's latest HVM image for the architecture, through the parent's AWS provider", async () => {
        const name = uniqueName();
        const provider = new aws.Provider(`${name}-aws`, { region: "eu-west-2" });
        const parent = new pulumi.ComponentResource("test:index:Parent", name, {}, { providers: { aws: provider } });
        const guard = new pulumi.ComponentResource("test:index:Guard", `${name}-guard`);
        createNodes(name, resolveArgs(name, { os: "flatcar", instanceType: "m7g.large" }), nodeOptions(name, guard, parent), { ecosystem: "etcd3-cluster" }, parent);
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

    it("gives each member exactly these inputs: image, type, its slot's interface, user data naming its slot's volume, IMDSv2, recovery, its root volume, tags", async () => {
        const name = uniqueName();
        const parent = new pulumi.ComponentResource("test:index:Parent", name);
        const guard = new pulumi.ComponentResource("test:index:Guard", `${name}-guard`);
        const args = resolveArgs(name, { ecosystem: "kv", amiId: "ami-0123456789abcdef0", rootVolumeSizeGiB: 30 });
        createNodes(name, args, nodeOptions(name, guard, parent), { ecosystem: "kv", team: "db" }, parent);
        await settle();
        const members = planMembers(args);
        const interfaces = resourcesOf(name, "aws:ec2/networkInterface:NetworkInterface");
        // Every slot's address, member or not yet: whom a member with empty data asks to join.
        const slotMembers = planSlots(args).map((slot) => ({ name: slot.name, ip: interfaces.find((nic) => nic.name === `${name}-${slot.index}-nic`)!.state.privateIp }));
        expect(resourcesOf(name, "aws:ec2/instance:Instance").map((instance) => [instance.name, instance.inputs])).to.deep.equal(members.map((member) => [
            `${name}-${member.index}`,
            {
                ami: "ami-0123456789abcdef0",
                instanceType: "t3.small",
                primaryNetworkInterface: { networkInterfaceId: mockAwsId("eni", `${name}-${member.index}-nic`) },
                userData: renderUserData(memberIgnitionOptions(args, member, { discoveryUrl, members: slotMembers, foundingClusterSize: 3, dataVolumeId: mockAwsId("vol", `${name}-${member.index}-data`) })),
                userDataReplaceOnChange: true,
                metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1, instanceMetadataTags: "enabled" },
                maintenanceOptions: { autoRecovery: "default" },
                rootBlockDevice: {
                    volumeType: "gp3", volumeSize: 30, encrypted: true, deleteOnTermination: true,
                    tags: { ecosystem: "kv", team: "db", Name: `${member.name}-root`, "etcd-member": member.name },
                },
                tags: { ecosystem: "kv", team: "db", Name: member.name, "etcd-member": member.name },
            },
        ]));
    });

    it("attaches each member's data volume to its instance, stopping the instance before a detach", async () => {
        const name = uniqueName();
        const parent = new pulumi.ComponentResource("test:index:Parent", name);
        const guard = new pulumi.ComponentResource("test:index:Guard", `${name}-guard`);
        createNodes(name, resolveArgs(name, { amiId: "ami-0123456789abcdef0" }), nodeOptions(name, guard, parent), {}, parent);
        await settle();
        expect(resourcesOf(name, "aws:ec2/volumeAttachment:VolumeAttachment").map((attachment) => [attachment.name, attachment.inputs]))
            .to.deep.equal([0, 1, 2].map((index) => [`${name}-${index}-data-attachment`, {
                deviceName: "/dev/sdf",
                volumeId: mockAwsId("vol", `${name}-${index}-data`),
                instanceId: `${name}-${index}-id`,
                stopInstanceBeforeDetaching: true,
            }]));
    });

    it("registers each member's instance in the target groups on the client port", async () => {
        const name = uniqueName();
        const parent = new pulumi.ComponentResource("test:index:Parent", name);
        const guard = new pulumi.ComponentResource("test:index:Guard", `${name}-guard`);
        createNodes(name, resolveArgs(name, { amiId: "ami-0123456789abcdef0" }), nodeOptions(name, guard, parent), {}, parent);
        await settle();
        expect(resourcesOf(name, "aws:lb/targetGroupAttachment:TargetGroupAttachment").map((r) => [r.name, r.inputs])).to.deep.equal([0, 1, 2].map((index) => [
            `${name}-alb-target-${index}`,
            {
                targetGroupArn: `arn:aws:elasticloadbalancing:eu-west-2:123456789012:targetgroup/${name}-alb-tg/1234567890abcdef`,
                targetId: `${name}-${index}-id`,
                port: 2379,
            },
        ]));
    });

    it("gives each member a health gate on its instance, its target groups, the region and profile, and the roll's bound", async () => {
        const name = uniqueName();
        const parent = new pulumi.ComponentResource("test:index:Parent", name);
        const guard = new pulumi.ComponentResource("test:index:Guard", `${name}-guard`);
        createNodes(name, resolveArgs(name, { amiId: "ami-0123456789abcdef0", rollingHealthTimeoutMinutes: 20 }), nodeOptions(name, guard, parent), {}, parent);
        await settle();
        const gates = resourcesOf(name, "pulumi-nodejs:dynamic/etcd3-cluster:MemberHealthGate");
        const withoutProvider = (inputs: Record<string, unknown>) => Object.fromEntries(Object.entries(inputs).filter(([key]) => key !== "__provider"));
        expect(gates.map((gate) => [gate.name, withoutProvider(gate.inputs)])).to.deep.equal([0, 1, 2].map((index) => [
            `${name}-${index}-health`,
            {
                memberName: `etcd3-cluster-${index}`,
                instanceId: `${name}-${index}-id`,
                targetGroupArns: [`arn:aws:elasticloadbalancing:eu-west-2:123456789012:targetgroup/${name}-alb-tg/1234567890abcdef`],
                region: "eu-west-2",
                profile: "ops",
                timeoutSeconds: 1200,
                minimumDrainSeconds: 10,
            },
        ]));
    });

    it("gives each member a departure on its instance, with its name, the region and profile, and the bound on its leaving", async () => {
        const name = uniqueName();
        const parent = new pulumi.ComponentResource("test:index:Parent", name);
        const guard = new pulumi.ComponentResource("test:index:Guard", `${name}-guard`);
        createNodes(name, resolveArgs(name, { amiId: "ami-0123456789abcdef0", rollingHealthTimeoutMinutes: 0, memberDepartureTimeoutMinutes: 25 }),
            nodeOptions(name, guard, parent), {}, parent);
        await settle();
        const departures = resourcesOf(name, "pulumi-nodejs:dynamic/etcd3-cluster:MemberDeparture");
        const withoutProvider = (inputs: Record<string, unknown>) => Object.fromEntries(Object.entries(inputs).filter(([key]) => key !== "__provider"));
        // Its own bound, not the roll's: turning the health gates off must not let a member's instance go while it is still in etcd.
        expect(departures.map((departure) => [departure.name, withoutProvider(departure.inputs)])).to.deep.equal([0, 1, 2].map((index) => [
            `${name}-${index}-departure`,
            { memberName: `etcd3-cluster-${index}`, instanceId: `${name}-${index}-id`, region: "eu-west-2", profile: "ops", timeoutSeconds: 1500 },
        ]));
    });
});
