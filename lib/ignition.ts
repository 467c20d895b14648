/**
 * Builds the Ignition config each etcd node boots with: plain data in, plain
 * JSON out, no Pulumi. Ignition spec 3.3.0 is read by current Fedora CoreOS,
 * by Flatcar since 3185 and by Debian's `ignition-validate`.
 */
import { gzipSync } from "zlib";
import { AccessControlPart, accessControlPart, etcdctlCredentialVariables } from "./access-control";
import { dataVolumePart, dataVolumeIdProblems, etcdDataDirectory, UnitPart } from "./data-volume";
import {
    bootstrapPart, etcdUnitName, clusterTokenProblems, foundingClusterSizeProblems, discoveryBootstrapFlags, FilePart, SlotMember, slotMembersProblems,
    staticBootstrapFlags,
} from "./bootstrap";
import { isDiscoveryUrl } from "./discovery-request";
import {
    clientUrl, defaultEtcdVersion, defaultImageRepository, EtcdRelease, etcdTimingProblems, generationProblems, isImageRepository, isMemberName,
    isWholeNumberIn, parseEtcdRelease, UrlScheme, peerUrl, shown, supportedEtcdBranches,
} from "./etcd";
import { MaintenanceOptions, maintenanceFlags, maintenancePart, maintenanceProblems } from "./maintenance";
import {
    ClientTlsOptions, clientTlsProblems, memberCertificateFiles, MemberCertificatePart, memberCertificatePart, memberTlsDirectory, PeerTlsOptions,
    peerTlsProblems,
} from "./member-certificate";
import { OperatingSystem, OperatingSystemProfile, operatingSystems, supportedOperatingSystems, UpdateWindow } from "./os";
import { RestoreOptions, restorePart, restoreProblems } from "./restore";
import { SnapshotOptions, snapshotPart, snapshotProblems } from "./snapshots";

export const ignitionSpecVersion = "3.3.0";
export { etcdUnitName };
/** Where the member keeps its data on the host, mounted at the same path in the container. */
export { etcdDataDirectory };
/** EC2 refuses user data larger than this (and Ignition does not take gzipped user data itself; see `compressedConfig`). */
export const ec2UserDataLimitBytes = 16 * 1024;

