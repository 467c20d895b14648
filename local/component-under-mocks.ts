/**
 * A child process of component-resources.ts: constructs the Etcd3Cluster
 * component under the package's own Pulumi mocks (`etcd3-cluster/testing`),
 * once per request, and answers with what each construction registered for
 * the instances, load balancers and S3 objects, inputs and mocked state. The
 * tls provider's resources get real keys and certificates (tls-provider.ts). A process of its
 * own, because Pulumi's mocks are one per process and a test run of the
 * component's unit tests has its own installed.
 *
 * Requests come over the IPC channel (`{ id, request }`), one at a time;
 * answers are `{ id, resources }` or `{ id, error }`. The process exits when
 * its parent disconnects, so it never outlives the process that forked it.
 */
import type { Etcd3ClusterArgs } from "../lib/args";
import { Etcd3ClusterMockOptions, Etcd3ClusterMocks, setEtcd3ClusterMocks } from "../lib/testing";
import { localStackRegion } from "./component-resources";
import { newTlsResource } from "./tls-provider";

/** What the parent asks for. */
export interface MockRunRequest {
    args: Etcd3ClusterArgs;
    /** The discovery URL the mocked discovery resource answers with (the same for every request to one process). */
    discoveryUrl: string;
    /** A module loaded before the component: a test's stand-in for a bug in lib/ (see LocalClusterOptions.componentPatch). */
    patch?: string;
    /** Plays a stack created with this many members and grown since (see `Etcd3ClusterMockOptions.foundingClusterSize`). */
    foundingClusterSize?: number;
}

/** The resource types the local cluster is built from. */
const relevantTypes = [
    "aws:ec2/instance:Instance",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/targetGroup:TargetGroup",
    "aws:lb/listener:Listener",
    "aws:lb/targetGroupAttachment:TargetGroupAttachment",
    // The slots' addresses, members' and spare ones alike, which the user data names.
    "aws:ec2/networkInterface:NetworkInterface",
    // The member slots' data volumes and what attaches each to an instance (see volumes.ts).
    "aws:ebs/volume:Volume",
    "aws:ec2/volumeAttachment:VolumeAttachment",
    // The guard, whose id a static cluster's token is made from.
    "pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard",
    // The members' health gates, whose serialized provider a roll runs in Pulumi's provider host.
    "pulumi-nodejs:dynamic/etcd3-cluster:MemberHealthGate",
    // The members' departures, whose serialized provider a shrink runs in Pulumi's provider host.
    "pulumi-nodejs:dynamic/etcd3-cluster:MemberDeparture",
    // With backups: the bucket the S3 stand-in plays, and the role behind each instance's profile with its policies.
    "aws:s3/bucket:Bucket",
    "aws:iam/instanceProfile:InstanceProfile",
    "aws:iam/rolePolicy:RolePolicy",
    // The members' security group and its egress rules: the ports a node's proxy lets it reach outside the VPC.
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    // The objects the component puts in its buckets (the members' TLS secrets), which the S3 stand-in is seeded with, and the KMS keys they are under.
    "aws:s3/bucketObjectv2:BucketObjectv2",
    "aws:kms/key:Key",
    // The keys and certificates behind those objects, which an update keeps (see keptValuesOf).
    "tls:index/privateKey:PrivateKey",
    "tls:index/selfSignedCert:SelfSignedCert",
];

let mocks: Etcd3ClusterMocks | undefined;
/** The mocks' options, kept to play each request's founding size. */
let mockOptions: Etcd3ClusterMockOptions | undefined;
let constructed = 0;

async function construct(request: MockRunRequest): Promise<unknown[]> {
    if (request.patch) {
        require(request.patch);
    }
    mockOptions ??= {
        project: "etcd3-cluster-local", stack: "local", discoveryUrl: request.discoveryUrl, region: localStackRegion,
        // The tls provider's keys and certificates are real, so what the component builds from them works on the local cluster.
        mocks: { newResource: newTlsResource },
    };
    mocks ??= setEtcd3ClusterMocks(mockOptions);
    mockOptions.foundingClusterSize = request.foundingClusterSize;
    const first = mocks.resources.length;
    // A name of its own per construction: URNs must be unique in the one mocked stack. Member names come from `ecosystem`.
    constructed += 1;
    const name = constructed === 1 ? "local" : `local${constructed}`;
    await mocks.run(async () => {
        const { Etcd3Cluster } = await import("../lib/cluster");
        return new Etcd3Cluster(name, request.args);
    });
    return mocks.resources.slice(first)
        .filter((resource) => relevantTypes.includes(resource.type))
        .map(({ type, name: resourceName, inputs, id, state }) => ({ type, name: resourceName, inputs, id, state }));
}

let queue: Promise<void> = Promise.resolve();

process.on("message", (message: { id: number; request: MockRunRequest }) => {
    queue = queue.then(async () => {
        try {
            process.send!({ id: message.id, resources: await construct(message.request) });
        } catch (error) {
            process.send!({ id: message.id, error: (error as Error).stack ?? String(error) });
        }
    });
});
process.on("disconnect", () => process.exit(0));
if (!process.send) {
    process.stderr.write("component-under-mocks.ts runs as a forked child of local/component-resources.ts\n");
    process.exit(2);
}
