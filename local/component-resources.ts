/**
 * What the component actually registers, as the local cluster's blueprint: the
 * instances' user data and the load balancers' listeners, target groups and
 * target attachments, taken from the Etcd3Cluster constructed under the
 * package's Pulumi mocks (in a child process, see component-under-mocks.ts)
 * rather than from the tables the component is built from. A wrong value in a
 * resource therefore reaches the local cluster as it would reach AWS.
 *
 * The result depends only on the arguments and the package's code, so it is
 * cached on disk under a hash of both; a miss is answered by one child
 * process shared by the whole run, which exits with it.
 */
// The SDK's secret unwrapping alone: the whole SDK would add most of a second to every process that builds a local cluster.
import { unwrapRpcSecret } from "@pulumi/pulumi/runtime/rpc";
import { ChildProcess, fork } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { Etcd3ClusterArgs } from "../lib/args";
import { compressedConfig } from "../lib/ignition";
import { compressedConfigContents, decodeInlineContents, encodeInlineContentsLike } from "./ignition-contents";
import type { MockRunRequest } from "./component-under-mocks";
import { registryDirectory } from "./cluster-registry";
import type { PortRange } from "./instance-metadata-service";
import type { S3ObjectKmsEncryption } from "./s3-api";

/** A resource as the mocks recorded it. */
export interface RegisteredResource {
    type: string;
    name: string;
    inputs: any;
    id: string | undefined;
    state: Record<string, any>;
}

/**
 * The discovery URL the instances' user data is rendered with under mocks; the
 * local cluster puts the real token's URL in its place. Its token is what is
 * replaced, so it must not occur in user data for any other reason.
 */
export const placeholderDiscoveryUrl = "https://discovery.etcd.io/5ca1ab1e0ddba11dec0de5ca1ab1e000";
const placeholderToken = placeholderDiscoveryUrl.split("/").pop()!;

const packageRoot = path.resolve(__dirname, "..");
const childScript = path.join(__dirname, "component-under-mocks.ts");

/** Every file whose change can change what the component registers. */
function sourceFingerprint(): string {
    const hash = crypto.createHash("sha256");
    const files = [
        ...fs.readdirSync(path.join(packageRoot, "lib")).filter((f) => f.endsWith(".ts")).sort().map((f) => path.join(packageRoot, "lib", f)),
        childScript,
        // The tls provider the child plays: what it gives a key or certificate is part of what the component registers.
        path.join(__dirname, "tls-provider.ts"),
        ...["@pulumi/pulumi", "@pulumi/aws", "@pulumi/awsx", "@pulumi/tls"].map((pkg) => require.resolve(`${pkg}/package.json`, { paths: [packageRoot] })),
    ];
    for (const file of files) {
        hash.update(file).update("\0").update(fs.readFileSync(file)).update("\0");
    }
    return hash.digest("hex");
}

export interface ComponentRunOptions {
    /** Bound on the answer. */
    timeoutMs: number;
    /** Stops waiting for the answer when aborted. */
    signal?: AbortSignal;
    /**
     * A module loaded before the component is constructed: a test's stand-in
     * for a bug in lib/. Its construction gets a child process of its own, so
     * the patch reaches no other.
     */
    patch?: string;
    /** Plays a stack created with this many members and grown since: the size the founding record answers with. */
    foundingClusterSize?: number;
}

/** A forked component-under-mocks.ts and the requests it has not answered yet. */
interface MocksChild {
    process: ChildProcess;
    pending: Map<number, { resolve: (resources: RegisteredResource[]) => void; reject: (error: Error) => void }>;
    stderr: string;
}

let nextRequest = 0;
/** The child shared by every construction without a patch, forked on first use. */
let shared: MocksChild | undefined;

