/**
 * Facts about etcd itself: its ports, images and which release branches can
 * run this cluster, form it by v2 discovery and serve the seed's v2 REST API.
 */

/** Clients (REST, gRPC, /health) talk to a member here. */
export const clientPort = 2379;
/** A member's client URL, as etcd advertises it and `clientEndpoints` give it. */
export const clientUrl = (ip: string, scheme: UrlScheme) => `${scheme}://${ip}:${clientPort}`;
/** Members talk raft to each other here. */
export const peerPort = 2380;
/** A port's scheme: `https` where the members serve TLS with their certificates (member-certificate.ts). */
export type UrlScheme = "http" | "https";
/** A member's peer URL, as etcd advertises it and the member list holds it. */
export const peerUrl = (ip: string, scheme: UrlScheme) => `${scheme}://${ip}:${peerPort}`;
/** Members serve `/metrics` and `/health` here too, apart from client traffic (`--listen-metrics-urls`). */
export const metricsPort = 2381;

/** A fully qualified DNS name: at least two labels of letters, digits and inner hyphens, at most 253 characters. */
export function isDnsName(value: string): boolean {
    const name = value.endsWith(".") ? value.slice(0, -1) : value;
    const labels = name.split(".");
    return name.length <= 253 && labels.length >= 2 &&
        labels.every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(label));
}

/** Where the official multi-arch etcd images are published. */
export const defaultImageRepository = "gcr.io/etcd-development/etcd";

/** The latest patch of the newest branch that still serves the v2 API the seed's curl session uses. */
export const defaultEtcdVersion = "v3.5.33";

/** etcd's own raft timing, in ms; the member flags are passed only when the user sets other values. */
export const etcdTimingDefaults = { heartbeatIntervalMs: 100, electionTimeoutMs: 1000 } as const;

/** Cluster sizes etcd is meant to run at: odd (even sizes add no fault tolerance) and at most 7. */
export const supportedClusterSizes: readonly number[] = [1, 3, 5, 7];

interface ReleaseBranch {
    /** `--enable-v2` exists and turns on `/v2/keys`, `/v2/stats/*` (removed in 3.6). */
    readonly servesV2Api: boolean;
    /** `--discovery <url>` forms a cluster through a v2 discovery service (removed in 3.7). */
    readonly formsByV2Discovery: boolean;
}

/** The supported branches (3.4 is end of life). */
const releaseBranches: Readonly<Record<string, ReleaseBranch>> = {
    "3.5": { servesV2Api: true, formsByV2Discovery: true },
    "3.6": { servesV2Api: false, formsByV2Discovery: true },
    "3.7": { servesV2Api: false, formsByV2Discovery: false },
};

export interface EtcdRelease {
    /** Normalised image tag, e.g. `v3.5.33`. */
    readonly tag: string;
    /** `major.minor`, e.g. `3.5`. */
    readonly branch: string;
    /** `[major, minor, patch]`, for ordering releases. */
    readonly numbers: readonly [number, number, number];
    readonly servesV2Api: boolean;
    readonly formsByV2Discovery: boolean;
}

/** Parses `v3.5.33` or `3.5.33`; returns undefined for anything else or an unsupported branch. */
export function parseEtcdRelease(version: string): EtcdRelease | undefined {
    const match = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version.trim());
    if (!match) {
        return undefined;
    }
    const branch = `${match[1]}.${match[2]}`;
    const facts = releaseBranches[branch];
    if (!facts) {
        return undefined;
    }
    const numbers = [Number(match[1]), Number(match[2]), Number(match[3])] as const;
    return { tag: `v${numbers.join(".")}`, branch, numbers, ...facts };
}

export const supportedEtcdBranches = Object.keys(releaseBranches);

/**
 * A member name goes into `--name=`, `--initial-cluster=` and `Description=`
 * unquoted: letters, digits, `.`, `_` and `-` are all systemd passes through as
 * they are (no whitespace to split on, no `$` or `%` to expand, no quotes or
 * escapes) and none of them is a separator of `--initial-cluster`.
 */
export const isMemberName = (value: unknown): value is string => typeof value === "string" && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value);

/** How a value is quoted in an error: strings in quotes, anything else (undefined, NaN) as itself. */
export const shown = (value: unknown) => (typeof value === "string" ? JSON.stringify(value) : String(value));

/** Why `generation` (of a CA or a key, one more each rotation) is not a whole number from 0, named as `name`; none when it is. */
export const generationProblems = (generation: unknown, name: string): string[] =>
    (isWholeNumberIn(generation, 0, Infinity) ? [] : [`${name} ${shown(generation)}: use a whole number from 0`]);

export const isWholeNumberIn = (value: unknown, min: number, max: number): value is number =>
    typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;

/** A registry host (optional port) and path, no tag: the release's tag is appended to it. */
const imageRepositoryPattern = /^[a-z0-9.-]+(?::(\d+))?(\/[a-z0-9._-]+)+$/;

export function isImageRepository(value: string): boolean {
    const match = imageRepositoryPattern.exec(value);
    return match !== null && (match[1] === undefined || isWholeNumberIn(Number(match[1]), 1, 65535));
}

