import { expect } from "chai";
import { installMocks, registered, settle, uniqueName } from "./support/pulumi-mocks";

installMocks();
import { argsFromConfig, Etcd3Cluster, Etcd3ClusterArgs, Etcd3ClusterArgumentError, operatingSystems, resolveArgs } from "../lib";
import { argumentNames } from "../lib/args";

/**
 * Builds a component with bad args and returns the problems reported. Asserts that nothing was registered:
 * registrations reach the mocks asynchronously, so the count is compared once the mocks have seen every one.
 */
async function problemsWith(args: Etcd3ClusterArgs, name = uniqueName()): Promise<string[]> {
    await settle();
    const before = registered.length;
    let problems: string[] | undefined;
    try {
        new Etcd3Cluster(name, args);
    } catch (error) {
        expect(error).to.be.instanceOf(Etcd3ClusterArgumentError);
        problems = (error as Etcd3ClusterArgumentError).problems;
    }
    await settle();
    const registeredAnyway = registered.slice(before).map((r) => `${r.type} "${r.name}"`);
    expect(registeredAnyway, `resources registered before the error: ${registeredAnyway.join(", ")}`).to.deep.equal([]);
    if (problems === undefined) {
        throw new Error(`expected ${JSON.stringify(args)} to be rejected`);
    }
    return problems;
}

async function expectProblem(args: Etcd3ClusterArgs, ...fragments: string[]): Promise<void> {
    const problems = await problemsWith(args);
    expect(problems, problems.join("\n")).to.have.length(1);
    fragments.forEach((fragment) => expect(problems[0]).to.contain(fragment));
}

const goodKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";