function forkMocksChild(): MocksChild {
    const child = fork(childScript, [], {
        cwd: packageRoot,
        execArgv: ["-r", "ts-node/register/transpile-only"],
        env: { ...process.env, TS_NODE_PROJECT: path.join(packageRoot, "tsconfig.json") },
        stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    const entry: MocksChild = { process: child, pending: new Map(), stderr: "" };
    child.stderr!.on("data", (chunk: Buffer) => {
        entry.stderr = (entry.stderr + chunk.toString()).slice(-8000);
    });
    child.on("message", (message: { id: number; resources?: RegisteredResource[]; error?: string }) => {
        const waiting = entry.pending.get(message.id);
        entry.pending.delete(message.id);
        if (message.error !== undefined) {
            waiting?.reject(new Error(`constructing Etcd3Cluster under the package's mocks failed:\n${message.error}`));
        } else {
            waiting?.resolve(message.resources!);
        }
        idle(entry);
    });
    child.on("exit", (code, signal) => {
        if (shared === entry) {
            shared = undefined;
        }
        for (const waiting of entry.pending.values()) {
            waiting.reject(new Error(`the process constructing Etcd3Cluster under mocks ended (${signal ?? `code ${code}`}):\n${entry.stderr.trim()}`));
        }
        entry.pending.clear();
    });
    // Neither the child nor its channel keeps this process alive while no answer is awaited; the child
    // exits when this process goes and the channel closes.
    child.unref();
    (child.stderr as unknown as { unref(): void }).unref();
    idle(entry);
    return entry;
}

/** Lets the channel keep this process alive only while an answer is awaited. */
function idle(entry: MocksChild): void {
    const channel = entry.process.channel as unknown as { ref(): void; unref(): void } | undefined;
    if (entry.pending.size === 0) {
        channel?.unref();
    } else {
        channel?.ref();
    }
}

/** Sends one request and waits, bounded, for its answer. */
function ask(entry: MocksChild, request: MockRunRequest, options: ComponentRunOptions): Promise<RegisteredResource[]> {
    const id = ++nextRequest;
    return new Promise<RegisteredResource[]>((resolve, reject) => {
        const timer = setTimeout(() => {
            entry.pending.delete(id);
            // A construction that hangs is no use to anyone after this one either.
            entry.process.kill("SIGKILL");
            reject(new Error(`constructing Etcd3Cluster under the package's mocks took over ${options.timeoutMs} ms`));
        }, options.timeoutMs);
        const onAbort = () => {
            entry.pending.delete(id);
            idle(entry);
            reject(new Error("the construction under mocks was interrupted"));
        };
        const settle = () => {
            clearTimeout(timer);
            options.signal?.removeEventListener("abort", onAbort);
        };
        entry.pending.set(id, {
            resolve: (resources) => { settle(); resolve(resources); },
            reject: (error) => { settle(); reject(error); },
        });
        options.signal?.addEventListener("abort", onAbort);
        idle(entry);
        entry.process.send({ id, request });
        if (options.signal?.aborted) {
            onAbort();
        }
    });
}

/**
 * The resources the component registers for `args`: from the cache, else
 * from a construction under mocks (in the shared child, or with a patch in a
 * child of its own that is stopped right after).
 */
export async function componentResources(args: Etcd3ClusterArgs, options: ComponentRunOptions): Promise<RegisteredResource[]> {
    const request: MockRunRequest = {
        args, discoveryUrl: placeholderDiscoveryUrl, patch: options.patch,
        ...(options.foundingClusterSize !== undefined ? { foundingClusterSize: options.foundingClusterSize } : {}),
    };
    const key = crypto.createHash("sha256").update(JSON.stringify(request)).update(sourceFingerprint())
        .update(options.patch ? fs.readFileSync(options.patch) : "").digest("hex");
    const cacheDirectory = path.join(registryDirectory, "component-cache");
    const cached = path.join(cacheDirectory, `${key}.json`);
    if (fs.existsSync(cached)) {
        return JSON.parse(fs.readFileSync(cached, "utf8")) as RegisteredResource[];
    }
    let resources: RegisteredResource[];
    if (options.patch) {
        const own = forkMocksChild();
        try {
            resources = await ask(own, request, options);
        } finally {
            own.process.kill("SIGKILL");
        }
    } else {
        shared ??= forkMocksChild();
        resources = await ask(shared, request, options);
    }
    fs.mkdirSync(cacheDirectory, { recursive: true });
    // Written aside and renamed, so a concurrent reader never sees half a file.
    const partial = `${cached}.${process.pid}.${nextRequest}`;
    fs.writeFileSync(partial, JSON.stringify(resources));
    fs.renameSync(partial, cached);
    pruneCache(cacheDirectory);
    return resources;
}

/** Entries kept in the cache; every change to lib/ makes new ones. */
const cacheEntriesKept = 100;

/** Drops the least recently written entries beyond `cacheEntriesKept`. */
function pruneCache(directory: string): void {
    const entries = fs.readdirSync(directory).filter((name) => name.endsWith(".json")).flatMap((name) => {
        try {
            return [{ file: path.join(directory, name), written: fs.statSync(path.join(directory, name)).mtimeMs }];
        } catch {
            return [];
        }
    });
    entries.sort((a, b) => b.written - a.written).slice(cacheEntriesKept).forEach((entry) => fs.rmSync(entry.file, { force: true }));
}

/** One instance the component creates: its id and the user data EC2 would hand it. */
export interface InstanceBlueprint {
    /** Resource name, e.g. `local-0`. */
    resourceName: string;
    /** The id the mocks gave it, which target attachments name. */
    id: string;
    /** The address the mocks gave its slot's interface (a static member list names it). */
    privateIp: string;
    userData: string;
    /** Its tags are in its instance metadata (`metadataOptions.instanceMetadataTags` enabled): only then can its member read them. */
    metadataTags: boolean;
    /** The role of its instance profile and that role's policy documents, as the component registered them; none without a profile. */
    role?: { name: string; policies: string[] };
}

/** The role behind an instance profile, by the profile's name: the profile's role, and every policy the component put on that role. */
function roleOfProfile(resources: RegisteredResource[], profileName: string): { name: string; policies: string[] } {
    const profile = resources.find((r) => r.type === "aws:iam/instanceProfile:InstanceProfile" && r.state?.name === profileName);
    const roleName = profile?.inputs?.role;
    if (typeof roleName !== "string") {
        throw new Error(`instance profile ${profileName} is not one the component registered with a role`);
    }
    const policies = resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.inputs?.role === roleName)
        .map((r) => r.inputs.policy as string);
    return { name: roleName, policies };
}

/** The stack's region under the local mocks: where their bucket lookups (`aws.s3.getBucket`) say a named bucket is. */
export const localStackRegion = "eu-west-2";

/** The S3 buckets the component creates, by the name and region AWS (here the mocks) gives them. */
export function bucketsOf(resources: RegisteredResource[]): { name: string; region: string }[] {
    return resources.filter((r) => r.type === "aws:s3/bucket:Bucket").map((r) => ({ name: r.state.bucket, region: r.state.region }));
}

/** An object the component puts in one of its buckets, as the S3 stand-in is seeded with it. */
export interface BucketObjectSeed {
    /** The `BucketObjectv2` resource's name. */
    resourceName: string;
    bucket: string;
    key: string;
    body: Buffer;
    /** The content type it was given; undefined for S3's default. */
    contentType?: string;
    /** Its SSE-KMS key; undefined for SSE-S3. */
    encryption?: S3ObjectKmsEncryption;
}

/**
 * The `BucketObjectv2` inputs played. `tags` change nothing S3 serves, nor
 * does `bucketKeyEnabled`: an S3 Bucket Key changes the encryption context S3
 * sends KMS, which the IAM evaluator refuses by name as a condition, not who
 * may decrypt.
 */
const playedObjectInputs = ["bucket", "key", "content", "contentType", "serverSideEncryption", "kmsKeyId", "bucketKeyEnabled", "tags"];

/**
 * The objects the component puts in its buckets (`aws:s3/bucketObjectv2`),
 * checked, for the S3 stand-in to hold from the start as S3 would. Each names
 * one of the component's buckets by its name or its id (which is its name on
 * AWS, though not under mocks), has its content inline (a
 * secret one unwrapped), and names its encryption: `AES256`, or `aws:kms`
 * with `kmsKeyId` the ARN of a KMS key of the component's. Anything missing
 * (an input whose source has no such state field under mocks) fails here,
 * loudly, rather than seeding an empty object; so do a bucket's default
 * encryption and a key's own policy, which the harness does not play.
 */
export function objectsOf(resources: RegisteredResource[]): BucketObjectSeed[] {
    const problems: string[] = [];
    const buckets = resources.filter((r) => r.type === "aws:s3/bucket:Bucket");
    const keys = resources.filter((r) => r.type === "aws:kms/key:Key");
    const seeds = resources.filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2").map((object): BucketObjectSeed => {
        const where = `bucket object ${object.name}`;
        const inputs = object.inputs ?? {};
        const unplayed = Object.keys(inputs).filter((input) => !playedObjectInputs.includes(input));
        if (unplayed.length > 0) {
            problems.push(`${where}: ${unplayed.join(", ")} not played by the local harness (it plays ${playedObjectInputs.join(", ")})`);
        }
        const { key, contentType, serverSideEncryption, kmsKeyId } = inputs;
        const content: unknown = unwrapRpcSecret(inputs.content);
        const bucket = buckets.find((candidate) => candidate.state?.bucket === inputs.bucket || candidate.id === inputs.bucket)?.state.bucket;
        if (typeof bucket !== "string") {
            problems.push(`${where}: bucket ${JSON.stringify(inputs.bucket)} is neither the name nor the id of a bucket of the component's ` +
                `(${buckets.map((candidate) => `${candidate.state?.bucket}, id ${candidate.id}`).join("; ") || "none"})`);
        }
        if (typeof key !== "string" || key === "") {
            problems.push(`${where}: key ${JSON.stringify(key)} is no object key`);
        }
        if (typeof content !== "string") {
            problems.push(`${where}: content ${JSON.stringify(content)} is not the object's text (an output the mocks' state does not have?)`);
        }
        if (contentType !== undefined && typeof contentType !== "string") {
            problems.push(`${where}: contentType ${JSON.stringify(contentType)} is not a content type`);
        }
        let encryption: S3ObjectKmsEncryption | undefined;
        if (serverSideEncryption === "aws:kms") {
            const componentKey = keys.find((candidate) => typeof candidate.state?.arn === "string" && candidate.state.arn === kmsKeyId);
            if (typeof kmsKeyId !== "string") {
                problems.push(`${where}: serverSideEncryption aws:kms without a kmsKeyId (${JSON.stringify(kmsKeyId)}: the key's arn missing from its state under mocks?); ` +
                    "the AWS managed key aws/s3 is not played");
            } else if (!componentKey) {
                problems.push(`${where}: kmsKeyId ${kmsKeyId} is not the ARN of a KMS key of the component's (${keys.map((k) => k.state?.arn).filter((arn) => typeof arn === "string").join(", ") || "none"})`);
            } else if (componentKey.inputs?.policy !== undefined) {
                problems.push(`${where}: the KMS key ${componentKey.name} has a key policy of its own, which the local harness does not play ` +
                    "(it plays KMS's default policy, which lets the account's IAM policies decide)");
            } else {
                encryption = { kmsKeyArn: kmsKeyId };
            }
        } else if (serverSideEncryption !== "AES256" || kmsKeyId !== undefined) {
            problems.push(`${where}: serverSideEncryption ${JSON.stringify(serverSideEncryption)} with kmsKeyId ${JSON.stringify(kmsKeyId)}: the local harness ` +
                "plays AES256, or aws:kms with a key's ARN, named on the object (a bucket's default encryption is not played)");
        }
        return {
            resourceName: object.name, bucket, key, body: Buffer.from(typeof content === "string" ? content : "", "utf8"),
            ...(contentType === undefined ? {} : { contentType }), ...(encryption ? { encryption } : {}),
        };
    });
    if (problems.length > 0) {
        throw new Error(`the component's bucket objects cannot be played locally:\n  - ${problems.join("\n  - ")}`);
    }
    return seeds;
}

