import { expect } from "chai";
import { installMocks, registered, uniqueName } from "./support/pulumi-mocks";

installMocks();
import { Etcd3Cluster, Etcd3ClusterArgs, Etcd3ClusterArgumentError, resolveArgs } from "../lib";

/** Builds a component with bad args and returns the problems reported. Asserts nothing was registered. */
function problemsWith(args: Etcd3ClusterArgs, name = uniqueName()): string[] {
    const before = registered.length;
    try {
        new Etcd3Cluster(name, args);
    } catch (error) {
        expect(error).to.be.instanceOf(Etcd3ClusterArgumentError);
        expect(registered.length, "resources registered before the error").to.equal(before);
        return (error as Etcd3ClusterArgumentError).problems;
    }
    throw new Error(`expected ${JSON.stringify(args)} to be rejected`);
}

function expectProblem(args: Etcd3ClusterArgs, ...fragments: string[]): void {
    const problems = problemsWith(args);
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
        it(`rejects clusterSize ${size} and lists the sizes allowed`, () => {
            expectProblem({ clusterSize: size }, `clusterSize ${size}`, "1, 3, 5, 7");
        });
    }

    for (const cidr of ["10.99.0.0", "10.99.0.0/33", "10.99.1.0/16", "300.1.0.0/16", "10.0.0.0/8", "10.0.0.0/26", "fd00::/48"]) {
        it(`rejects vpcCidr ${cidr}`, () => {
            expectProblem({ vpcCidr: cidr }, `vpcCidr "${cidr}"`, "/16 to /24");
        });
    }

    it("rejects vpcCidr together with vpcId", () => {
        expectProblem({ vpcCidr: "10.1.0.0/16", vpcId: "vpc-1", privateSubnetIds: ["s-1", "s-2"] }, "vpcId and vpcCidr", "not both");
    });

    it("rejects vpcId without private subnets", () => {
        expectProblem({ vpcId: "vpc-1" }, "privateSubnetIds", "at least 2");
    });

    it("rejects vpcId with a single private subnet", () => {
        expectProblem({ vpcId: "vpc-1", privateSubnetIds: ["s-1"] }, "privateSubnetIds", "got 1");
    });

    it("rejects an internet-facing ALB on an existing VPC without public subnets", () => {
        expectProblem({ vpcId: "vpc-1", privateSubnetIds: ["s-1", "s-2"], internetFacing: true, allowedCidrs: ["0.0.0.0/0"] },
            "publicSubnetIds", "internet-facing");
    });

    it("rejects subnets without vpcId", () => {
        expectProblem({ privateSubnetIds: ["s-1", "s-2"] }, "privateSubnetIds", "only be given together with vpcId");
    });

    for (const version of ["3.4.23", "v3.7.1", "latest", "v3.5", "3.5.x", ""]) {
        it(`rejects etcdVersion "${version}"`, () => {
            expectProblem({ etcdVersion: version }, `etcdVersion "${version}"`, "3.5 or 3.6");
        });
    }

    it("accepts a 3.6 release and normalises the v prefix", () => {
        expect(resolveArgs("etcd3", { etcdVersion: "3.6.14" }).etcdVersion).to.equal("v3.6.14");
    });

    for (const ecosystem of ["", "Etcd", "etcd_3", "3etcd", "etcd-", "a".repeat(33)]) {
        it(`rejects ecosystem "${ecosystem}"`, () => {
            expectProblem({ ecosystem }, `ecosystem "${ecosystem}"`, "lowercase letters");
        });
    }

    it("rejects a component name too long for the ALB name", () => {
        const problems = problemsWith({}, "a-very-long-component-name");
        expect(problems[0]).to.contain("at most 16 characters");
    });

    for (const key of ["ssh-ed25519", "ssh-ed25519 not-base64!", "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", "-----BEGIN OPENSSH PRIVATE KEY-----"]) {
        it(`rejects the malformed SSH key ${JSON.stringify(key.slice(0, 30))}`, () => {
            expectProblem({ sshAuthorizedKeys: [goodKey, key] }, "sshAuthorizedKeys[1]", "OpenSSH public key");
        });
    }

    it("accepts a well-formed ed25519 key", () => {
        expect(resolveArgs("etcd3", { sshAuthorizedKeys: [goodKey] }).sshAuthorizedKeys).to.deep.equal([goodKey]);
    });

    for (const dnsName of ["etcd", "-etcd.example.com", "etcd..example.com", "etcd_1.example.com", `${"a".repeat(64)}.example.com`]) {
        it(`rejects dnsName "${dnsName.slice(0, 30)}"`, () => {
            expectProblem({ dnsName, hostedZoneId: "Z1" }, "dnsName", "fully qualified");
        });
    }

    it("rejects dnsName without hostedZoneId", () => {
        expectProblem({ dnsName: "etcd.example.com" }, "hostedZoneId", "give both or neither");
    });

    it("rejects an internet-facing ALB without allowedCidrs", () => {
        expectProblem({ internetFacing: true }, "allowedCidrs", "named explicitly");
    });

    it("rejects a malformed allowed CIDR", () => {
        expectProblem({ allowedCidrs: ["10.0.0.0/8", "my laptop"] }, 'allowedCidrs[1] "my laptop"');
    });

    it("rejects a malformed client CIDR", () => {
        expectProblem({ clientCidrs: ["10.0.0.0/33"] }, 'clientCidrs[0] "10.0.0.0/33"');
    });

    it("rejects an empty allowedCidrs list", () => {
        expectProblem({ allowedCidrs: [] }, "allowedCidrs", "at least one");
    });

    it("accepts the whole internet when it is named explicitly", () => {
        expect(resolveArgs("etcd3", { internetFacing: true, allowedCidrs: ["0.0.0.0/0"] }).allowedCidrs).to.deep.equal(["0.0.0.0/0"]);
    });

    it("rejects a discoveryUrl without a 32-hex token", () => {
        expectProblem({ discoveryUrl: "https://discovery.etcd.io/new?size=3" }, "discoveryUrl", "32-hex-digit token");
    });

    it("rejects a discoveryService that is not an http(s) URL", () => {
        expectProblem({ discoveryService: "discovery.etcd.io" }, 'discoveryService "discovery.etcd.io"', "http(s)");
    });

    it("rejects an unknown os", () => {
        expectProblem({ os: "ubuntu" as never }, 'os "ubuntu"', "fedora-coreos, flatcar");
    });

    it("rejects an election timeout shorter than 5 heartbeats, as etcd would at boot", () => {
        expectProblem({ heartbeatIntervalMs: 300, electionTimeoutMs: 1000 }, "electionTimeoutMs 1000", "1500");
    });

    it("rejects a heartbeat interval out of range", () => {
        expectProblem({ heartbeatIntervalMs: 5 }, "heartbeatIntervalMs 5", "10 to 5000");
    });

    it("rejects a malformed instance type", () => {
        expectProblem({ instanceType: "large" }, 'instanceType "large"');
    });

    it("rejects a malformed AMI id", () => {
        expectProblem({ amiId: "fedora-coreos" }, 'amiId "fedora-coreos"');
    });

    it("rejects a NAT strategy that leaves the members offline", () => {
        expectProblem({ natGateways: "None" as never }, 'natGateways "None"', "outbound access");
    });

    it("rejects a root volume below 10 GiB", () => {
        expectProblem({ rootVolumeSizeGiB: 4 }, "rootVolumeSizeGiB 4", "10 to 16384");
    });

    it("rejects tags in AWS's reserved namespace", () => {
        expectProblem({ tags: { "aws:owner": "me" } }, 'tags["aws:owner"]');
    });

    it("reports every problem at once", () => {
        const problems = problemsWith({ clusterSize: 4, vpcCidr: "nope", etcdVersion: "3.7.1" });
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
});
