/**
 * lib/slots.ts called directly under the suite's Pulumi mocks: each member's
 * network interface and data volume, inputs and options compared whole.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { calls, installMocks, recordChildOptions, resourcesOf, settle, uniqueName } from "./support/pulumi-mocks";

installMocks();
import { DataVolumeSettings, resolveArgs } from "../lib/args";
import { planMembers } from "../lib/plan";
import { createSlot, createSlotAddress } from "../lib/slots";
import { mockAwsId, outputValue } from "../lib/testing";

const defaultVolume: DataVolumeSettings = resolveArgs("slots", {}).dataVolume;
const kmsKeyId = "arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/** Slots for every member of a 3-member cluster over two subnets, with the options each child got. */
async function slots(dataVolume: DataVolumeSettings = defaultVolume) {
    const name = uniqueName();
    const recorder = recordChildOptions();
    const parent = new pulumi.ComponentResource("test:index:Parent", name, {}, { transformations: [recorder.transformation] });
    const tags = { ecosystem: "kv", team: "db" };
    const made = planMembers({ ecosystem: "kv", clusterSize: 3 }).map((member) => createSlot(name, member, createSlotAddress(name, member, {
        privateSubnetIds: pulumi.output(["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]), securityGroupId: "sg-1",
    }, tags, parent), { dataVolume }, tags, parent));
    await settle();
    return { name, made, children: recorder.children };
}

describe("member slots (lib/slots.ts)", () => {
    it("gives each member an interface in its subnet, round robin, with the members' group, tagged for the member", async () => {
        const { name } = await slots();
        expect(resourcesOf(name, "aws:ec2/networkInterface:NetworkInterface").map((r) => [r.name, r.inputs])).to.deep.equal([0, 1, 2].map((index) => [
            `${name}-${index}-nic`,
            {
                subnetId: ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"][index % 2],
                securityGroups: ["sg-1"],
                description: `etcd member kv-${index}: its address, whichever instance runs it (reserved while the cluster is smaller)`,
                tags: { ecosystem: "kv", team: "db", "etcd-member": `kv-${index}`, Name: `kv-${index}` },
            },
        ]));
    });

    it("gives each member an encrypted gp3 data volume with the settings given, in its interface's subnet's zone", async () => {
        const { name } = await slots({ sizeGiB: 100, iops: 6000, throughputMiBps: 500, kmsKeyId, retain: true });
        const zoneOf = (subnetId: string) => calls.find((call) => call.token === "aws:ec2/getSubnet:getSubnet" && call.inputs.id === subnetId);
        const zones = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb", "subnet-0aaaaaaaaaaaaaaaa"].map((subnet) => {
            expect(zoneOf(subnet), `a lookup of ${subnet}`).not.to.equal(undefined);
            return `eu-west-2${"abc"[[...subnet].reduce((sum, char) => sum + char.charCodeAt(0), 0) % 3]}`;
        });
        expect(resourcesOf(name, "aws:ebs/volume:Volume").map((r) => [r.name, r.inputs])).to.deep.equal([0, 1, 2].map((index) => [
            `${name}-${index}-data`,
            {
                availabilityZone: zones[index],
                type: "gp3", size: 100, iops: 6000, throughput: 500, encrypted: true, kmsKeyId,
                tags: { ecosystem: "kv", team: "db", "etcd-member": `kv-${index}`, Name: `kv-${index}-data` },
            },
        ]));
    });

    it("uses the default gp3 settings and AWS's managed EBS key when none are given", async () => {
        const { name } = await slots();
        const volume = resourcesOf(name, "aws:ebs/volume:Volume")[0].inputs;
        expect([volume.size, volume.iops, volume.throughput, volume.encrypted, "kmsKeyId" in volume]).to.deep.equal([20, 3000, 125, true, false]);
    });

    it("never moves a slot: a reordered subnet list changes neither an interface's subnet nor a volume's zone", async () => {
        const { name, children } = await slots();
        for (const index of [0, 1, 2]) {
            expect(children.get(`${name}-${index}-nic`)?.options, `interface ${index}`).to.deep.equal({ parent: name, ignoreChanges: ["subnetId"] });
            expect(children.get(`${name}-${index}-data`)?.options, `volume ${index}`)
                .to.deep.equal({ parent: name, ignoreChanges: ["availabilityZone"], retainOnDelete: true });
        }
    });

    it("deletes the data volumes with the stack only when retainDataVolumes is false", async () => {
        const { name, children } = await slots({ ...defaultVolume, retain: false });
        expect(children.get(`${name}-0-data`)?.options).to.deep.equal({ parent: name, ignoreChanges: ["availabilityZone"], retainOnDelete: false });
    });

    it("hands back each member's interface and volume, whose ids and address are the member's", async () => {
        const { name, made } = await slots();
        expect(made.map((slot) => slot.member.name)).to.deep.equal(["kv-0", "kv-1", "kv-2"]);
        expect(await Promise.all(made.map((slot) => outputValue(slot.networkInterface.id)))).to.deep.equal([0, 1, 2].map((i) => mockAwsId("eni", `${name}-${i}-nic`)));
        expect(await Promise.all(made.map((slot) => outputValue(slot.dataVolume.id)))).to.deep.equal([0, 1, 2].map((i) => mockAwsId("vol", `${name}-${i}-data`)));
        expect(await Promise.all(made.map((slot) => outputValue(slot.networkInterface.privateIp)))).to.deep.equal(["10.50.1.10", "10.50.1.11", "10.50.1.12"]);
    });
});