/**
 * The TCP port ranges the members' security group (`<name>-nodes-sg`) lets
 * them reach anywhere: its egress rules to 0.0.0.0/0, a rule for every
 * protocol (`-1`) opening every port. Its rules that name a group reach the
 * members only.
 */
export function nodeInternetPortsOf(resources: RegisteredResource[]): PortRange[] {
    const nodesGroups = resources.filter((r) => r.type === "aws:ec2/securityGroup:SecurityGroup" && r.name.endsWith("-nodes-sg"));
    if (nodesGroups.length !== 1 || nodesGroups[0].id === undefined) {
        throw new Error(`the component registered ${nodesGroups.length} members' security groups (<name>-nodes-sg) with an id under mocks; the harness plays one`);
    }
    return resources.filter((r) => r.type === "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
        && r.inputs.securityGroupId === nodesGroups[0].id && r.inputs.cidrIpv4 === "0.0.0.0/0")
        .flatMap((rule): PortRange[] => {
            if (rule.inputs.ipProtocol === "-1") {
                return [{ from: 0, to: 65535 }];
            }
            return rule.inputs.ipProtocol === "tcp" ? [{ from: rule.inputs.fromPort, to: rule.inputs.toPort }] : [];
        });
}

/**
 * Every slot's address as the mocks gave it (a.b.1.(10+i) for slot i), in
 * slot order: members' and spare slots' alike, all of which the user data
 * names.
 */
