/**
 * Snapshots of the cluster's data to S3, taken on the members themselves:
 * plain data in, a timer, its service and a script out, no Pulumi (the bucket
 * and the members' permissions are backup.ts).
 *
 * - **Every member's timer fires, one member uploads**: the script goes on
 *   only on the member that leads the cluster (`endpoint status`: its member
 *   id is the leader's), so a cluster of N makes one copy, not N, and a
 *   leader lost mid-way is replaced by the next leader at the next interval.
 * - **Unchanged data is skipped**: an object is named by the revision it
 *   holds; when the bucket already has one of the current revision (nothing
 *   was written since), nothing is taken.
 * - **An upload counts only once checked**: S3 verifies the body against its
 *   Content-MD5 and the signed SHA-256, and the script then lists the object
 *   and compares its size with the file's.
 * - **Nothing but bash, coreutils and curl** on the host, and etcdctl/etcdutl
 *   from the member's own image: credentials come from the instance profile
 *   through IMDSv2, and curl signs the requests itself (`--aws-sigv4`).
 *   Virtual-hosted URLs over HTTPS, so the bucket's name has no dots (S3's
 *   certificate would not match it).
 */
import type { FilePart } from "./bootstrap";
import { bootstrapSettingsPath } from "./bootstrap";
import type { UnitPart } from "./data-volume";
import { clientPort, isWholeNumberIn, shown } from "./etcd";
import { timedOneshot } from "./maintenance";
import { emptyPayloadSha256, isAwsRegion, s3ClientFragment } from "./s3-client";

/** Where a member uploads its snapshots, and how often it tries. */
export interface SnapshotOptions {
    /** The bucket's name. */
    bucket: string;
    /** The bucket's region (`eu-west-2`). */
    region: string;
    /** Every object's key starts with it, e.g. `etcd3-cluster/`. */
    prefix: string;
    /** Minutes between two attempts (see `snapshotIntervals`). */
    intervalMinutes: number;
}

export const snapshotServiceName = "etcd-member-snapshot.service";
export const snapshotTimerName = "etcd-member-snapshot.timer";
export const snapshotScriptPath = "/opt/etcd3-cluster/etcd-member-snapshot";
/** The bucket, region and prefix, and how to run the image's tools with the snapshot directory mounted. */
export const snapshotSettingsPath = "/etc/etcd3-cluster/snapshot.env";
/** Where a snapshot is written before its upload (the root volume), emptied after each run. */
export const snapshotWorkDirectory = "/var/lib/etcd3-cluster-snapshot";
/** What the object names start with after the prefix: the revision follows, 20 digits so that names sort by revision. */
export const snapshotObjectStem = "etcd-snapshot-rev-";
/** S3 takes at most 5 GiB in one PUT; the script uploads in one, so a backend must stay below it (see args.ts). */
export const maxSnapshotUploadMiB = 5 * 1024;

/**
 * The intervals a timer can keep in step with the clock: those that divide an
 * hour, and those that divide a day into whole hours.
 */
export const snapshotIntervals: readonly number[] = [5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440];

/** The object key for a snapshot of `revision` taken at `time`: `<prefix>etcd-snapshot-rev-<20 digits>-<YYYYMMDDTHHMMSSZ>.db`. */
export function snapshotObjectKey(prefix: string, revision: number, time: Date): string {
    const stamp = time.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
    return `${prefix}${snapshotObjectStem}${String(revision).padStart(20, "0")}-${stamp}.db`;
}

/** S3 bucket names that also work in a virtual-hosted HTTPS URL: 3 to 63 lowercase letters, digits and hyphens, no dots. */
export const isVirtualHostedBucketName = (value: unknown): value is string =>
    typeof value === "string" && /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(value) && !value.startsWith("xn--") &&
    !value.startsWith("sthree-") && !value.endsWith("-s3alias") && !value.endsWith("--ol-s3");