describe("Etcd3Cluster argument validation", () => {
    it("accepts no arguments at all and fills in the defaults", () => {
        const resolved = resolveArgs("etcd3", {});
        expect(resolved).to.deep.include({
            ecosystem: "etcd3-cluster", clusterSize: 3, instanceType: "t3.small", architecture: "x86_64",
            os: "fedora-coreos", etcdVersion: "v3.5.33", discoveryService: "https://discovery.etcd.io", internetFacing: false,
        });
        expect(resolved.network).to.deep.equal({ kind: "new", vpcCidr: "10.99.0.0/16", availabilityZoneCount: 3, natGateways: "Single" });
    });

    for (const size of [0, 2, 4, 6, 8, 9, 2.5, -3]) {
        it(`rejects clusterSize ${size} and lists the sizes allowed`, async () => {
            await expectProblem({ clusterSize: size }, `clusterSize ${size}`, "1, 3, 5, 7");
        });
    }

    for (const cidr of ["10.99.0.0", "10.99.0.0/33", "10.99.1.0/16", "300.1.0.0/16", "10.0.0.0/8", "10.0.0.0/26", "fd00::/48"]) {
        it(`rejects vpcCidr ${cidr}`, async () => {
            await expectProblem({ vpcCidr: cidr }, `vpcCidr "${cidr}"`, "/16 to /24");
        });
    }

    it("rejects vpcCidr together with vpcId", async () => {
        await expectProblem({ vpcCidr: "10.1.0.0/16", vpcId: "vpc-0a1b2c3d", privateSubnetIds: ["subnet-0a000001", "subnet-0a000002"] }, "vpcId and vpcCidr", "not both");
    });

    it("rejects vpcId without private subnets", async () => {
        await expectProblem({ vpcId: "vpc-0a1b2c3d" }, "privateSubnetIds", "at least 2");
    });

    it("rejects vpcId with a single private subnet", async () => {
        await expectProblem({ vpcId: "vpc-0a1b2c3d", privateSubnetIds: ["subnet-0a000001"] }, "privateSubnetIds", "got 1");
    });

    it("rejects an internet-facing ALB on an existing VPC without public subnets", async () => {
        await expectProblem({ vpcId: "vpc-0a1b2c3d", privateSubnetIds: ["subnet-0a000001", "subnet-0a000002"], internetFacing: true, allowedCidrs: ["0.0.0.0/0"] },
            "publicSubnetIds", "internet-facing");
    });

    it("rejects subnets without vpcId", async () => {
        await expectProblem({ privateSubnetIds: ["subnet-0a000001", "subnet-0a000002"] }, "privateSubnetIds", "only be given together with vpcId");
    });

    for (const version of ["3.4.23", "v3.8.0", "latest", "v3.5", "3.5.x", ""]) {
        it(`rejects etcdVersion "${version}"`, async () => {
            await expectProblem({ etcdVersion: version }, `etcdVersion "${version}"`, "3.5, 3.6, 3.7");
        });
    }

    it("accepts a 3.6 release and normalises the v prefix", () => {
        expect(resolveArgs("etcd3", { etcdVersion: "3.6.14" }).etcdVersion).to.equal("v3.6.14");
    });

    for (const ecosystem of ["", "Etcd", "etcd_3", "3etcd", "etcd-", "a".repeat(33)]) {
        it(`rejects ecosystem "${ecosystem}"`, async () => {
            await expectProblem({ ecosystem }, `ecosystem "${ecosystem}"`, "lowercase letters");
        });
    }

    it("rejects a component name too long for the ALB name", async () => {
        const problems = await problemsWith({}, "a-very-long-component-name");
        expect(problems[0]).to.contain("at most 16 characters");
    });

    for (const key of ["ssh-ed25519", "ssh-ed25519 not-base64!", "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", "-----BEGIN OPENSSH PRIVATE KEY-----"]) {
        it(`rejects the malformed SSH key ${JSON.stringify(key.slice(0, 30))}`, async () => {
            await expectProblem({ sshAuthorizedKeys: [goodKey, key], sshCidrs: ["10.99.0.0/16"] }, "sshAuthorizedKeys[1]", "OpenSSH public key");
        });
    }

    it("accepts a well-formed ed25519 key", () => {
        expect(resolveArgs("etcd3", { sshAuthorizedKeys: [goodKey], sshCidrs: ["10.99.0.0/16"] }).sshAuthorizedKeys).to.deep.equal([goodKey]);
    });

    for (const dnsName of ["etcd", "-etcd.example.com", "etcd..example.com", "etcd_1.example.com", `${"a".repeat(64)}.example.com`]) {
        it(`rejects dnsName "${dnsName.slice(0, 30)}"`, async () => {
            await expectProblem({ dnsName, hostedZoneId: "Z1" }, "dnsName", "fully qualified");
        });
    }

    it("rejects dnsName without hostedZoneId", async () => {
        await expectProblem({ dnsName: "etcd.example.com" }, "hostedZoneId", "give both or neither");
    });

    it("rejects an internet-facing ALB without allowedCidrs", async () => {
        await expectProblem({ internetFacing: true }, "allowedCidrs", "named explicitly");
    });

    it("rejects a malformed allowed CIDR", async () => {
        await expectProblem({ allowedCidrs: ["10.0.0.0/8", "my laptop"] }, 'allowedCidrs[1] "my laptop"');
    });

    it("rejects a malformed client CIDR", async () => {
        await expectProblem({ clientCidrs: ["10.0.0.0/33"] }, 'clientCidrs[0] "10.0.0.0/33"');
    });

    it("rejects an empty allowedCidrs list", async () => {
        await expectProblem({ allowedCidrs: [] }, "allowedCidrs", "at least one");
    });

    it("accepts the whole internet when it is named explicitly", () => {
        expect(resolveArgs("etcd3", { internetFacing: true, allowedCidrs: ["0.0.0.0/0"] }).allowedCidrs).to.deep.equal(["0.0.0.0/0"]);
    });

    it("rejects a discoveryUrl without a 32-hex token", async () => {
        await expectProblem({ discoveryUrl: "https://discovery.etcd.io/new?size=3" }, "discoveryUrl", "32-hex-digit token");
    });

    it("rejects a discoveryService that is not an http(s) URL", async () => {
        await expectProblem({ discoveryService: "discovery.etcd.io" }, 'discoveryService "discovery.etcd.io"', "http(s)");
    });

    it("rejects an unknown os", async () => {
        await expectProblem({ os: "ubuntu" as never }, 'os "ubuntu"', "fedora-coreos, flatcar");
    });

    it("rejects an election timeout shorter than 5 heartbeats, as etcd would at boot", async () => {
        await expectProblem({ heartbeatIntervalMs: 300, electionTimeoutMs: 1000 }, "electionTimeoutMs 1000", "1500");
    });

    it("rejects a heartbeat interval out of range", async () => {
        await expectProblem({ heartbeatIntervalMs: 5 }, "heartbeatIntervalMs 5", "10 to 5000");
    });

    it("rejects a malformed instance type", async () => {
        await expectProblem({ instanceType: "large" }, 'instanceType "large"');
    });

    it("rejects a malformed AMI id", async () => {
        await expectProblem({ amiId: "fedora-coreos" }, 'amiId "fedora-coreos"');
    });

    it("rejects a NAT strategy that leaves the members offline", async () => {
        await expectProblem({ natGateways: "None" as never }, 'natGateways "None"', "outbound access");
    });

    it("rejects a root volume below 10 GiB", async () => {
        await expectProblem({ rootVolumeSizeGiB: 4 }, "rootVolumeSizeGiB 4", "10 to 16384");
    });

    it("rejects tags in AWS's reserved namespace", async () => {
        await expectProblem({ tags: { "aws:owner": "me" } }, 'tags["aws:owner"]');
    });

    it("reports every problem at once", async () => {
        const problems = await problemsWith({ clusterSize: 4, vpcCidr: "nope", etcdVersion: "3.8.0" });
        expect(problems).to.have.length(3);
        expect(problems.join("\n")).to.contain("clusterSize").and.contain("vpcCidr").and.contain("etcdVersion");
    });

    it("names the component in the error message", () => {
        expect(() => new Etcd3Cluster("etcd-bad", { clusterSize: 2 })).to.throw(/Etcd3Cluster "etcd-bad" has invalid arguments:\n {2}- clusterSize 2/);
    });

    it("picks the arm64 image for Graviton instance types", () => {
        for (const type of ["t4g.small", "m7g.large", "c6gn.xlarge", "m7gd.medium", "a1.large", "g5g.xlarge", "im4gn.large"]) {
            expect(resolveArgs("etcd3", { instanceType: type }).architecture, type).to.equal("arm64");
        }
        for (const type of ["t3.small", "m6i.large", "g5.xlarge", "g4dn.xlarge", "c7a.large"]) {
            expect(resolveArgs("etcd3", { instanceType: type }).architecture, type).to.equal("x86_64");
        }
    });

    for (const name of ["internal-etcd", "sg-etcd"]) {
        it(`rejects the component name "${name}", which AWS refuses at the start of derived names`, async () => {
            const problems = await problemsWith({}, name);
            expect(problems, problems.join("\n")).to.have.length(1);
            expect(problems[0]).to.contain(`name "${name}": may not begin with "${name.split("-")[0]}-"`);
        });
    }

    for (const [key, value] of [["Aws:owner", "me"], ["k".repeat(129), "v"], ["team", "v".repeat(257)], ["team#1", "x"], ["team", "a;b"]]) {
        it(`rejects the tag ${JSON.stringify(key.slice(0, 20))}: ${JSON.stringify(value.slice(0, 20))}, which AWS refuses`, async () => {
            await expectProblem({ tags: { [key]: value } }, `tags["${key}"]`, "may not start with \"aws:\"");
        });
    }

    it("accepts tags at AWS's limits: 128-character keys, 256-character values, letters of any script", () => {
        const tags = { ["k".repeat(128)]: "v".repeat(256), "équipe": "données / prod @eu-west-2 = 1+1", "τμήμα": "ok" };
        expect(resolveArgs("etcd3", { tags }).tags).to.deep.equal(tags);
    });

    for (const key of ["Name", "ecosystem", "etcd-member", "etcd3-cluster:leave"]) {
        it(`rejects the tag ${key}, which the component sets itself`, async () => {
            await expectProblem({ tags: { [key]: "mine" } }, `tags["${key}"]`, "sets Name, ecosystem, etcd-member, etcd3-cluster:leave itself");
        });
    }

    it("rejects more tags than fit beside the component's own four under AWS's 50", async () => {
        const tags = Object.fromEntries(Array.from({ length: 47 }, (_, i) => [`tag${i}`, "v"]));
        await expectProblem({ tags }, "tags: 47 given", "at most 46");
    });

    it("accepts 46 tags", () => {
        const tags = Object.fromEntries(Array.from({ length: 46 }, (_, i) => [`tag${i}`, "v"]));
        expect(Object.keys(resolveArgs("etcd3", { tags }).tags)).to.have.length(46);
    });

    it("rejects the same private subnet given twice", async () => {
        await expectProblem({ vpcId: "vpc-0a1b2c3d", privateSubnetIds: ["subnet-0a000001", "subnet-0a000001"] },
            "privateSubnetIds: subnet-0a000001 given more than once");
    });

    it("rejects the same public subnet given twice", async () => {
        await expectProblem({
            vpcId: "vpc-0a1b2c3d", privateSubnetIds: ["subnet-0a000001", "subnet-0a000002"],
            publicSubnetIds: ["subnet-0b000001", "subnet-0b000001"], internetFacing: true, allowedCidrs: ["203.0.113.0/24"],
        }, "publicSubnetIds: subnet-0b000001 given more than once");
    });

    it("rejects a subnet id that is not one", async () => {
        await expectProblem({ vpcId: "vpc-0a1b2c3d", privateSubnetIds: ["subnet-0a000001", "private-b"] }, 'privateSubnetIds[1] "private-b"');
    });

    it("rejects a VPC id that is not one", async () => {
        await expectProblem({ vpcId: "my-vpc", privateSubnetIds: ["subnet-0a000001", "subnet-0a000002"] }, 'vpcId "my-vpc"');
    });

    it("rejects the same CIDR twice, which EC2 would refuse as a duplicate rule", async () => {
        await expectProblem({ allowedCidrs: ["203.0.113.0/24", "203.0.113.0/24"] }, "allowedCidrs: 203.0.113.0/24 given more than once");
    });

    it("rejects an SSH key entry that holds a second line", async () => {
        const otherKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJm other@example";
        await expectProblem({ sshAuthorizedKeys: [`${goodKey}\n${otherKey}`], sshCidrs: ["10.99.0.0/16"] }, "sshAuthorizedKeys[0]", "no line breaks");
    });

    it("rejects an instance type @pulumi/aws does not know and names the nearest known ones", async () => {
        await expectProblem({ instanceType: "t3.smal" }, 'instanceType "t3.smal"', "did you mean t3.small", "allowUnknownInstanceType");
    });

    it("accepts an instance type newer than the SDK with allowUnknownInstanceType", () => {
        const resolved = resolveArgs("etcd3", { instanceType: "m99g.large", allowUnknownInstanceType: true });
        expect(resolved).to.deep.include({ instanceType: "m99g.large", architecture: "arm64" });
    });

    it("still rejects a malformed instance type with allowUnknownInstanceType", async () => {
        await expectProblem({ instanceType: "large", allowUnknownInstanceType: true }, 'instanceType "large"');
    });

    it("refuses a number given as a string with the type expected, not a range it is in", async () => {
        await expectProblem({ clusterSize: "5" as never }, 'clusterSize: expected a number, got the string "5"');
    });

    it("refuses a single SSH key given as a string and says to put it in a list", async () => {
        await expectProblem({ sshAuthorizedKeys: goodKey as never }, "sshAuthorizedKeys: expected a list of strings", "put a single value in a list");
    });

    it("refuses a boolean given as a string", async () => {
        await expectProblem({ internetFacing: "true" as never }, 'internetFacing: expected true or false, got the string "true"');
    });

    it("refuses tags whose values are not strings", async () => {
        await expectProblem({ tags: { team: 7 } as never }, "tags: expected an object of string values");
    });

    it("refuses an argument it does not have and names the nearest", async () => {
        await expectProblem({ clustersize: 5 } as never, "clustersize: not an argument of Etcd3Cluster; did you mean clusterSize?");
    });

    it("reports every mistyped argument at once, before checking any value", async () => {
        const problems = await problemsWith({ clusterSize: "5", rootVolumeSizeGiB: "20", vpcCidr: "nope" } as never);
        expect(problems).to.deep.equal([
            'clusterSize: expected a number, got the string "5"',
            'rootVolumeSizeGiB: expected a number, got the string "20"',
        ]);
    });

    it("carries the OS row, the parsed release and the CIDR sources resolved once", () => {
        const resolved = resolveArgs("etcd3", { os: "flatcar", etcdVersion: "3.6.14", clientCidrs: [], sshAuthorizedKeys: [goodKey], sshCidrs: ["10.1.2.3/32"] });
        expect(resolved.osProfile).to.equal(operatingSystems.flatcar);
        expect(resolved.release).to.deep.equal({ tag: "v3.6.14", branch: "3.6", numbers: [3, 6, 14], servesV2Api: false, formsByV2Discovery: true });
        expect([resolved.allowedCidrs, resolved.clientCidrs, resolved.sshCidrs]).to.deep.equal(["vpc-cidr", [], ["10.1.2.3/32"]]);
        expect(resolveArgs("etcd3", {}).sshCidrs).to.deep.equal([]);
    });
});