export function slotAddressesOf(resources: RegisteredResource[]): string[] {
    const slots = resources.filter((r) => r.type === "aws:ec2/networkInterface:NetworkInterface").map((nic) => {
        const index = /-(\d+)-nic$/.exec(nic.name)?.[1];
        if (index === undefined || typeof nic.state?.privateIp !== "string") {
            throw new Error(`network interface ${nic.name} is no slot's (<name>-<index>-nic with an address) under mocks`);
        }
        return { index: Number(index), ip: nic.state.privateIp as string };
    });
    return slots.sort((a, b) => a.index - b.index).map((slot) => slot.ip);
}

/** The component's instances, in the order it registered them. */
export function instancesOf(resources: RegisteredResource[]): InstanceBlueprint[] {
    return resources.filter((r) => r.type === "aws:ec2/instance:Instance").map((instance) => {
        if (typeof instance.inputs?.userData !== "string" || instance.id === undefined || typeof instance.state?.privateIp !== "string") {
            throw new Error(`instance ${instance.name} has no user data (or no id or address) under mocks`);
        }
        return {
            resourceName: instance.name, id: instance.id, privateIp: instance.state.privateIp, userData: instance.inputs.userData,
            metadataTags: instance.inputs.metadataOptions?.instanceMetadataTags === "enabled",
            role: typeof instance.inputs.iamInstanceProfile === "string" ? roleOfProfile(resources, instance.inputs.iamInstanceProfile) : undefined,
        };
    });
}

/** A dynamic resource as the component registered it: the inputs (its serialized provider among them) the engine gets. */
export interface DynamicResourceBlueprint {
    resourceName: string;
    inputs: Record<string, unknown>;
}

function dynamicResourcesOf(resources: RegisteredResource[], type: string): DynamicResourceBlueprint[] {
    return resources.filter((r) => r.type === `pulumi-nodejs:dynamic/etcd3-cluster:${type}`).map((r) => ({ resourceName: r.name, inputs: r.inputs }));
}

/** The members' health gates, in member order. */
export const healthGatesOf = (resources: RegisteredResource[]) => dynamicResourcesOf(resources, "MemberHealthGate");

/** The members' departures, in member order. */
export const departuresOf = (resources: RegisteredResource[]) => dynamicResourcesOf(resources, "MemberDeparture");

/**
 * The user data with `rewrite` applied to every text the node gets from it:
 * each unit's contents and each file's decoded contents (re-encoded as they
 * were), so a value the mocks invented is replaced wherever the config puts it.
 */
