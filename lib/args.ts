/**
 * The component's arguments, their defaults, and their validation. Every check
 * runs before any resource is registered, and all problems are reported at
 * once, each naming its argument and what is allowed.
 */
import * as pulumi from "@pulumi/pulumi";
import { defaultEtcdVersion, etcdTimingDefaults, parseEtcdRelease, supportedClusterSizes, supportedEtcdBranches } from "./etcd";
import { defaultDiscoveryService, isDiscoveryServiceUrl, isDiscoveryUrl } from "./discovery";
import { OperatingSystem, supportedOperatingSystems } from "./os";

/** How many NAT gateways a new VPC gets: one, or one per zone. */
export type NatGatewayStrategy = "Single" | "OnePerAz";

export interface Etcd3ClusterArgs {
    /**
     * Name prefix and `ecosystem` tag of everything the component creates (the
     * seed's `in_ecosystem`). Lowercase letters, digits and hyphens, starting
     * with a letter, at most 32 characters. Default `etcd3-cluster`.
     */
    ecosystem?: string;
    /**
     * CIDR of a new VPC made for the cluster (the seed's `in_vpc_cidr`), /16 to
     * /24, with public and private subnets over `availabilityZoneCount` zones.
     * Default `10.99.0.0/16` when `vpcId` is not given. Mutually exclusive with `vpcId`.
     */
    vpcCidr?: string;
    /** Zones the new VPC spans, 2 or 3 (an ALB needs two). Default 3. Only with a new VPC. */
    availabilityZoneCount?: number;
    /**
     * NAT gateways of the new VPC: `Single` (one, cheapest) or `OnePerAz` (survives
     * a zone's loss). The members need outbound access for the etcd image and the
     * discovery service. Default `Single`. Only with a new VPC.
     */
    natGateways?: NatGatewayStrategy;
    /** An existing VPC to use instead of creating one. Needs `privateSubnetIds`. Mutually exclusive with `vpcCidr`. Default none (a new VPC). */
    vpcId?: pulumi.Input<string>;
    /**
     * Private subnets of `vpcId` the members are spread over, round robin, and the
     * internal ALB sits in (at least two, in different zones, with outbound
     * access through NAT). Only with `vpcId`, and required with it. Default none.
     */
    privateSubnetIds?: pulumi.Input<pulumi.Input<string>[]>;
    /** Public subnets of `vpcId` for an internet-facing ALB (at least two). Needed only with `internetFacing`. Default none. */
    publicSubnetIds?: pulumi.Input<pulumi.Input<string>[]>;
    /** Number of etcd members: 1, 3, 5 or 7. Default 3. */
    clusterSize?: number;
    /** EC2 instance type of the members. An arm64 (Graviton) type selects the arm64 image. Default `t3.small`. */
    instanceType?: string;
    /** AMI to boot instead of the latest stable image of `os`. Must be of that OS (the user data is Ignition). Default: looked up. */
    amiId?: string;
    /** `fedora-coreos` or `flatcar`. Default `fedora-coreos`. */
    os?: OperatingSystem;
    /**
     * etcd release to run, `vX.Y.Z`, from the 3.5 or 3.6 branch (3.7 dropped the
     * v2 discovery the cluster forms with). Only 3.5 serves the seed's `/v2/keys`
     * and `/v2/stats` API. Default `v3.5.33`.
     */
    etcdVersion?: string;
    /**
     * etcd's `--heartbeat-interval`, ms: about the round trip between members.
     * Default etcd's 100, already ample for AWS's cross-zone round trips of
     * 1–2 ms. 10 to 5000.
     */
    heartbeatIntervalMs?: number;
    /**
     * etcd's `--election-timeout`, ms: how long followers wait for the leader
     * before electing another, so the floor of a failover. Default etcd's 1000.
     * At least 5 × `heartbeatIntervalMs`, at most 50000.
     */
    electionTimeoutMs?: number;
    /** Container image repository for etcd. Default `gcr.io/etcd-development/etcd`. */
    etcdImageRepository?: string;
    /**
     * A discovery URL you requested yourself (`{service}/<32 hex>`, made for
     * exactly `clusterSize` members and never used before). Default: one is
     * requested from `discoveryService` when the stack is first created.
     */
    discoveryUrl?: string;
    /** Base URL of the discovery service, e.g. a self-hosted one. Default `https://discovery.etcd.io`. */
    discoveryService?: string;
    /**
     * File the discovery request's facts (node count, URL) are appended to, as
     * the seed's module did, or `false` for none. Default `etcd3-discovery-url.log`
     * in the program's working directory.
     */
    discoveryLogFile?: string | false;
    /** OpenSSH public keys for the OS's `core` user; SSH (22) is then open from the VPC's CIDR. Default none. */
    sshAuthorizedKeys?: string[];
    /**
     * Whether the ALB is internet-facing. Default `false`: an internal ALB that
     * only `allowedCidrs` can reach, because etcd behind it has no TLS and no
     * authentication. When `true`, `allowedCidrs` must be given.
     */
    internetFacing?: boolean;
    /**
     * CIDRs allowed to reach the ALB's port 80. Default the VPC's CIDR. Required
     * with `internetFacing`; `0.0.0.0/0` (the seed's open cluster) is allowed only
     * when named here.
     */
    allowedCidrs?: string[];
    /**
     * CIDRs whose etcd clients (etcdctl, Kubernetes, gRPC client libraries) may
     * reach the members' 2379 directly, using `clientEndpoints`. Default the
     * VPC's CIDR; `[]` leaves the members reachable only through the load
     * balancers. `0.0.0.0/0` only when named here.
     */
    clientCidrs?: string[];
    /**
     * Also create a network load balancer, TCP 2379 → members' 2379, for gRPC
     * clients that want one stable address. Same exposure as the ALB
     * (`internetFacing`, `allowedCidrs`). Default `false`.
     */
    grpcLoadBalancer?: boolean;
    /** A DNS name for the cluster URL (e.g. `etcd.example.com`); needs `hostedZoneId`. Default none. */
    dnsName?: string;
    /** The Route53 hosted zone `dnsName` is created in. Needs `dnsName`. Default none. */
    hostedZoneId?: pulumi.Input<string>;
    /** Size of each member's encrypted gp3 root volume, GiB, 10 to 16384. Default 20. */
    rootVolumeSizeGiB?: number;
    /** Tags added to every resource (on top of `ecosystem` and `Name`). Default none. */
    tags?: Record<string, string>;
}