/** What one node's Ignition config is made from. */
export interface EtcdNodeIgnitionOptions extends MaintenanceOptions {
    /** The etcd member name: unique in the cluster and stable for the node's life. Letters, digits, `.`, `_`, `-`. */
    memberName: string;
    /**
     * The discovery URL every member of the cluster shares, as the service
     * returned it (ending in a 32-hex-digit token): the cluster forms through
     * it. Give this or `clusterToken`, not both. etcd 3.5 and 3.6 only.
     */
    discoveryUrl?: string;
    /**
     * The cluster's `--initial-cluster-token`: the cluster forms from `members`,
     * without any discovery service. Give this or `discoveryUrl`.
     */
    clusterToken?: string;
    /**
     * Every slot of the cluster by its address, in slot order, this member's
     * included: whom this member asks to join the cluster when it boots with
     * empty data, and (the first `foundingClusterSize`) the static member list
     * with `clusterToken`. Needed with `clusterToken`; without it, a member
     * with empty data can only form a new cluster.
     */
    members?: SlotMember[];
    /**
     * How many of `members`, from the first, formed the cluster: the size it
     * was created with. A member after them joined the running cluster and
     * never forms one: with empty data it waits until the cluster answers.
     * Default all of `members`.
     */
    foundingClusterSize?: number;
    /** etcd release, e.g. `v3.5.33`. Must be a supported branch (see `parseEtcdRelease`). */
    etcdVersion: string;
    /** Default `fedora-coreos`. */
    os?: OperatingSystem;
    /** Default `gcr.io/etcd-development/etcd`. */
    imageRepository?: string;
    /** Public keys for the OS's login user. Default none. */
    sshAuthorizedKeys?: string[];
    /** etcd `--heartbeat-interval` in ms, 10 to 5000. Default etcd's own (100). */
    heartbeatIntervalMs?: number;
    /** etcd `--election-timeout` in ms, 5 heartbeats to 50000. Default etcd's own (1000). */
    electionTimeoutMs?: number;
    /** The daily window in which this node's OS may reboot for an update. Default the OS's own policy. */
    updateWindow?: UpdateWindow;
    /** Serve the v2 API (`--enable-v2`); only etcd 3.5 has one. Default true on 3.5. */
    enableV2Api?: boolean;
    /**
     * The EBS volume (`vol-…`) holding the member's data, mounted at
     * `/var/lib/etcd` before etcd starts; etcd does not start without it.
     * Default none: the data stays on the root disk.
     */
    dataVolumeId?: string;
    /** Where and how often the member's snapshot timer uploads (on the leader only). Default none: no snapshots. */
    snapshots?: SnapshotOptions;
    /**
     * The snapshot the member restores when it forms the cluster (with
     * `clusterToken` only: the restore needs the static member list). Default
     * none: a forming member starts empty.
     */
    restore?: RestoreOptions;
    /**
     * Mutual TLS between the members: each issues its own peer certificate at
     * boot from the cluster's CA, read from this bucket (member-certificate.ts),
     * and the peer URLs are `https://`. Default none: peers talk plain HTTP.
     */
    peerTls?: PeerTlsOptions;
    /**
     * TLS on the client port too, with the member's certificate (so it needs
     * `peerTls`): client URLs are `https://`, and the member's own etcdctl
     * verifies the members with the CA. Default none: clients talk plain HTTP.
     */
    clientTls?: ClientTlsOptions;
    /**
     * etcd's role-based access control (access-control.ts), with `clientTls`
     * (the password and tokens never cross the VPC in clear): the members
     * turn it on once the cluster answers, with the user root and the
     * password in the secrets bucket `peerTls` names, sign clients' tokens
     * with the bucket's key, and run their own etcdctl as root. No v2 API
     * (v3's access control does not guard it). Default false.
     */
    accessControl?: boolean;
    /**
     * With `accessControl`: the generation of the members' token signing key
     * (tls.ts makes one per generation). A member reads the key from the
     * bucket only when etcd starts, so a new one reaches the members by a
     * roll: the settings name the generation when it is not 0, and a change
     * rolls them. Default 0.
     */
    tokenSigningKeyGeneration?: number;
}

/** The subset of the Ignition 3.3.0 schema this package writes. */
export interface IgnitionConfig {
    ignition: { version: string };
    passwd?: { users: { name: string; sshAuthorizedKeys: string[] }[] };
    storage: {
        directories: { path: string; mode: number }[];
        files?: { path: string; mode: number; overwrite: boolean; contents: IgnitionFileContents }[];
    };
    systemd: { units: { name: string; enabled?: boolean; contents: string }[] };
}

/** The options with their OS row and etcd release looked up once. */
interface ResolvedOptions {
    options: EtcdNodeIgnitionOptions;
    os: OperatingSystemProfile;
    release: EtcdRelease;
}

function updateWindowProblems(window: unknown): string[] {
    if (window === undefined) {
        return [];
    }
    if (typeof window !== "object" || window === null) {
        return [`updateWindow ${shown(window)}: use { startHourUtc, lengthMinutes }, or leave it out for the OS's own update policy`];
    }
    const { startHourUtc, lengthMinutes } = window as Partial<UpdateWindow>;
    const problems: string[] = [];
    if (!isWholeNumberIn(startHourUtc, 0, 23)) {
        problems.push(`updateWindow.startHourUtc ${shown(startHourUtc)}: use a whole hour from 0 to 23 (UTC)`);
    }
    if (!isWholeNumberIn(lengthMinutes, 1, 24 * 60)) {
        problems.push(`updateWindow.lengthMinutes ${shown(lengthMinutes)}: use a whole number of minutes from 1 to 1440`);
    }
    return problems;
}