function rewriteUserData(userData: string, rewrite: (text: string) => string): string {
    const compressed = compressedConfigContents(userData);
    if (compressed !== undefined) {
        return compressedConfig(rewriteUserData(compressed, rewrite));
    }
    const config = JSON.parse(userData);
    for (const unit of config.systemd?.units ?? []) {
        if (typeof unit.contents === "string") {
            unit.contents = rewrite(unit.contents);
        }
    }
    for (const file of config.storage?.files ?? []) {
        file.contents = encodeInlineContentsLike(file.contents, rewrite(decodeInlineContents(file.contents)));
    }
    return JSON.stringify(config);
}

/** Every text of the user data, decoded: what `rewriteUserData` rewrites, and the JSON around it. */
function userDataTexts(userData: string): string[] {
    const texts: string[] = [userData];
    rewriteUserData(userData, (text) => {
        texts.push(text);
        return text;
    });
    return texts;
}

/** The instance's user data with the real discovery URL in place of the one it was rendered with under mocks. */
export function withDiscoveryUrl(userData: string, discoveryUrl: string): string {
    const substituted = rewriteUserData(userData, (text) => text.split(placeholderDiscoveryUrl).join(discoveryUrl));
    if (userDataTexts(substituted).some((text) => text.includes(placeholderToken))) {
        throw new Error("the user data carries the discovery URL in a form other than the URL itself, which the local harness cannot replace");
    }
    return substituted;
}

/**
 * The instance's user data with each member's loopback address in place of
 * the address the mocks gave its slot, wherever the config names it (the
 * static member list, the members the bootstrap script asks). `addresses`
 * maps the mocked address to the local one.
 */
export function withSlotAddresses(userData: string, addresses: ReadonlyMap<string, string>): string {
    const patterns = [...addresses].map(([mocked, local]) => [new RegExp(`(?<![0-9.])${mocked.replace(/\./g, "\\.")}(?![0-9])`, "g"), local] as const);
    return rewriteUserData(userData, (text) => patterns.reduce((result, [pattern, local]) => result.replace(pattern, local), text));
}

/** The id the mocks gave the construction's guard, which a static cluster's token is made from (a stack keeps one guard for life). */
export function guardIdOf(resources: RegisteredResource[]): string {
    const guards = resources.filter((r) => r.type === "pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard");
    if (guards.length !== 1 || typeof guards[0].id !== "string") {
        throw new Error(`the component registers ${guards.length} guards under mocks; the local harness expects one with an id`);
    }
    return guards[0].id;
}

/** A resource's name less the component's own (`local2-peer-ca-1` → `-peer-ca-1`): what names it in every construction. */
const nameInStack = (resource: RegisteredResource) => resource.name.slice(resource.name.indexOf("-"));

/** Whether `stack` holds a resource of `resource`'s type under its name (less the component's). */
export const stackHas = (stack: RegisteredResource[], resource: RegisteredResource) =>
    stack.some((kept) => kept.type === resource.type && nameInStack(kept) === nameInStack(resource));

/** The fields of each type whose values a stack keeps across updates, and a construction under mocks makes anew. */
const keptFields: Record<string, string[]> = {
    "aws:s3/bucket:Bucket": ["bucket", "arn"],
    "aws:kms/key:Key": ["arn"],
    "tls:index/privateKey:PrivateKey": ["privateKeyPem"],
    "tls:index/selfSignedCert:SelfSignedCert": ["certPem"],
};

/**
 * What `pulumi up` keeps that every construction under mocks makes anew, as
 * [made, kept] pairs of text: the names and ARNs of the buckets, the ARNs of
 * the KMS keys, and the tls provider's keys and certificates, of each
 * resource `stack` already holds under the same name (less the component's).
 * A resource the stack does not hold yet (a new generation's CA) is new in
 * an update too, and keeps what it was made with.
 */
export function keptValuesOf(rendered: RegisteredResource[], stack: RegisteredResource[]): Array<[string, string]> {
    return rendered.flatMap((resource) => {
        const kept = stack.find((candidate) => candidate.type === resource.type && nameInStack(candidate) === nameInStack(resource));
        return (kept ? keptFields[resource.type] ?? [] : [])
            .map((field): [unknown, unknown] => [resource.state?.[field], kept!.state?.[field]])
            .filter((pair): pair is [string, string] => typeof pair[0] === "string" && typeof pair[1] === "string" && pair[0] !== pair[1]);
    });
}

/** `text` with each value a construction made in place of the one the stack kept (see {@link keptValuesOf}). */
export function withKeptValues(text: string, pairs: Array<[string, string]>): string {
    return pairs.reduce((result, [made, kept]) => result.split(made).join(kept), text);
}

/** The user data with the stack's kept values in place of those a later construction made (see {@link keptValuesOf}). */
export function withKeptUserData(userData: string, pairs: Array<[string, string]>): string {
    return pairs.length === 0 ? userData : rewriteUserData(userData, (text) => withKeptValues(text, pairs));
}

