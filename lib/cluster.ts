/**
 * The Etcd3Cluster component: wires the network, discovery token, members,
 * load balancer and alarms together. Each concern lives in its own module; the arguments
 * are defined in args.ts, the outputs in outputs.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { createAlarms } from "./alarms";
import { createMemberStorage } from "./backup";
import { CidrSource, Etcd3ClusterArgs, ResolvedEtcd3ClusterArgs, resolveArgs } from "./args";
import { initialClusterToken } from "./bootstrap";
import { DiscoveryUrl } from "./discovery";
import { createDnsRecord } from "./dns";
import { memberOutboundPorts } from "./egress";
import { ClusterFounding } from "./founding";
import { ClusterGuard } from "./guard";
import { clientPort, clientUrl, peerUrl } from "./etcd";
import { createLoadBalancer, LoadBalancerKind } from "./loadbalancer";
import { createNetwork } from "./network";
import { ClusterFormation, createNodes } from "./nodes";
import { Etcd3ClusterOutputs, outputNames } from "./outputs";
import { generatedPeerCa } from "./peer-ca";
import { PeerCaRecord, peerCaRotationWarning, PeerCaStep } from "./peer-ca-record";
import { createSecurityGroups } from "./security-groups";
import { caExpiryWarning, createSecretStore } from "./tls";

export class Etcd3Cluster extends pulumi.ComponentResource implements Etcd3ClusterOutputs {
    public readonly etcd3ClusterUrl: pulumi.Output<string>;
    public readonly etcd3DiscoveryUrl: pulumi.Output<string | undefined>;
    public readonly loadBalancerDnsName: pulumi.Output<string>;
    public readonly memberNames: string[];
    public readonly instanceIds: pulumi.Output<string[]>;
    public readonly privateIps: pulumi.Output<string[]>;
    public readonly networkInterfaceIds: pulumi.Output<string[]>;
    public readonly dataVolumeIds: pulumi.Output<string[]>;
    public readonly vpcId: pulumi.Output<string>;
    public readonly privateSubnetIds: pulumi.Output<string[]>;
    public readonly nodeSecurityGroupId: pulumi.Output<string>;
    public readonly loadBalancerSecurityGroupId: pulumi.Output<string>;
    public readonly targetGroupArn: pulumi.Output<string>;
    public readonly clientEndpoints: pulumi.Output<string[]>;
    public readonly peerUrls: pulumi.Output<string[]>;
    public readonly grpcEndpoint: pulumi.Output<string | undefined>;
    public readonly backupLocation: pulumi.Output<string | undefined>;
    public readonly caCertificate: pulumi.Output<string | undefined>;

    /**
     * @throws Etcd3ClusterArgumentError before registering anything when an argument is invalid.
     */
    constructor(name: string, args: Etcd3ClusterArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        const resolved = resolveArgs(name, args);
        super("etcd3-cluster:index:Etcd3Cluster", name, {}, opts);
        const tags = { ...resolved.tags, ecosystem: resolved.ecosystem };

        // The peer CA's step as the guard and the record after the roll keep it.
        const peerCaStep: PeerCaStep = { peerCaGeneration: resolved.peerCa.generation, peerCaRotation: resolved.peerCa.rotation ?? "none" };
        // First, so that a change it refuses stops the run before anything else is touched.
        const guard = new ClusterGuard(`${name}-guard`, {
            clusterSize: resolved.clusterSize,
            rootVolumeSizeGiB: resolved.rootVolumeSizeGiB,
            dataVolumeSizeGiB: resolved.dataVolume.sizeGiB,
            dataVolumeKmsKey: resolved.dataVolume.kmsKeyId ?? "aws/ebs",
            etcdVersion: resolved.etcdVersion,
            enableV2Api: resolved.enableV2Api,
            bootstrap: resolved.bootstrap,
            peerTls: resolved.peerTls,
            clientTls: resolved.clientTls,
            accessControl: resolved.rootPassword !== undefined,
            ...peerCaStep,
            peerCaCertificate: resolved.givenPeerCa?.identity ?? generatedPeerCa,
        }, { parent: this });

        // After the guard: on a stack made before the record existed, the guard's state still holds the size it was created with.
        const founding = new ClusterFounding(`${name}-founding`, {
            clusterSize: guard.foundingClusterSize.apply((size) => size ?? resolved.clusterSize),
        }, { parent: this });

        const network = createNetwork(name, resolved, tags, this);
        const cidrs = (source: CidrSource) => (source === "vpc-cidr" ? [network.vpcCidr] : source);

        const formation = this.clusterFormation(name, resolved, guard);
        this.etcd3DiscoveryUrl = formation.method === "discovery" ? pulumi.output(formation.discoveryUrl) : pulumi.output<string | undefined>(undefined);

        const loadBalancerKinds: LoadBalancerKind[] = resolved.grpcLoadBalancer ? ["alb", "nlb"] : ["alb"];
        const securityGroups = createSecurityGroups(name, network, {
            loadBalancers: loadBalancerKinds,
            allowedCidrs: cidrs(resolved.allowedCidrs),
            https: resolved.https !== undefined,
            clientCidrs: cidrs(resolved.clientCidrs),
            sshCidrs: cidrs(resolved.sshCidrs),
            outbound: memberOutboundPorts(resolved),
        }, tags, this);

        const balancers = loadBalancerKinds.map((kind) => createLoadBalancer(name, kind, {
            internetFacing: resolved.internetFacing,
            subnetIds: resolved.internetFacing ? network.publicSubnetIds : network.privateSubnetIds,
            securityGroupId: securityGroups.loadBalancers[kind]!.id,
            vpcId: network.vpcId,
            https: kind === "alb" && resolved.https ? { ...resolved.https, openedBy: securityGroups.httpsIngress } : undefined,
            membersServeTls: resolved.clientTls,
        }, tags, this));
        const [balancer, grpcBalancer] = balancers;

        const secrets = resolved.peerTls
            ? createSecretStore(name, {
                peerCa: resolved.peerCa, givenPeerCa: resolved.givenPeerCa, rootPassword: resolved.rootPassword,
                tokenSigningKeyGeneration: resolved.tokenSigningKeyGeneration,
            }, tags, this, guard)
            : undefined;
        const storage = createMemberStorage(name, { backup: resolved.backup, restore: resolved.restore, secrets }, tags, this);
        const nodes = createNodes(name, resolved, {
            formation,
            foundingClusterSize: founding.clusterSize,
            privateSubnetIds: network.privateSubnetIds,
            securityGroupId: securityGroups.nodes.id,
            guard,
            balancers,
            region: aws.getRegionOutput({}, { parent: this }).region,
            profile: aws.config.profile,
            storage,
        }, tags, this);
        if (resolved.peerTls) {
            // After every member's gate: the step is recorded once all have rolled to it (see peer-ca-record.ts).
            new PeerCaRecord(`${name}-peer-ca-rolled`, peerCaStep, { parent: this, dependsOn: nodes.map((node) => node.healthGate) });
        }
        const rotationWarning = peerCaRotationWarning(resolved.peerCa, resolved.clientTls);
        if (rotationWarning) {
            pulumi.log.warn(rotationWarning, this);
        }
        if (resolved.https && !resolved.dns) {
            pulumi.log.warn("certificateArn without dnsName: etcd3ClusterUrl names the ALB's own DNS name, which your certificate cannot " +
                "cover, so TLS clients will refuse it; give dnsName (and hostedZoneId), or point a name the certificate covers at loadBalancerDnsName", this);
        }
        secrets?.caValidityEnd.apply((end) => {
            const warning = caExpiryWarning(end, Date.now(), resolved.givenPeerCa !== undefined);
            if (warning) {
                pulumi.log.warn(warning, this);
            }
        });
        if (resolved.clusterSize === 1) {
            pulumi.log.warn("a 1-member cluster has no redundancy: a change that replaces its instance (image, etcdVersion, instanceType, " +
                "any argument in the user data) stops the cluster until the new instance is up; its data is kept on the data volume", this);
        }

        if (resolved.alarms) {
            createAlarms(name, {
                balancers,
                members: nodes.map((node) => ({ name: node.member.name, instanceId: node.instance.id })),
                clusterSize: resolved.clusterSize,
                topicArn: resolved.alarms.topicArn,
            }, tags, this);
        }

        const record = resolved.dns && createDnsRecord(name, resolved.dns, balancer.loadBalancer, this);

        this.loadBalancerDnsName = balancer.loadBalancer.dnsName;
        const scheme = resolved.https ? "https" : "http";
        this.etcd3ClusterUrl = pulumi.interpolate`${scheme}://${record ? record.fqdn : balancer.loadBalancer.dnsName}`;
        this.memberNames = nodes.map((node) => node.member.name);
        this.instanceIds = pulumi.all(nodes.map((node) => node.instance.id));
        this.privateIps = pulumi.all(nodes.map((node) => node.slot.networkInterface.privateIp));
        this.networkInterfaceIds = pulumi.all(nodes.map((node) => node.slot.networkInterface.id));
        this.dataVolumeIds = pulumi.all(nodes.map((node) => node.slot.dataVolume.id));
        this.vpcId = network.vpcId;
        this.privateSubnetIds = network.privateSubnetIds;
        this.nodeSecurityGroupId = securityGroups.nodes.id;
        this.loadBalancerSecurityGroupId = securityGroups.loadBalancers.alb!.id;
        this.targetGroupArn = balancer.targetGroup.arn;
        this.clientEndpoints = this.privateIps.apply((ips) => ips.map((ip) => clientUrl(ip, resolved.clientTls ? "https" : "http")));
        this.peerUrls = this.privateIps.apply((ips) => ips.map((ip) => peerUrl(ip, resolved.peerTls ? "https" : "http")));
        this.grpcEndpoint = grpcBalancer
            ? pulumi.interpolate`${grpcBalancer.loadBalancer.dnsName}:${clientPort}`
            : pulumi.output<string | undefined>(undefined);
        this.backupLocation = storage?.backupBucket
            ? pulumi.interpolate`s3://${storage.backupBucket.name}/${resolved.backup!.prefix}`
            : pulumi.output<string | undefined>(undefined);

        this.caCertificate = secrets ? secrets.caCertificatePem : pulumi.output<string | undefined>(undefined);

        this.registerOutputs(Object.fromEntries(outputNames.map((output) => [output, this[output]])));
    }

    /** The discovery URL given or requested, or (static) the cluster's token: random, from the guard, which lives as long as the stack. */
    private clusterFormation(name: string, resolved: ResolvedEtcd3ClusterArgs, guard: ClusterGuard): ClusterFormation {
        if (resolved.bootstrap === "static") {
            return { method: "static", clusterToken: guard.id.apply((id) => initialClusterToken(resolved.ecosystem, id)) };
        }
        const discoveryUrl = resolved.discoveryUrl ?? new DiscoveryUrl(`${name}-discovery`, {
            size: resolved.clusterSize,
            service: resolved.discoveryService,
            logFile: resolved.discoveryLogFile,
        }, { parent: this }).url;
        return { method: "discovery", discoveryUrl };
    }
}