function sshKeyProblems(keys: unknown): string[] {
    if (keys === undefined) {
        return [];
    }
    if (!Array.isArray(keys)) {
        return [`sshAuthorizedKeys ${shown(keys)}: use a list of OpenSSH public key lines`];
    }
    return keys.flatMap((key, index) => (typeof key === "string" && key.trim() !== "" && !/[\r\n]/.test(key)
        ? []
        : [`sshAuthorizedKeys[${index}]: use one OpenSSH public key on one line ("ssh-ed25519 AAAA... comment")`]));
}

/**
 * Checks every option (also against callers that get past the type checker)
 * and looks up the OS row and etcd release. Throws one error listing every
 * problem, so no config with `--discovery=undefined` or a split flag is built.
 */
function resolve(options: EtcdNodeIgnitionOptions): ResolvedOptions {
    const problems: string[] = [];
    const { memberName, discoveryUrl, clusterToken, members, etcdVersion, imageRepository } = options;
    if (!isMemberName(memberName)) {
        problems.push(`memberName ${shown(memberName)}: use letters, digits, dots, underscores and hyphens, starting with a letter or digit, e.g. etcd3-cluster-0`);
    }
    const release = typeof etcdVersion === "string" ? parseEtcdRelease(etcdVersion) : undefined;
    if (!release) {
        problems.push(`etcdVersion ${shown(etcdVersion)}: use a release vX.Y.Z of etcd ${supportedEtcdBranches.join(", ")}, e.g. ${defaultEtcdVersion}`);
    }
    if ((discoveryUrl === undefined) === (clusterToken === undefined)) {
        problems.push("give discoveryUrl (the cluster forms through a discovery service) or clusterToken (it forms from the static member list), one of them");
    } else if (clusterToken !== undefined) {
        problems.push(...clusterTokenProblems(clusterToken));
        if (members === undefined) {
            problems.push("members: a cluster formed with clusterToken needs its static member list");
        }
    } else if (typeof discoveryUrl !== "string" || !isDiscoveryUrl(discoveryUrl)) {
        problems.push(`discoveryUrl ${shown(discoveryUrl)}: use the URL a discovery service returned: http(s), a host, an optional port and path, ` +
            "then a 32-hex-digit token, e.g. https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e");
    } else if (release && !release.formsByV2Discovery) {
        problems.push(`discoveryUrl: etcd ${release.branch} removed v2 discovery; form the cluster from its members with clusterToken`);
    }
    if (members !== undefined) {
        problems.push(...slotMembersProblems(members, memberName));
    }
    problems.push(...foundingClusterSizeProblems(options.foundingClusterSize, members));
    const osName = options.os ?? "fedora-coreos";
    const os = supportedOperatingSystems.includes(osName) ? operatingSystems[osName] : undefined;
    if (!os) {
        problems.push(`os ${shown(options.os)}: use one of ${supportedOperatingSystems.join(", ")}`);
    }
    if (imageRepository !== undefined && (typeof imageRepository !== "string" || !isImageRepository(imageRepository))) {
        problems.push(`imageRepository ${shown(imageRepository)}: use a registry host (its port, if any, 1–65535) and a path without a tag, e.g. quay.io/coreos/etcd`);
    }
    problems.push(...etcdTimingProblems(options.heartbeatIntervalMs, options.electionTimeoutMs));
    problems.push(...updateWindowProblems(options.updateWindow));
    problems.push(...sshKeyProblems(options.sshAuthorizedKeys));
    problems.push(...dataVolumeIdProblems(options.dataVolumeId));
    problems.push(...maintenanceProblems(options));
    if (options.snapshots !== undefined) {
        problems.push(...snapshotProblems(options.snapshots));
    }
    if (options.peerTls !== undefined) {
        problems.push(...peerTlsProblems(options.peerTls));
    }
    if (options.clientTls !== undefined) {
        problems.push(...clientTlsProblems(options.clientTls));
        if (options.peerTls === undefined) {
            problems.push("clientTls: the client port serves the member's certificate, which peerTls issues; give peerTls");
        }
    }
    if (options.accessControl !== undefined && typeof options.accessControl !== "boolean") {
        problems.push(`accessControl ${shown(options.accessControl)}: use true or false`);
    } else if (options.accessControl && options.clientTls === undefined) {
        problems.push("accessControl: root's password and the tokens it buys would cross the network in clear; give clientTls (and peerTls)");
    }
    if (options.tokenSigningKeyGeneration !== undefined) {
        problems.push(...generationProblems(options.tokenSigningKeyGeneration, "tokenSigningKeyGeneration"));
        if (options.accessControl !== true) {
            problems.push("tokenSigningKeyGeneration: the token signing key is access control's; give accessControl");
        }
    }
    if (options.restore !== undefined) {
        problems.push(...restoreProblems(options.restore));
        if (clusterToken === undefined) {
            problems.push("restore: a cluster restored from a snapshot forms from its static member list; give clusterToken");
        }
    }
    if (options.enableV2Api !== undefined && typeof options.enableV2Api !== "boolean") {
        problems.push(`enableV2Api ${shown(options.enableV2Api)}: use true or false`);
    } else if (options.enableV2Api && release && !release.servesV2Api) {
        problems.push(`enableV2Api: etcd ${release.branch} has no v2 API`);
    } else if (options.enableV2Api && options.accessControl === true) {
        problems.push("enableV2Api: v3's access control does not guard the v2 API, so anyone could read and write /v2/keys; leave it out with accessControl");
    }
    if (problems.length > 0) {
        throw new Error(`cannot build the Ignition config for etcd member ${shown(memberName)}:\n  - ${problems.join("\n  - ")}`);
    }
    return { options, os: os!, release: release! };
}