/**
 * The user data with the stack's guard id in place of the one a later
 * construction's mocks made: every construction under mocks is a new stack,
 * where `pulumi up` keeps the guard, and so the static cluster token.
 */
export function withGuardId(userData: string, mocked: string, kept: string): string {
    return mocked === kept ? userData : rewriteUserData(userData, (text) => text.split(mocked).join(kept));
}

export type LoadBalancerKind = "alb" | "nlb";

/** A target group's health check, as the target group resource says it. */
export interface HealthCheckSpec {
    /** `HTTPS`: the check speaks HTTP over TLS, not verifying the target's certificate (as ELB's checks do not). */
    protocol: "HTTP" | "HTTPS" | "TCP";
    /** `traffic-port` or a port number. */
    port: "traffic-port" | number;
    path: string;
    intervalSeconds: number;
    timeoutSeconds: number;
    healthyThreshold: number;
    unhealthyThreshold: number;
    /** HTTP codes: `200`, `200-299`, `200,202`. */
    matcher: string;
}

/** One load balancer as the component creates it: its listener, the target group it forwards to, and the attached targets. */
export interface LoadBalancerSpec {
    kind: LoadBalancerKind;
    resourceName: string;
    /** Seconds an idle connection is kept (the ALB's `idleTimeout`, the NLB listener's `tcpIdleTimeoutSeconds`). */
    idleTimeoutSeconds: number;
    /** The listener that forwards to the target group. */
    listener: ListenerSpec;
    /** Listeners that answer every request with a redirect to another listener of the load balancer (the ALB's 80 with HTTPS). */
    redirects: RedirectSpec[];
    targetGroup: {
        resourceName: string;
        /** The ARN the mocks gave it, which the health gates name. */
        arn: string;
        /** `HTTPS` (an ALB's only): the load balancer speaks HTTP/1.1 over TLS to the targets, not verifying their certificates. */
        protocol: "HTTP" | "HTTPS" | "TCP";
        port: number;
        healthCheck: HealthCheckSpec;
        deregistrationDelaySeconds: number;
    };
    /** Attached targets: the instance (by its index among the instances) and the port traffic goes to. */
    targets: { instance: number; port: number }[];
}

/** A listener forwarding to a target group. */
export interface ListenerSpec {
    port: number;
    protocol: "HTTP" | "HTTPS" | "TCP";
    /** An HTTPS listener's certificate (an ARN the ACM stand-in must hold) and TLS security policy. */
    tls?: { certificateArn: string; sslPolicy: string };
}

/** A listener whose one action redirects every request to `toPort` over HTTPS. */
export interface RedirectSpec {
    port: number;
    toPort: number;
    statusCode: 301 | 302;
}

/** What AWS itself refuses (Elastic Load Balancing's limits), so a value `pulumi up` would fail on fails locally too. */
const awsLimits = {
    intervalSeconds: [5, 300],
    timeoutSeconds: [2, 120],
    threshold: [2, 10],
    deregistrationDelaySeconds: [0, 3600],
    albIdleTimeoutSeconds: [1, 4000],
    nlbTcpIdleTimeoutSeconds: [60, 6000],
} as const;

/** AWS's defaults where the component may leave a value out; every other value must be given. */
const awsDefaults = { albIdleTimeoutSeconds: 60, nlbTcpIdleTimeoutSeconds: 350, deregistrationDelaySeconds: 300 } as const;

function checkRange(problems: string[], what: string, value: unknown, [min, max]: readonly [number, number]): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        problems.push(`${what} ${JSON.stringify(value)}: AWS accepts a whole number from ${min} to ${max}`);
    }
    return value as number;
}

/** A target group's protocol, checked: HTTPS (TLS to the targets) on an ALB's target group only, as AWS has it. */
function targetGroupProtocolOf(problems: string[], group: RegisteredResource, kind: LoadBalancerKind): "HTTP" | "HTTPS" | "TCP" {
    const value = group.inputs.protocol;
    const allowed = kind === "alb" ? ["HTTP", "HTTPS", "TCP"] : ["HTTP", "TCP"];
    if (!allowed.includes(value)) {
        const played = `${allowed.slice(0, -1).join(", ")} and ${allowed[allowed.length - 1]}`;
        problems.push(`target group ${group.name} protocol ${JSON.stringify(value)}: the local stand-in plays ${played} on an ${kind.toUpperCase()}'s target group`);
    }
    return value;
}

/** A health check's protocol, checked. */
function healthCheckProtocolOf(problems: string[], what: string, value: unknown): "HTTP" | "HTTPS" | "TCP" {
    if (value !== "HTTP" && value !== "HTTPS" && value !== "TCP") {
        problems.push(`${what} ${JSON.stringify(value)}: the local stand-in plays HTTP, HTTPS and TCP only`);
    }
    return value as "HTTP" | "HTTPS" | "TCP";
}