describe("arguments from stack config", () => {
    const reader = (values: Record<string, string>) => ({
        get: (key: string) => values[key],
        getNumber: (key: string) => (values[key] === undefined ? undefined : Number(values[key])),
        getBoolean: (key: string) => (values[key] === undefined ? undefined : values[key] === "true"),
        getObject: <T>(key: string) => (values[key] === undefined ? undefined : JSON.parse(values[key]) as T),
        getSecret: () => undefined,
    });

    it("reads each key the way its type says", () => {
        expect(argsFromConfig(reader({
            clusterSize: "5", internetFacing: "true", allowedCidrs: '["203.0.113.0/24"]', tags: '{"team":"db"}',
            vpcId: "vpc-0a1b2c3d", privateSubnetIds: '["subnet-0a000001","subnet-0a000002"]', etcdVersion: "v3.6.14",
        }))).to.deep.equal({
            clusterSize: 5, internetFacing: true, allowedCidrs: ["203.0.113.0/24"], tags: { team: "db" },
            vpcId: "vpc-0a1b2c3d", privateSubnetIds: ["subnet-0a000001", "subnet-0a000002"], etcdVersion: "v3.6.14",
        });
    });

    it("turns discoveryLogFile false into no log", () => {
        expect(argsFromConfig(reader({ discoveryLogFile: "false" }))).to.deep.equal({ discoveryLogFile: false });
    });

    it("reads every argument the component has, and nothing else", () => {
        const everything = Object.fromEntries(argumentNames.map((name) => [name, "1"]));
        const asked: string[] = [];
        const spy = { get: (k: string) => (asked.push(k), undefined), getNumber: (k: string) => (asked.push(k), undefined),
            getBoolean: (k: string) => (asked.push(k), undefined), getObject: (k: string) => (asked.push(k), undefined),
            getSecret: (k: string) => (asked.push(k), undefined) };
        argsFromConfig(spy);
        expect(asked).to.have.members(Object.keys(everything));
    });
});