/**
 * The etcd command line, one flag a line, with `${VAR}` for what systemd fills
 * in from the metadata file and `$ETCD_BOOTSTRAP_FLAGS` for how the member
 * forms or joins the cluster, decided at boot (bootstrap.ts).
 */
function etcdFlags({ options, os, release }: ResolvedOptions, parts: EtcdUnitParts): string[] {
    const ip = `\${${os.privateIpv4Variable}}`;
    const flags = [
        `--name=${options.memberName}`,
        `--data-dir=${etcdDataDirectory}`,
        `--listen-client-urls=${clientUrl("0.0.0.0", parts.clientScheme)}`,
        `--advertise-client-urls=${clientUrl(ip, parts.clientScheme)}`,
        `--listen-peer-urls=${peerUrl("0.0.0.0", parts.peerScheme)}`,
        `--initial-advertise-peer-urls=${peerUrl(ip, parts.peerScheme)}`,
        ...parts.flags,
        ...maintenanceFlags(options),
    ];
    if (options.heartbeatIntervalMs !== undefined) {
        flags.push(`--heartbeat-interval=${options.heartbeatIntervalMs}`);
    }
    if (options.electionTimeoutMs !== undefined) {
        flags.push(`--election-timeout=${options.electionTimeoutMs}`);
    }
    if (options.enableV2Api ?? (release.servesV2Api && !options.accessControl)) {
        flags.push("--enable-v2=true");
    }
    return flags;
}

/** The member's etcd image, `<repository>:<tag>`. */
function etcdImage({ options, release }: ResolvedOptions): string {
    return `${options.imageRepository ?? defaultImageRepository}:${release.tag}`;
}

/** The runtime's options that mount each host directory at the same path in the container. */
const volumeOptions = (os: OperatingSystemProfile, volumes: string[]) => volumes.map((volume) => `--volume ${volume}:${volume}${os.volumeOptions}`);

/**
 * The runtime's `run` of the member's image on the host network, with
 * `volumes` mounted at the same paths and the caller's `environment`
 * variables passed in by name (their values never on the command line); the
 * program follows.
 */
function imageRun(resolved: ResolvedOptions, volumes: string[], environment: readonly string[] = []): string {
    const { os } = resolved;
    return [
        `${os.containerRuntime} run --rm --net=host --pull=missing`, ...environment.map((name) => `--env ${name}`), ...volumeOptions(os, volumes), etcdImage(resolved),
    ].join(" ");
}