/** A forwarding listener, checked: an HTTPS one (ALB only) needs its certificate and policy named, as no default is guessed. */
function listenerOf(problems: string[], listener: RegisteredResource, kind: LoadBalancerKind): ListenerSpec {
    const { port, protocol, certificateArn, sslPolicy } = listener.inputs;
    const allowed = kind === "alb" ? ["HTTP", "HTTPS"] : ["TCP"];
    if (!allowed.includes(protocol)) {
        problems.push(`listener ${listener.name} protocol ${JSON.stringify(protocol)}: the local stand-in plays ${allowed.join(" and ")} on an ${kind.toUpperCase()}`);
    }
    if (protocol !== "HTTPS") {
        return { port: Number(port), protocol };
    }
    if (typeof certificateArn !== "string") {
        problems.push(`listener ${listener.name}: an HTTPS listener needs certificateArn, which AWS requires`);
    }
    if (typeof sslPolicy !== "string") {
        problems.push(`listener ${listener.name} sslPolicy is left to a default: the local harness does not guess AWS's (ELBSecurityPolicy-2016-08, ` +
            "which allows TLS 1.0); set it");
    }
    return { port: Number(port), protocol, tls: { certificateArn, sslPolicy } };
}

/** A redirecting listener, checked: plain HTTP, redirecting to an HTTPS listener of the same load balancer with a status the ALB offers. */
function redirectOf(problems: string[], listener: RegisteredResource, target: ListenerSpec): RedirectSpec {
    const [action] = listener.inputs.defaultActions ?? [];
    const redirect = action?.redirect ?? {};
    const statusCode = ({ HTTP_301: 301, HTTP_302: 302 } as const)[redirect.statusCode as "HTTP_301" | "HTTP_302"];
    const toPort = Number(redirect.port);
    if ((listener.inputs.defaultActions ?? []).length !== 1 || action.type !== "redirect" || listener.inputs.protocol !== "HTTP") {
        problems.push(`listener ${listener.name}: ${listener.inputs.protocol} with default actions ${JSON.stringify(listener.inputs.defaultActions)} ` +
            "is neither the one listener forwarding to a target group nor an HTTP listener redirecting to it");
    } else if (statusCode === undefined) {
        problems.push(`listener ${listener.name} redirect statusCode ${JSON.stringify(redirect.statusCode)}: the ALB redirects with HTTP_301 or HTTP_302`);
    } else if (redirect.protocol !== "HTTPS" || target.protocol !== "HTTPS" || toPort !== target.port) {
        problems.push(`listener ${listener.name} redirects to ${redirect.protocol} port ${redirect.port}, which is not the load balancer's HTTPS listener`);
    }
    return { port: Number(listener.inputs.port), toPort, statusCode };
}

/** The health check of a target group resource; values left to defaults are refused rather than guessed. */
function healthCheckOf(problems: string[], group: RegisteredResource, kind: LoadBalancerKind): HealthCheckSpec {
    const check = group.inputs.healthCheck ?? {};
    const where = `target group ${group.name} healthCheck`;
    for (const field of ["protocol", "interval", "timeout", "healthyThreshold", "unhealthyThreshold"]) {
        if (check[field] === undefined) {
            problems.push(`${where}.${field} is left to a default: the local harness does not guess AWS's or the provider's defaults; set it`);
        }
    }
    if (check.enabled === false) {
        problems.push(`${where} is disabled: every target would count as healthy, dead members included`);
    }
    const protocol = healthCheckProtocolOf(problems, `${where}.protocol`, check.protocol);
    if (group.inputs.protocol === "HTTPS" && protocol === "TCP") {
        problems.push(`${where}.protocol "TCP" on an HTTPS target group, which AWS refuses (an ALB's targets are checked over HTTP or HTTPS)`);
    }
    const spec: HealthCheckSpec = {
        protocol,
        port: check.port === undefined || check.port === "traffic-port" ? "traffic-port" : Number(check.port),
        path: check.path,
        intervalSeconds: checkRange(problems, `${where}.interval`, check.interval, awsLimits.intervalSeconds),
        timeoutSeconds: checkRange(problems, `${where}.timeout`, check.timeout, awsLimits.timeoutSeconds),
        healthyThreshold: checkRange(problems, `${where}.healthyThreshold`, check.healthyThreshold, awsLimits.threshold),
        unhealthyThreshold: checkRange(problems, `${where}.unhealthyThreshold`, check.unhealthyThreshold, awsLimits.threshold),
        matcher: check.matcher,
    };
    if (protocol === "HTTP" || protocol === "HTTPS") {
        if (typeof spec.path !== "string" || !spec.path.startsWith("/")) {
            problems.push(`${where}.path ${JSON.stringify(spec.path)}: an ${protocol} health check needs a path starting with /`);
        }
        const [low, high] = kind === "alb" ? [200, 499] : [200, 599];
        const codes = typeof spec.matcher === "string" ? spec.matcher.split(/[,-]/).map(Number) : [NaN];
        if (codes.some((code) => !Number.isInteger(code) || code < low || code > high)) {
            problems.push(`${where}.matcher ${JSON.stringify(spec.matcher)}: AWS accepts HTTP codes from ${low} to ${high} (e.g. 200, 200-299, 200,202)`);
        }
    }
    if (kind === "alb" && spec.timeoutSeconds >= spec.intervalSeconds) {
        problems.push(`${where}.timeout ${spec.timeoutSeconds} s is not less than its interval ${spec.intervalSeconds} s, which AWS refuses`);
    }
    return spec;
}

