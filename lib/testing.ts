/**
 * Pulumi mocks that can build an `Etcd3Cluster`, for the unit tests of a
 * program that uses one: `import { setEtcd3ClusterMocks, outputValue } from
 * "etcd3-cluster/testing"`.
 *
 * ```ts
 * const mocks = setEtcd3ClusterMocks();                          // before the program is loaded
 * const program = await mocks.run(() => import("../index"));     // load it, wait for every resource
 * assert.match(await outputValue(program.etcd3ClusterUrl), /^http:\/\//);
 * ```
 *
 * The mocks answer what the component needs: awsx's `Vpc` (a remote component:
 * its outputs must come from the mock), the AMI, VPC, subnet and zone lookups,
 * the members' network interfaces (member i at a.b.1.(10+i)) and the instances
 * on them, data volumes and interfaces with AWS-shaped ids (`vol-…`, `eni-…`,
 * the same for a name in every run), the load balancers' DNS names, the
 * discovery URL and the kept image.
 * Every other resource type and function goes to the mocks you pass in
 * `options.mocks`. Where the mocks cannot answer, they fail with a message
 * rather than leaving an output that never settles.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

/** A resource as the mocks saw it: what the program asked for and what the mocks answered. */
export interface MockedResource {
    type: string;
    name: string;
    inputs: any;
    id: string | undefined;
    state: Record<string, any>;
}

