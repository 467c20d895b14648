/**
 * lib/testing.ts's Etcd3ClusterMocks called directly, in this process: what
 * each resource type and function the component uses is answered with, what
 * goes to the user's own mocks, and the problems it reports. (The mocks are
 * installed with setEtcd3ClusterMocks in processes of their own by
 * tests/testing.test.ts; here nothing is installed, the methods are called.)
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { holdLoadBalancers, installMocks, settle, uniqueName } from "./support/pulumi-mocks";

installMocks();
import { discoveryUrlResourceType, Etcd3ClusterMocks, outputValue } from "../lib/testing";

/** What the engine passes to `newResource`, with the fields these mocks read. */
const resource = (type: string, name: string, inputs: Record<string, unknown> = {}, id?: string): pulumi.runtime.MockResourceArgs =>
    ({ type, name, inputs, id, provider: undefined, custom: true } as unknown as pulumi.runtime.MockResourceArgs);
const call = (token: string, inputs: Record<string, unknown> = {}): pulumi.runtime.MockCallArgs =>
    ({ token, inputs, provider: undefined } as unknown as pulumi.runtime.MockCallArgs);

/** The error `promise` rejects with, or a failure if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
    const outcome = await promise.then(() => undefined, (error: Error) => error);
    expect(outcome, "the call succeeded").to.be.instanceOf(Error);
    return outcome!;
}

describe("Etcd3ClusterMocks, called directly (lib/testing.ts)", () => {
    describe("resources", () => {
        it("gives a new VPC its id and a public and a private subnet per zone in the region, no isolated ones", async () => {
            const mocks = new Etcd3ClusterMocks({ region: "us-east-2" });
            expect(await mocks.newResource(resource("awsx:ec2:Vpc", "net", { cidrBlock: "10.7.0.0/16", numberOfAvailabilityZones: 2 }))).to.deep.equal({
                id: "net-id",
                state: {
                    cidrBlock: "10.7.0.0/16", numberOfAvailabilityZones: 2,
                    vpcId: "vpc-net",
                    publicSubnetIds: ["subnet-public-a", "subnet-public-b"],
                    privateSubnetIds: ["subnet-private-a", "subnet-private-b"],
                    isolatedSubnetIds: [],
                },
            });
        });

        it("spans three zones of eu-west-2 by default, and only the subnet types asked for", async () => {
            const mocks = new Etcd3ClusterMocks();
            const { state } = await mocks.newResource(resource("awsx:ec2:Vpc", "net", { subnetSpecs: [{ type: "Private" }, { type: "Isolated" }] }));
            expect(state).to.deep.include({
                vpcId: "vpc-net",
                publicSubnetIds: [],
                privateSubnetIds: ["subnet-private-a", "subnet-private-b", "subnet-private-c"],
                isolatedSubnetIds: ["subnet-isolated-a", "subnet-isolated-b", "subnet-isolated-c"],
            });
        });

        it("uses the zones a VPC names", async () => {
            const mocks = new Etcd3ClusterMocks();
            const { state } = await mocks.newResource(resource("awsx:ec2:Vpc", "net", { availabilityZoneNames: ["eu-west-2b", "eu-west-2c"] }));
            expect(state.privateSubnetIds).to.deep.equal(["subnet-private-b", "subnet-private-c"]);
        });

        it("gives member i of a cluster a.b.1.(10+i) in its subnet's VPC, with the private DNS name and ARN", async () => {
            const mocks = new Etcd3ClusterMocks({ region: "us-east-2", accountId: "210987654321" });
            await mocks.newResource(resource("awsx:ec2:Vpc", "net", { cidrBlock: "10.7.0.0/16" }));
            expect(await mocks.newResource(resource("aws:ec2/instance:Instance", "kv-4", { subnetId: "subnet-private-b", instanceType: "t3.small" }))).to.deep.equal({
                id: "kv-4-id",
                state: {
                    subnetId: "subnet-private-b", instanceType: "t3.small",
                    privateIp: "10.7.1.14",
                    privateDns: "ip-10-7-1-14.us-east-2.compute.internal",
                    arn: "arn:aws:ec2:us-east-2:210987654321:instance/kv-4-id",
                },
            });
        });

        it("reads the member index from the end of the name, for a cluster whose own name ends in digits", async () => {
            const mocks = new Etcd3ClusterMocks();
            const addresses = [
                (await mocks.newResource(resource("aws:ec2/networkInterface:NetworkInterface", "kv-2024-0-nic"))).state.privateIp,
                (await mocks.newResource(resource("aws:ec2/instance:Instance", "kv-2024-1"))).state.privateIp,
            ];
            expect(addresses).to.deep.equal(["10.0.1.10", "10.0.1.11"]);
        });

        it("numbers an instance that is not a member in the order instances arrive, in the VPC CIDR given", async () => {
            const mocks = new Etcd3ClusterMocks({ vpcCidr: "172.20.0.0/16" });
            await mocks.newResource(resource("aws:ec2/instance:Instance", "c-0"));
            const { state } = await mocks.newResource(resource("aws:ec2/instance:Instance", "bastion"));
            expect([state.privateIp, state.privateDns]).to.deep.equal(["172.20.2.10", "ip-172-20-2-10.eu-west-2.compute.internal"]);
        });

        it("puts an instance outside a known subnet in 10.0.0.0/16 by default", async () => {
            const mocks = new Etcd3ClusterMocks();
            const { state } = await mocks.newResource(resource("aws:ec2/instance:Instance", "c-2", { subnetId: "subnet-elsewhere" }));
            expect(state.privateIp).to.equal("10.0.1.12");
        });

        it("gives an application load balancer its DNS name, zone and ARNs", async () => {
            const mocks = new Etcd3ClusterMocks();
            expect(await mocks.newResource(resource("aws:lb/loadBalancer:LoadBalancer", "kv-alb", { loadBalancerType: "application" }))).to.deep.equal({
                id: "kv-alb-id",
                state: {
                    loadBalancerType: "application",
                    dnsName: "kv-alb-1234567890.eu-west-2.elb.amazonaws.com",
                    zoneId: "ZHURV8PSTC4K8",
                    arn: "arn:aws:elasticloadbalancing:eu-west-2:123456789012:loadbalancer/app/kv-alb/1234567890abcdef",
                    arnSuffix: "app/kv-alb/1234567890abcdef",
                },
            });
        });

        it("gives a network load balancer a net/ ARN", async () => {
            const mocks = new Etcd3ClusterMocks();
            const { state } = await mocks.newResource(resource("aws:lb/loadBalancer:LoadBalancer", "kv-nlb", { loadBalancerType: "network" }));
            expect([state.arn, state.arnSuffix]).to.deep.equal([
                "arn:aws:elasticloadbalancing:eu-west-2:123456789012:loadbalancer/net/kv-nlb/1234567890abcdef", "net/kv-nlb/1234567890abcdef",
            ]);
        });

        it("gives target groups, listeners and security groups their ARNs", async () => {
            const mocks = new Etcd3ClusterMocks({ region: "ap-south-1", accountId: "111122223333" });
            const states = await Promise.all([
                mocks.newResource(resource("aws:lb/targetGroup:TargetGroup", "tg")),
                mocks.newResource(resource("aws:lb/listener:Listener", "listener")),
                mocks.newResource(resource("aws:ec2/securityGroup:SecurityGroup", "sg")),
            ]);
            expect(states.map((answer) => answer.state)).to.deep.equal([
                { arn: "arn:aws:elasticloadbalancing:ap-south-1:111122223333:targetgroup/tg/1234567890abcdef", arnSuffix: "targetgroup/tg/1234567890abcdef" },
                { arn: "arn:aws:elasticloadbalancing:ap-south-1:111122223333:listener/listener/1234567890abcdef" },
                { arn: "arn:aws:ec2:ap-south-1:111122223333:security-group/sg-id" },
            ]);
        });

        it("answers a DNS record with its name as its FQDN", async () => {
            const mocks = new Etcd3ClusterMocks();
            expect((await mocks.newResource(resource("aws:route53/record:Record", "dns", { name: "etcd.example.com" }))).state)
                .to.deep.equal({ name: "etcd.example.com", fqdn: "etcd.example.com" });
        });

        it("answers the discovery-URL resource with the default URL, or the one given", async () => {
            const answers = await Promise.all([
                new Etcd3ClusterMocks().newResource(resource(discoveryUrlResourceType, "d", { size: 3 })),
                new Etcd3ClusterMocks({ discoveryUrl: "http://127.0.0.1:8087/0123456789abcdef0123456789abcdef" }).newResource(resource(discoveryUrlResourceType, "d")),
            ]);
            expect(answers.map((answer) => answer.state)).to.deep.equal([
                { size: 3, url: "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e" },
                { url: "http://127.0.0.1:8087/0123456789abcdef0123456789abcdef" },
            ]);
        });

        it("answers the component's other dynamic resources with their inputs, without asking the user's mocks", async () => {
            const mocks = new Etcd3ClusterMocks({ mocks: { newResource: () => ({ id: "user", state: { user: true } }) } });
            expect(await mocks.newResource(resource("pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard", "g", { clusterSize: 3 })))
                .to.deep.equal({ id: "g-id", state: { clusterSize: 3 } });
        });

        it("keeps an id the engine gives", async () => {
            const mocks = new Etcd3ClusterMocks();
            expect((await mocks.newResource(resource("aws:lb/listener:Listener", "l", {}, "imported-id"))).id).to.equal("imported-id");
        });

        it("asks the user's mocks about any other type", async () => {
            const mocks = new Etcd3ClusterMocks({
                mocks: { newResource: (args) => ({ id: `${args.name}-user`, state: { arn: `arn:${args.type}` } }) },
            });
            expect(await mocks.newResource(resource("aws:s3/bucket:Bucket", "b", { acl: "private" })))
                .to.deep.equal({ id: "b-user", state: { arn: "arn:aws:s3/bucket:Bucket" } });
        });

        it("names a bucket the user's mocks leave to it as AWS does: as given, else its prefix or its name and a unique suffix", async () => {
            const mocks = new Etcd3ClusterMocks({ mocks: { newResource: () => undefined }, region: "eu-west-1" });
            const names = [];
            for (const inputs of [{ bucket: "given" }, { bucketPrefix: "prefixed-" }, {}]) {
                names.push((await mocks.newResource(resource("aws:s3/bucket:Bucket", "backups", inputs))).state.bucket);
            }
            expect(names).to.deep.equal(["given", "prefixed-20261126000000000000000001", "backups-20261126000000000000000001"]);
        });

        it("answers a type the user's mocks leave to it with its inputs, under its name", async () => {
            const mocks = new Etcd3ClusterMocks({ mocks: { newResource: () => undefined } });
            expect(await mocks.newResource(resource("aws:sns/topic:Topic", "alarms", { name: "alarms" })))
                .to.deep.equal({ id: "alarms-id", state: { name: "alarms" } });
        });

        it("records every resource with what it was asked and answered, by type", async () => {
            const mocks = new Etcd3ClusterMocks();
            await mocks.newResource(resource("aws:sns/topic:Topic", "t", { name: "t" }));
            await mocks.newResource(resource("aws:ec2/securityGroup:SecurityGroup", "sg", { description: "d" }));
            expect(mocks.resourcesOf("aws:ec2/securityGroup:SecurityGroup")).to.deep.equal([{
                type: "aws:ec2/securityGroup:SecurityGroup", name: "sg", inputs: { description: "d" }, id: "sg-id",
                state: { description: "d", arn: "arn:aws:ec2:eu-west-2:123456789012:security-group/sg-id" },
            }]);
            expect(mocks.resources.map((r) => r.name)).to.deep.equal(["t", "sg"]);
        });

        it("fails a resource the user's mocks fail on with their error, and reports it at the next settle", async () => {
            const mocks = new Etcd3ClusterMocks({ mocks: { newResource: () => { throw new Error("no such bucket"); } } });
            const error = await rejectionOf(mocks.newResource(resource("aws:s3/bucket:Bucket", "b")));
            const problems = await rejectionOf(mocks.settle());
            expect([error.message, problems.message]).to.deep.equal([
                "no such bucket",
                "etcd3-cluster/testing: found problems:\n  - resource aws:s3/bucket:Bucket \"b\": no such bucket",
            ]);
            expect(mocks.resources[0]).to.deep.include({ id: undefined, state: {} });
        });

        it("reports each problem once: the next settle has none", async () => {
            const mocks = new Etcd3ClusterMocks({ mocks: { newResource: () => { throw new Error("once"); } } });
            await rejectionOf(mocks.newResource(resource("aws:s3/bucket:Bucket", "b")));
            await rejectionOf(mocks.settle());
            await mocks.settle();
        });
    });

    describe("functions", () => {
        it("answers the AMI lookup with its id and a name made from the name filter and architecture", async () => {
            const mocks = new Etcd3ClusterMocks();
            expect(await mocks.call(call("aws:ec2/getAmi:getAmi", {
                owners: ["125523088429"], filters: [{ name: "name", values: ["fedora-coreos-*.3.*"] }, { name: "architecture", values: ["arm64"] }],
            }))).to.deep.equal({
                id: "ami-0123456789abcdef0", imageId: "ami-0123456789abcdef0", name: "fedora-coreos-1.3.1-arm64",
                architecture: "arm64", ownerId: "125523088429",
            });
        });

        it("answers an AMI lookup without filters as an x86_64 image, with the AMI id given", async () => {
            const mocks = new Etcd3ClusterMocks({ amiId: "ami-0fedcba9876543210" });
            expect(await mocks.call(call("aws:ec2/getAmi:getAmi"))).to.deep.equal({
                id: "ami-0fedcba9876543210", imageId: "ami-0fedcba9876543210", name: "image-1-x86_64", architecture: "x86_64", ownerId: undefined,
            });
        });

        it("answers a VPC lookup with the CIDR of a VPC it made", async () => {
            const mocks = new Etcd3ClusterMocks();
            await mocks.newResource(resource("awsx:ec2:Vpc", "net", { cidrBlock: "10.7.0.0/16" }));
            expect(await mocks.call(call("aws:ec2/getVpc:getVpc", { id: "vpc-net" }))).to.deep.equal({
                id: "vpc-net", cidrBlock: "10.7.0.0/16", arn: "arn:aws:ec2:eu-west-2:123456789012:vpc/vpc-net", default: false,
            });
        });

        it("answers a VPC lookup, and places members, in awsx's default 10.0.0.0/16 for a VPC made without a CIDR", async () => {
            const mocks = new Etcd3ClusterMocks({ vpcCidr: "172.20.0.0/16" });
            await mocks.newResource(resource("awsx:ec2:Vpc", "net", {}));
            const { state } = await mocks.newResource(resource("aws:ec2/instance:Instance", "c-0", { subnetId: "subnet-private-a" }));
            expect({
                lookup: (await mocks.call(call("aws:ec2/getVpc:getVpc", { id: "vpc-net" }))).cidrBlock,
                member: state.privateIp,
            }).to.deep.equal({ lookup: "10.0.0.0/16", member: "10.0.1.10" });
        });

        it("answers a lookup of a VPC it did not make with the CIDR given, else 10.0.0.0/16", async () => {
            const given = await new Etcd3ClusterMocks({ vpcCidr: "10.50.0.0/16" }).call(call("aws:ec2/getVpc:getVpc", { id: "vpc-0a1b2c3d" }));
            const fallback = await new Etcd3ClusterMocks().call(call("aws:ec2/getVpc:getVpc", { id: "vpc-0a1b2c3d" }));
            expect([given.cidrBlock, fallback.cidrBlock]).to.deep.equal(["10.50.0.0/16", "10.0.0.0/16"]);
        });

        it("answers the zones, region, caller and partition lookups for its region and account", async () => {
            const mocks = new Etcd3ClusterMocks({ region: "us-east-2", accountId: "210987654321" });
            const answers = await Promise.all([
                "aws:index/getAvailabilityZones:getAvailabilityZones", "aws:index/getRegion:getRegion",
                "aws:index/getCallerIdentity:getCallerIdentity", "aws:index/getPartition:getPartition",
            ].map((token) => mocks.call(call(token))));
            expect(answers).to.deep.equal([
                { id: "us-east-2", names: ["us-east-2a", "us-east-2b", "us-east-2c"], zoneIds: ["us-east-2-az1", "us-east-2-az2", "us-east-2-az3"], groupNames: ["us-east-2"] },
                { id: "us-east-2", name: "us-east-2", region: "us-east-2", endpoint: "ec2.us-east-2.amazonaws.com" },
                { id: "210987654321", accountId: "210987654321", arn: "arn:aws:iam::210987654321:user/test", userId: "AIDAMOCKUSER" },
                { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" },
            ]);
        });

        it("records every call, by token", async () => {
            const mocks = new Etcd3ClusterMocks();
            await mocks.call(call("aws:index/getPartition:getPartition"));
            await mocks.call(call("aws:index/getRegion:getRegion", { region: "x" }));
            expect(mocks.callsOf("aws:index/getRegion:getRegion")).to.deep.equal([call("aws:index/getRegion:getRegion", { region: "x" })]);
            expect(mocks.calls.map((c) => c.token)).to.deep.equal(["aws:index/getPartition:getPartition", "aws:index/getRegion:getRegion"]);
        });

        it("asks the user's mocks about any other function", async () => {
            const mocks = new Etcd3ClusterMocks({ mocks: { call: (args) => ({ ids: [`${args.token}-1`] }) } });
            expect(await mocks.call(call("aws:ec2/getSubnets:getSubnets"))).to.deep.equal({ ids: ["aws:ec2/getSubnets:getSubnets-1"] });
        });

        it("asks the user's mocks first about a bucket lookup, which programs make of their own buckets, and takes their answer", async () => {
            const theirs = { id: "theirs", bucket: "theirs", region: "ap-south-1" };
            const mocks = new Etcd3ClusterMocks({ mocks: { call: (args) => (args.token === "aws:s3/getBucket:getBucket" ? theirs : undefined) } });
            expect(await mocks.call(call("aws:s3/getBucket:getBucket", { bucket: "theirs" }))).to.deep.equal(theirs);
        });

        it("fails a function nobody answers, saying where to answer it, and reports it at the next settle", async () => {
            const mocks = new Etcd3ClusterMocks({ mocks: {} });
            const error = await rejectionOf(mocks.call(call("aws:ec2/getSubnets:getSubnets", { filters: [] })));
            const message = "no mock answers the function aws:ec2/getSubnets:getSubnets (called with {\"filters\":[]}). " +
                "Answer it in your own mocks: setEtcd3ClusterMocks({ mocks: { call: (args) => ... } }).";
            expect([error.message, (await rejectionOf(mocks.settle())).message])
                .to.deep.equal([`etcd3-cluster/testing: ${message}`, `etcd3-cluster/testing: found problems:\n  - ${message}`]);
        });

        it("fails a function the user's mocks fail on with their error, naming the function at the next settle", async () => {
            const mocks = new Etcd3ClusterMocks({ mocks: { call: () => { throw new Error("throttled"); } } });
            const error = await rejectionOf(mocks.call(call("aws:ec2/getSubnets:getSubnets")));
            expect([error.message, (await rejectionOf(mocks.settle())).message])
                .to.deep.equal(["throttled", "etcd3-cluster/testing: found problems:\n  - function aws:ec2/getSubnets:getSubnets: throttled"]);
        });
    });

    describe("run and settle", () => {
        it("returns what the program returned once its resources are registered", async () => {
            const mocks = new Etcd3ClusterMocks();
            expect(await mocks.run(() => ({ answer: 42 }))).to.deep.equal({ answer: 42 });
        });

        it("fails with the program's own error", async () => {
            const mocks = new Etcd3ClusterMocks();
            const error = await rejectionOf(mocks.run(() => { throw new Error("the program's bug"); }));
            expect(error.message).to.equal("the program's bug");
        });

        it("fails with the problems the mocks met, and the program's error after them", async () => {
            const mocks = new Etcd3ClusterMocks({ mocks: { call: () => { throw new Error("throttled"); } } });
            await rejectionOf(mocks.call(call("aws:ec2/getSubnets:getSubnets")));
            const error = await rejectionOf(mocks.run(() => { throw new Error("no subnets"); }));
            expect(error.message).to.equal("etcd3-cluster/testing: found problems:\n  - function aws:ec2/getSubnets:getSubnets: throttled\n" +
                "  - and so the program failed: no subnets");
        });

        it("fails at once on a rejection nobody handles, as the engine would", async () => {
            const mocks = new Etcd3ClusterMocks();
            const started = Date.now();
            const error = await rejectionOf(mocks.run(async () => {
                void Promise.reject(new Error("lost in an apply"));
                await new Promise((resolve) => setTimeout(resolve, 3_000));
            }));
            expect([error.message, Date.now() - started < 2_000]).to.deep.equal(["lost in an apply", true]);
        });

        it("wraps a rejection with something other than an Error", async () => {
            const mocks = new Etcd3ClusterMocks();
            const error = await rejectionOf(mocks.run(async () => {
                void Promise.reject("a string");
                await new Promise((resolve) => setTimeout(resolve, 3_000));
            }));
            expect(error.message).to.equal("unhandled rejection: a string");
        });

        it("fails a settle that outlasts its time, naming how many resources registered and the last three", async () => {
            const mocks = new Etcd3ClusterMocks();
            for (const name of ["first", "second", "third", "fourth"]) {
                await mocks.newResource(resource("aws:sns/topic:Topic", name));
            }
            const release = holdLoadBalancers();
            new aws.lb.LoadBalancer(uniqueName(), {});
            try {
                const error = await rejectionOf(mocks.settle(100));
                expect(error.message).to.equal("etcd3-cluster/testing: the program's resources had not all registered after 100 ms " +
                    "(4 so far, the last: aws:sns/topic:Topic \"second\", aws:sns/topic:Topic \"third\", aws:sns/topic:Topic \"fourth\"). " +
                    "An input of a later resource never settled: does one of your mocks return a promise that never resolves?");
            } finally {
                release();
                await settle();
            }
        });

        it("names no resource in a settle that outlasts its time before any registered", async () => {
            const mocks = new Etcd3ClusterMocks();
            const release = holdLoadBalancers();
            new aws.lb.LoadBalancer(uniqueName(), {});
            try {
                const error = await rejectionOf(mocks.settle(100));
                expect(error.message).to.equal("etcd3-cluster/testing: the program's resources had not all registered after 100 ms " +
                    "(0 so far, the last: none). An input of a later resource never settled: does one of your mocks return a promise that never resolves?");
            } finally {
                release();
                await settle();
            }
        });

        it("fails a settle when a dynamic provider of the component would not load, naming it and where it was loaded from", async () => {
            const mocks = new Etcd3ClusterMocks();
            await mocks.newResource(resource("pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard", "g", { __provider: "exports.handler = () => ({});" }));
            expect((await rejectionOf(mocks.settle())).message).to.equal("etcd3-cluster/testing: found problems:\n" +
                `  - the dynamic provider of pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard "g" would not load at \`pulumi up\` (from ${process.cwd()}): ` +
                "it has no create()");
        });

        it("loads each serialized provider once: two resources with the same broken provider are one problem", async () => {
            const mocks = new Etcd3ClusterMocks();
            const code = "exports.handler = () => { throw new Error(\"no such module\"); };";
            await mocks.newResource(resource("pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard", "g1", { __provider: code }));
            await mocks.newResource(resource("pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard", "g2", { __provider: code }));
            expect((await rejectionOf(mocks.settle())).message).to.equal("etcd3-cluster/testing: found problems:\n" +
                `  - the dynamic provider of pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard "g1" would not load at \`pulumi up\` (from ${process.cwd()}): ` +
                "no such module");
        });

        it("loads only the component's own dynamic providers, from the resources that carry one", async () => {
            const mocks = new Etcd3ClusterMocks();
            await mocks.newResource(resource("pulumi-nodejs:dynamic/other:Thing", "t", { __provider: "exports.handler = () => ({});" }));
            await mocks.newResource(resource("pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard", "g", { clusterSize: 3 }));
            await mocks.settle();
        });

        it("stops listening for unhandled rejections once the program has run", async () => {
            const listeners = process.listenerCount("unhandledRejection");
            await new Etcd3ClusterMocks().run(() => undefined);
            expect(process.listenerCount("unhandledRejection")).to.equal(listeners);
        });
    });

    describe("outputValue", () => {
        it("gives the value an output settles on", async () => {
            expect(await outputValue(pulumi.output(["a", "b"]))).to.deep.equal(["a", "b"]);
        });

        it("gives a plain value as it is", async () => {
            expect(await outputValue("plain")).to.equal("plain");
        });

        it("fails on an unknown value instead of waiting for it", async () => {
            const unknown = pulumi.output(pulumi.Output.create("x").apply(() => pulumi.unknown as unknown as string));
            const error = await rejectionOf(outputValue(unknown as pulumi.Output<string>, 1_000));
            expect(error.message).to.equal("etcd3-cluster/testing: the output's value is unknown: it is computed by the provider, " +
                "and the mocks run as a preview or did not return it in a resource's state");
        });

        it("fails on an output that does not settle in time, saying why it may not", async () => {
            const never = pulumi.output(new Promise<string>(() => undefined));
            const started = Date.now();
            const error = await rejectionOf(outputValue(never, 200));
            expect([error.message, Date.now() - started < 2_000]).to.deep.equal([
                "etcd3-cluster/testing: the output had not settled after 200 ms; it depends on a resource or function whose mock has not answered",
                true,
            ]);
        });
    });

    it("settles with the suite's own mocks installed", async () => {
        await settle();
    });
});