/** A key prefix the script can put in a URL and a query as it is (only `/` needs encoding there): ends with `/`. */
export const isSnapshotPrefix = (value: unknown): value is string =>
    typeof value === "string" && value.length <= 200 && /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/.test(value);

/** Why the user's choices cannot make a working snapshot timer: the bucket (when named), the prefix and the interval. */
export function snapshotSettingsProblems(settings: Pick<SnapshotOptions, "prefix" | "intervalMinutes"> & { bucket?: string }): string[] {
    const problems: string[] = [];
    if (settings.bucket !== undefined && !isVirtualHostedBucketName(settings.bucket)) {
        problems.push(`backupBucket ${shown(settings.bucket)}: use an S3 bucket name of 3 to 63 lowercase letters, digits and hyphens; ` +
            "a name with dots does not match S3's certificate in the HTTPS URL the members upload to");
    }
    if (!isSnapshotPrefix(settings.prefix)) {
        problems.push(`backupPrefix ${shown(settings.prefix)}: use up to 200 letters, digits, ".", "_", "-" in "/"-separated parts, ending with "/", ` +
            "e.g. etcd3-cluster/");
    }
    if (!isWholeNumberIn(settings.intervalMinutes, 1, 1440) || !snapshotIntervals.includes(settings.intervalMinutes)) {
        problems.push(`backupIntervalMinutes ${shown(settings.intervalMinutes)}: use one of ${snapshotIntervals.join(", ")} ` +
            "(they divide an hour or a day, so the timer keeps in step with the clock)");
    }
    return problems;
}

/** Why the options cannot make a working snapshot timer, one problem a line. */
export function snapshotProblems(options: SnapshotOptions): string[] {
    const problems = snapshotSettingsProblems(options);
    if (options.bucket === undefined) {
        problems.push("backupBucket: give the bucket the snapshots go to");
    }
    if (!isAwsRegion(options.region)) {
        problems.push(`backup region ${shown(options.region)}: use the bucket's AWS region, such as eu-west-2`);
    }
    return problems;
}

/** The timer's calendar event: every `intervalMinutes`, on the hour's or the day's boundaries, UTC. */
export function snapshotCalendarEvent(intervalMinutes: number): string {
    return intervalMinutes < 60 ? `*-*-* *:00/${intervalMinutes}:00 UTC` : `*-*-* 00/${intervalMinutes / 60}:00:00 UTC`;
}

/**
 * `etcd-member-snapshot IP`: on the leader only, takes a snapshot through the
 * member at IP and uploads it, unless the bucket has its revision already.
 * A skip is no failure; a failed upload fails the unit (and so shows in
 * `systemctl --failed` and the journal), and the next interval tries again.
 */