/** The arguments after validation, with every default filled in. */
export interface ResolvedEtcd3ClusterArgs {
    ecosystem: string;
    network:
        | { kind: "new"; vpcCidr: string; availabilityZoneCount: number; natGateways: NatGatewayStrategy }
        | { kind: "existing"; vpcId: pulumi.Input<string>; privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>; publicSubnetIds: pulumi.Input<pulumi.Input<string>[]> };
    clusterSize: number;
    instanceType: string;
    architecture: "x86_64" | "arm64";
    amiId?: string;
    os: OperatingSystem;
    etcdVersion: string;
    etcdImageRepository?: string;
    heartbeatIntervalMs?: number;
    electionTimeoutMs?: number;
    discoveryUrl?: string;
    discoveryService: string;
    discoveryLogFile?: string;
    sshAuthorizedKeys: string[];
    internetFacing: boolean;
    allowedCidrs?: string[];
    clientCidrs?: string[];
    grpcLoadBalancer: boolean;
    dns?: { name: string; hostedZoneId: pulumi.Input<string> };
    rootVolumeSizeGiB: number;
    tags: Record<string, string>;
}

/** The default of every argument that has a single value as its default (Pulumi.yaml declares the same). */
export const argumentDefaults = {
    ecosystem: "etcd3-cluster",
    vpcCidr: "10.99.0.0/16",
    availabilityZoneCount: 3,
    natGateways: "Single" as NatGatewayStrategy,
    clusterSize: 3,
    instanceType: "t3.small",
    os: "fedora-coreos" as OperatingSystem,
    etcdVersion: defaultEtcdVersion,
    discoveryService: defaultDiscoveryService,
    discoveryLogFile: "etcd3-discovery-url.log",
    rootVolumeSizeGiB: 20,
    internetFacing: false,
    grpcLoadBalancer: false,
};

/** Thrown for invalid arguments; `problems` holds one line per argument at fault. */
export class Etcd3ClusterArgumentError extends Error {
    constructor(public readonly componentName: string, public readonly problems: string[]) {
        super(`Etcd3Cluster "${componentName}" has invalid arguments:\n  - ${problems.join("\n  - ")}`);
        this.name = "Etcd3ClusterArgumentError";
    }
}

