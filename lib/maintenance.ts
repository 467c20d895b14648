/**
 * The upkeep every member does by itself, so that a cluster left alone for a
 * year still accepts writes: plain data in, etcd flags, units and a script
 * out, no Pulumi.
 *
 * - **Space.** etcd keeps every revision until compacted and turns read-only
 *   (the `NOSPACE` alarm) when its backend reaches `--quota-backend-bytes`.
 *   Compaction (periodic, an hour of history kept) frees pages inside the
 *   backend; only defragmentation gives them back to the file system.
 * - **Defragmentation**, `etcd-member-defragment.timer`: once a day at a time
 *   derived from the member's slot (plan.ts), so no two members ever
 *   defragment at once (a member does nothing else while it does). It
 *   defragments the local member only, only when every member is healthy, and
 *   only when a tenth of the backend or more is free; every decision is in the
 *   journal (`journalctl -u etcd-member-defragment`).
 * - **Metrics** on their own port (`--listen-metrics-urls`): `/metrics` and
 *   `/health` for monitoring, reachable from `clientCidrs`.
 */
import type { FilePart } from "./bootstrap";
import { bootstrapSettingsPath, etcdUnitName, promoteUnitName } from "./bootstrap";
import type { UnitPart } from "./data-volume";
import { clientPort, isWholeNumberIn, metricsPort, shown } from "./etcd";

/** A time of day, UTC. */
export interface DailyTime {
    hourUtc: number;
    minute: number;
}

/** What each member keeps up by itself; a setting left out is etcd's own default (and no defragmentation timer). */
export interface MaintenanceOptions {
    /** etcd's `--quota-backend-bytes`, in MiB. */
    quotaBackendMiB?: number;
    /** etcd's `--snapshot-count`: applied entries between two snapshots of the raft log. */
    snapshotCount?: number;
    /** When the member defragments its backend each day. */
    defragmentationTime?: DailyTime;
}

export const defragmentServiceName = "etcd-member-defragment.service";
export const defragmentTimerName = "etcd-member-defragment.timer";
export const defragmentScriptPath = "/opt/etcd3-cluster/etcd-member-defragment";
/** The share of the backend, in percent, that must be free for a defragmentation to be worth its pause. */
export const defragmentMinFreePercent = 10;

/** The limits the arguments are checked against (args.ts) and the builder checks again. */
export const maintenanceLimits = {
    /** Small enough to fill in a test; etcd's own default is 2048. */
    minQuotaBackendMiB: 16,
    /** etcd warns above 8 GiB: larger backends make snapshots, defragmentation and restarts slow. */
    maxQuotaBackendMiB: 8192,
    minSnapshotCount: 1000,
    maxSnapshotCount: 1_000_000,
} as const;

/** Why the maintenance options cannot make a working member, one problem a line. */
export function maintenanceProblems(options: MaintenanceOptions): string[] {
    const limits = maintenanceLimits;
    const problems: string[] = [];
    const { quotaBackendMiB, snapshotCount, defragmentationTime } = options;
    if (quotaBackendMiB !== undefined && !isWholeNumberIn(quotaBackendMiB, limits.minQuotaBackendMiB, limits.maxQuotaBackendMiB)) {
        problems.push(`quotaBackendMiB ${shown(quotaBackendMiB)}: use a whole number of MiB from ${limits.minQuotaBackendMiB} to ${limits.maxQuotaBackendMiB}`);
    }
    if (snapshotCount !== undefined && !isWholeNumberIn(snapshotCount, limits.minSnapshotCount, limits.maxSnapshotCount)) {
        problems.push(`snapshotCount ${shown(snapshotCount)}: use a whole number from ${limits.minSnapshotCount} to ${limits.maxSnapshotCount}`);
    }
    if (defragmentationTime !== undefined &&
        !(isWholeNumberIn(defragmentationTime?.hourUtc, 0, 23) && isWholeNumberIn(defragmentationTime?.minute, 0, 59))) {
        problems.push(`defragmentationTime ${JSON.stringify(defragmentationTime)}: use { hourUtc: 0 to 23, minute: 0 to 59 }`);
    }
    return problems;
}

/** The etcd flags of the maintenance settings, with metrics on their own port. */
export function maintenanceFlags(options: MaintenanceOptions): string[] {
    return [
        // Keeps the v3 store from growing without bound on a cluster nobody compacts; an hour of history lets watchers resume.
        "--auto-compaction-mode=periodic",
        "--auto-compaction-retention=1h",
        ...options.quotaBackendMiB !== undefined ? [`--quota-backend-bytes=${options.quotaBackendMiB * 1024 * 1024}`] : [],
        ...options.snapshotCount !== undefined ? [`--snapshot-count=${options.snapshotCount}`] : [],
        `--listen-metrics-urls=http://0.0.0.0:${metricsPort}`,
    ];
}