/** Your own mocks for the resource types and functions of your program. */
export interface UserMocks {
    /** Answers a resource type the cluster's mocks do not know; return `undefined` for the default (its inputs as state). */
    newResource?(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult | undefined | Promise<pulumi.runtime.MockResourceResult | undefined>;
    /** Answers a function the cluster's mocks do not know; returning `undefined` is an error, as there is no default. */
    call?(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult | undefined | Promise<pulumi.runtime.MockCallResult | undefined>;
}

export interface Etcd3ClusterMockOptions {
    /**
     * Mocks for your program's other resources and functions, asked only about
     * what these mocks do not answer, except S3 buckets, IAM roles and their
     * settings, and `aws.s3.getBucket`, which programs often have of their own:
     * your mocks are asked about those first, and these answer when yours
     * return undefined.
     */
    mocks?: UserMocks;
    /** Project name. Default: `name` in `Pulumi.yaml` of the working directory, else `project`. */
    project?: string;
    /** Stack name. Default `test`. */
    stack?: string;
    /** Run as `pulumi preview` (outputs the provider would compute are unknown). Default `false`. */
    preview?: boolean;
    /**
     * Stack config, as `pulumi config set` would give it: keys without a namespace
     * belong to the project (`clusterSize`), others keep theirs (`aws:region`);
     * values that are not strings are stored as JSON.
     */
    config?: Record<string, unknown>;
    /** The discovery URL the discovery-token resource answers with. Default `https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e`. */
    discoveryUrl?: string;
    /** The image id every AMI lookup answers with. Default `ami-0123456789abcdef0`. */
    amiId?: string;
    /** Region in DNS names, ARNs and zones. Default: config `aws:region`, else `eu-west-2`. */
    region?: string;
    /** CIDR the VPC lookup answers for a VPC the mocks did not create. Default `10.0.0.0/16`. */
    vpcCidr?: string;
    /** Account id in ARNs and the caller identity. Default `123456789012`. */
    accountId?: string;
    /**
     * Plays a stack created with this `clusterSize` and grown since: the
     * founding record answers with it. Default: the size the program gives (a
     * new stack).
     */
    foundingClusterSize?: number;
    /** The region the lookup of a bucket you name (`backupBucket`) answers with, by bucket. Default the stack's region. */
    bucketRegions?: Record<string, string>;
}

const defaults = {
    discoveryUrl: "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e",
    amiId: "ami-0123456789abcdef0",
    region: "eu-west-2",
    vpcCidr: "10.0.0.0/16",
    accountId: "123456789012",
};

/** The token the component's discovery-URL resource registers under. */
export const discoveryUrlResourceType = "pulumi-nodejs:dynamic/etcd3-cluster:DiscoveryUrl";
/** The token of the resource that records the size the cluster was created with. */
export const clusterFoundingResourceType = "pulumi-nodejs:dynamic/etcd3-cluster:ClusterFounding";
/** The token of the resource that keeps the members' image. */
export const imageChoiceResourceType = "pulumi-nodejs:dynamic/etcd3-cluster:ImageChoice";

/**
 * Types the component creates that programs often create themselves: the
 * user's mocks answer them first, so adding backups to the component changes
 * nothing for a program's own buckets and roles.
 */
const sharedResourceTypes = new Set([
    "aws:s3/bucket:Bucket", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/instanceProfile:InstanceProfile", "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketObjectv2:BucketObjectv2", "aws:kms/key:Key",
    "tls:index/privateKey:PrivateKey", "tls:index/selfSignedCert:SelfSignedCert",
]);
/** Functions programs often call themselves, answered by the user's mocks first. */
const sharedFunctionTokens = new Set(["aws:s3/getBucket:getBucket"]);

/** A well-formed AWS id (`vol-`, `eni-` and 17 hex digits) derived from a resource's name, the same in every run. */
export function mockAwsId(prefix: string, name: string): string {
    let hash = 0x811c9dc5;
    const digits: string[] = [];
    for (let round = 0; digits.length < 17; round++) {
        for (const char of `${round}:${name}`) {
            hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
        }
        digits.push(...hash.toString(16).padStart(8, "0"));
    }
    return `${prefix}-${digits.slice(0, 17).join("")}`;
}

const zoneLetters = ["a", "b", "c", "d", "e", "f"];

/**
 * Mocks that can build an `Etcd3Cluster` (a `pulumi.runtime.Mocks`). Usually
 * made and installed by `setEtcd3ClusterMocks`; construct it yourself to wrap
 * it in mocks of your own and pass those to `pulumi.runtime.setMocks`.
 */
export class Etcd3ClusterMocks implements pulumi.runtime.Mocks {
    /** Every resource registered so far, in registration order. */
    public readonly resources: MockedResource[] = [];
    /** Every function called so far. */
    public readonly calls: pulumi.runtime.MockCallArgs[] = [];
    private readonly problems: string[] = [];
    private readonly vpcCidrs = new Map<string, string>();
    private readonly subnetCidrs = new Map<string, string>();
    private readonly subnetZones = new Map<string, string>();
    private readonly loadedProviders = new Set<string>();
    private instanceCount = 0;
    private readonly interfaceAddresses = new Map<string, string>();

    constructor(private readonly options: Etcd3ClusterMockOptions = {}) {}

    /** Resources of one type, e.g. `aws:ec2/instance:Instance`. */
    public resourcesOf(type: string): MockedResource[] {
        return this.resources.filter((resource) => resource.type === type);
    }

    /** Calls of one function, e.g. `aws:ec2/getAmi:getAmi`. */
    public callsOf(token: string): pulumi.runtime.MockCallArgs[] {
        return this.calls.filter((call) => call.token === token);
    }

    public async newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
        const recorded: MockedResource = { type: args.type, name: args.name, inputs: args.inputs, id: undefined, state: {} };
        this.resources.push(recorded);
        try {
            // A type programs also create themselves (a bucket, a role) is the user's mocks' first, then ours.
            let result = sharedResourceTypes.has(args.type) ? await this.options.mocks?.newResource?.(args) : undefined;
            const known = result === undefined ? this.knownState(args) : undefined;
            if (known !== undefined) {
                result = { id: args.id || this.idOf(args), state: { ...args.inputs, ...known } };
            } else if (result === undefined) {
                result = await this.options.mocks?.newResource?.(args);
                result ??= { id: args.id || `${args.name}-id`, state: { ...args.inputs } };
            }
            recorded.id = result.id;
            recorded.state = result.state;
            return result;
        } catch (error) {
            throw this.problem(`resource ${args.type} "${args.name}": ${(error as Error).message}`, error);
        }
    }

    public async call(args: pulumi.runtime.MockCallArgs): Promise<pulumi.runtime.MockCallResult> {
        this.calls.push(args);
        const userAnswer = async () => {
            try {
                return await this.options.mocks?.call?.(args);
            } catch (error) {
                throw this.problem(`function ${args.token}: ${(error as Error).message}`, error);
            }
        };
        // A lookup of the user's own bucket is the user's mocks' to answer first.
        let answer = sharedFunctionTokens.has(args.token) ? await userAnswer() : undefined;
        if (answer !== undefined) {
            return answer;
        }
        const known = this.knownCall(args);
        if (known !== undefined) {
            return known;
        }
        answer = await userAnswer();
        if (answer === undefined) {
            throw this.problem(`no mock answers the function ${args.token} (called with ${JSON.stringify(args.inputs)}). ` +
                "Answer it in your own mocks: setEtcd3ClusterMocks({ mocks: { call: (args) => ... } }).");
        }
        return answer;
    }

    /**
     * Waits until every resource registration and function call started so far
     * has gone through the mocks, then fails if any of them could not be
     * answered, if the program failed on the way (an error in an `apply`, a
     * provider that cannot be serialized), if the component's dynamic providers
     * would not load as `pulumi up` loads them, or if the program loaded a
     * second copy of `@pulumi/pulumi`.
     */
    public async settle(timeoutMs = 10_000): Promise<void> {
        try {
            await this.failFast(async () => {
                assertOneSdk();
                const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
                if (waitForRPCs === undefined) {
                    throw new Error("etcd3-cluster/testing: this @pulumi/pulumi has no runtime.waitForRPCs; use a version in etcd3-cluster's peer range");
                }
                let timer: NodeJS.Timeout | undefined;
                const timeout = new Promise<never>((_, reject) => {
                    timer = setTimeout(() => reject(new Error(
                        `etcd3-cluster/testing: the program's resources had not all registered after ${timeoutMs} ms ` +
                        `(${this.resources.length} so far, the last: ${this.resources.slice(-3).map((r) => `${r.type} "${r.name}"`).join(", ") || "none"}). ` +
                        "An input of a later resource never settled: does one of your mocks return a promise that never resolves?")), timeoutMs);
                });
                try {
                    await Promise.race([waitForRPCs(), timeout]);
                } finally {
                    clearTimeout(timer);
                }
                // Node reports a rejection nobody handled once the microtasks have drained: let it, while we listen.
                await new Promise((resolve) => setImmediate(resolve));
            });
        } catch (error) {
            throw this.withProblems(error);
        }
        assertOneSdk();
        this.loadDynamicProviders();
        if (this.problems.length > 0) {
            throw this.withProblems(undefined);
        }
    }

    /**
     * Loads a program (`() => import("./index")`) with these mocks in place,
     * waits for every resource it registers, and returns its exports.
     */
    public async run<T>(load: () => T | Promise<T>, timeoutMs?: number): Promise<T> {
        assertOneSdk();
        let program: T;
        try {
            program = await this.failFast(async () => load());
        } catch (error) {
            throw this.withProblems(error);
        }
        await this.settle(timeoutMs);
        return program;
    }

    /** The problems the mocks met (then forgotten), which usually explain `failure`, else `failure` itself. */
    private withProblems(failure: unknown): unknown {
        const problems = this.problems.splice(0);
        if (problems.length === 0) {
            return failure;
        }
        if (failure !== undefined) {
            problems.push(`and so the program failed: ${(failure as Error)?.message ?? String(failure)}`);
        }
        return new Error(`etcd3-cluster/testing: found problems:\n  - ${problems.join("\n  - ")}`);
    }

    /**
     * Runs `work`, failing with the error at once if the program meanwhile
     * rejects a promise nobody handles: under mocks nothing else reports it
     * (the Pulumi CLI would), and the registrations behind it never finish.
     */
    private async failFast<T>(work: () => Promise<T>): Promise<T> {
        let onRejection!: (reason: unknown) => void;
        const rejected = new Promise<never>((_, reject) => {
            onRejection = (reason) => reject(reason instanceof Error ? reason : new Error(`unhandled rejection: ${String(reason)}`));
        });
        process.on("unhandledRejection", onRejection);
        try {
            return await Promise.race([work(), rejected]);
        } finally {
            process.off("unhandledRejection", onRejection);
        }
    }

    /**
     * Loads each of the component's dynamic providers from its serialized
     * `__provider` input, as the engine's provider host does at `pulumi up`
     * (resolving its `require`s from the working directory, the program's).
     */
    private loadDynamicProviders(): void {
        for (const resource of this.resources) {
            const code = resource.inputs?.__provider;
            if (!resource.type.startsWith("pulumi-nodejs:dynamic/etcd3-cluster:") || typeof code !== "string" || this.loadedProviders.has(code)) {
                continue;
            }
            this.loadedProviders.add(code);
            try {
                const pulumiDirectory = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
                const requireFromString = require(require.resolve("require-from-string", { paths: [pulumiDirectory] })) as (code: string) => any;
                const provider = requireFromString(code).handler();
                if (typeof provider?.create !== "function") {
                    throw new Error("it has no create()");
                }
            } catch (error) {
                this.problems.push(`the dynamic provider of ${resource.type} "${resource.name}" would not load at \`pulumi up\` ` +
                    `(from ${process.cwd()}): ${(error as Error).message}`);
            }
        }
    }

    private problem(message: string, cause?: unknown): Error {
        this.problems.push(message);
        return cause instanceof Error ? cause : new Error(`etcd3-cluster/testing: ${message}`);
    }

    /** A subnet the mocks did not create is in one of three zones, by its id, the same in every run. */
    private zoneIndexOf(subnetId: string): number {
        return [...String(subnetId)].reduce((sum, char) => sum + char.charCodeAt(0), 0) % 3;
    }

    private region(): string {
        return this.options.region ?? pulumi.runtime.getConfig("aws:region") ?? defaults.region;
    }

    private accountId(): string {
        return this.options.accountId ?? defaults.accountId;
    }

    private arn(service: string, resource: string): string {
        return `arn:aws:${service}:${this.region()}:${this.accountId()}:${resource}`;
    }

    /** The id AWS would give: `vol-…` and `eni-…` ids have the shape the component checks; others are `<name>-id`. */
    private idOf(args: pulumi.runtime.MockResourceArgs): string {
        const prefixes: Record<string, string> = { "aws:ebs/volume:Volume": "vol", "aws:ec2/networkInterface:NetworkInterface": "eni" };
        const prefix = prefixes[args.type];
        return prefix ? mockAwsId(prefix, args.name) : `${args.name}-id`;
    }

    /** The private address of a member's interface: member i gets a.b.1.(10+i) in its subnet's VPC, the same in every test. */
    private interfaceAddress(name: string, subnetId: string): string {
        this.instanceCount += 1;
        const cidr = this.subnetCidrs.get(subnetId) ?? this.options.vpcCidr ?? defaults.vpcCidr;
        const [a, b] = cidr.split(".");
        // Members' instances are named <cluster>-<index>, their interfaces <cluster>-<index>-nic; anything else is numbered in the order it arrives.
        const index = /-(\d+)(-nic)?$/.exec(name)?.[1];
        return `${a}.${b}.${index !== undefined ? `1.${10 + Number(index)}` : `${this.instanceCount}.10`}`;
    }

    /** State for the resource types the component creates, or undefined for any other type. */
    private knownState(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> | undefined {
        const inputs = args.inputs ?? {};
        switch (args.type) {
            case "awsx:ec2:Vpc":
                return this.vpcState(args.name, inputs);
            case "aws:ec2/networkInterface:NetworkInterface": {
                const privateIp = this.interfaceAddress(args.name, inputs.subnetId);
                this.interfaceAddresses.set(this.idOf(args), privateIp);
                return { privateIp, privateIps: [privateIp], arn: this.arn("ec2", `network-interface/${this.idOf(args)}`) };
            }
            case "aws:ec2/instance:Instance": {
                // An instance on a slot's interface has the interface's address.
                const primary: string | undefined = inputs.primaryNetworkInterface?.networkInterfaceId;
                const privateIp = (primary && this.interfaceAddresses.get(primary)) || this.interfaceAddress(args.name, inputs.subnetId);
                return {
                    privateIp,
                    privateDns: `ip-${privateIp.replace(/\./g, "-")}.${this.region()}.compute.internal`,
                    arn: this.arn("ec2", `instance/${args.name}-id`),
                };
            }
            case "aws:ebs/volume:Volume":
                return { arn: this.arn("ec2", `volume/${this.idOf(args)}`) };
            case "aws:lb/loadBalancer:LoadBalancer": {
                const kind = inputs.loadBalancerType === "network" ? "net" : "app";
                return {
                    dnsName: `${args.name}-1234567890.${this.region()}.elb.amazonaws.com`,
                    zoneId: "ZHURV8PSTC4K8",
                    arn: this.arn("elasticloadbalancing", `loadbalancer/${kind}/${args.name}/1234567890abcdef`),
                    arnSuffix: `${kind}/${args.name}/1234567890abcdef`,
                };
            }
            case "aws:lb/targetGroup:TargetGroup":
                return {
                    arn: this.arn("elasticloadbalancing", `targetgroup/${args.name}/1234567890abcdef`),
                    arnSuffix: `targetgroup/${args.name}/1234567890abcdef`,
                };
            case "aws:lb/listener:Listener":
                return { arn: this.arn("elasticloadbalancing", `listener/${args.name}/1234567890abcdef`) };
            case "aws:ec2/securityGroup:SecurityGroup":
                return { arn: this.arn("ec2", `security-group/${args.name}-id`) };
            case "aws:route53/record:Record":
                return { fqdn: inputs.name };
            case "aws:s3/bucket:Bucket": {
                // AWS appends a unique suffix to a bucketPrefix.
                const bucket = inputs.bucket ?? `${inputs.bucketPrefix ?? `${args.name}-`}20261126000000000000000001`;
                return { bucket, arn: `arn:aws:s3:::${bucket}`, region: this.region(), bucketRegionalDomainName: `${bucket}.s3.${this.region()}.amazonaws.com` };
            }
            case "aws:iam/role:Role":
                return { name: inputs.name ?? `${args.name}-1234567`, arn: `arn:aws:iam::${this.accountId()}:role/${inputs.name ?? `${args.name}-1234567`}` };
            case "aws:iam/instanceProfile:InstanceProfile":
                return {
                    name: inputs.name ?? `${args.name}-1234567`,
                    arn: `arn:aws:iam::${this.accountId()}:instance-profile/${inputs.name ?? `${args.name}-1234567`}`,
                };
            case "aws:kms/key:Key":
                return { arn: this.arn("kms", `key/${this.idOf(args)}`), keyId: this.idOf(args) };
            // The TLS provider's keys and certificates are computed by the provider: under mocks they have none
            // unless the user's mocks make them (the local harness makes real ones).
            case "tls:index/privateKey:PrivateKey":
            case "tls:index/selfSignedCert:SelfSignedCert":
            case "aws:s3/bucketPolicy:BucketPolicy":
            case "aws:s3/bucketObjectv2:BucketObjectv2":
            case "aws:iam/rolePolicy:RolePolicy":
            case "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
            case "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
            case "aws:s3/bucketVersioning:BucketVersioning":
            case "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration":
                return {};
            case discoveryUrlResourceType:
                return { url: this.options.discoveryUrl ?? defaults.discoveryUrl };
            case imageChoiceResourceType:
                return { imageId: inputs.latestImageId };
            case clusterFoundingResourceType:
                return { clusterSize: this.options.foundingClusterSize ?? inputs.clusterSize };
            default:
                // The component's other dynamic resources keep their inputs as their state.
                return args.type.startsWith("pulumi-nodejs:dynamic/etcd3-cluster:") ? {} : undefined;
        }
    }

    /** awsx's Vpc is a remote component: under mocks nothing but this answer gives it outputs. */
    private vpcState(name: string, inputs: any): Record<string, unknown> {
        const vpcId = `vpc-${name}`;
        const cidr: string = inputs.cidrBlock ?? "10.0.0.0/16";
        this.vpcCidrs.set(vpcId, cidr);
        const zones: string[] = inputs.availabilityZoneNames ??
            zoneLetters.slice(0, inputs.numberOfAvailabilityZones ?? 3).map((letter) => `${this.region()}${letter}`);
        const specs: { type: string }[] = inputs.subnetSpecs ?? [{ type: "Public" }, { type: "Private" }];
        const ids = (type: string) => specs.some((spec) => spec.type === type)
            ? zones.map((zone) => `subnet-${type.toLowerCase()}-${zone.slice(-1)}`)
            : [];
        const subnets = { publicSubnetIds: ids("Public"), privateSubnetIds: ids("Private"), isolatedSubnetIds: ids("Isolated") };
        for (const ids of [subnets.publicSubnetIds, subnets.privateSubnetIds, subnets.isolatedSubnetIds]) {
            ids.forEach((id, index) => {
                this.subnetCidrs.set(id, cidr);
                this.subnetZones.set(id, zones[index]);
            });
        }
        return { vpcId, ...subnets };
    }

    /** Answers for the functions the component calls, or undefined for any other function. */
    private knownCall(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult | undefined {
        const inputs = args.inputs ?? {};
        const region = this.region();
        switch (args.token) {
            case "aws:ec2/getAmi:getAmi": {
                const filter = (name: string): string | undefined =>
                    (inputs.filters ?? []).find((f: { name: string }) => f.name === name)?.values?.[0];
                const architecture = filter("architecture") ?? "x86_64";
                return {
                    id: this.options.amiId ?? defaults.amiId,
                    imageId: this.options.amiId ?? defaults.amiId,
                    name: `${(filter("name") ?? "image-*").replace(/\*/g, "1")}-${architecture}`,
                    architecture,
                    ownerId: inputs.owners?.[0],
                };
            }
            case "aws:ec2/getSubnet:getSubnet":
                return {
                    id: inputs.id,
                    availabilityZone: this.subnetZones.get(inputs.id) ?? `${region}${zoneLetters[this.zoneIndexOf(inputs.id)]}`,
                    cidrBlock: this.subnetCidrs.get(inputs.id) ?? this.options.vpcCidr ?? defaults.vpcCidr,
                    arn: this.arn("ec2", `subnet/${inputs.id}`),
                };
            case "aws:ec2/getVpc:getVpc":
                return {
                    id: inputs.id,
                    cidrBlock: this.vpcCidrs.get(inputs.id) ?? this.options.vpcCidr ?? defaults.vpcCidr,
                    arn: this.arn("ec2", `vpc/${inputs.id}`),
                    default: false,
                };
            case "aws:index/getAvailabilityZones:getAvailabilityZones": {
                const names = zoneLetters.slice(0, 3).map((letter) => `${region}${letter}`);
                return { id: region, names, zoneIds: names.map((_, i) => `${region}-az${i + 1}`), groupNames: [region] };
            }
            case "aws:index/getRegion:getRegion":
                return { id: region, name: region, region, endpoint: `ec2.${region}.amazonaws.com` };
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { id: this.accountId(), accountId: this.accountId(), arn: `arn:aws:iam::${this.accountId()}:user/test`, userId: "AIDAMOCKUSER" };
            case "aws:s3/getBucket:getBucket":
                // A bucket the user names is in the stack's region unless the test says where (`bucketRegions`).
                return {
                    id: inputs.bucket,
                    bucket: inputs.bucket,
                    arn: `arn:aws:s3:::${inputs.bucket}`,
                    region: this.options.bucketRegions?.[inputs.bucket] ?? region,
                    bucketRegionalDomainName: `${inputs.bucket}.s3.${this.options.bucketRegions?.[inputs.bucket] ?? region}.amazonaws.com`,
                };
            case "aws:index/getPartition:getPartition":
                return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
            default:
                return undefined;
        }
    }
}

/**
 * Installs mocks that can build an `Etcd3Cluster` (with `pulumi.runtime.setMocks`)
 * and sets the stack config. Call it before your program is loaded, once per
 * process: every test file of a mocha run shares the one mocked stack.
 */
export function setEtcd3ClusterMocks(options: Etcd3ClusterMockOptions = {}): Etcd3ClusterMocks {
    assertSameSdkAsProgram();
    const mocks = new Etcd3ClusterMocks(options);
    const project = options.project ?? projectNameIn(process.cwd()) ?? "project";
    // setMocks is async in its signature only: everything it sets is set when it returns.
    void pulumi.runtime.setMocks(mocks, project, options.stack ?? "test", options.preview ?? false);
    for (const [key, value] of Object.entries(options.config ?? {})) {
        pulumi.runtime.setConfig(key.includes(":") ? key : `${project}:${key}`, typeof value === "string" ? value : JSON.stringify(value));
    }
    return mocks;
}

/**
 * The value an output (or any input) settles on. Fails, rather than waiting
 * forever, when the value is unknown (as in a preview) or has not settled
 * within `timeoutMs`.
 */
export function outputValue<T>(value: pulumi.Input<T>, timeoutMs = 5_000): Promise<pulumi.Unwrap<T>> {
    const output = pulumi.output(value) as pulumi.Output<pulumi.Unwrap<T>>;
    // Output's own promises: they settle for unknown values too, where apply's callback never runs.
    const internal = output as unknown as { isKnown?: Promise<boolean>; promise?: () => Promise<pulumi.Unwrap<T>> };
    const settled = internal.isKnown !== undefined && internal.promise !== undefined
        ? Promise.all([internal.isKnown, internal.promise.call(output)]).then(([known, resolved]) => {
            if (!known) {
                throw new Error("etcd3-cluster/testing: the output's value is unknown: it is computed by the provider, " +
                    "and the mocks run as a preview or did not return it in a resource's state");
            }
            return resolved;
        })
        : new Promise<pulumi.Unwrap<T>>((resolve) => output.apply((resolved) => { resolve(resolved); return resolved; }));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`etcd3-cluster/testing: the output had not settled after ${timeoutMs} ms; ` +
            "it depends on a resource or function whose mock has not answered")), timeoutMs);
    });
    return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}