/** Parses an IPv4 CIDR; undefined unless it is a.b.c.d/n with host bits zero. */
export function parseIpv4Cidr(value: string): { address: number; prefix: number } | undefined {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
    if (!match) {
        return undefined;
    }
    const octets = match.slice(1, 5).map(Number);
    const prefix = Number(match[5]);
    if (octets.some((octet) => octet > 255) || prefix > 32) {
        return undefined;
    }
    const address = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
    const hostMask = prefix === 0 ? 0xffffffff : (2 ** (32 - prefix) - 1);
    if ((address & hostMask) >>> 0 !== 0) {
        return undefined;
    }
    return { address, prefix };
}

const sshKeyTypes = [
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
];

/** An OpenSSH public key line whose base64 blob decodes and names the same key type as its prefix. */
export function isOpenSshPublicKey(value: string): boolean {
    const [type, blob] = value.trim().split(/\s+/);
    if (!sshKeyTypes.includes(type) || !blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) {
        return false;
    }
    const decoded = Buffer.from(blob, "base64");
    if (decoded.length < 4) {
        return false;
    }
    const typeLength = decoded.readUInt32BE(0);
    return decoded.subarray(4, 4 + typeLength).toString("latin1") === type && decoded.length > 4 + typeLength;
}

/** A fully qualified DNS name: at least two labels of letters, digits and inner hyphens, at most 253 characters. */
export function isDnsName(value: string): boolean {
    const name = value.endsWith(".") ? value.slice(0, -1) : value;
    const labels = name.split(".");
    return name.length <= 253 && labels.length >= 2 &&
        labels.every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(label));
}

/**
 * Graviton families carry a `g` among the letters after the generation digit
 * (t4g, m7gd, c6gn, g5g, im4gn); a1 is the first Graviton.
 */
export function architectureOf(instanceType: string): "x86_64" | "arm64" {
    const family = instanceType.split(".")[0];
    return family === "a1" || /^[a-z]+\d+[a-z]*g[a-z]*$/.test(family) ? "arm64" : "x86_64";
}

/** An ALB needs subnets in at least two zones. */
export const minimumSubnets = 2;
/** The error lines for too few subnets, shared by the check at construction and the one when outputs resolve. */
export const privateSubnetProblem = (count: number) =>
    `privateSubnetIds: with vpcId, give at least ${minimumSubnets} private subnets in different availability zones (got ${count})`;
export const publicSubnetProblem = (count: number) =>
    `publicSubnetIds: an internet-facing load balancer needs at least ${minimumSubnets} public subnets of vpcId (got ${count})`;

/** The longest component name whose derived ALB and target group names fit AWS's 32 characters. */
export const maxComponentNameLength = 16;

/**
 * Checks every argument and fills in defaults. Throws an
 * `Etcd3ClusterArgumentError` listing every problem; registers nothing.
 */