/** The units the member's own units need first: the one that writes the private IP, and the runtime's daemon (if any). */
const nodeUnits = (os: OperatingSystemProfile) => [os.metadataUnit, ...os.containerRuntimeUnits];

/** What the features add to etcd's unit. */
interface EtcdUnitParts {
    unitLines: string[];
    serviceLines: string[];
    startPre: string[];
    flags: string[];
    /** Host directories mounted at the same path, besides the data directory. */
    volumes: string[];
    peerScheme: UrlScheme;
    clientScheme: UrlScheme;
}

/** The systemd unit that runs the etcd member in a container on the host network. */
function etcdUnit(resolved: ResolvedOptions, parts: EtcdUnitParts): string {
    const { options, os, release } = resolved;
    const runtime = os.containerRuntime;
    const command = [
        `${runtime} run --name etcd-member --rm --net=host --pull=missing`,
        ...volumeOptions(os, [etcdDataDirectory, ...parts.volumes]),
        `${etcdImage(resolved)} /usr/local/bin/etcd`,
        ...etcdFlags(resolved, parts),
    ];
    return [
        "[Unit]",
        `Description=etcd ${release.tag} member ${options.memberName}`,
        "Documentation=https://etcd.io/docs/",
        // The private IP comes from the metadata unit, which nothing else starts; the runtime's daemon
        // (if any) must be up first and, by the same ordering, is stopped only after etcd.
        `Requires=${nodeUnits(os).join(" ")}`,
        `After=${[...nodeUnits(os), "network-online.target"].join(" ")}`,
        "Wants=network-online.target",
        ...parts.unitLines,
        "",
        "[Service]",
        `EnvironmentFile=${os.metadataEnvironmentFile}`,
        ...parts.serviceLines,
        // A container left by a crash would make `run --name` fail.
        `ExecStartPre=-${runtime} rm --force etcd-member`,
        ...parts.startPre.map((command) => `ExecStartPre=${command}`),
        `ExecStart=${command.join(" \\\n  ")}`,
        // `-`: after etcd exits by itself `--rm` has removed the container, and a failed stop would turn a clean exit into a failure.
        `ExecStop=-${runtime} stop etcd-member`,
        // Also retries a failed first pull; once pulled, restarts and reboots need no registry.
        "Restart=on-failure",
        "RestartSec=5s",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}

type IgnitionFileContents = { source: string; compression?: "gzip" };

/**
 * How files' contents go inline. `shortest`: each in its shortest form,
 * percent-encoded text for a short file, gzip in base64 for a script (EC2's
 * 16 KB limit is on the whole config). `text`: percent-encoded text only, for
 * a config that is itself compressed whole (`compressedConfig`): gzip over
 * text finds the words the scripts share, gzip over base64 finds nothing.
 * `text-without-comments`: as `text`, each script without its comment lines,
 * for a config over the limit even compressed: the same commands, a few KB
 * less to carry.
 */
export type FileEncoding = "shortest" | "text" | "text-without-comments";

/**
 * A script without the lines that are only a comment (its `#!` line kept):
 * what bash runs is the same, as long as no such line is inside a multi-line
 * string or a here-document (tests/ignition.test.ts compares bash's own
 * reading of every script the component ships with and without them).
 */
export function withoutCommentLines(script: string): string {
    return script.split("\n").filter((line, index) => index === 0 || !/^\s*#/.test(line)).join("\n");
}

function inlineContents(contents: string, encoding: FileEncoding): IgnitionFileContents {
    if (encoding === "text-without-comments") {
        return inlineContents(contents.startsWith("#!") ? withoutCommentLines(contents) : contents, "text");
    }
    const encoded = `data:,${encodeURIComponent(contents)}`;
    if (encoding === "text") {
        return { source: encoded };
    }
    const gzipped = `data:;base64,${gzipSync(Buffer.from(contents, "utf8"), { level: 9 }).toString("base64")}`;
    return gzipped.length < encoded.length ? { source: gzipped, compression: "gzip" } : { source: encoded };
}

/** The whole Ignition config for one node. Throws one error listing every option that cannot make a working unit. */
export function buildIgnitionConfig(options: EtcdNodeIgnitionOptions, fileEncoding: FileEncoding = "shortest"): IgnitionConfig {
    const resolved = resolve(options);
    const { os } = resolved;
    const dataVolume = options.dataVolumeId !== undefined ? dataVolumePart(options.dataVolumeId) : undefined;
    const members = options.members ?? [];
    const founders = members.slice(0, options.foundingClusterSize ?? members.length);
    // A member added when the cluster grew joins it and never forms one.
    const founder = members.length === 0 || founders.some((member) => member.name === options.memberName);
    const certificate: MemberCertificatePart | undefined = options.peerTls && memberCertificatePart(options.peerTls, {
        memberName: options.memberName,
        metadataEnvironmentFile: os.metadataEnvironmentFile,
        privateIpVariable: os.privateIpv4Variable,
    }, options.clientTls);
    const peerScheme: UrlScheme = certificate ? "https" : "http";
    const clientScheme = certificate?.clientScheme ?? "http";
    // etcdctl verifies the members with the CA it finds in the member's TLS directory, and with access control takes root's credentials from its caller.
    const etcdctlVolumes = clientScheme === "https" ? [memberTlsDirectory] : [];
    const etcdctlRun = (volumes: string[]) => `${imageRun(resolved, [...volumes, ...etcdctlVolumes], options.accessControl ? etcdctlCredentialVariables : [])} ` +
        `/usr/local/bin/etcdctl${certificate?.etcdctlOptions ?? ""}`;
    const access: AccessControlPart | undefined = options.accessControl ? accessControlPart({
        memberName: options.memberName,
        bucket: options.peerTls!.bucket,
        region: options.peerTls!.region,
        metadataEnvironmentFile: os.metadataEnvironmentFile,
        clientUrl: clientUrl(`\${${os.privateIpv4Variable}}`, clientScheme),
        etcdctl: etcdctlRun([]),
        curlOptions: `--cacert ${memberCertificateFiles.ca}`,
        tokenSigningKeyGeneration: options.tokenSigningKeyGeneration ?? 0,
    }) : undefined;
    // Every etcdctl of the members' own scripts, as root with access control.
    const memberEtcdctl = (volumes: string[]) => `${access?.etcdctlPrefix ?? ""}${etcdctlRun(volumes)}`;
    const formFlags = options.clusterToken !== undefined
        ? staticBootstrapFlags(founders, options.clusterToken, peerScheme) : discoveryBootstrapFlags(options.discoveryUrl!);
    const bootstrap = bootstrapPart({
        memberName: options.memberName,
        members,
        formFlags: founder ? formFlags : [],
        etcdctl: memberEtcdctl([]),
        metadataUnit: os.metadataUnit,
        metadataEnvironmentFile: os.metadataEnvironmentFile,
        privateIpVariable: os.privateIpv4Variable,
        dataDirectory: etcdDataDirectory,
        peerScheme,
        peerCurlOptions: certificate?.peerCurlOptions ?? "",
        clientScheme,
    });
    const maintenance = maintenancePart(options, {
        memberName: options.memberName,
        metadataEnvironmentFile: os.metadataEnvironmentFile,
        privateIpVariable: os.privateIpv4Variable,
    });
    const snapshots = options.snapshots && snapshotPart(options.snapshots, {
        memberName: options.memberName,
        metadataEnvironmentFile: os.metadataEnvironmentFile,
        privateIpVariable: os.privateIpv4Variable,
        imageRun: (volume) => imageRun(resolved, [volume]),
        etcdctl: (volume) => memberEtcdctl([volume]),
    });
    const restore = options.restore && restorePart(options.restore, imageRun(resolved, [etcdDataDirectory]));
    const units: UnitPart[] = [
        {
            name: etcdUnitName,
            enabled: true,
            contents: etcdUnit(resolved, {
                unitLines: dataVolume?.etcdUnitLines ?? [],
                serviceLines: [bootstrap, restore, certificate, access].flatMap((part) => part?.etcdServiceLines ?? []),
                // The certificate first: deciding how to start may ask a peer.
                startPre: [...certificate?.etcdStartPre ?? [], ...access?.etcdStartPre ?? [], ...bootstrap.etcdStartPre],
                flags: [...bootstrap.etcdFlags, ...certificate?.etcdFlags ?? [], ...access?.etcdFlags ?? []],
                volumes: [...certificate?.etcdVolumes ?? [], ...access?.etcdVolumes ?? []],
                peerScheme,
                clientScheme,
            }),
        },
        ...bootstrap.units,
        ...dataVolume?.units ?? [],
        ...maintenance.units,
        ...snapshots?.units ?? [],
        ...certificate?.units ?? [],
        ...access?.units ?? [],
    ];
    const files: FilePart[] = [
        ...bootstrap.files, ...maintenance.files, ...snapshots?.files ?? [], ...restore?.files ?? [], ...certificate?.files ?? [], ...access?.files ?? [],
    ];
    if (options.updateWindow) {
        files.push({ path: os.updateWindowFile.path, mode: 0o644, contents: os.updateWindowFile.contents(options.updateWindow) });
    }
    const config: IgnitionConfig = {
        ignition: { version: ignitionSpecVersion },
        storage: { directories: [etcdDataDirectory, ...snapshots?.directories ?? []].map((path) => ({ path, mode: 0o700 })) },
        // Units only something else starts carry no `enabled`: Ignition would otherwise try to disable them.
        systemd: { units: units.map(({ name, enabled, contents }) => (enabled ? { name, enabled, contents } : { name, contents })) },
    };
    config.storage.files = files.map(({ path, mode, contents }) => ({ path, mode, overwrite: true, contents: inlineContents(contents, fileEncoding) }));
    const keys = options.sshAuthorizedKeys ?? [];
    if (keys.length > 0) {
        config.passwd = { users: [{ name: os.loginUser, sshAuthorizedKeys: keys }] };
    }
    return config;
}

/**
 * The EC2 user data for one node: the Ignition config as compact JSON, or,
 * when that is over EC2's limit, the config compressed (`compressedConfig`)
 * with its files as text inside it, which compresses best, and when even that
 * is over, compressed with its scripts' comment lines left out. A config that
 * fits is kept as it is, readable in the console and unchanged for the
 * members that have it; the scripts keep their comments whenever they fit.
 */
export function renderUserData(options: EtcdNodeIgnitionOptions): string {
    const config = JSON.stringify(buildIgnitionConfig(options));
    const size = Buffer.byteLength(config, "utf8");
    if (size <= ec2UserDataLimitBytes) {
        return config;
    }
    const compressed = compressedConfig(JSON.stringify(buildIgnitionConfig(options, "text")));
    const compressedSize = Buffer.byteLength(compressed, "utf8");
    if (compressedSize <= ec2UserDataLimitBytes) {
        return compressed;
    }
    const bare = compressedConfig(JSON.stringify(buildIgnitionConfig(options, "text-without-comments")));
    const bareSize = Buffer.byteLength(bare, "utf8");
    if (bareSize > ec2UserDataLimitBytes) {
        throw new Error(`the Ignition config for ${options.memberName} is ${size} bytes, ${compressedSize} compressed, ${bareSize} compressed ` +
            `without its scripts' comments; EC2 accepts at most ${ec2UserDataLimitBytes}: give fewer or shorter sshAuthorizedKeys (an ed25519 key ` +
            "is the shortest), or leave out a feature");
    }
    return bare;
}

/**
 * `config` gzipped inside a one-line config that replaces itself with it:
 * Ignition reads the inline `data:` URL and decompresses it before any
 * stage acts, so the node gets exactly `config`.
 */
export function compressedConfig(config: string): string {
    const source = `data:;base64,${gzipSync(Buffer.from(config, "utf8"), { level: 9 }).toString("base64")}`;
    return JSON.stringify({ ignition: { version: ignitionSpecVersion, config: { replace: { source, compression: "gzip" } } } });
}