/** `name` in Pulumi.yaml (or Pulumi.yml) in `directory`, if there is one. */
function projectNameIn(directory: string): string | undefined {
    for (const file of ["Pulumi.yaml", "Pulumi.yml"]) {
        const full = path.join(directory, file);
        if (fs.existsSync(full)) {
            const match = /^name:\s*["']?([^"'\s#]+)/m.exec(fs.readFileSync(full, "utf8"));
            if (match) {
                return match[1];
            }
        }
    }
    return undefined;
}

function sdkVersion(root: string): string {
    try {
        return JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version;
    } catch {
        return "unknown version";
    }
}

function twoSdksError(roots: string[]): Error {
    return new Error("etcd3-cluster/testing: two copies of @pulumi/pulumi are in use:\n" +
        roots.map((root) => `  - ${root} (${sdkVersion(root)})`).join("\n") + "\n" +
        "Mocks set on one copy do not reach resources registered through the other, and the test would hang or crash. " +
        "etcd3-cluster takes @pulumi/pulumi, @pulumi/aws and @pulumi/awsx as peer dependencies: install versions in its " +
        "peer ranges in your project (`npm ls @pulumi/pulumi` shows where the second copy comes from).");
}

/** Every copy of @pulumi/pulumi loaded in this process. */
function loadedSdks(): string[] {
    const roots = new Set<string>();
    for (const file of Object.keys(require.cache)) {
        const match = /^(.*[\\/]@pulumi[\\/]pulumi)[\\/]index\.js$/.exec(file);
        if (match) {
            roots.add(match[1]);
        }
    }
    return [...roots];
}

function assertOneSdk(): void {
    const roots = loadedSdks();
    if (roots.length > 1) {
        throw twoSdksError(roots);
    }
}

/** Fails early when the program in the working directory would load another @pulumi/pulumi than this module. */
function assertSameSdkAsProgram(): void {
    let programs: string;
    try {
        programs = fs.realpathSync(path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd()] })));
    } catch {
        return;
    }
    const ours = fs.realpathSync(path.dirname(require.resolve("@pulumi/pulumi/package.json")));
    if (programs !== ours) {
        throw twoSdksError([ours, programs]);
    }
    assertOneSdk();
}