export const snapshotScript = `#!/bin/bash
# Uploads a snapshot of etcd to s3://$BACKUP_BUCKET/$BACKUP_PREFIX on the leader, unless one of this revision is there.
set -euo pipefail
ip=$1
url="$CLIENT_URL_SCHEME://\${ip}:${clientPort}"
say() { echo "snapshot: $*"; }
ctl() { $ETCDCTL --dial-timeout=3s --command-timeout=15s --endpoints="$url" "$@"; }
# A number of a JSON answer.
number() { [[ $2 =~ \\"$1\\":([0-9]+) ]] && echo "\${BASH_REMATCH[1]}"; }

status=$(ctl endpoint status -w json)
member=$(number member_id "$status") leader=$(number leader "$status") revision=$(number revision "$status")
if [[ $member != "$leader" ]]; then
    say "skipped: $MEMBER_NAME does not lead the cluster; the leader takes the snapshots"
    exit 0
fi

${s3ClientFragment("BACKUP_BUCKET", "BACKUP_REGION")}
# The first object whose key starts with $1 (a key prefix), as ListObjectsV2 answers.
first_object() { s3 "?list-type=2&max-keys=1&prefix=\${1//\\//%2F}" ${emptyPayloadSha256}; }
revision_key() { printf '%s${snapshotObjectStem}%020d-' "$BACKUP_PREFIX" "$1"; }

if [[ $(first_object "$(revision_key "$revision")") == *"<Key>"* ]]; then
    say "skipped: s3://$BACKUP_BUCKET/$BACKUP_PREFIX has a snapshot of revision $revision already"
    exit 0
fi

work=${snapshotWorkDirectory}
rm -rf "\${work:?}"/*
trap 'rm -rf "\${work:?}"/*' EXIT
$SNAPSHOT_ETCDCTL --dial-timeout=3s --command-timeout=10m --endpoints="$url" snapshot save "$work/snapshot.db" > /dev/null
# The revision the file holds, which writes since the status may have moved on from.
revision=$(number revision "$($SNAPSHOT_RUN /usr/local/bin/etcdutl snapshot status -w json "$work/snapshot.db")")
key="$(revision_key "$revision")$(date -u +%Y%m%dT%H%M%SZ).db"
size=$(stat -c %s "$work/snapshot.db")
if (( size > ${maxSnapshotUploadMiB} * 1024 * 1024 )); then
    say "failed: the snapshot of revision $revision is $size bytes, and S3 takes at most 5 GiB in one upload: compact and defragment, or lower quotaBackendMiB"
    exit 1
fi
sha256=$(sha256sum "$work/snapshot.db") md5=$(md5sum "$work/snapshot.db")
content_md5=$(printf '%b' "$(sed 's/../\\\\x&/g' <<< "\${md5:0:32}")" | base64)
s3 "$key" "\${sha256:0:64}" -H "Content-MD5: $content_md5" -T "$work/snapshot.db" > /dev/null
listed=$(first_object "$key")
if [[ $listed != *"<Key>$key</Key>"* || $listed != *"<Size>$size</Size>"* ]]; then
    say "failed: s3://$BACKUP_BUCKET/$key was uploaded, but the bucket does not list it with the file's $size bytes:"
    say "$listed"
    exit 1
fi
say "uploaded revision $revision of the cluster ($size bytes) to s3://$BACKUP_BUCKET/$key"
`;

/** What the member's snapshot unit needs of the node: its name, the file with its private IP and the variable it is in, the image's tools. */
export interface SnapshotContext {
    memberName: string;
    metadataEnvironmentFile: string;
    privateIpVariable: string;
    /** The runtime's `run` of the member's image with the snapshot directory mounted, without the program. */
    imageRun: (volume: string) => string;
    /** The same, of its etcdctl with the options it reaches the members' client port with. */
    etcdctl: (volume: string) => string;
}

/** The snapshot timer, its service, script and settings. */
export function snapshotPart(options: SnapshotOptions, context: SnapshotContext): { units: UnitPart[]; files: FilePart[]; directories: string[] } {
    const settings = [
        `BACKUP_BUCKET=${options.bucket}`,
        `BACKUP_REGION=${options.region}`,
        `BACKUP_PREFIX=${options.prefix}`,
        `SNAPSHOT_RUN=${context.imageRun(snapshotWorkDirectory)}`,
        `SNAPSHOT_ETCDCTL=${context.etcdctl(snapshotWorkDirectory)}`,
        "",
    ].join("\n");
    return {
        units: timedOneshot({
            timerName: snapshotTimerName,
            serviceName: snapshotServiceName,
            description: `Upload a snapshot of etcd to S3 if member ${context.memberName} leads and the data changed`,
            timerDescription: `Snapshot etcd to S3 every ${options.intervalMinutes} minutes (the leader uploads; the others skip)`,
            calendar: snapshotCalendarEvent(options.intervalMinutes),
            environmentFiles: [context.metadataEnvironmentFile, bootstrapSettingsPath, snapshotSettingsPath],
            command: `/bin/bash ${snapshotScriptPath} \${${context.privateIpVariable}}`,
        }),
        files: [
            { path: snapshotScriptPath, mode: 0o755, contents: snapshotScript },
            { path: snapshotSettingsPath, mode: 0o644, contents: settings },
        ],
        directories: [snapshotWorkDirectory],
    };
}