/** The port an image repository's registry is reached on: the one its host names, else HTTPS's 443. */
export function registryPort(repository: string): number {
    const port = imageRepositoryPattern.exec(repository)?.[1];
    return port === undefined ? 443 : Number(port);
}

/** etcd's limits: it refuses to start with an election timeout under 5 heartbeats or over 50 s. */
export const etcdTimingLimits = { minHeartbeatIntervalMs: 10, maxHeartbeatIntervalMs: 5000, maxElectionTimeoutMs: 50000, minElectionHeartbeats: 5 } as const;

/**
 * Problems with `--heartbeat-interval` / `--election-timeout` values that
 * would keep etcd from starting; one not given counts as etcd's default.
 */
export function etcdTimingProblems(heartbeatIntervalMs: unknown, electionTimeoutMs: unknown): string[] {
    const limits = etcdTimingLimits;
    const problems: string[] = [];
    if (heartbeatIntervalMs !== undefined && !isWholeNumberIn(heartbeatIntervalMs, limits.minHeartbeatIntervalMs, limits.maxHeartbeatIntervalMs)) {
        problems.push(`heartbeatIntervalMs ${shown(heartbeatIntervalMs)}: use a whole number of ms from ` +
            `${limits.minHeartbeatIntervalMs} to ${limits.maxHeartbeatIntervalMs}, or leave it out for etcd's default of ${etcdTimingDefaults.heartbeatIntervalMs}`);
        return problems;
    }
    const heartbeat = heartbeatIntervalMs ?? etcdTimingDefaults.heartbeatIntervalMs;
    const election = electionTimeoutMs ?? etcdTimingDefaults.electionTimeoutMs;
    const minElection = limits.minElectionHeartbeats * heartbeat;
    if (!isWholeNumberIn(election, minElection, limits.maxElectionTimeoutMs)) {
        const given = electionTimeoutMs === undefined ? `(not given: etcd's default of ${etcdTimingDefaults.electionTimeoutMs})` : shown(electionTimeoutMs);
        problems.push(`electionTimeoutMs ${given}: use a whole number of ms from ${limits.minElectionHeartbeats} × heartbeatIntervalMs ` +
            `(${minElection}) to ${limits.maxElectionTimeoutMs}, as etcd itself requires`);
    }
    return problems;
}

/** Negative, zero or positive as release `a` is older than, the same as, or newer than `b`. */
export function compareReleases(a: EtcdRelease, b: EtcdRelease): number {
    return a.numbers[0] - b.numbers[0] || a.numbers[1] - b.numbers[1] || a.numbers[2] - b.numbers[2];
}

/**
 * The minor upgrades a running cluster can roll through, member by member, with
 * the oldest patch upstream's upgrade guide names as safe to start from.
 */
export const minorUpgrades: Readonly<Record<string, { to: string; fromPatch: number }>> = {
    "3.5": { to: "3.6", fromPatch: 32 },
    "3.6": { to: "3.7", fromPatch: 11 },
};

/** What a member runs: its release and whether it serves the v2 API. */
export interface EtcdVersionFacts {
    etcdVersion: string;
    enableV2Api: boolean;
}

/**
 * Why a running cluster cannot roll from `old` to `next`, or undefined if it can.
 * etcd's rules: patches roll freely; one minor at a time, from a patch the
 * upgrade guide names; 3.6 refuses to start on a v2 store holding data, so the
 * v2 API must be off before; a downgrade is refused (a member of an older
 * release cannot read a newer member's data).
 */
export function etcdUpgradeProblem(old: EtcdVersionFacts, next: EtcdVersionFacts): string | undefined {
    const [from, to] = [parseEtcdRelease(old.etcdVersion), parseEtcdRelease(next.etcdVersion)];
    if (!from || !to || from.branch === to.branch) {
        return undefined;
    }
    if (compareReleases(to, from) < 0) {
        return `etcdVersion cannot go down from ${from.tag} to ${to.tag}: members of an older minor release cannot read the newer one's data, ` +
            `and etcd's downgrade needs a cluster-wide downgrade job this component does not run. Keep etcdVersion at ${from.branch}.x.`;
    }
    const upgrade = minorUpgrades[from.branch];
    if (!upgrade || upgrade.to !== to.branch) {
        return `etcdVersion cannot go from ${from.tag} to ${to.tag} in one roll: etcd upgrades one minor release at a time ` +
            `(${Object.entries(minorUpgrades).map(([a, u]) => `${a} → ${u.to}`).join(", ")}).`;
    }
    const steps: string[] = [];
    if (from.numbers[2] < upgrade.fromPatch) {
        steps.push(`roll to v${from.branch}.${upgrade.fromPatch} or later first (etcd's upgrade guide names it as the oldest ${from.branch} patch to upgrade from)`);
    }
    if (old.enableV2Api) {
        steps.push("roll with enableV2Api: false first, after moving any data out of the v2 key space " +
            `(etcd ${to.branch} refuses to start on a v2 store holding data; \`etcdutl check v2store\` on a member's snapshot tells)`);
    }
    return steps.length === 0 ? undefined
        : `etcdVersion cannot go from ${from.tag} to ${to.tag} yet: ${steps.join("; and ")}. Then set etcdVersion to ${to.tag} again.`;
}