/**
 * The load balancers as the component registered them, checked against what
 * AWS accepts. Each listener must forward (its one default action) to a target
 * group of the component; the targets are the group's attachments.
 */
export function loadBalancersOf(resources: RegisteredResource[]): LoadBalancerSpec[] {
    const problems: string[] = [];
    const ofType = (type: string) => resources.filter((r) => r.type === `aws:lb/${type}`);
    const instances = instancesOf(resources);
    const groups = ofType("targetGroup:TargetGroup");
    const specs = ofType("loadBalancer:LoadBalancer").flatMap((balancer): LoadBalancerSpec[] => {
        const type = balancer.inputs.loadBalancerType;
        if (type !== "application" && type !== "network") {
            problems.push(`load balancer ${balancer.name}: type ${JSON.stringify(type)} is not played locally (application and network are)`);
            return [];
        }
        const kind: LoadBalancerKind = type === "application" ? "alb" : "nlb";
        const listeners = ofType("listener:Listener").filter((listener) => listener.inputs.loadBalancerArn === balancer.state.arn);
        const forwarding = listeners.filter((listener) => (listener.inputs.defaultActions ?? []).some((action: { type: string }) => action.type === "forward"));
        if (forwarding.length !== 1) {
            problems.push(`load balancer ${balancer.name} has ${forwarding.length} listeners forwarding to a target group; the local stand-in plays exactly one`);
            return [];
        }
        const [listener] = forwarding;
        const actions = listener.inputs.defaultActions;
        if (actions.length !== 1) {
            problems.push(`listener ${listener.name}: its default actions ${JSON.stringify(actions)} are not one forward to a target group`);
            return [];
        }
        const ports = listeners.map((candidate) => Number(candidate.inputs.port));
        if (new Set(ports).size !== ports.length) {
            problems.push(`load balancer ${balancer.name} has two listeners on one port (${ports.join(", ")}), which AWS refuses`);
        }
        const forwardingListener = listenerOf(problems, listener, kind);
        const redirects = listeners.filter((candidate) => candidate !== listener).map((candidate) => redirectOf(problems, candidate, forwardingListener));
        const group = groups.find((candidate) => candidate.state.arn === actions[0].targetGroupArn);
        if (!group) {
            problems.push(`listener ${listener.name} forwards to ${actions[0].targetGroupArn}, which is no target group of the component`);
            return [];
        }
        const targets = ofType("targetGroupAttachment:TargetGroupAttachment")
            .filter((attachment) => attachment.inputs.targetGroupArn === group.state.arn)
            .map((attachment) => ({
                instance: instances.findIndex((instance) => instance.id === attachment.inputs.targetId),
                port: Number(attachment.inputs.port ?? group.inputs.port),
            }));
        if (targets.some((target) => target.instance < 0)) {
            problems.push(`target group ${group.name} has an attachment whose target is not one of the component's instances`);
        }
        const idleTimeoutSeconds = kind === "alb"
            ? checkRange(problems, `load balancer ${balancer.name} idleTimeout`, balancer.inputs.idleTimeout ?? awsDefaults.albIdleTimeoutSeconds, awsLimits.albIdleTimeoutSeconds)
            : checkRange(problems, `listener ${listener.name} tcpIdleTimeoutSeconds`, listener.inputs.tcpIdleTimeoutSeconds ?? awsDefaults.nlbTcpIdleTimeoutSeconds, awsLimits.nlbTcpIdleTimeoutSeconds);
        return [{
            kind,
            resourceName: balancer.name,
            idleTimeoutSeconds,
            listener: forwardingListener,
            redirects,
            targetGroup: {
                resourceName: group.name,
                arn: String(group.state.arn),
                protocol: targetGroupProtocolOf(problems, group, kind),
                port: Number(group.inputs.port),
                healthCheck: healthCheckOf(problems, group, kind),
                deregistrationDelaySeconds: checkRange(problems, `target group ${group.name} deregistrationDelay`,
                    group.inputs.deregistrationDelay === undefined ? awsDefaults.deregistrationDelaySeconds : Number(group.inputs.deregistrationDelay),
                    awsLimits.deregistrationDelaySeconds),
            },
            targets,
        }];
    });
    const kinds = specs.map((spec) => spec.kind);
    if (new Set(kinds).size !== kinds.length) {
        problems.push(`the component creates ${kinds.join(", ")}: the local stand-in plays at most one of each kind`);
    }
    if (problems.length > 0) {
        throw new Error(`the component's load balancers cannot be played locally:\n  - ${problems.join("\n  - ")}`);
    }
    return specs;
}
