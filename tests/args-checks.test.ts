/**
 * lib/args.ts called directly: the value checks it is built from, the whole
 * problem lines resolveArgs reports, and the whole resolved arguments. (The
 * component-level tests in tests/args.test.ts build an Etcd3Cluster and check
 * that nothing is registered; these need no Pulumi.)
 */
import { expect } from "chai";
import { problemsOf } from "./support/argument-problems";
import * as pulumi from "@pulumi/pulumi";
import {
    architectureOf, argsFromConfig, argumentDefaults, argumentNames, Etcd3ClusterArgs, Etcd3ClusterArgumentError,
    isOpenSshPublicKey, knownInstanceTypes, maxComponentNameLength, maxUserTags, nearestNames, parseIpv4Cidr, resolveArgs,
} from "../lib/args";
import { operatingSystems } from "../lib/os";
import { isDnsName } from "../lib/etcd";

const goodKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";
const ecdsaKey = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGyAlUxQDd1rVN3tgn0OR5b1dnVBruYzhPcb+SxuRyBPRuumFYJ3itSGxDpPO63VZrqAejMjcEKn8k8ioUCpldU= ops@example";
const subnets = ["subnet-0a000001", "subnet-0a000002"];

describe("argument checks (lib/args.ts)", () => {
    describe("parseIpv4Cidr", () => {
        it("reads a network address and its prefix", () => {
            expect(parseIpv4Cidr("10.99.0.0/16")).to.deep.equal({ address: 0x0a630000, prefix: 16 });
        });

        it("reads the highest address as an unsigned number", () => {
            expect(parseIpv4Cidr("255.255.255.255/32")).to.deep.equal({ address: 0xffffffff, prefix: 32 });
        });

        it("reads the whole internet", () => {
            expect(parseIpv4Cidr("0.0.0.0/0")).to.deep.equal({ address: 0, prefix: 0 });
        });

        it("refuses host bits set, at any octet", () => {
            expect(["10.99.0.1/16", "10.99.1.0/16", "11.0.0.0/7", "1.0.0.0/0", "203.0.113.1/31"].map(parseIpv4Cidr))
                .to.deep.equal([undefined, undefined, undefined, undefined, undefined]);
        });

        it("accepts the last network of a prefix", () => {
            expect(parseIpv4Cidr("203.0.113.254/31")).to.deep.equal({ address: 0xcb0071fe, prefix: 31 });
        });

        it("refuses octets over 255, prefixes over 32, missing parts and extra text", () => {
            expect(["256.0.0.0/8", "10.0.0.0/33", "10.0.0.0", "10.0.0/8", "10.0.0.0/", " 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0/008", "a.b.c.d/8"]
                .map(parseIpv4Cidr)).to.deep.equal(Array(9).fill(undefined));
        });
    });

    describe("isOpenSshPublicKey", () => {
        it("accepts ed25519 and ECDSA keys, with or without a comment", () => {
            expect([goodKey, ecdsaKey, goodKey.replace(" ops@example", ""), `  ${goodKey}  `].map(isOpenSshPublicKey))
                .to.deep.equal([true, true, true, true]);
        });

        it("refuses a blob whose type is not the one named", () => {
            expect(isOpenSshPublicKey(goodKey.replace("ssh-ed25519", "ssh-rsa"))).to.equal(false);
        });

        it("refuses a type it does not list, even with a matching blob", () => {
            const blob = Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from("ssh-dss"), Buffer.from([0, 0, 0, 1, 0])]).toString("base64");
            expect(isOpenSshPublicKey(`ssh-dss ${blob}`)).to.equal(false);
        });

        it("refuses a blob holding the type name and nothing after it", () => {
            const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519")]).toString("base64");
            expect(isOpenSshPublicKey(`ssh-ed25519 ${blob}`)).to.equal(false);
        });

        it("accepts a blob with one byte after the type name", () => {
            const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([1])]).toString("base64");
            expect(isOpenSshPublicKey(`ssh-ed25519 ${blob}`)).to.equal(true);
        });

        it("refuses a blob too short to hold a length", () => {
            expect(isOpenSshPublicKey("ssh-ed25519 AAAA")).to.equal(false);
        });

        it("refuses line breaks and NUL anywhere, a missing blob, and a blob that is not base64", () => {
            expect([`${goodKey}\n`, `${goodKey}\r`, `${goodKey}\0`, "ssh-ed25519", "ssh-ed25519 AAAA-not!", "ssh-ed25519 AAAA===", ""]
                .map(isOpenSshPublicKey)).to.deep.equal(Array(7).fill(false));
        });
    });

    describe("isDnsName", () => {
        it("accepts names of two or more labels, with a trailing dot or without", () => {
            expect(["example.com", "etcd.example.com.", "a-1.b2.example", "A.Example.COM", "9.example.com"].map(isDnsName))
                .to.deep.equal([true, true, true, true, true]);
        });

        it("accepts a 63-character label and a 253-character name", () => {
            const name253 = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;
            expect([`${"a".repeat(63)}.example.com`, name253].map(isDnsName)).to.deep.equal([true, true]);
        });

        it("refuses one label, empty labels, edge hyphens, long labels and names over 253 characters", () => {
            const name254 = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`;
            expect(["etcd", "etcd.", ".example.com", "etcd..example.com", "-etcd.example.com", "etcd-.example.com",
                `${"a".repeat(64)}.example.com`, name254, "etcd example.com"].map(isDnsName)).to.deep.equal(Array(9).fill(false));
        });
    });

    describe("architectureOf", () => {
        it("takes a1 and families with a g after the generation for arm64", () => {
            expect(["a1.large", "t4g.nano", "c7gn.large", "x2gd.medium", "r8g.large"].map(architectureOf))
                .to.deep.equal(Array(5).fill("arm64"));
        });

        it("takes every other family for x86_64, a g before the generation included", () => {
            expect(["t3.small", "g5.xlarge", "g4dn.xlarge", "a2.large", "mac2.metal", "u-6tb1.56xlarge"].map(architectureOf))
                .to.deep.equal(Array(6).fill("x86_64"));
        });
    });

    describe("nearestNames", () => {
        it("names up to three candidates within a third of the length, nearest first, ties alphabetically", () => {
            expect(nearestNames("abcdefghi", ["abcdefgxx", "abcdefghx", "zzzzzzzzz", "abcdefgyy", "abcdefgaa"]))
                .to.deep.equal(["abcdefghx", "abcdefgaa", "abcdefgxx"]);
        });

        it("allows two edits for short names and compares without case", () => {
            expect(nearestNames("OS", ["os", "osx", "dns", "ossss"])).to.deep.equal(["os", "osx", "dns"]);
        });

        it("takes a count", () => {
            expect(nearestNames("clustersize", ["clusterSize", "clusterSizes"], 1)).to.deep.equal(["clusterSize"]);
        });

        it("names nothing when every candidate is far", () => {
            expect(nearestNames("zzz", ["clusterSize", "os"])).to.deep.equal([]);
        });
    });

    it("knows the instance types of @pulumi/aws, not look-alikes", () => {
        expect(["t3.small", "m7g.large", "t3.smal", "T3.small"].map((type) => knownInstanceTypes.has(type))).to.deep.equal([true, true, false, false]);
    });

    it("allows 46 tags of the user's beside the component's four, and names of 16 characters", () => {
        expect({ maxUserTags, maxComponentNameLength }).to.deep.equal({ maxUserTags: 46, maxComponentNameLength: 16 });
    });

    describe("the error", () => {
        it("names the component and lists each problem on its own line", () => {
            const error = new Etcd3ClusterArgumentError("etcd3", ["first", "second"]);
            expect({ name: error.name, message: error.message, componentName: error.componentName, problems: error.problems, isError: error instanceof Error })
                .to.deep.equal({
                    name: "Etcd3ClusterArgumentError", message: 'Etcd3Cluster "etcd3" has invalid arguments:\n  - first\n  - second',
                    componentName: "etcd3", problems: ["first", "second"], isError: true,
                });
        });
    });

    describe("argument names and types", () => {
        it("refuses an unknown argument without a near name", () => {
            expect(problemsOf({ zzzzzz: 1 } as never)).to.deep.equal(["zzzzzz: not an argument of Etcd3Cluster"]);
        });

        it("names every near argument", () => {
            expect(problemsOf({ dnsname: "x" } as never)).to.deep.equal(["dnsname: not an argument of Etcd3Cluster; did you mean dnsName?"]);
        });

        it("skips arguments given as undefined", () => {
            expect(resolveArgs("etcd3", { clusterSize: undefined, bogus: undefined } as never).clusterSize).to.equal(3);
        });

        it("describes each kind of wrong value in its own words", () => {
            expect(problemsOf({
                ecosystem: null, clusterSize: [3], internetFacing: 1, os: { name: "flatcar" }, amiId: true,
                etcdVersion: "x".repeat(41) as never, tags: "team=db", vpcCidr: 10,
            } as never)).to.deep.equal([
                "ecosystem: expected a string, got null",
                "clusterSize: expected a number, got a list",
                "internetFacing: expected true or false, got the number 1",
                "os: expected a string, got an object",
                "amiId: expected a string, got the boolean true",
                "tags: expected an object of string values, got the string \"team=db\"",
                "vpcCidr: expected a string, got the number 10",
            ]);
        });

        it("shows a long string cut at 40 characters", () => {
            expect(problemsOf({ clusterSize: "x".repeat(41) } as never))
                .to.deep.equal([`clusterSize: expected a number, got the string "${"x".repeat(40)}…"`]);
        });

        it("shows a 40-character string whole", () => {
            expect(problemsOf({ clusterSize: "x".repeat(40) } as never))
                .to.deep.equal([`clusterSize: expected a number, got the string "${"x".repeat(40)}"`]);
        });

        it("refuses a list with a non-string item, saying how to give one value", () => {
            expect(problemsOf({ allowedCidrs: ["10.0.0.0/8", 7] } as never))
                .to.deep.equal(["allowedCidrs: expected a list of strings, got a list (put a single value in a list: [\"...\"])"]);
        });

        it("refuses a map that is a list or null", () => {
            expect(problemsOf({ tags: ["a"] } as never)).to.deep.equal(["tags: expected an object of string values, got a list"]);
            expect(problemsOf({ tags: null } as never)).to.deep.equal(["tags: expected an object of string values, got null"]);
        });

        it("accepts outputs and promises where another resource's ids may come", () => {
            const resolved = resolveArgs("etcd3", {
                vpcId: pulumi.output("vpc-0a1b2c3d"), privateSubnetIds: Promise.resolve(subnets), hostedZoneId: pulumi.output("Z1"), dnsName: "etcd.example.com",
            });
            expect(resolved.network.kind).to.equal("existing");
        });

        it("accepts a list of subnet ids whose items are outputs", () => {
            const ids = [pulumi.output("subnet-0a000001"), pulumi.output("subnet-0a000002")];
            expect(resolveArgs("etcd3", { vpcId: "vpc-0a1b2c3d", privateSubnetIds: ids }).network)
                .to.deep.equal({ kind: "existing", vpcId: "vpc-0a1b2c3d", privateSubnetIds: ids, publicSubnetIds: [] });
        });

        it("refuses an id list that is a single string, or holds numbers or objects that are not outputs", () => {
            expect(problemsOf({ vpcId: "vpc-0a1b2c3d", privateSubnetIds: "subnet-0a000001", publicSubnetIds: [1, { then: 1 }] } as never)).to.deep.equal([
                "privateSubnetIds: expected a list of strings or an Output of one, got the string \"subnet-0a000001\" (put a single value in a list: [\"...\"])",
                "publicSubnetIds: expected a list of strings or an Output of one, got a list (put a single value in a list: [\"...\"])",
            ]);
        });

        it("refuses an id that is an object but not an output", () => {
            expect(problemsOf({ vpcId: { id: "vpc-0a1b2c3d" }, hostedZoneId: null } as never)).to.deep.equal([
                "vpcId: expected a string or an Output of one, got an object",
                "hostedZoneId: expected a string or an Output of one, got null",
            ]);
        });

        it("turns peer and client TLS on by default with certificateArn or rootPassword, and leaves them off without either", () => {
            const tlsOf = (args: Etcd3ClusterArgs) => {
                const { peerTls, clientTls } = resolveArgs("etcd3", args);
                return { peerTls, clientTls };
            };
            const certificateArn = "arn:aws:acm:eu-west-2:123456789012:certificate/0123abcd";
            expect(tlsOf({})).to.deep.equal({ peerTls: false, clientTls: false });
            expect(tlsOf({ certificateArn, dnsName: "etcd.example.com", hostedZoneId: "Z1" })).to.deep.equal({ peerTls: true, clientTls: true });
            expect(tlsOf({ rootPassword: "correct horse battery staple" })).to.deep.equal({ peerTls: true, clientTls: true });
        });

        it("keeps an explicit choice over the secure default, and client TLS off with peer TLS turned off", () => {
            const certificateArn = "arn:aws:acm:eu-west-2:123456789012:certificate/0123abcd";
            const withCertificate = { certificateArn, dnsName: "etcd.example.com", hostedZoneId: "Z1" };
            const resolved = (args: Etcd3ClusterArgs) => resolveArgs("etcd3", { ...withCertificate, ...args });
            expect(resolved({ peerTls: false })).to.deep.include({ peerTls: false, clientTls: false });
            expect(resolved({ clientTls: false })).to.deep.include({ peerTls: true, clientTls: false });
            expect(resolveArgs("etcd3", { peerTls: true })).to.deep.include({ peerTls: true, clientTls: false });
        });

        it("takes rootPassword as a string or an Output, never a number or an object that is not one, and never shows it", () => {
            expect(problemsOf({ peerTls: true, clientTls: true, rootPassword: 123456789012 } as never))
                .to.deep.equal(["rootPassword: expected a string or an Output of one (a Pulumi secret), got a number"]);
            expect(problemsOf({ peerTls: true, clientTls: true, rootPassword: { password: "a plain object" } } as never))
                .to.deep.equal(["rootPassword: expected a string or an Output of one (a Pulumi secret), got an object"]);
            expect(problemsOf({ peerTls: true, clientTls: true, rootPassword: null } as never))
                .to.deep.equal(["rootPassword: expected a string or an Output of one (a Pulumi secret), got null"]);
            expect(() => resolveArgs("etcd3", { peerTls: true, clientTls: true, rootPassword: pulumi.secret("twelve characters at least") })).to.not.throw();
        });

        it("takes discoveryLogFile as a path or false, nothing else", () => {
            expect(problemsOf({ discoveryLogFile: true } as never)).to.deep.equal(["discoveryLogFile: expected a file path or false, got the boolean true"]);
        });
    });

    describe("values", () => {
        it("refuses a component name with capitals, saying why names are limited", () => {
            expect(problemsOf({}, "Etcd3")).to.deep.equal([
                `name "Etcd3": use lowercase letters, digits and hyphens, starting with a letter, at most 16 characters ` +
                    "(AWS limits load balancer and target group names to 32 characters, and the component derives them from its name)",
            ]);
        });

        it("accepts a 16-character component name and refuses a 17-character one", () => {
            expect(resolveArgs("a".repeat(16), {}).ecosystem).to.equal("etcd3-cluster");
            expect(problemsOf({}, "a".repeat(17))).to.have.length(1);
        });

        it("refuses a component name starting with a digit or holding other characters", () => {
            expect(["1etcd", "etcd_1", "etcd 1"].map((name) => problemsOf({}, name).length)).to.deep.equal([1, 1, 1]);
        });

        it("refuses a name AWS reserves, saying which prefix and why", () => {
            expect(problemsOf({}, "sg-etcd")).to.deep.equal([
                'name "sg-etcd": may not begin with "sg-" (AWS refuses load balancer names beginning "internal-" ' +
                    "and security group names beginning \"sg-\", and the component derives them from its name)",
            ]);
        });

        it("refuses an ecosystem ending with a hyphen", () => {
            expect(problemsOf({ ecosystem: "etcd-" })).to.deep.equal([
                'ecosystem "etcd-": use 1 to 32 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen',
            ]);
        });

        it("accepts a 32-character ecosystem and refuses a 33-character one", () => {
            expect(resolveArgs("etcd3", { ecosystem: `e${"1".repeat(31)}` }).ecosystem).to.equal(`e${"1".repeat(31)}`);
            expect(problemsOf({ ecosystem: `e${"1".repeat(32)}` })).to.have.length(1);
        });

        it("refuses vpcId with a new VPC's arguments, naming each", () => {
            expect(problemsOf({ vpcId: "vpc-0a1b2c3d", privateSubnetIds: subnets, vpcCidr: "10.1.0.0/16", availabilityZoneCount: 2, natGateways: "OnePerAz" })).to.deep.equal([
                "vpcId and vpcCidr, availabilityZoneCount, natGateways: give either vpcId with its subnets (use an existing VPC) or vpcCidr (create one), not both",
            ]);
        });

        it("refuses vpcId with availabilityZoneCount alone, naming it", () => {
            expect(problemsOf({ vpcId: "vpc-0a1b2c3d", privateSubnetIds: subnets, availabilityZoneCount: 2 })).to.deep.equal([
                "vpcId and availabilityZoneCount: give either vpcId with its subnets (use an existing VPC) or vpcCidr (create one), not both",
            ]);
        });

        it("refuses a VPC id of the wrong shape or length, saying what one looks like", () => {
            expect(["vpc-0a1b2c3", "vpc-0123456789abcdef01", "vpc-0A1B2C3D", "x-vpc-0a1b2c3d"].map((vpcId) => problemsOf({ vpcId, privateSubnetIds: subnets })))
                .to.deep.equal(["vpc-0a1b2c3", "vpc-0123456789abcdef01", "vpc-0A1B2C3D", "x-vpc-0a1b2c3d"]
                    .map((vpcId) => [`vpcId "${vpcId}": use a VPC id like vpc-0123456789abcdef0`]));
        });

        it("accepts VPC and subnet ids of 8 and 17 hex digits", () => {
            const network = resolveArgs("etcd3", { vpcId: "vpc-0123456789abcdef0", privateSubnetIds: ["subnet-01234567", "subnet-0123456789abcdef0"] }).network;
            expect(network).to.deep.equal({
                kind: "existing", vpcId: "vpc-0123456789abcdef0", privateSubnetIds: ["subnet-01234567", "subnet-0123456789abcdef0"], publicSubnetIds: [],
            });
        });

        it("refuses malformed subnet ids, each with its index", () => {
            expect(problemsOf({ vpcId: "vpc-0a1b2c3d", privateSubnetIds: ["subnet-0a000001", "subnet-0a00001"], publicSubnetIds: ["pub"] })).to.deep.equal([
                'privateSubnetIds[1] "subnet-0a00001": use a subnet id like subnet-0123456789abcdef0',
                'publicSubnetIds[0] "pub": use a subnet id like subnet-0123456789abcdef0',
            ]);
        });

        it("names each duplicate subnet once", () => {
            expect(problemsOf({ vpcId: "vpc-0a1b2c3d", privateSubnetIds: [...subnets, ...subnets, subnets[0]] })).to.deep.equal([
                "privateSubnetIds: subnet-0a000001, subnet-0a000002 given more than once; give each subnet once, in different zones",
            ]);
        });

        it("counts the private subnets, saying how many it got", () => {
            expect(problemsOf({ vpcId: "vpc-0a1b2c3d" })).to.deep.equal([
                "privateSubnetIds: with vpcId, give at least 2 private subnets in different availability zones (got 0)",
            ]);
        });

        it("counts the public subnets of an internet-facing cluster", () => {
            expect(problemsOf({ vpcId: "vpc-0a1b2c3d", privateSubnetIds: subnets, publicSubnetIds: ["subnet-0b000001"], internetFacing: true, allowedCidrs: ["0.0.0.0/0"] }))
                .to.deep.equal(["publicSubnetIds: an internet-facing load balancer needs at least 2 public subnets of vpcId (got 1)"]);
        });

        it("needs no public subnets for an internal cluster in an existing VPC", () => {
            expect(resolveArgs("etcd3", { vpcId: "vpc-0a1b2c3d", privateSubnetIds: subnets, publicSubnetIds: ["subnet-0b000001"] }).network)
                .to.deep.equal({ kind: "existing", vpcId: "vpc-0a1b2c3d", privateSubnetIds: subnets, publicSubnetIds: ["subnet-0b000001"] });
        });

        it("refuses subnets without vpcId, naming each", () => {
            expect(problemsOf({ privateSubnetIds: subnets, publicSubnetIds: subnets })).to.deep.equal([
                "privateSubnetIds, publicSubnetIds: subnets can only be given together with vpcId",
            ]);
        });

        it("refuses a vpcCidr outside /16 to /24, with an example", () => {
            expect(["10.0.0.0/15", "10.0.0.0/25"].map((vpcCidr) => problemsOf({ vpcCidr }))).to.deep.equal(["10.0.0.0/15", "10.0.0.0/25"]
                .map((vpcCidr) => [`vpcCidr "${vpcCidr}": use an IPv4 network address with a prefix from /16 to /24, e.g. 10.99.0.0/16`]));
        });

        it("makes a new VPC of /16 to /24 over 2 or 3 zones, with one NAT gateway or one per zone", () => {
            expect([
                resolveArgs("etcd3", { vpcCidr: "10.1.0.0/16", availabilityZoneCount: 2, natGateways: "OnePerAz" }).network,
                resolveArgs("etcd3", { vpcCidr: "10.1.2.0/24", availabilityZoneCount: 3, natGateways: "Single" }).network,
            ]).to.deep.equal([
                { kind: "new", vpcCidr: "10.1.0.0/16", availabilityZoneCount: 2, natGateways: "OnePerAz" },
                { kind: "new", vpcCidr: "10.1.2.0/24", availabilityZoneCount: 3, natGateways: "Single" },
            ]);
        });

        it("refuses 1 or 4 zones and another NAT strategy, saying why", () => {
            expect(problemsOf({ availabilityZoneCount: 4, natGateways: "None" as never })).to.deep.equal([
                "availabilityZoneCount 4: use 2 or 3 (an ALB needs subnets in at least two zones)",
                'natGateways "None": use "Single" or "OnePerAz" (the members need outbound access for the image and discovery)',
            ]);
            expect(problemsOf({ availabilityZoneCount: 1 })).to.have.length(1);
        });

        it("refuses an even cluster size, listing the sizes and why", () => {
            expect(problemsOf({ clusterSize: 4 })).to.deep.equal([
                "clusterSize 4: use 1, 3, 5, 7 (etcd needs a majority, so even sizes add no fault tolerance, and more than 7 members slow every write)",
            ]);
        });

        it("refuses a malformed instance type, with examples", () => {
            expect(problemsOf({ instanceType: "t3-small" })).to.deep.equal(['instanceType "t3-small": use an EC2 instance type such as t3.small or m7g.large']);
        });

        it("refuses an unknown instance type, naming the nearest known ones and the way out", () => {
            expect(problemsOf({ instanceType: "t3.smal" })).to.deep.equal([
                'instanceType "t3.smal": not an EC2 instance type @pulumi/aws knows; did you mean t3.small, t2.small, t3a.small? ' +
                    "For a type newer than the SDK, also set allowUnknownInstanceType: true",
            ]);
        });

        it("refuses an unknown instance type with no near name without suggesting any", () => {
            expect(problemsOf({ instanceType: "zzzzzz9.zzzzzzzzzzzz" })).to.deep.equal([
                'instanceType "zzzzzz9.zzzzzzzzzzzz": not an EC2 instance type @pulumi/aws knows For a type newer than the SDK, also set allowUnknownInstanceType: true',
            ]);
        });

        it("refuses a malformed AMI id, with an example", () => {
            expect(problemsOf({ amiId: "ami-123" })).to.deep.equal(['amiId "ami-123": use an AMI id like ami-0123456789abcdef0']);
        });

        it("refuses an OS it has no row for, listing the rows", () => {
            expect(problemsOf({ os: "ubuntu" as never })).to.deep.equal(['os "ubuntu": use one of fedora-coreos, flatcar']);
        });

        it("refuses an etcd release it cannot run, saying why and with an example", () => {
            expect(problemsOf({ etcdVersion: "v3.8.0" })).to.deep.equal([
                'etcdVersion "v3.8.0": use a release vX.Y.Z of etcd 3.5, 3.6, 3.7 (3.4 is end of life), e.g. v3.5.33',
            ]);
        });

        it("passes on etcd's timing problems", () => {
            expect(problemsOf({ heartbeatIntervalMs: 300 })).to.deep.equal([
                "electionTimeoutMs (not given: etcd's default of 1000): use a whole number of ms from 5 × heartbeatIntervalMs (1500) to 50000, as etcd itself requires",
            ]);
        });

        it("refuses an image repository with a tag, with an example", () => {
            expect(problemsOf({ etcdImageRepository: "quay.io/coreos/etcd:v3.5.33" })).to.deep.equal([
                'etcdImageRepository "quay.io/coreos/etcd:v3.5.33": use a registry host (its port, if any, 1–65535) and a path without a tag, e.g. quay.io/coreos/etcd',
            ]);
        });

        it("refuses an image registry on a port no TCP connection can use, and takes one that can", () => {
            expect(problemsOf({ etcdImageRepository: "registry.internal:70000/etcd" })).to.deep.equal([
                'etcdImageRepository "registry.internal:70000/etcd": use a registry host (its port, if any, 1–65535) and a path without a tag, e.g. quay.io/coreos/etcd',
            ]);
            expect(resolveArgs("etcd3", { etcdImageRepository: "registry.internal:65535/etcd" }).etcdImageRepository).to.equal("registry.internal:65535/etcd");
        });

        it("refuses a discovery service that is not an http(s) base URL, quoting it as given", () => {
            expect(problemsOf({ discoveryService: "ftp://discovery.example.com/" })).to.deep.equal([
                'discoveryService "ftp://discovery.example.com/": use an http(s) base URL such as https://discovery.etcd.io',
            ]);
        });

        it("takes a discovery service without its trailing slashes", () => {
            expect(resolveArgs("etcd3", { discoveryService: "http://127.0.0.1:8087//" }).discoveryService).to.equal("http://127.0.0.1:8087");
        });

        it("refuses a discovery URL without a token, with an example", () => {
            expect(problemsOf({ discoveryUrl: "https://discovery.etcd.io/new?size=3" })).to.deep.equal([
                'discoveryUrl "https://discovery.etcd.io/new?size=3": use a URL that a discovery service returned, ending in a 32-hex-digit token, ' +
                    "e.g. https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e",
            ]);
        });

        it("refuses a blank discovery log file, saying how to have none", () => {
            expect(problemsOf({ discoveryLogFile: "  " })).to.deep.equal(["discoveryLogFile: use a file path, or false for no log"]);
        });

        it("refuses an SSH key that is not one key line, listing the key types allowed", () => {
            expect(problemsOf({ sshAuthorizedKeys: ["ssh-ed25519"], sshCidrs: ["10.99.0.0/16"] })).to.deep.equal([
                'sshAuthorizedKeys[0]: not one OpenSSH public key line ("ssh-ed25519 AAAA... comment", no line breaks); types allowed: ' +
                    "ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com",
            ]);
        });

        it("refuses CIDRs that are not network addresses, and duplicates, for clients and load balancers alike", () => {
            expect(problemsOf({ clientCidrs: ["10.0.0.1/8", "10.0.0.0/8", "10.0.0.0/8"], allowedCidrs: ["x"] })).to.deep.equal([
                'clientCidrs[0] "10.0.0.1/8": use an IPv4 network address with its prefix, e.g. 203.0.113.0/24',
                "clientCidrs: 10.0.0.0/8 given more than once; give each CIDR once",
                'allowedCidrs[0] "x": use an IPv4 network address with its prefix, e.g. 203.0.113.0/24',
            ]);
        });

        it("refuses an empty allowedCidrs, saying how to allow the VPC", () => {
            expect(problemsOf({ allowedCidrs: [] })).to.deep.equal(["allowedCidrs: give at least one CIDR, or leave it out to allow the VPC's CIDR"]);
        });

        it("refuses an internet-facing cluster whose allowed CIDRs are not named, saying how to open it to all", () => {
            expect(problemsOf({ internetFacing: true })).to.deep.equal([
                "allowedCidrs: an internet-facing load balancer needs the CIDRs allowed in named explicitly (without rootPassword, etcd behind it has no authentication); " +
                    "use [\"0.0.0.0/0\"] only if the whole internet may read and write it",
            ]);
        });

        it("refuses hostedZoneId without dnsName, naming the one given", () => {
            expect(problemsOf({ hostedZoneId: "Z1" })).to.deep.equal(["hostedZoneId: dnsName and hostedZoneId go together; give both or neither"]);
        });

        it("refuses a DNS name that is not fully qualified, with an example", () => {
            expect(problemsOf({ dnsName: "etcd", hostedZoneId: "Z1" })).to.deep.equal(['dnsName "etcd": use a fully qualified DNS name such as etcd.example.com']);
        });

        it("refuses root volumes outside 10 to 16384 GiB or not whole", () => {
            expect([9, 16385, 20.5].map((rootVolumeSizeGiB) => problemsOf({ rootVolumeSizeGiB }))).to.deep.equal([9, 16385, 20.5]
                .map((size) => [`rootVolumeSizeGiB ${size}: use a whole number of GiB from 10 to 16384`]));
        });

        it("accepts root volumes of 10 and 16384 GiB", () => {
            expect([10, 16384].map((rootVolumeSizeGiB) => resolveArgs("etcd3", { rootVolumeSizeGiB }).rootVolumeSizeGiB)).to.deep.equal([10, 16384]);
        });

        it("refuses the component's own tag keys, naming them", () => {
            expect(problemsOf({ tags: { ecosystem: "x" } }))
                .to.deep.equal(['tags["ecosystem"]: the component sets Name, ecosystem, etcd-member, etcd3-cluster:leave itself; use another key']);
        });

        it("refuses tag keys EC2 refuses on an instance whose tags are in its metadata, saying why", () => {
            const why = "the members' instances have their tags in their instance metadata (how a member learns it is to leave the " +
                'cluster), where EC2 refuses a key with a space or "/", and the keys ".", "..", "_index"; use another key';
            expect(problemsOf({ tags: { "cost center": "x", "kubernetes.io/role": "y", ".": "z", "..": "z", "_index": "z" } }))
                .to.deep.equal(["cost center", "kubernetes.io/role", ".", "..", "_index"].map((key) => `tags["${key}"]: ${why}`));
        });

        it("accepts tag keys an instance's metadata can carry, and spaces and \"/\" in values", () => {
            const tags = { "team:owner@eu": "platform / etcd", "cost-center_1+=.": "a b", "...": "x", "_index2": "y" };
            expect(resolveArgs("etcd3", { tags }).tags).to.deep.equal(tags);
        });

        it("refuses an empty tag key, and keys or values AWS refuses, with the rules", () => {
            const rules = 'keys are 1 to 128 characters and may not start with "aws:"; values are at most 256; both only letters, digits, spaces and _ . : / = + - @';
            expect(problemsOf({ tags: { "": "x", "AWS:x": "y", ok: "tab\t" } })).to.deep.equal([
                `tags[""]: ${rules}`, `tags["AWS:x"]: ${rules}`, `tags["ok"]: ${rules}`,
            ]);
        });

        it("refuses 47 tags, saying how many fit", () => {
            const tags = Object.fromEntries(Array.from({ length: 47 }, (_, i) => [`t${i}`, "v"]));
            expect(problemsOf({ tags })).to.deep.equal([
                "tags: 47 given; AWS allows 50 tags on a resource and the component sets 4 of its own, so give at most 46",
            ]);
        });
    });

    describe("what it resolves to", () => {
        const kmsKeyId = "arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        it("fills in every default", () => {
            expect(resolveArgs("etcd3", {})).to.deep.equal({
                ecosystem: "etcd3-cluster",
                network: { kind: "new", vpcCidr: "10.99.0.0/16", availabilityZoneCount: 3, natGateways: "Single" },
                clusterSize: 3,
                instanceType: "t3.small",
                architecture: "x86_64",
                amiId: undefined,
                os: "fedora-coreos",
                osProfile: operatingSystems["fedora-coreos"],
                etcdVersion: "v3.5.33",
                release: { tag: "v3.5.33", branch: "3.5", numbers: [3, 5, 33], servesV2Api: true, formsByV2Discovery: true },
                enableV2Api: true,
                bootstrap: "discovery",
                etcdImageRepository: "gcr.io/etcd-development/etcd",
                heartbeatIntervalMs: undefined,
                electionTimeoutMs: undefined,
                discoveryUrl: undefined,
                discoveryService: "https://discovery.etcd.io",
                discoveryLogFile: "etcd3-discovery-url.log",
                sshAuthorizedKeys: [],
                internetFacing: false,
                allowedCidrs: "vpc-cidr",
                clientCidrs: "vpc-cidr",
                sshCidrs: [],
                grpcLoadBalancer: false,
                dns: undefined,
                https: undefined,
                peerTls: false,
                clientTls: false,
                peerCa: { generation: 0, rotation: undefined },
                givenPeerCa: undefined,
                rootPassword: undefined,
                tokenSigningKeyGeneration: 0,
                rootVolumeSizeGiB: 20,
                dataVolume: { sizeGiB: 20, iops: 3000, throughputMiBps: 125, kmsKeyId: undefined, retain: true },
                rollingHealthTimeoutMinutes: 15,
                memberDepartureTimeoutMinutes: 15,
                quotaBackendMiB: 8192,
                snapshotCount: 10000,
                dailyDefragmentation: true,
                backup: undefined,
                restore: undefined,
                alarms: { topicArn: undefined },
                tags: {},
            });
        });

        it("keeps every value given", () => {
            const topicArn = "arn:aws:sns:eu-west-2:123456789012:etcd-alarms";
            const url = "https://discovery.etcd.io/0123456789abcdef0123456789abcdef";
            expect(resolveArgs("etcd3", {
                ecosystem: "kv", clusterSize: 5, instanceType: "m7g.large", amiId: "ami-0123456789abcdef0", os: "flatcar",
                etcdVersion: "3.6.14", bootstrap: "discovery", etcdImageRepository: "quay.io/coreos/etcd", heartbeatIntervalMs: 200, electionTimeoutMs: 2000,
                discoveryUrl: url, discoveryService: "http://127.0.0.1:8087", discoveryLogFile: false, sshAuthorizedKeys: [goodKey],
                sshCidrs: ["10.99.0.0/16", "192.0.2.1/32"],
                internetFacing: true, allowedCidrs: ["203.0.113.0/24"], clientCidrs: [], grpcLoadBalancer: true,
                dnsName: "etcd.example.com", hostedZoneId: "Z1", rootVolumeSizeGiB: 50, tags: { team: "db" },
                certificateArn: "arn:aws:acm:eu-west-2:123456789012:certificate/0123abcd", sslPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06",
                dataVolumeSizeGiB: 100, dataVolumeIops: 6000, dataVolumeThroughput: 500, kmsKeyId, retainDataVolumes: false,
                rollingHealthTimeoutMinutes: 0, memberDepartureTimeoutMinutes: 120, quotaBackendMiB: 4096, snapshotCount: 50000,
                dailyDefragmentation: false, alarmTopicArn: topicArn,
                backups: true, backupBucket: "kv-snapshots", backupPrefix: "etcd/kv/", backupIntervalMinutes: 60,
                peerTls: true, clientTls: true, peerCaGeneration: 2, peerCaRotation: "sign-with-next", rootPassword: "correct horse battery staple",
                tokenSigningKeyGeneration: 3,
            })).to.deep.equal({
                ecosystem: "kv",
                network: { kind: "new", vpcCidr: "10.99.0.0/16", availabilityZoneCount: 3, natGateways: "Single" },
                clusterSize: 5,
                instanceType: "m7g.large",
                architecture: "arm64",
                amiId: "ami-0123456789abcdef0",
                os: "flatcar",
                osProfile: operatingSystems.flatcar,
                etcdVersion: "v3.6.14",
                release: { tag: "v3.6.14", branch: "3.6", numbers: [3, 6, 14], servesV2Api: false, formsByV2Discovery: true },
                enableV2Api: false,
                bootstrap: "discovery",
                etcdImageRepository: "quay.io/coreos/etcd",
                heartbeatIntervalMs: 200,
                electionTimeoutMs: 2000,
                discoveryUrl: url,
                discoveryService: "http://127.0.0.1:8087",
                discoveryLogFile: undefined,
                sshAuthorizedKeys: [goodKey],
                internetFacing: true,
                allowedCidrs: ["203.0.113.0/24"],
                clientCidrs: [],
                sshCidrs: ["10.99.0.0/16", "192.0.2.1/32"],
                grpcLoadBalancer: true,
                dns: { name: "etcd.example.com", hostedZoneId: "Z1" },
                https: { certificateArn: "arn:aws:acm:eu-west-2:123456789012:certificate/0123abcd", sslPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06" },
                peerTls: true,
                clientTls: true,
                peerCa: { generation: 2, rotation: "sign-with-next" },
                givenPeerCa: undefined,
                rootPassword: "correct horse battery staple",
                tokenSigningKeyGeneration: 3,
                rootVolumeSizeGiB: 50,
                dataVolume: { sizeGiB: 100, iops: 6000, throughputMiBps: 500, kmsKeyId, retain: false },
                rollingHealthTimeoutMinutes: 0,
                memberDepartureTimeoutMinutes: 120,
                quotaBackendMiB: 4096,
                snapshotCount: 50000,
                dailyDefragmentation: false,
                backup: { bucket: "kv-snapshots", prefix: "etcd/kv/", intervalMinutes: 60, retentionDays: undefined },
                restore: undefined,
                alarms: { topicArn },
                tags: { team: "db" },
            });
        });

        it("keeps a discovery log file given as a path", () => {
            expect(resolveArgs("etcd3", { discoveryLogFile: "logs/discovery.log" }).discoveryLogFile).to.equal("logs/discovery.log");
        });

        it("states the defaults the definitions hold", () => {
            expect(argumentDefaults).to.deep.equal({
                ecosystem: "etcd3-cluster", vpcCidr: "10.99.0.0/16", availabilityZoneCount: 3, natGateways: "Single", clusterSize: 3,
                instanceType: "t3.small", allowUnknownInstanceType: false, os: "fedora-coreos", etcdVersion: "v3.5.33", bootstrap: "discovery",
                etcdImageRepository: "gcr.io/etcd-development/etcd", discoveryService: "https://discovery.etcd.io",
                discoveryLogFile: "etcd3-discovery-url.log", internetFacing: false, grpcLoadBalancer: false,
                sslPolicy: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", peerCaGeneration: 0, tokenSigningKeyGeneration: 0, rootVolumeSizeGiB: 20,
                dataVolumeSizeGiB: 20, dataVolumeIops: 3000, dataVolumeThroughput: 125, retainDataVolumes: true, rollingHealthTimeoutMinutes: 15,
                memberDepartureTimeoutMinutes: 15, quotaBackendMiB: 8192, snapshotCount: 10000, dailyDefragmentation: true, alarms: true,
                backups: false, backupIntervalMinutes: 15, backupRetentionDays: 30,
            });
        });
    });

    describe("argsFromConfig", () => {
        const reader = (values: Record<string, unknown>) => ({
            get: (key: string) => values[key] as string | undefined,
            getNumber: (key: string) => values[key] as number | undefined,
            getBoolean: (key: string) => values[key] as boolean | undefined,
            getObject: <T>(key: string) => values[key] as T | undefined,
            // A secret comes back as the reader's own marked value, so the test sees which reader gave it.
            getSecret: (key: string) => (values[key] === undefined ? undefined : { secret: values[key] }) as unknown as pulumi.Output<string> | undefined,
        });

        it("reads each type through its own reader", () => {
            expect(argsFromConfig(reader({
                ecosystem: "kv", vpcId: "vpc-0a1b2c3d", clusterSize: 5, grpcLoadBalancer: true, sshAuthorizedKeys: [goodKey],
                publicSubnetIds: subnets, tags: { team: "db" }, discoveryLogFile: "log.txt", rootPassword: "correct horse battery",
            }))).to.deep.equal({
                ecosystem: "kv", vpcId: "vpc-0a1b2c3d", clusterSize: 5, grpcLoadBalancer: true, sshAuthorizedKeys: [goodKey],
                publicSubnetIds: subnets, tags: { team: "db" }, discoveryLogFile: "log.txt", rootPassword: { secret: "correct horse battery" },
            });
        });

        it("gives nothing for keys that are not set", () => {
            expect(argsFromConfig(reader({}))).to.deep.equal({});
        });

        it("asks for every argument once, in the definitions' order", () => {
            const asked: string[] = [];
            const spy = (key: string) => { asked.push(key); return undefined; };
            argsFromConfig({ get: spy, getNumber: spy, getBoolean: spy, getObject: spy, getSecret: spy });
            expect(asked).to.deep.equal(argumentNames);
        });
    });

    describe("whole messages and whole values (each check refuses the value inside a longer string too)", () => {
        it("offers every near argument name for a misspelt one", () => {
            expect(problemsOf({ vpcIds: "vpc-0abc1234" } as never)).to.deep.equal(["vpcIds: not an argument of Etcd3Cluster; did you mean vpcId or vpcCidr?"]);
        });

        it("names the argument given alone when dnsName and hostedZoneId must go together", () => {
            expect(problemsOf({ dnsName: "etcd.example.com" })).to.deep.equal(["dnsName: dnsName and hostedZoneId go together; give both or neither"]);
        });

        it("lists every repeated CIDR once, in one problem", () => {
            expect(problemsOf({ clientCidrs: ["10.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16", "192.168.0.0/16"] }))
                .to.deep.equal(["clientCidrs: 10.0.0.0/8, 192.168.0.0/16 given more than once; give each CIDR once"]);
        });

        it("refuses a tag map with any value that is not a string", () => {
            expect(problemsOf({ tags: { team: "db", cost: 5 } as never })).to.deep.equal(["tags: expected an object of string values, got an object"]);
        });

        it("refuses a subnet list with any item that is neither a string nor an Output", () => {
            expect(problemsOf({ vpcId: "vpc-0abc1234", privateSubnetIds: ["subnet-0a000001", 5] as never, publicSubnetIds: subnets }))
                .to.deep.equal(['privateSubnetIds: expected a list of strings or an Output of one, got a list (put a single value in a list: ["..."])']);
        });

        it("refuses a function where a string or an Output goes: only an object with apply or then is deferred", () => {
            expect(problemsOf({ vpcId: (() => "vpc-1") as never, privateSubnetIds: subnets }))
                .to.deep.equal(['vpcId: expected a string or an Output of one, got the function () => "vpc-1"']);
        });

        it("refuses a subnet id with anything before or after it", () => {
            expect(problemsOf({ vpcId: "vpc-0abc1234", privateSubnetIds: ["xsubnet-0a000001", "subnet-0a000002z"], publicSubnetIds: subnets })).to.deep.equal([
                'privateSubnetIds[0] "xsubnet-0a000001": use a subnet id like subnet-0123456789abcdef0',
                'privateSubnetIds[1] "subnet-0a000002z": use a subnet id like subnet-0123456789abcdef0',
            ]);
        });

        it("refuses an instance type with anything before or after it, even with allowUnknownInstanceType", () => {
            for (const instanceType of ["3t3.small", "t3.small!"]) {
                expect(problemsOf({ instanceType, allowUnknownInstanceType: true }), instanceType)
                    .to.deep.equal([`instanceType "${instanceType}": use an EC2 instance type such as t3.small or m7g.large`]);
            }
        });

        it("refuses an AMI id with anything before or after it", () => {
            for (const amiId of ["xami-0123456789abcdef0", "ami-0123456789abcdef0x"]) {
                expect(problemsOf({ amiId }), amiId).to.deep.equal([`amiId "${amiId}": use an AMI id like ami-0123456789abcdef0`]);
            }
        });

        it("takes a key whose type and key are separated by several spaces or a tab, as sshd does", () => {
            const [type, blob, comment] = goodKey.split(" ");
            expect([`${type}  ${blob} ${comment}`, `${type}\t${blob}`].map(isOpenSshPublicKey)).to.deep.equal([true, true]);
        });

        it("refuses a key with anything glued before or after its base64", () => {
            const [type, blob] = goodKey.split(" ");
            expect([`${type} !${blob}`, `${type} ${blob}!`].map(isOpenSshPublicKey)).to.deep.equal([false, false]);
        });
    });
});
