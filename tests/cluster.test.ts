import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { setTimeout as sleep } from "timers/promises";
import * as pulumi from "@pulumi/pulumi";
import {
    existingVpcCidr, fakeDiscoveryUrl, holdLoadBalancers, installMocks, recordChildOptions, RegisteredResource,
    resourcesOf, settle, uniqueName, valueOf,
} from "./support/pulumi-mocks";

installMocks();
import { Etcd3Cluster, Etcd3ClusterArgs, operatingSystems } from "../lib";
import { bootstrapSettingsPath } from "../lib/bootstrap";
import { decodeInlineContents, InlineContents } from "../local/ignition-contents";

const INSTANCE = "aws:ec2/instance:Instance";
const INTERFACE = "aws:ec2/networkInterface:NetworkInterface";
const VOLUME = "aws:ebs/volume:Volume";
const VOLUME_ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment";
const IMAGE = "pulumi-nodejs:dynamic/etcd3-cluster:ImageChoice";
const GATE = "pulumi-nodejs:dynamic/etcd3-cluster:MemberHealthGate";
const DEPARTURE = "pulumi-nodejs:dynamic/etcd3-cluster:MemberDeparture";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
const VPC = "awsx:ec2:Vpc";
const LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer";
const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
const LISTENER = "aws:lb/listener:Listener";
const ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment";
const RECORD = "aws:route53/record:Record";
const GUARD = "pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard";
const FOUNDING = "pulumi-nodejs:dynamic/etcd3-cluster:ClusterFounding";
const DISCOVERY = "pulumi-nodejs:dynamic/etcd3-cluster:DiscoveryUrl";
const COMPONENT = "etcd3-cluster:index:Etcd3Cluster";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const sshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";

async function build(args: Etcd3ClusterArgs = {}) {
    const name = uniqueName();
    const cluster = new Etcd3Cluster(name, { discoveryLogFile: false, ...args });
    await settle();
    const of = (type: string) => resourcesOf(name, type);
    return { name, cluster, of };
}

/** Like build, and also records the options the component gave each child resource (see recordChildOptions). */
async function buildRecordingOptions(args: Etcd3ClusterArgs = {}) {
    const name = uniqueName();
    const recorder = recordChildOptions();
    const cluster = new Etcd3Cluster(name, { discoveryLogFile: false, ...args }, { transformations: [recorder.transformation] });
    await settle();
    const of = (type: string) => resourcesOf(name, type);
    return { name, cluster, of, children: recorder.children, order: recorder.order };
}

function userDataOf(instance: { inputs: any }): any {
    return JSON.parse(instance.inputs.userData);
}

/** The text of the file at `filePath` in the instance's user data. */
function userDataFile(instance: { inputs: any }, filePath: string): string {
    const files: { path: string; contents: InlineContents }[] = userDataOf(instance).storage.files;
    return decodeInlineContents(files.find((file) => file.path === filePath)!.contents);
}

