/**
 * lib/testing.ts's answers for the member slots, called directly: the
 * interfaces' addresses, the AWS-shaped ids of volumes and interfaces, the
 * subnet lookup's zone, the instance on a slot's interface, and the image
 * choice. Whole answers compared.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Etcd3ClusterMocks, imageChoiceResourceType, mockAwsId } from "../lib/testing";

const resource = (type: string, name: string, inputs: Record<string, unknown> = {}): pulumi.runtime.MockResourceArgs =>
    ({ type, name, inputs, provider: undefined, custom: true } as unknown as pulumi.runtime.MockResourceArgs);
const call = (token: string, inputs: Record<string, unknown> = {}): pulumi.runtime.MockCallArgs =>
    ({ token, inputs, provider: undefined } as unknown as pulumi.runtime.MockCallArgs);

describe("Etcd3ClusterMocks for member slots (lib/testing.ts)", () => {
    it("makes AWS-shaped ids from a name, the same in every run and different for another name", () => {
        expect(mockAwsId("vol", "c-0-data")).to.match(/^vol-[0-9a-f]{17}$/);
        expect(mockAwsId("vol", "c-0-data")).to.equal(mockAwsId("vol", "c-0-data"));
        expect(mockAwsId("vol", "c-1-data")).not.to.equal(mockAwsId("vol", "c-0-data"));
        expect(mockAwsId("eni", "c-0-nic")).to.match(/^eni-[0-9a-f]{17}$/);
    });

    it("makes the same ids as every earlier release: a consumer's recorded ids and snapshots stay valid", () => {
        // Recorded when the ids were introduced; a different derivation would change every id a consumer's tests have seen.
        expect([mockAwsId("vol", "c-0-data"), mockAwsId("eni", "c-0-nic")]).to.deep.equal(["vol-f653816c40da36644", "eni-de117d621035101c2"]);
    });

    it("gives member i's interface a.b.1.(10+i) in its subnet's VPC, with a volume-style id and ARN", async () => {
        const mocks = new Etcd3ClusterMocks({ region: "eu-west-1" });
        await mocks.newResource(resource("awsx:ec2:Vpc", "net", { cidrBlock: "10.7.0.0/16" }));
        const id = mockAwsId("eni", "c-2-nic");
        expect(await mocks.newResource(resource("aws:ec2/networkInterface:NetworkInterface", "c-2-nic", { subnetId: "subnet-private-c" }))).to.deep.equal({
            id,
            state: {
                subnetId: "subnet-private-c", privateIp: "10.7.1.12", privateIps: ["10.7.1.12"],
                arn: `arn:aws:ec2:eu-west-1:123456789012:network-interface/${id}`,
            },
        });
    });

    it("gives an instance on a slot's interface that interface's address", async () => {
        const mocks = new Etcd3ClusterMocks({ region: "eu-west-1", vpcCidr: "10.9.0.0/16" });
        const nic = await mocks.newResource(resource("aws:ec2/networkInterface:NetworkInterface", "c-1-nic", { subnetId: "subnet-0abc" }));
        const instance = await mocks.newResource(resource("aws:ec2/instance:Instance", "c-1", { primaryNetworkInterface: { networkInterfaceId: nic.id } }));
        expect(instance.state.privateIp).to.equal("10.9.1.11");
        expect(instance.state.privateDns).to.equal("ip-10-9-1-11.eu-west-1.compute.internal");
    });

    it("gives a volume its id and ARN", async () => {
        const mocks = new Etcd3ClusterMocks({ region: "eu-west-1" });
        const id = mockAwsId("vol", "c-0-data");
        expect(await mocks.newResource(resource("aws:ebs/volume:Volume", "c-0-data", { size: 20 }))).to.deep.equal({
            id, state: { size: 20, arn: `arn:aws:ec2:eu-west-1:123456789012:volume/${id}` },
        });
    });

    it("answers a subnet lookup with the zone the VPC put it in, and any other subnet with a zone of the region", async () => {
        const mocks = new Etcd3ClusterMocks({ region: "eu-west-1" });
        await mocks.newResource(resource("awsx:ec2:Vpc", "net", { cidrBlock: "10.7.0.0/16" }));
        expect(await mocks.call(call("aws:ec2/getSubnet:getSubnet", { id: "subnet-private-b" }))).to.deep.equal({
            id: "subnet-private-b", availabilityZone: "eu-west-1b", cidrBlock: "10.7.0.0/16",
            arn: "arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-private-b",
        });
        const other = await mocks.call(call("aws:ec2/getSubnet:getSubnet", { id: "subnet-0123456789abcdef0" }));
        expect(other.availabilityZone).to.match(/^eu-west-1[abc]$/);
    });

    it("keeps the looked-up image as the image choice's image", async () => {
        const mocks = new Etcd3ClusterMocks();
        const answer = await mocks.newResource(resource(imageChoiceResourceType, "c-image", { os: "flatcar", architecture: "arm64", latestImageId: "ami-0aaaaaaaaaaaaaaaa" }));
        expect(answer.state).to.deep.equal({ os: "flatcar", architecture: "arm64", latestImageId: "ami-0aaaaaaaaaaaaaaaa", imageId: "ami-0aaaaaaaaaaaaaaaa" });
    });
});
