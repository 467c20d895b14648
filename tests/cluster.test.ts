import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { setTimeout as sleep } from "timers/promises";
import * as pulumi from "@pulumi/pulumi";
import {
    existingVpcCidr, fakeDiscoveryUrl, holdLoadBalancers, installMocks, resourcesOf, settle, uniqueName, valueOf,
} from "./support/pulumi-mocks";

installMocks();
import { Etcd3Cluster, Etcd3ClusterArgs } from "../lib";

const INSTANCE = "aws:ec2/instance:Instance";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";

async function build(args: Etcd3ClusterArgs = {}) {
    const name = uniqueName();
    const cluster = new Etcd3Cluster(name, { discoveryLogFile: false, ...args });
    await settle();
    const of = (type: string) => resourcesOf(name, type);
    return { name, cluster, of };
}

function userDataOf(instance: { inputs: any }): any {
    return JSON.parse(instance.inputs.userData);
}

describe("Etcd3Cluster resource graph (Pulumi mocks)", () => {
    it("creates one instance per member, three by default", async () => {
        const { of } = await build();
        expect(of(INSTANCE)).to.have.length(3);
    });

    it("creates five instances for clusterSize 5", async () => {
        const { of } = await build({ clusterSize: 5 });
        expect(of(INSTANCE)).to.have.length(5);
    });

    it("spreads the members round robin over the private subnets", async () => {
        const { of } = await build({ clusterSize: 5 });
        expect(of(INSTANCE).map((i) => i.inputs.subnetId)).to.deep.equal([
            "subnet-private-a", "subnet-private-b", "subnet-private-c", "subnet-private-a", "subnet-private-b",
        ]);
    });

    it("makes a new VPC over three zones with one NAT gateway by default", async () => {
        const { of } = await build({ vpcCidr: "10.99.0.0/16" });
        const [vpc] = of("awsx:ec2:Vpc");
        expect(vpc.inputs.cidrBlock).to.equal("10.99.0.0/16");
        expect(vpc.inputs.numberOfAvailabilityZones).to.equal(3);
        expect(vpc.inputs.natGateways).to.deep.equal({ strategy: "Single" });
    });

    it("boots the latest stable Fedora CoreOS image of the instance type's architecture", async () => {
        const { of } = await build({ instanceType: "t4g.small" });
        const { calls } = await import("./support/pulumi-mocks");
        const lookup = calls.filter((c) => c.token === "aws:ec2/getAmi:getAmi").pop()!;
        expect(lookup.inputs.owners).to.deep.equal(["125523088429"]);
        expect(lookup.inputs.mostRecent).to.equal(true);
        expect(lookup.inputs.filters).to.deep.include({ name: "name", values: ["fedora-coreos-*.3.*"] });
        expect(lookup.inputs.filters).to.deep.include({ name: "architecture", values: ["arm64"] });
        expect(of(INSTANCE)[0].inputs.ami).to.equal("ami-0123456789abcdef0");
    });

    it("boots the given AMI when amiId is set", async () => {
        const { of } = await build({ amiId: "ami-0fedcba9876543210" });
        expect(of(INSTANCE).map((i) => i.inputs.ami)).to.deep.equal(Array(3).fill("ami-0fedcba9876543210"));
    });

    it("requires IMDSv2 and an encrypted gp3 root volume on every member", async () => {
        const { of } = await build();
        for (const instance of of(INSTANCE)) {
            expect(instance.inputs.metadataOptions.httpTokens).to.equal("required");
            expect(instance.inputs.rootBlockDevice).to.include({ volumeType: "gp3", encrypted: true, volumeSize: 20 });
        }
    });

    it("gives each member its own name in its Ignition config and the discovery URL in all", async () => {
        const { of } = await build();
        const units = of(INSTANCE).map((i) => userDataOf(i).systemd.units[0].contents as string);
        expect(units.map((u) => /--name=(\S+)/.exec(u)![1])).to.deep.equal(["etcd3-cluster-0", "etcd3-cluster-1", "etcd3-cluster-2"]);
        units.forEach((u) => expect(u).to.contain(`--discovery=${fakeDiscoveryUrl}`));
    });

    it("staggers the members' OS-update windows so no two reboot together", async () => {
        const { of } = await build({ clusterSize: 7 });
        const starts = of(INSTANCE).map((instance) => {
            const toml = decodeURIComponent(userDataOf(instance).storage.files[0].contents.source.replace(/^data:,/, ""));
            return Number(/start_time = "(\d\d):00"/.exec(toml)![1]);
        });
        expect(new Set(starts).size).to.equal(7);
        const sorted = [...starts].sort((a, b) => a - b);
        sorted.forEach((hour, i) => expect((sorted[(i + 1) % 7] - hour + 24) % 24, `after ${hour}:00`).to.be.at.least(2));
    });

    it("passes the raft timing to every member only when it is set", async () => {
        const defaults = await build();
        expect(userDataOf(defaults.of(INSTANCE)[0]).systemd.units[0].contents).not.to.contain("--election-timeout");
        const tuned = await build({ heartbeatIntervalMs: 200, electionTimeoutMs: 2000 });
        for (const instance of tuned.of(INSTANCE)) {
            const unit = userDataOf(instance).systemd.units[0].contents;
            expect(unit).to.contain("--heartbeat-interval=200").and.contain("--election-timeout=2000");
        }
    });

    it("requests the discovery URL once, for the cluster's size, from the configured service", async () => {
        const { of } = await build({ clusterSize: 5, discoveryService: "http://127.0.0.1:8087" });
        const requests = of("pulumi-nodejs:dynamic:Resource").concat(of("pulumi-nodejs:dynamic/etcd3-cluster:DiscoveryUrl"));
        expect(requests).to.have.length(1);
        expect(requests[0].inputs).to.include({ size: 5, service: "http://127.0.0.1:8087" });
    });

    it("uses a given discovery URL without requesting one", async () => {
        const url = "https://discovery.etcd.io/0123456789abcdef0123456789abcdef";
        const { cluster, of } = await build({ discoveryUrl: url });
        expect(of("pulumi-nodejs:dynamic:Resource").concat(of("pulumi-nodejs:dynamic/etcd3-cluster:DiscoveryUrl"))).to.have.length(0);
        expect(await valueOf(cluster.etcd3DiscoveryUrl)).to.equal(url);
        expect(userDataOf(of(INSTANCE)[0]).systemd.units[0].contents).to.contain(`--discovery=${url}`);
    });

    describe("the guard against changes a running cluster cannot take", () => {
        const GUARD = "pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard";

        it("records the cluster size and root volume size", async () => {
            const { of } = await build({ clusterSize: 5, rootVolumeSizeGiB: 40 });
            const guards = of(GUARD);
            expect(guards).to.have.length(1);
            expect(guards[0].inputs).to.include({ clusterSize: 5, rootVolumeSizeGiB: 40 });
        });

        it("stands whatever the discovery source, a given discovery URL included", async () => {
            const { of } = await build({ discoveryUrl: fakeDiscoveryUrl });
            expect(of(GUARD)).to.have.length(1);
            expect(of(GUARD)[0].inputs).to.include({ clusterSize: 3, rootVolumeSizeGiB: 20 });
        });

        it("is registered before anything else and every member depends on it", async () => {
            const name = uniqueName();
            const order: string[] = [];
            const dependencies = new Map<string, string[]>();
            new Etcd3Cluster(name, { discoveryLogFile: false }, {
                transformations: [({ type, name: child, opts }) => {
                    order.push(type);
                    const dependsOn = ([] as unknown[]).concat(opts.dependsOn ?? []) as pulumi.Resource[];
                    dependencies.set(child, dependsOn.map((resource) => (resource as unknown as { __name: string }).__name));
                    return undefined;
                }],
            });
            await settle();
            expect(order.filter((type) => type !== "etcd3-cluster:index:Etcd3Cluster")[0]).to.equal(GUARD);
            for (const index of [0, 1, 2]) {
                expect(dependencies.get(`${name}-${index}`), `member ${index}`).to.deep.equal([`${name}-guard`]);
            }
        });
    });

    it("listens on port 80 and forwards to the members' 2379", async () => {
        const { of } = await build();
        const [listener] = of("aws:lb/listener:Listener");
        const [targetGroup] = of("aws:lb/targetGroup:TargetGroup");
        expect(listener.inputs).to.include({ port: 80, protocol: "HTTP" });
        expect(listener.inputs.defaultActions[0].type).to.equal("forward");
        expect(targetGroup.inputs).to.include({ port: 2379, protocol: "HTTP", targetType: "instance" });
    });

    it("closes idle connections after 60 s, the idle time the haproxy stand-in copies", async () => {
        const { of } = await build();
        expect(of("aws:lb/loadBalancer:LoadBalancer")[0].inputs.idleTimeout).to.equal(60);
    });

    it("health-checks members on /health every 5 s, two checks to flip", async () => {
        const { of } = await build();
        const [targetGroup] = of("aws:lb/targetGroup:TargetGroup");
        expect(targetGroup.inputs.healthCheck).to.include({
            path: "/health", matcher: "200", interval: 5, healthyThreshold: 2, unhealthyThreshold: 2,
        });
    });

    it("attaches every member to the target group on 2379", async () => {
        const { of } = await build({ clusterSize: 5 });
        const attachments = of("aws:lb/targetGroupAttachment:TargetGroupAttachment");
        expect(attachments.map((a) => a.inputs.targetId)).to.have.members(of(INSTANCE).map((i) => `${i.name}-id`));
        attachments.forEach((a) => expect(a.inputs.port).to.equal(2379));
    });

    it("makes an internal ALB in the private subnets by default", async () => {
        const { of } = await build();
        const [alb] = of("aws:lb/loadBalancer:LoadBalancer");
        expect(alb.inputs.internal).to.equal(true);
        expect(alb.inputs.loadBalancerType).to.equal("application");
        expect(alb.inputs.subnets).to.deep.equal(["subnet-private-a", "subnet-private-b", "subnet-private-c"]);
    });

    it("makes an internet-facing ALB in the public subnets only when asked", async () => {
        const { of } = await build({ internetFacing: true, allowedCidrs: ["203.0.113.0/24"] });
        const [alb] = of("aws:lb/loadBalancer:LoadBalancer");
        expect(alb.inputs.internal).to.equal(false);
        expect(alb.inputs.subnets).to.deep.equal(["subnet-public-a", "subnet-public-b", "subnet-public-c"]);
    });

    it("registers every instance without waiting for the load balancer", async function () {
        const release = holdLoadBalancers();
        const name = uniqueName();
        try {
            new Etcd3Cluster(name, { discoveryLogFile: false });
            const deadline = Date.now() + 5000;
            while (resourcesOf(name, INSTANCE).length < 3 && Date.now() < deadline) {
                await sleep(10);
            }
            expect(resourcesOf(name, INSTANCE)).to.have.length(3);
            // The listener needs the ALB's ARN: it is the proof the ALB really is still pending.
            expect(resourcesOf(name, "aws:lb/listener:Listener")).to.have.length(0);
        } finally {
            release();
        }
        await settle();
    });

    describe("security groups", () => {
        it("lets clients reach 2379 from the ALB's group and the VPC's CIDR, never the world by default", async () => {
            const { name, of } = await build({ vpcCidr: "10.42.0.0/16" });
            const toClientPort = of(INGRESS).filter((r) => r.inputs.fromPort === 2379);
            expect(toClientPort.map((r) => [r.inputs.securityGroupId, r.inputs.referencedSecurityGroupId ?? r.inputs.cidrIpv4]))
                .to.have.deep.members([[`${name}-nodes-sg-id`, `${name}-alb-sg-id`], [`${name}-nodes-sg-id`, "10.42.0.0/16"]]);
        });

        it("lets exactly the clientCidrs reach the members' 2379 directly", async () => {
            const { of } = await build({ clientCidrs: ["10.1.0.0/16", "10.2.0.0/16"] });
            const direct = of(INGRESS).filter((r) => r.inputs.fromPort === 2379 && r.inputs.cidrIpv4 !== undefined);
            expect(direct.map((r) => r.inputs.cidrIpv4)).to.have.members(["10.1.0.0/16", "10.2.0.0/16"]);
        });

        it("keeps members reachable only through the ALB with clientCidrs []", async () => {
            const { of } = await build({ clientCidrs: [] });
            expect(of(INGRESS).filter((r) => r.inputs.fromPort === 2379 && r.inputs.cidrIpv4 !== undefined)).to.have.length(0);
        });

        it("lets members reach each other's 2380 and nobody else", async () => {
            const { name, of } = await build();
            const toPeerPort = of(INGRESS).filter((r) => r.inputs.fromPort === 2380);
            expect(toPeerPort).to.have.length(1);
            expect(toPeerPort[0].inputs).to.include({
                securityGroupId: `${name}-nodes-sg-id`, referencedSecurityGroupId: `${name}-nodes-sg-id`, toPort: 2380,
            });
        });

        it("opens the ALB's port 80 to the new VPC's CIDR only by default", async () => {
            const { name, of } = await build({ vpcCidr: "10.42.0.0/16" });
            const toAlb = of(INGRESS).filter((r) => r.inputs.securityGroupId === `${name}-alb-sg-id`);
            expect(toAlb.map((r) => [r.inputs.cidrIpv4, r.inputs.fromPort])).to.deep.equal([["10.42.0.0/16", 80]]);
        });

        it("opens the ALB's port 80 to exactly the allowed CIDRs", async () => {
            const { name, of } = await build({ allowedCidrs: ["192.0.2.0/24", "198.51.100.7/32"] });
            const toAlb = of(INGRESS).filter((r) => r.inputs.securityGroupId === `${name}-alb-sg-id`);
            expect(toAlb.map((r) => r.inputs.cidrIpv4)).to.have.members(["192.0.2.0/24", "198.51.100.7/32"]);
        });

        it("lets the ALB send only to the members' 2379", async () => {
            const { name, of } = await build();
            const fromAlb = of(EGRESS).filter((r) => r.inputs.securityGroupId === `${name}-alb-sg-id`);
            expect(fromAlb).to.have.length(1);
            expect(fromAlb[0].inputs).to.include({ referencedSecurityGroupId: `${name}-nodes-sg-id`, fromPort: 2379, toPort: 2379, ipProtocol: "tcp" });
        });

        it("keeps SSH closed without keys", async () => {
            const { of } = await build();
            expect(of(INGRESS).filter((r) => r.inputs.fromPort === 22)).to.have.length(0);
        });

        it("opens SSH from the VPC only when keys are given", async () => {
            const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";
            const { of } = await build({ sshAuthorizedKeys: [key] });
            const ssh = of(INGRESS).filter((r) => r.inputs.fromPort === 22);
            expect(ssh.map((r) => r.inputs.cidrIpv4)).to.deep.equal(["10.99.0.0/16"]);
            expect(userDataOf(of(INSTANCE)[0]).passwd.users[0]).to.deep.equal({ name: "core", sshAuthorizedKeys: [key] });
        });
    });

    describe("the gRPC network load balancer", () => {
        it("is not created by default", async () => {
            const { cluster, of } = await build();
            expect(of("aws:lb/loadBalancer:LoadBalancer").map((lb) => lb.inputs.loadBalancerType)).to.deep.equal(["application"]);
            expect(await valueOf(cluster.grpcEndpoint)).to.equal(undefined);
        });

        it("listens on TCP 2379 and forwards to the members' 2379, internal by default", async () => {
            const { name, of } = await build({ grpcLoadBalancer: true });
            const nlb = of("aws:lb/loadBalancer:LoadBalancer").find((lb) => lb.inputs.loadBalancerType === "network")!;
            expect(nlb.inputs.internal).to.equal(true);
            expect(nlb.inputs.securityGroups).to.deep.equal([`${name}-nlb-sg-id`]);
            const listener = of("aws:lb/listener:Listener").find((l) => l.name === `${name}-nlb-listener`)!;
            expect(listener.inputs).to.include({ port: 2379, protocol: "TCP" });
            const targetGroup = of("aws:lb/targetGroup:TargetGroup").find((tg) => tg.name === `${name}-nlb-tg`)!;
            expect(targetGroup.inputs).to.include({ port: 2379, protocol: "TCP", preserveClientIp: "false" });
            expect(targetGroup.inputs.healthCheck).to.include({ protocol: "HTTP", path: "/health", interval: 5 });
        });

        it("keeps idle gRPC connections for 350 s", async () => {
            const { name, of } = await build({ grpcLoadBalancer: true });
            const listener = of("aws:lb/listener:Listener").find((l) => l.name === `${name}-nlb-listener`)!;
            expect(listener.inputs.tcpIdleTimeoutSeconds).to.equal(350);
        });

        it("attaches every member to the gRPC target group", async () => {
            const { name, of } = await build({ grpcLoadBalancer: true, clusterSize: 5 });
            const attachments = of("aws:lb/targetGroupAttachment:TargetGroupAttachment").filter((a) => a.name.startsWith(`${name}-nlb-`));
            expect(attachments.map((a) => a.inputs.targetId)).to.have.members(of(INSTANCE).map((i) => `${i.name}-id`));
        });

        it("accepts 2379 only from the allowed CIDRs and forwards only to the members", async () => {
            const { name, of } = await build({ grpcLoadBalancer: true, allowedCidrs: ["10.99.0.0/16"] });
            const toNlb = of(INGRESS).filter((r) => r.inputs.securityGroupId === `${name}-nlb-sg-id`);
            expect(toNlb.map((r) => [r.inputs.cidrIpv4, r.inputs.fromPort])).to.deep.equal([["10.99.0.0/16", 2379]]);
            const fromNlb = of(EGRESS).filter((r) => r.inputs.securityGroupId === `${name}-nlb-sg-id`);
            expect(fromNlb.map((r) => r.inputs.referencedSecurityGroupId)).to.deep.equal([`${name}-nodes-sg-id`]);
            const intoNodes = of(INGRESS).filter((r) => r.inputs.referencedSecurityGroupId === `${name}-nlb-sg-id`);
            expect(intoNodes.map((r) => [r.inputs.securityGroupId, r.inputs.fromPort])).to.deep.equal([[`${name}-nodes-sg-id`, 2379]]);
        });

        it("is internet-facing in the public subnets with the ALB when asked", async () => {
            const { of } = await build({ grpcLoadBalancer: true, internetFacing: true, allowedCidrs: ["203.0.113.0/24"] });
            const nlb = of("aws:lb/loadBalancer:LoadBalancer").find((lb) => lb.inputs.loadBalancerType === "network")!;
            expect(nlb.inputs.internal).to.equal(false);
            expect(nlb.inputs.subnets).to.deep.equal(["subnet-public-a", "subnet-public-b", "subnet-public-c"]);
        });

        it("gives its address as the grpcEndpoint output", async () => {
            const { name, cluster } = await build({ grpcLoadBalancer: true });
            expect(await valueOf(cluster.grpcEndpoint)).to.equal(`${name}-nlb-1234567890.eu-west-2.elb.amazonaws.com:2379`);
        });
    });

    describe("an existing VPC", () => {
        const existing = { vpcId: "vpc-0abc1234", privateSubnetIds: ["subnet-0c000001", "subnet-0c000002"], publicSubnetIds: ["subnet-0d000001", "subnet-0d000002"] };

        it("creates no VPC and places members in the given private subnets", async () => {
            const { of } = await build(existing);
            expect(of("awsx:ec2:Vpc")).to.have.length(0);
            expect(of(INSTANCE).map((i) => i.inputs.subnetId)).to.deep.equal(["subnet-0c000001", "subnet-0c000002", "subnet-0c000001"]);
        });

        it("takes subnet lists that are outputs of other resources, like an awsx Vpc's", async () => {
            const { of } = await build({ vpcId: "vpc-0abc1234", privateSubnetIds: pulumi.output(["subnet-o1", "subnet-o2"]) });
            expect(of(INSTANCE).map((i) => i.inputs.subnetId)).to.deep.equal(["subnet-o1", "subnet-o2", "subnet-o1"]);
        });

        it("allows the VPC's own CIDR, looked up, into the internal ALB", async () => {
            const { name, of } = await build(existing);
            const toAlb = of(INGRESS).filter((r) => r.inputs.securityGroupId === `${name}-alb-sg-id`);
            expect(toAlb.map((r) => r.inputs.cidrIpv4)).to.deep.equal([existingVpcCidr]);
            expect(of("aws:ec2/securityGroup:SecurityGroup").every((g) => g.inputs.vpcId === "vpc-0abc1234")).to.equal(true);
        });
    });

    describe("outputs", () => {
        it("gives the cluster URL as http:// and the ALB's DNS name", async () => {
            const { name, cluster } = await build();
            expect(await valueOf(cluster.etcd3ClusterUrl)).to.equal(`http://${name}-alb-1234567890.eu-west-2.elb.amazonaws.com`);
        });

        it("gives the cluster URL on the Route53 name when dnsName is set", async () => {
            const { cluster, of } = await build({ dnsName: "etcd.example.com", hostedZoneId: "Z0123456789" });
            const [record] = of("aws:route53/record:Record");
            expect(record.inputs).to.include({ name: "etcd.example.com", type: "A", zoneId: "Z0123456789" });
            expect(record.inputs.aliases[0].evaluateTargetHealth).to.equal(true);
            expect(await valueOf(cluster.etcd3ClusterUrl)).to.equal("http://etcd.example.com");
        });

        it("gives the discovery URL the members were configured with", async () => {
            const { cluster } = await build();
            expect(await valueOf(cluster.etcd3DiscoveryUrl)).to.equal(fakeDiscoveryUrl);
        });

        it("gives each member's client endpoint and peer URL", async () => {
            const { cluster } = await build();
            const ips = await valueOf(cluster.privateIps);
            expect(await valueOf(cluster.clientEndpoints)).to.deep.equal(ips.map((ip) => `http://${ip}:2379`));
            expect(await valueOf(cluster.peerUrls)).to.deep.equal(ips.map((ip) => `http://${ip}:2380`));
        });

        it("gives the instance ids and private IPs in member order", async () => {
            const { cluster, of } = await build();
            expect(await valueOf(cluster.instanceIds)).to.deep.equal(of(INSTANCE).map((i) => `${i.name}-id`));
            expect(await valueOf(cluster.privateIps)).to.have.length(3);
            expect(cluster.memberNames).to.deep.equal(["etcd3-cluster-0", "etcd3-cluster-1", "etcd3-cluster-2"]);
        });
    });

    it("tags every taggable resource with the ecosystem and the user's tags", async () => {
        const { name } = await build({ ecosystem: "billing-etcd", tags: { team: "platform" } });
        const taggable = resourcesOf(name).filter((r) => r.inputs.tags !== undefined);
        expect(taggable.length).to.be.greaterThan(10);
        taggable.forEach((r) => expect(r.inputs.tags, r.name).to.include({ ecosystem: "billing-etcd", team: "platform" }));
    });

    for (const size of [3, 5]) {
        it(`produces user data ignition-validate accepts for a ${size}-node cluster`, async () => {
            const { of } = await build({ clusterSize: size });
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-userdata-"));
            try {
                for (const instance of of(INSTANCE)) {
                    const file = path.join(dir, `${instance.name}.ign`);
                    fs.writeFileSync(file, instance.inputs.userData);
                    // Throws (and fails the test) with the validator's report when it rejects the config.
                    execFileSync("ignition-validate", [file], { stdio: "pipe" });
                }
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    }
});