// Whole-value suites first: each builds one cluster and compares what it made, so under mutation testing a mutant
// they kill is caught before the suites that build a cluster per test run (mocha runs a suite's own tests before
// its nested suites).
describe("Etcd3Cluster resource graph, compared whole (Pulumi mocks)", () => {
    describe("the options that protect the cluster, per child resource", () => {
        let name: string;
        let children: Map<string, { type: string; options: Record<string, unknown> }>;
        let registeredNames: string[];
        before(async () => {
            ({ name, children } = await buildRecordingOptions({
                grpcLoadBalancer: true, sshAuthorizedKeys: [sshKey], sshCidrs: ["10.99.0.0/16"], dnsName: "etcd.example.com", hostedZoneId: "Z0123456789",
            }));
            registeredNames = resourcesOf(name).filter((r) => r.type !== COMPONENT).map((r) => r.name);
        });
        const ofType = (type: string) => [...children].filter(([, child]) => child.type === type);

        it("replaces members one after the other, each old instance gone before its new one takes the slot's interface", () => {
            // Member i+1 waits for member i's health gate (member i healthy again); every member waits for the guard.
            // Instances are disposable: nothing keeps them (no protect, retainOnDelete or ignoreChanges), and a new
            // instance type replaces rather than stops the member in place.
            const members = ofType(INSTANCE);
            expect(members.map(([child]) => child)).to.have.members([`${name}-0`, `${name}-1`, `${name}-2`]);
            for (const [child, { options }] of members) {
                const index = Number(child.split("-").pop());
                expect(options, child).to.deep.equal({
                    parent: name,
                    dependsOn: index === 0 ? [`${name}-guard`] : [`${name}-guard`, `${name}-${index - 1}-health`],
                    deleteBeforeReplace: true,
                    replaceOnChanges: ["instanceType"],
                });
            }
        });

        it("never moves a slot's interface or volume, and keeps the volumes in AWS when they leave the stack", () => {
            for (const [child, { options }] of ofType(INTERFACE)) {
                expect(options, child).to.deep.equal({ parent: name, ignoreChanges: ["subnetId"] });
            }
            for (const [child, { options }] of ofType(VOLUME)) {
                expect(options, child).to.deep.equal({ parent: name, ignoreChanges: ["availabilityZone"], retainOnDelete: true });
            }
            expect(ofType(INTERFACE)).to.have.length(7);
            expect(ofType(VOLUME)).to.have.length(3);
        });

        it("gates each member on its departure, which depends on its volume and its registration in both load balancers", () => {
            // Deleted in the reverse order when a member leaves: the gate drains it, the departure has it leave etcd and
            // power off, then the volume is detached, the targets deregistered and the instance deleted.
            expect(ofType(GATE).map(([child, { options }]) => [child, options])).to.deep.equal([0, 1, 2].map((index) => [
                `${name}-${index}-health`, { parent: name, dependsOn: [`${name}-${index}-departure`] },
            ]));
            expect(ofType(DEPARTURE).map(([child, { options }]) => [child, options])).to.deep.equal([0, 1, 2].map((index) => [
                `${name}-${index}-departure`,
                { parent: name, dependsOn: [`${name}-${index}-data-attachment`, `${name}-alb-target-${index}`, `${name}-nlb-target-${index}`] },
            ]));
        });

        it("detaches a member's volume before its instance is replaced", () => {
            expect(ofType(VOLUME_ATTACHMENT).map(([child, { options }]) => [child, options])).to.deep.equal([0, 1, 2].map((index) => [
                `${name}-${index}-data-attachment`, { parent: name, deleteBeforeReplace: true },
            ]));
        });

        // Every other type: its parent and nothing else (no protect, retainOnDelete, deleteBeforeReplace, ignoreChanges, dependsOn).
        const parentOnly = [
            GUARD, FOUNDING, DISCOVERY, IMAGE, VPC, SECURITY_GROUP, INGRESS, EGRESS, LOAD_BALANCER, TARGET_GROUP, LISTENER, ATTACHMENT, RECORD, ALARM,
        ];
        for (const type of parentOnly) {
            it(`gives each ${type.split(":").pop()} exactly its parent, and no other option`, () => {
                const ofThisType = ofType(type);
                expect(ofThisType, `children of type ${type}`).not.to.be.empty;
                for (const [child, { options }] of ofThisType) {
                    expect(options, child).to.deep.equal({ parent: name });
                }
            });
        }

        it("has seen every child the mocks registered, and no type the tests above do not name", () => {
            expect([...children.keys()]).to.have.members(registeredNames);
            expect([...new Set([...children.values()].map((child) => child.type))])
                .to.have.members([INSTANCE, INTERFACE, VOLUME, VOLUME_ATTACHMENT, GATE, DEPARTURE, ...parentOnly]);
        });
    });

    describe("the load balancers' inputs, compared whole", () => {
        /**
         * How a target group judges a member: etcd's /health on the port it sends traffic to, every 5 s
         * (AWS's minimum), 3 s to answer (under the interval, as AWS requires), 2 checks to flip.
         */
        const healthCheck = {
            enabled: true, protocol: "HTTP", port: "traffic-port", path: "/health?exclude=NOSPACE", matcher: "200",
            interval: 5, timeout: 3, healthyThreshold: 2, unhealthyThreshold: 2,
        };
        const arn = (resource: string) => `arn:aws:elasticloadbalancing:eu-west-2:123456789012:${resource}/1234567890abcdef`;
        let name: string;
        let of: (type: string) => RegisteredResource[];
        const one = (type: string, resourceName: string) => {
            const found = of(type).filter((r) => r.name === resourceName);
            expect(found, `${type} "${resourceName}"`).to.have.length(1);
            return found[0];
        };
        before(async () => {
            ({ name, of } = await build({ grpcLoadBalancer: true }));
        });

        it("gives the ALB's target group HTTP 2379, the health check above and a 10 s deregistration delay", () => {
            expect(one(TARGET_GROUP, `${name}-alb-tg`).inputs).to.deep.equal({
                vpcId: `vpc-${name}-vpc`, targetType: "instance", protocol: "HTTP", port: 2379, deregistrationDelay: 10,
                healthCheck, tags: { ecosystem: "etcd3-cluster", Name: "etcd3-cluster-alb-tg" },
            });
        });

        it("gives the NLB's target group TCP 2379 without client IPs, the same health check and deregistration delay", () => {
            expect(one(TARGET_GROUP, `${name}-nlb-tg`).inputs).to.deep.equal({
                vpcId: `vpc-${name}-vpc`, targetType: "instance", protocol: "TCP", port: 2379, deregistrationDelay: 10,
                preserveClientIp: "false", healthCheck, tags: { ecosystem: "etcd3-cluster", Name: "etcd3-cluster-nlb-tg" },
            });
        });

        it("gives the ALB's listener HTTP 80, forwarding to its target group", () => {
            expect(one(LISTENER, `${name}-alb-listener`).inputs).to.deep.equal({
                loadBalancerArn: arn(`loadbalancer/app/${name}-alb`), port: 80, protocol: "HTTP",
                defaultActions: [{ type: "forward", targetGroupArn: arn(`targetgroup/${name}-alb-tg`) }],
                tags: { ecosystem: "etcd3-cluster" },
            });
        });

        it("gives the NLB's listener TCP 2379 with a 350 s idle timeout, forwarding to its target group", () => {
            expect(one(LISTENER, `${name}-nlb-listener`).inputs).to.deep.equal({
                loadBalancerArn: arn(`loadbalancer/net/${name}-nlb`), port: 2379, protocol: "TCP", tcpIdleTimeoutSeconds: 350,
                defaultActions: [{ type: "forward", targetGroupArn: arn(`targetgroup/${name}-nlb-tg`) }],
                tags: { ecosystem: "etcd3-cluster" },
            });
        });

        it("makes the ALB internal in the private subnets, in its own group, dropping invalid headers, 60 s idle", () => {
            expect(one(LOAD_BALANCER, `${name}-alb`).inputs).to.deep.equal({
                loadBalancerType: "application", internal: true,
                subnets: ["subnet-private-a", "subnet-private-b", "subnet-private-c"], securityGroups: [`${name}-alb-sg-id`],
                dropInvalidHeaderFields: true, idleTimeout: 60, tags: { ecosystem: "etcd3-cluster", Name: "etcd3-cluster-alb" },
            });
        });

        it("makes the NLB internal in the private subnets, in its own group, balancing across zones", () => {
            expect(one(LOAD_BALANCER, `${name}-nlb`).inputs).to.deep.equal({
                loadBalancerType: "network", internal: true,
                subnets: ["subnet-private-a", "subnet-private-b", "subnet-private-c"], securityGroups: [`${name}-nlb-sg-id`],
                enableCrossZoneLoadBalancing: true, tags: { ecosystem: "etcd3-cluster", Name: "etcd3-cluster-nlb" },
            });
        });

        it("attaches each member's instance, once, to each target group on 2379", () => {
            for (const kind of ["alb", "nlb"]) {
                for (const index of [0, 1, 2]) {
                    expect(one(ATTACHMENT, `${name}-${kind}-target-${index}`).inputs, `${kind} target ${index}`).to.deep.equal({
                        targetGroupArn: arn(`targetgroup/${name}-${kind}-tg`), targetId: `${name}-${index}-id`, port: 2379,
                    });
                }
            }
            expect(of(ATTACHMENT)).to.have.length(6);
        });

        it("makes both internet-facing in the public subnets when asked", async () => {
            const facing = await build({ grpcLoadBalancer: true, internetFacing: true, allowedCidrs: ["203.0.113.0/24"] });
            expect(facing.of(LOAD_BALANCER).map((lb) => lb.inputs).sort((a, b) => a.loadBalancerType.localeCompare(b.loadBalancerType)))
                .to.deep.equal([{
                    loadBalancerType: "application", internal: false,
                    subnets: ["subnet-public-a", "subnet-public-b", "subnet-public-c"], securityGroups: [`${facing.name}-alb-sg-id`],
                    dropInvalidHeaderFields: true, idleTimeout: 60, tags: { ecosystem: "etcd3-cluster", Name: "etcd3-cluster-alb" },
                }, {
                    loadBalancerType: "network", internal: false,
                    subnets: ["subnet-public-a", "subnet-public-b", "subnet-public-c"], securityGroups: [`${facing.name}-nlb-sg-id`],
                    enableCrossZoneLoadBalancing: true, tags: { ecosystem: "etcd3-cluster", Name: "etcd3-cluster-nlb" },
                }]);
        });
    });
});