/**
 * `etcd-member-defragment IP`: defragments the member at IP when the cluster
 * is healthy and enough of its backend is free. bash, coreutils and etcdctl
 * (from the member's image, `$ETCDCTL`) only. A skip is no failure: the timer
 * tries again the next day.
 */
export const defragmentScript = `#!/bin/bash
# Defragments etcd member $MEMBER_NAME's backend (this member's only) when every member is healthy
# and at least ${defragmentMinFreePercent} % of the backend is free. Settings: ${bootstrapSettingsPath}.
set -euo pipefail
ip=$1
url="$CLIENT_URL_SCHEME://\${ip}:${clientPort}"
say() { echo "defragment: $*"; }
# Answers take seconds; a defragmentation rewrites the whole backend and takes as long as it takes.
ctl() { $ETCDCTL --dial-timeout=3s --command-timeout=15s --endpoints="$url" "$@"; }
# A number from \`endpoint status -w json\`.
field() { [[ $2 =~ \\"$1\\":([0-9]+) ]] && echo "\${BASH_REMATCH[1]}"; }

if ! health=$(ctl endpoint health --cluster 2>&1); then
    say "skipped: not every member is healthy, and a member that defragments answers nothing until it is done:"
    say "$health"
    exit 0
fi
status=$(ctl endpoint status -w json)
size=$(field dbSize "$status") in_use=$(field dbSizeInUse "$status")
free=$(( size - in_use ))
if (( free * 100 < size * ${defragmentMinFreePercent} )); then
    say "skipped: $free of the backend's $size bytes are free, less than ${defragmentMinFreePercent} %"
    exit 0
fi
say "defragmenting $MEMBER_NAME: $free of the backend's $size bytes are free"
ctl --command-timeout=10m defrag > /dev/null
say "defragmented $MEMBER_NAME: the backend went from $size to $(field dbSize "$(ctl endpoint status -w json)") bytes"
`;

/** `HH:MM`. */
const clockTime = ({ hourUtc, minute }: DailyTime) => [hourUtc, minute].map((value) => String(value).padStart(2, "0")).join(":");

/** `*-*-* HH:MM:00 UTC`, the calendar event of a daily time. */
export function dailyCalendarEvent(time: DailyTime): string {
    return `*-*-* ${clockTime(time)}:00 UTC`;
}

/** What the member's units need to run etcdctl against it: the file with its private IP, and the variable it is in. */
export interface MaintenanceContext {
    memberName: string;
    metadataEnvironmentFile: string;
    privateIpVariable: string;
}

/** The defragmentation timer, its service and script; none without a defragmentation time. */
export function maintenancePart(options: MaintenanceOptions, context: MaintenanceContext): { units: UnitPart[]; files: FilePart[] } {
    const time = options.defragmentationTime;
    if (time === undefined) {
        return { units: [], files: [] };
    }
    return {
        units: timedOneshot({
            timerName: defragmentTimerName,
            serviceName: defragmentServiceName,
            description: `Defragment etcd member ${context.memberName}'s backend if every member is healthy and enough of it is free`,
            timerDescription: `Defragment etcd member ${context.memberName}'s backend daily at ${clockTime(time)} UTC, a time no other member uses`,
            calendar: dailyCalendarEvent(time),
            environmentFiles: [context.metadataEnvironmentFile, bootstrapSettingsPath],
            command: `/bin/bash ${defragmentScriptPath} \${${context.privateIpVariable}}`,
        }),
        files: [{ path: defragmentScriptPath, mode: 0o755, contents: defragmentScript }],
    };
}

/** A member's job its timer starts: what it runs, with which settings, and when. */
export interface TimedOneshot {
    timerName: string;
    serviceName: string;
    /** The service's description, and the timer's. */
    description: string;
    timerDescription: string;
    /** The timer's `OnCalendar=`. */
    calendar: string;
    environmentFiles: string[];
    command: string;
}

/**
 * The timer, enabled, and the oneshot it starts, which nothing else starts.
 * The oneshot comes after etcd and the promotion: a member still starting or
 * joining is skipped by the job's own checks. A missed run is not made up at
 * boot (`Persistent=false`): the next time comes soon enough, and a catch-up
 * of a staggered job could meet another member's.
 */
export function timedOneshot(job: TimedOneshot): UnitPart[] {
    const service = [
        "[Unit]",
        `Description=${job.description}`,
        `After=${etcdUnitName} ${promoteUnitName}`,
        "",
        "[Service]",
        "Type=oneshot",
        ...job.environmentFiles.map((file) => `EnvironmentFile=${file}`),
        `ExecStart=${job.command}`,
        "",
    ].join("\n");
    const timer = [
        "[Unit]",
        `Description=${job.timerDescription}`,
        "",
        "[Timer]",
        `OnCalendar=${job.calendar}`,
        "Persistent=false",
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
    ].join("\n");
    return [{ name: job.timerName, enabled: true, contents: timer }, { name: job.serviceName, enabled: false, contents: service }];
}