export function resolveArgs(name: string, args: Etcd3ClusterArgs = {}): ResolvedEtcd3ClusterArgs {
    const problems: string[] = [];
    const problem = (text: string) => problems.push(text);

    if (!/^[a-z][a-z0-9-]*$/.test(name) || name.length > maxComponentNameLength) {
        problem(`name "${name}": use lowercase letters, digits and hyphens, starting with a letter, at most ${maxComponentNameLength} characters ` +
            "(AWS limits load balancer and target group names to 32 characters, and the component derives them from its name)");
    }

    const ecosystem = args.ecosystem ?? argumentDefaults.ecosystem;
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(ecosystem) || ecosystem.endsWith("-")) {
        problem(`ecosystem "${ecosystem}": use 1 to 32 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen`);
    }

    const newNetworkArgs = (["availabilityZoneCount", "natGateways"] as const).filter((key) => args[key] !== undefined);
    const existingNetworkArgs = (["privateSubnetIds", "publicSubnetIds"] as const).filter((key) => args[key] !== undefined);
    let network: ResolvedEtcd3ClusterArgs["network"] | undefined;
    if (args.vpcId !== undefined) {
        if (args.vpcCidr !== undefined || newNetworkArgs.length > 0) {
            problem(`vpcId and ${[args.vpcCidr !== undefined ? "vpcCidr" : "", ...newNetworkArgs].filter(Boolean).join(", ")}: ` +
                "give either vpcId with its subnets (use an existing VPC) or vpcCidr (create one), not both");
        }
        const privateSubnetIds = args.privateSubnetIds ?? [];
        const publicSubnetIds = args.publicSubnetIds ?? [];
        // Lists that are outputs of other resources are counted when they resolve (see network.ts).
        if (Array.isArray(privateSubnetIds) && privateSubnetIds.length < minimumSubnets) {
            problem(privateSubnetProblem(privateSubnetIds.length));
        }
        if (args.internetFacing && Array.isArray(publicSubnetIds) && publicSubnetIds.length < minimumSubnets) {
            problem(publicSubnetProblem(publicSubnetIds.length));
        }
        network = { kind: "existing", vpcId: args.vpcId, privateSubnetIds, publicSubnetIds };
    } else {
        if (existingNetworkArgs.length > 0) {
            problem(`${existingNetworkArgs.join(", ")}: subnets can only be given together with vpcId`);
        }
        const vpcCidr = args.vpcCidr ?? argumentDefaults.vpcCidr;
        const cidr = parseIpv4Cidr(vpcCidr);
        if (!cidr || cidr.prefix < 16 || cidr.prefix > 24) {
            problem(`vpcCidr "${vpcCidr}": use an IPv4 network address with a prefix from /16 to /24, e.g. 10.99.0.0/16`);
        }
        const availabilityZoneCount = args.availabilityZoneCount ?? argumentDefaults.availabilityZoneCount;
        if (![2, 3].includes(availabilityZoneCount)) {
            problem(`availabilityZoneCount ${availabilityZoneCount}: use 2 or 3 (an ALB needs subnets in at least two zones)`);
        }
        const natGateways = args.natGateways ?? argumentDefaults.natGateways;
        if (!["Single", "OnePerAz"].includes(natGateways)) {
            problem(`natGateways "${natGateways}": use "Single" or "OnePerAz" (the members need outbound access for the image and discovery)`);
        }
        network = { kind: "new", vpcCidr, availabilityZoneCount, natGateways };
    }

    const clusterSize = args.clusterSize ?? argumentDefaults.clusterSize;
    if (!supportedClusterSizes.includes(clusterSize)) {
        problem(`clusterSize ${clusterSize}: use ${supportedClusterSizes.join(", ")} ` +
            "(etcd needs a majority, so even sizes add no fault tolerance, and more than 7 members slow every write)");
    }

    const instanceType = args.instanceType ?? argumentDefaults.instanceType;
    if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(instanceType)) {
        problem(`instanceType "${instanceType}": use an EC2 instance type such as t3.small or m7g.large`);
    }

    if (args.amiId !== undefined && !/^ami-[0-9a-f]{8,17}$/.test(args.amiId)) {
        problem(`amiId "${args.amiId}": use an AMI id like ami-0123456789abcdef0`);
    }

    const os = args.os ?? argumentDefaults.os;
    if (!supportedOperatingSystems.includes(os)) {
        problem(`os "${os}": use one of ${supportedOperatingSystems.join(", ")}`);
    }

    const etcdVersion = args.etcdVersion ?? argumentDefaults.etcdVersion;
    const release = parseEtcdRelease(etcdVersion);
    if (!release) {
        problem(`etcdVersion "${etcdVersion}": use a release vX.Y.Z of etcd ${supportedEtcdBranches.join(" or ")} ` +
            `(3.7 dropped v2 discovery, 3.4 is end of life), e.g. ${defaultEtcdVersion}`);
    }

    const heartbeat = args.heartbeatIntervalMs ?? etcdTimingDefaults.heartbeatIntervalMs;
    if (!Number.isInteger(heartbeat) || heartbeat < 10 || heartbeat > 5000) {
        problem(`heartbeatIntervalMs ${args.heartbeatIntervalMs}: use a whole number of ms from 10 to 5000`);
    }
    const election = args.electionTimeoutMs ?? etcdTimingDefaults.electionTimeoutMs;
    if (!Number.isInteger(election) || election < 5 * heartbeat || election > 50000) {
        problem(`electionTimeoutMs ${election}: use a whole number of ms from 5 × heartbeatIntervalMs (${5 * heartbeat}) to 50000, ` +
            "as etcd itself requires");
    }

    if (args.etcdImageRepository !== undefined && !/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/.test(args.etcdImageRepository)) {
        problem(`etcdImageRepository "${args.etcdImageRepository}": use a repository without a tag, e.g. quay.io/coreos/etcd`);
    }

    const discoveryService = (args.discoveryService ?? argumentDefaults.discoveryService).replace(/\/+$/, "");
    if (!isDiscoveryServiceUrl(discoveryService)) {
        problem(`discoveryService "${args.discoveryService}": use an http(s) base URL such as ${defaultDiscoveryService}`);
    }
    if (args.discoveryUrl !== undefined && !isDiscoveryUrl(args.discoveryUrl)) {
        problem(`discoveryUrl "${args.discoveryUrl}": use a URL that a discovery service returned, ending in a 32-hex-digit token, ` +
            "e.g. https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e");
    }
    if (args.discoveryLogFile !== undefined && args.discoveryLogFile !== false &&
        (typeof args.discoveryLogFile !== "string" || args.discoveryLogFile.trim() === "")) {
        problem("discoveryLogFile: use a file path, or false for no log");
    }

    const sshAuthorizedKeys = args.sshAuthorizedKeys ?? [];
    sshAuthorizedKeys.forEach((key, index) => {
        if (!isOpenSshPublicKey(key)) {
            problem(`sshAuthorizedKeys[${index}]: not an OpenSSH public key line ("ssh-ed25519 AAAA... comment"); ` +
                `types allowed: ${sshKeyTypes.join(", ")}`);
        }
    });

    const internetFacing = args.internetFacing ?? argumentDefaults.internetFacing;
    const checkCidrs = (key: string, cidrs: string[]) => cidrs.forEach((value, index) => {
        if (!parseIpv4Cidr(value)) {
            problem(`${key}[${index}] "${value}": use an IPv4 network address with its prefix, e.g. 203.0.113.0/24`);
        }
    });
    if (args.clientCidrs !== undefined) {
        checkCidrs("clientCidrs", args.clientCidrs);
    }
    if (args.allowedCidrs !== undefined) {
        if (args.allowedCidrs.length === 0) {
            problem("allowedCidrs: give at least one CIDR, or leave it out to allow the VPC's CIDR");
        }
        checkCidrs("allowedCidrs", args.allowedCidrs);
    } else if (internetFacing) {
        problem("allowedCidrs: an internet-facing load balancer needs the CIDRs allowed in named explicitly " +
            "(etcd behind it has no authentication); use [\"0.0.0.0/0\"] only if the whole internet may read and write it");
    }

    if ((args.dnsName === undefined) !== (args.hostedZoneId === undefined)) {
        problem(`${args.dnsName === undefined ? "hostedZoneId" : "dnsName"}: dnsName and hostedZoneId go together; give both or neither`);
    }
    if (args.dnsName !== undefined && !isDnsName(args.dnsName)) {
        problem(`dnsName "${args.dnsName}": use a fully qualified DNS name such as etcd.example.com`);
    }

    const rootVolumeSizeGiB = args.rootVolumeSizeGiB ?? argumentDefaults.rootVolumeSizeGiB;
    if (!Number.isInteger(rootVolumeSizeGiB) || rootVolumeSizeGiB < 10 || rootVolumeSizeGiB > 16384) {
        problem(`rootVolumeSizeGiB ${rootVolumeSizeGiB}: use a whole number of GiB from 10 to 16384`);
    }

    const tags = args.tags ?? {};
    for (const [key, value] of Object.entries(tags)) {
        if (key.length === 0 || key.length > 128 || key.toLowerCase().startsWith("aws:") || typeof value !== "string" || value.length > 256) {
            problem(`tags["${key}"]: keys are 1 to 128 characters and may not start with "aws:"; values are strings of at most 256 characters`);
        }
    }

    if (problems.length > 0) {
        throw new Etcd3ClusterArgumentError(name, problems);
    }
    return {
        ecosystem,
        network: network!,
        clusterSize,
        instanceType,
        architecture: architectureOf(instanceType),
        amiId: args.amiId,
        os,
        etcdVersion: release!.tag,
        etcdImageRepository: args.etcdImageRepository,
        heartbeatIntervalMs: args.heartbeatIntervalMs,
        electionTimeoutMs: args.electionTimeoutMs,
        discoveryUrl: args.discoveryUrl,
        discoveryService,
        discoveryLogFile: args.discoveryLogFile === false ? undefined : (args.discoveryLogFile ?? argumentDefaults.discoveryLogFile),
        sshAuthorizedKeys,
        internetFacing,
        allowedCidrs: args.allowedCidrs,
        clientCidrs: args.clientCidrs,
        grpcLoadBalancer: args.grpcLoadBalancer ?? argumentDefaults.grpcLoadBalancer,
        dns: args.dnsName !== undefined ? { name: args.dnsName, hostedZoneId: args.hostedZoneId! } : undefined,
        rootVolumeSizeGiB,
        tags,
    };
}