describe("Etcd3Cluster resource graph (Pulumi mocks)", () => {
    it("creates one instance per member, three by default", async () => {
        const { of } = await build();
        expect(of(INSTANCE)).to.have.length(3);
    });

    it("creates five instances for clusterSize 5", async () => {
        const { of } = await build({ clusterSize: 5 });
        expect(of(INSTANCE)).to.have.length(5);
    });

    it("spreads every slot's address round robin over the private subnets, the seven a cluster can grow to", async () => {
        const { of } = await build({ clusterSize: 5 });
        expect(of(INTERFACE).map((i) => i.inputs.subnetId)).to.deep.equal([
            "subnet-private-a", "subnet-private-b", "subnet-private-c", "subnet-private-a", "subnet-private-b", "subnet-private-c", "subnet-private-a",
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

    it("requires IMDSv2, serves the instance's tags in its metadata, and gives an encrypted gp3 root volume to every member", async () => {
        const { of } = await build();
        for (const instance of of(INSTANCE)) {
            expect(instance.inputs.metadataOptions).to.deep.equal({
                httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1, instanceMetadataTags: "enabled",
            });
            expect(instance.inputs.rootBlockDevice).to.include({ volumeType: "gp3", encrypted: true, volumeSize: 20 });
        }
    });

    it("gives each member its own name in its Ignition config and the discovery URL in all", async () => {
        const { of } = await build();
        const units = of(INSTANCE).map((i) => userDataOf(i).systemd.units[0].contents as string);
        expect(units.map((u) => /--name=(\S+)/.exec(u)![1])).to.deep.equal(["etcd3-cluster-0", "etcd3-cluster-1", "etcd3-cluster-2"]);
        of(INSTANCE).forEach((i) => expect(userDataFile(i, bootstrapSettingsPath)).to.contain(`FORM_FLAGS=--discovery=${fakeDiscoveryUrl} --discovery-fallback=exit\n`));
    });

    it("starts each member's etcd with exactly its flags: its name, the flags its bootstrap decides, its upkeep, the v2 API", async () => {
        const { name, of } = await build();
        for (const index of [0, 1, 2]) {
            const [instance] = of(INSTANCE).filter((i) => i.name === `${name}-${index}`);
            const unit: string = userDataOf(instance).systemd.units[0].contents;
            const command = unit.slice(unit.indexOf("/usr/local/bin/etcd") + "/usr/local/bin/etcd".length, unit.indexOf("\nExecStop="));
            expect(command.split(/\s*\\\n\s*/).filter((flag) => flag !== ""), `member ${index}`).to.deep.equal([
                `--name=etcd3-cluster-${index}`,
                "--data-dir=/var/lib/etcd",
                "--listen-client-urls=http://0.0.0.0:2379",
                "--advertise-client-urls=http://${AFTERBURN_AWS_IPV4_LOCAL}:2379",
                "--listen-peer-urls=http://0.0.0.0:2380",
                "--initial-advertise-peer-urls=http://${AFTERBURN_AWS_IPV4_LOCAL}:2380",
                "$ETCD_BOOTSTRAP_FLAGS",
                "--auto-compaction-mode=periodic",
                "--auto-compaction-retention=1h",
                "--quota-backend-bytes=8589934592",
                "--snapshot-count=10000",
                "--listen-metrics-urls=http://0.0.0.0:2381",
                "--enable-v2=true",
            ]);
        }
    });

    it("staggers the members' OS-update windows so no two reboot together", async () => {
        const { of } = await build({ clusterSize: 7 });
        const starts = of(INSTANCE).map((instance) => {
            const toml = userDataFile(instance, operatingSystems["fedora-coreos"].updateWindowFile.path);
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
        expect(userDataFile(of(INSTANCE)[0], bootstrapSettingsPath)).to.contain(`FORM_FLAGS=--discovery=${url} `);
    });

    describe("the guard against changes a running cluster cannot take", () => {
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
            const { name, children, order } = await buildRecordingOptions();
            expect(order.filter((type) => type !== "etcd3-cluster:index:Etcd3Cluster")[0]).to.equal(GUARD);
            for (const index of [0, 1, 2]) {
                const [, instance] = [...children].find(([child, { type }]) => child === `${name}-${index}` && type === INSTANCE)!;
                expect(instance.options.dependsOn, `member ${index}`).to.include(`${name}-guard`);
            }
        });
    });

    it("closes idle connections after 60 s, the idle time the haproxy stand-in copies", async () => {
        const { of } = await build();
        expect(of("aws:lb/loadBalancer:LoadBalancer")[0].inputs.idleTimeout).to.equal(60);
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
        /** A rule as (group, direction, protocol, fromPort, toPort, peer): groups by their role, a peer group as "group <role>". */
        type Rule = [group: string, direction: "in" | "out", protocol: string, fromPort: number | undefined, toPort: number | undefined, peer: string];
        /** Every input a rule may have; anything else (an IPv6 CIDR, a prefix list) would open it further. */
        const ruleInputs = ["securityGroupId", "ipProtocol", "fromPort", "toPort", "cidrIpv4", "referencedSecurityGroupId", "description", "tags"];

        function rulesOf(name: string, of: (type: string) => RegisteredResource[]): Rule[] {
            const role = (id: string) => (id.startsWith(`${name}-`) && id.endsWith("-sg-id") ? id.slice(name.length + 1, -"-sg-id".length) : `not the cluster's: ${id}`);
            const rows = [...of(INGRESS).map((r) => ["in", r] as const), ...of(EGRESS).map((r) => ["out", r] as const)];
            return rows.map(([direction, rule]) => {
                const inputs = rule.inputs;
                expect(Object.keys(inputs).filter((key) => !ruleInputs.includes(key)), `${rule.name}: inputs beyond the known ones`).to.deep.equal([]);
                expect([inputs.cidrIpv4, inputs.referencedSecurityGroupId].filter((peer) => peer !== undefined), `${rule.name}: one peer`).to.have.length(1);
                const peer = inputs.referencedSecurityGroupId !== undefined ? `group ${role(inputs.referencedSecurityGroupId)}` : inputs.cidrIpv4;
                return [role(inputs.securityGroupId), direction, inputs.ipProtocol, inputs.fromPort, inputs.toPort, peer];
            });
        }
        const sorted = (rules: Rule[]) => [...rules].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

        /** The members' egress with the default image repository and discovery service: each other's etcd ports, HTTPS and NTP. */
        const memberEgress: Rule[] = [
            ["nodes", "out", "tcp", 2380, 2380, "group nodes"],
            ["nodes", "out", "tcp", 2379, 2379, "group nodes"],
            ["nodes", "out", "tcp", 443, 443, "0.0.0.0/0"],
            ["nodes", "out", "udp", 123, 123, "0.0.0.0/0"],
        ];
        const existingVpc = { vpcId: "vpc-0abc1234", privateSubnetIds: ["subnet-0c000001", "subnet-0c000002"] };
        const scenarios: { title: string; args: Etcd3ClusterArgs; rules: Rule[] }[] = [{
            title: "by default",
            args: {},
            rules: [
                ["nodes", "in", "tcp", 2380, 2380, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group alb"],
                ["nodes", "in", "tcp", 2379, 2379, "10.99.0.0/16"],
                ["nodes", "in", "tcp", 2381, 2381, "10.99.0.0/16"],
                ...memberEgress,
                ["alb", "in", "tcp", 80, 80, "10.99.0.0/16"],
                ["alb", "out", "tcp", 2379, 2379, "group nodes"],
            ],
        }, {
            title: "with clientCidrs []",
            args: { clientCidrs: [] },
            rules: [
                ["nodes", "in", "tcp", 2380, 2380, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group alb"],
                ...memberEgress,
                ["alb", "in", "tcp", 80, 80, "10.99.0.0/16"],
                ["alb", "out", "tcp", 2379, 2379, "group nodes"],
            ],
        }, {
            title: "with SSH keys and the CIDRs that may connect",
            args: { sshAuthorizedKeys: [sshKey], sshCidrs: ["10.99.0.0/16", "192.0.2.1/32"] },
            rules: [
                ["nodes", "in", "tcp", 2380, 2380, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group alb"],
                ["nodes", "in", "tcp", 2379, 2379, "10.99.0.0/16"],
                ["nodes", "in", "tcp", 2381, 2381, "10.99.0.0/16"],
                ["nodes", "in", "tcp", 22, 22, "10.99.0.0/16"],
                ["nodes", "in", "tcp", 22, 22, "192.0.2.1/32"],
                ...memberEgress,
                ["alb", "in", "tcp", 80, 80, "10.99.0.0/16"],
                ["alb", "out", "tcp", 2379, 2379, "group nodes"],
            ],
        }, {
            title: "with grpcLoadBalancer",
            args: { grpcLoadBalancer: true },
            rules: [
                ["nodes", "in", "tcp", 2380, 2380, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group alb"],
                ["nodes", "in", "tcp", 2379, 2379, "group nlb"],
                ["nodes", "in", "tcp", 2379, 2379, "10.99.0.0/16"],
                ["nodes", "in", "tcp", 2381, 2381, "10.99.0.0/16"],
                ...memberEgress,
                ["alb", "in", "tcp", 80, 80, "10.99.0.0/16"],
                ["alb", "out", "tcp", 2379, 2379, "group nodes"],
                ["nlb", "in", "tcp", 2379, 2379, "10.99.0.0/16"],
                ["nlb", "out", "tcp", 2379, 2379, "group nodes"],
            ],
        }, {
            title: "internet-facing with allowedCidrs",
            args: { internetFacing: true, allowedCidrs: ["203.0.113.0/24", "198.51.100.7/32"] },
            rules: [
                ["nodes", "in", "tcp", 2380, 2380, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group alb"],
                ["nodes", "in", "tcp", 2379, 2379, "10.99.0.0/16"],
                ["nodes", "in", "tcp", 2381, 2381, "10.99.0.0/16"],
                ...memberEgress,
                ["alb", "in", "tcp", 80, 80, "203.0.113.0/24"],
                ["alb", "in", "tcp", 80, 80, "198.51.100.7/32"],
                ["alb", "out", "tcp", 2379, 2379, "group nodes"],
            ],
        }, {
            title: "with certificateArn",
            args: { certificateArn: "arn:aws:acm:eu-west-2:123456789012:certificate/1234abcd", dnsName: "etcd.example.com", hostedZoneId: "Z0123456789" },
            rules: [
                ["nodes", "in", "tcp", 2380, 2380, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group alb"],
                ["nodes", "in", "tcp", 2379, 2379, "10.99.0.0/16"],
                ["nodes", "in", "tcp", 2381, 2381, "10.99.0.0/16"],
                ...memberEgress,
                ["alb", "in", "tcp", 80, 80, "10.99.0.0/16"],
                ["alb", "in", "tcp", 443, 443, "10.99.0.0/16"],
                ["alb", "out", "tcp", 2379, 2379, "group nodes"],
            ],
        }, {
            title: "with a discovery service and an image registry on ports of their own",
            args: { discoveryService: "http://discovery.internal:8087", etcdImageRepository: "registry.internal:5000/etcd" },
            rules: [
                ["nodes", "in", "tcp", 2380, 2380, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group alb"],
                ["nodes", "in", "tcp", 2379, 2379, "10.99.0.0/16"],
                ["nodes", "in", "tcp", 2381, 2381, "10.99.0.0/16"],
                ...memberEgress,
                ["nodes", "out", "tcp", 8087, 8087, "0.0.0.0/0"],
                ["nodes", "out", "tcp", 5000, 5000, "0.0.0.0/0"],
                ["alb", "in", "tcp", 80, 80, "10.99.0.0/16"],
                ["alb", "out", "tcp", 2379, 2379, "group nodes"],
            ],
        }, {
            title: "in an existing VPC (its CIDR looked up)",
            args: existingVpc,
            rules: [
                ["nodes", "in", "tcp", 2380, 2380, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group nodes"],
                ["nodes", "in", "tcp", 2379, 2379, "group alb"],
                ["nodes", "in", "tcp", 2379, 2379, existingVpcCidr],
                ["nodes", "in", "tcp", 2381, 2381, existingVpcCidr],
                ...memberEgress,
                ["alb", "in", "tcp", 80, 80, existingVpcCidr],
                ["alb", "out", "tcp", 2379, 2379, "group nodes"],
            ],
        }];
        for (const scenario of scenarios) {
            it(`has exactly these rules ${scenario.title}: protocol, ports and peer of each`, async () => {
                const { name, of } = await build(scenario.args);
                expect(sorted(rulesOf(name, of))).to.deep.equal(sorted(scenario.rules));
            });
        }

        it("lets clients reach 2379 from the ALB's group, the members' and the VPC's CIDR, never the world by default", async () => {
            const { name, of } = await build({ vpcCidr: "10.42.0.0/16" });
            const toClientPort = of(INGRESS).filter((r) => r.inputs.fromPort === 2379);
            expect(toClientPort.map((r) => [r.inputs.securityGroupId, r.inputs.referencedSecurityGroupId ?? r.inputs.cidrIpv4])).to.have.deep.members([
                [`${name}-nodes-sg-id`, `${name}-alb-sg-id`], [`${name}-nodes-sg-id`, `${name}-nodes-sg-id`], [`${name}-nodes-sg-id`, "10.42.0.0/16"],
            ]);
        });

        it("lets exactly the clientCidrs reach the members' 2379 directly", async () => {
            const { of } = await build({ clientCidrs: ["10.1.0.0/16", "10.2.0.0/16"] });
            const direct = of(INGRESS).filter((r) => r.inputs.fromPort === 2379 && r.inputs.cidrIpv4 !== undefined);
            expect(direct.map((r) => r.inputs.cidrIpv4)).to.have.members(["10.1.0.0/16", "10.2.0.0/16"]);
        });

        it("keeps members reachable by clients only through the ALB with clientCidrs []", async () => {
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

        it("opens SSH from exactly the sshCidrs when keys are given with them", async () => {
            const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";
            const { of } = await build({ sshAuthorizedKeys: [key], sshCidrs: ["192.0.2.1/32"] });
            const ssh = of(INGRESS).filter((r) => r.inputs.fromPort === 22);
            expect(ssh.map((r) => r.inputs.cidrIpv4)).to.deep.equal(["192.0.2.1/32"]);
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
            expect(targetGroup.inputs.healthCheck).to.include({ protocol: "HTTP", path: "/health?exclude=NOSPACE", interval: 5 });
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
            expect(of(INTERFACE).map((i) => i.inputs.subnetId)).to.deep.equal(["subnet-0c000001", "subnet-0c000002", "subnet-0c000001", "subnet-0c000002",
                "subnet-0c000001", "subnet-0c000002", "subnet-0c000001"]);
        });

        it("takes subnet lists that are outputs of other resources, like an awsx Vpc's", async () => {
            const { of } = await build({ vpcId: "vpc-0abc1234", privateSubnetIds: pulumi.output(["subnet-o1", "subnet-o2"]) });
            expect(of(INTERFACE).map((i) => i.inputs.subnetId)).to.deep.equal(["subnet-o1", "subnet-o2", "subnet-o1", "subnet-o2", "subnet-o1", "subnet-o2", "subnet-o1"]);
        });

        /** Builds with `args` and returns the message settle() fails with: the program's error, as `pulumi up` would print it. */
        async function failureOf(args: Etcd3ClusterArgs): Promise<{ name: string; message: string }> {
            const name = uniqueName();
            new Etcd3Cluster(name, { discoveryLogFile: false, ...args });
            const failure = await settle().then(() => undefined, (error: Error) => error);
            expect(failure, "the build succeeded").to.be.instanceOf(Error);
            return { name, message: failure!.message };
        }

        it("refuses a single private subnet given as an output, once it resolves, and places no member", async () => {
            const { name, message } = await failureOf({ vpcId: "vpc-0abc1234", privateSubnetIds: pulumi.output(["subnet-o1"]) });
            expect(message).to.contain(`Etcd3Cluster "${name}" has invalid arguments: privateSubnetIds: with vpcId, ` +
                "give at least 2 private subnets in different availability zones (got 1)");
            expect(resourcesOf(name, INSTANCE)).to.have.length(0);
        });

        it("refuses a single public subnet given as an output for an internet-facing load balancer, and makes none", async () => {
            const { name, message } = await failureOf({
                ...existing, publicSubnetIds: pulumi.output(["subnet-p1"]), internetFacing: true, allowedCidrs: ["203.0.113.0/24"],
            });
            expect(message).to.contain(`Etcd3Cluster "${name}" has invalid arguments: publicSubnetIds: ` +
                "an internet-facing load balancer needs at least 2 public subnets of vpcId (got 1)");
            expect(resourcesOf(name, LOAD_BALANCER)).to.have.length(0);
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

        it("gives entry i of instanceIds, privateIps, clientEndpoints and peerUrls from member i's own instance and slot", async () => {
            const { name, cluster, of } = await build({ clusterSize: 5 });
            const [instanceIds, privateIps, clientEndpoints, peerUrls, networkInterfaceIds, dataVolumeIds] = await Promise.all([
                valueOf(cluster.instanceIds), valueOf(cluster.privateIps), valueOf(cluster.clientEndpoints), valueOf(cluster.peerUrls),
                valueOf(cluster.networkInterfaceIds), valueOf(cluster.dataVolumeIds),
            ]);
            // The mocks give member i the address 10.99.1.(10 + i) (lib/testing.ts).
            expect(cluster.memberNames).to.deep.equal(["etcd3-cluster-0", "etcd3-cluster-1", "etcd3-cluster-2", "etcd3-cluster-3", "etcd3-cluster-4"]);
            expect(instanceIds).to.deep.equal([`${name}-0-id`, `${name}-1-id`, `${name}-2-id`, `${name}-3-id`, `${name}-4-id`]);
            expect(privateIps).to.deep.equal(["10.99.1.10", "10.99.1.11", "10.99.1.12", "10.99.1.13", "10.99.1.14"]);
            expect(clientEndpoints).to.deep.equal([
                "http://10.99.1.10:2379", "http://10.99.1.11:2379", "http://10.99.1.12:2379", "http://10.99.1.13:2379", "http://10.99.1.14:2379",
            ]);
            expect(peerUrls).to.deep.equal([
                "http://10.99.1.10:2380", "http://10.99.1.11:2380", "http://10.99.1.12:2380", "http://10.99.1.13:2380", "http://10.99.1.14:2380",
            ]);
            cluster.memberNames.forEach((member, i) => {
                const instances = of(INSTANCE).filter((instance) => instance.id === instanceIds[i]);
                expect(instances, `the instance of instanceIds[${i}]`).to.have.length(1);
                const [instance] = instances;
                expect(instance.inputs.tags, `instanceIds[${i}]'s tags`).to.include({ Name: member, "etcd-member": member });
                expect(/--name=(\S+)/.exec(userDataOf(instance).systemd.units[0].contents)![1], `instanceIds[${i}]'s etcd name`).to.equal(member);
                expect(instance.state.privateIp, `instanceIds[${i}]'s address`).to.equal(privateIps[i]);
                expect(instance.inputs.primaryNetworkInterface, `instanceIds[${i}]'s interface`).to.deep.equal({ networkInterfaceId: networkInterfaceIds[i] });
                expect(of(INTERFACE).find((nic) => nic.id === networkInterfaceIds[i])?.state.privateIp, `networkInterfaceIds[${i}]'s address`).to.equal(privateIps[i]);
                expect(of(VOLUME_ATTACHMENT).filter((a) => a.inputs.instanceId === instanceIds[i]).map((a) => a.inputs.volumeId),
                    `the volume attached to instanceIds[${i}]`).to.deep.equal([dataVolumeIds[i]]);
                expect(of(VOLUME).find((volume) => volume.id === dataVolumeIds[i])?.inputs.tags["etcd-member"], `dataVolumeIds[${i}]'s member`).to.equal(member);
                expect(clientEndpoints[i]).to.equal(`http://${instance.state.privateIp}:2379`);
                expect(peerUrls[i]).to.equal(`http://${instance.state.privateIp}:2380`);
            });
        });
    });

    describe("tags", () => {
        /** The types AWS can tag, with the inputs that carry tags. */
        const taggable: Record<string, string[]> = {
            [VPC]: ["tags"], [SECURITY_GROUP]: ["tags"], [INGRESS]: ["tags"], [EGRESS]: ["tags"],
            [INSTANCE]: ["tags", "rootBlockDevice.tags"], [INTERFACE]: ["tags"], [VOLUME]: ["tags"],
            [LOAD_BALANCER]: ["tags"], [TARGET_GROUP]: ["tags"], [LISTENER]: ["tags"], [ALARM]: ["tags"],
        };
        /** The types without tags: a target group attachment and a Route53 record take none; the rest are not AWS resources. */
        const untaggable = [ATTACHMENT, VOLUME_ATTACHMENT, RECORD, GUARD, FOUNDING, DISCOVERY, IMAGE, GATE, DEPARTURE, COMPONENT];

        it("tags every resource of every taggable type with exactly the ecosystem, the user's tags and its own Name", async () => {
            const { name } = await build({
                ecosystem: "billing-etcd", tags: { team: "platform" }, grpcLoadBalancer: true, sshAuthorizedKeys: [sshKey], sshCidrs: ["10.99.0.0/16"],
                dnsName: "etcd.example.com", hostedZoneId: "Z0123456789",
            });
            const common = { ecosystem: "billing-etcd", team: "platform" };
            // Resource name (after the component's) → its Name tag; taggable resources not listed (rules, listeners) have none.
            const nameTags: Record<string, string> = {
                "vpc": "billing-etcd-vpc", "nodes-sg": "billing-etcd-nodes", "alb-sg": "billing-etcd-alb", "nlb-sg": "billing-etcd-nlb",
                "alb": "billing-etcd-alb", "nlb": "billing-etcd-nlb", "alb-tg": "billing-etcd-alb-tg", "nlb-tg": "billing-etcd-nlb-tg",
            };
            const resources = resourcesOf(name);
            const seen = new Set(resources.map((r) => r.type));
            expect([...seen].filter((type) => !(type in taggable) && !untaggable.includes(type)), "types neither taggable nor untaggable").to.deep.equal([]);
            expect(Object.keys(taggable).filter((type) => !seen.has(type)), "taggable types this build did not make").to.deep.equal([]);
            for (const resource of resources) {
                const label = `${resource.type} "${resource.name}"`;
                const suffix = resource.name.slice(name.length + 1);
                if (!(resource.type in taggable)) {
                    expect(resource.inputs.tags, label).to.equal(undefined);
                } else if (resource.type === INSTANCE || resource.type === INTERFACE) {
                    const member = `billing-etcd-${suffix.replace(/-nic$/, "")}`;
                    expect(resource.inputs.tags, `${label} tags`).to.deep.equal({ ...common, Name: member, "etcd-member": member });
                    if (resource.type === INSTANCE) {
                        expect(resource.inputs.rootBlockDevice.tags, `${label} root volume tags`).to.deep.equal({ ...common, Name: `${member}-root`, "etcd-member": member });
                    }
                } else if (resource.type === VOLUME) {
                    const member = `billing-etcd-${suffix.replace(/-data$/, "")}`;
                    expect(resource.inputs.tags, `${label} tags`).to.deep.equal({ ...common, Name: `${member}-data`, "etcd-member": member });
                } else {
                    expect(resource.inputs.tags, label).to.deep.equal(nameTags[suffix] ? { ...common, Name: nameTags[suffix] } : common);
                }
            }
        });
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
