/**
 * A new cluster built from a snapshot in S3 (`restoreFrom`), the members'
 * side: plain data in, a script and its settings out, no Pulumi.
 *
 * Each member that forms the cluster (a founding member with no data, while no
 * other member answers a quorum read: bootstrap.ts decides) restores the same
 * snapshot instead of starting empty: it downloads the object with its
 * instance profile's credentials and runs `etcdutl snapshot restore` with the
 * cluster's static member list and its new cluster token, so every member
 * starts from the same data as a new cluster. Revisions are bumped by a
 * billion and marked compacted, so a client watching from a revision it saw
 * before the restore is told to start again rather than shown revisions that
 * go back. A member that joins later, or whose data is lost later, joins the
 * running cluster as any member does: the snapshot is read only to form it.
 */
import type { FilePart } from "./bootstrap";
import { peerPort, shown } from "./etcd";
import { emptyPayloadSha256, isAwsRegion, s3ClientFragment } from "./s3-client";
import { isVirtualHostedBucketName } from "./snapshots";

/** The snapshot a new cluster starts from. */
export interface RestoreOptions {
    bucket: string;
    /** The bucket's region. */
    region: string;
    key: string;
}

/** Where the script is, and its settings (read by etcd's unit, whose start decision runs it). */
export const restoreScriptPath = "/opt/etcd3-cluster/etcd-member-restore";
export const restoreSettingsPath = "/etc/etcd3-cluster/restore.env";
/** How far revisions jump at a restore: more than a cluster writes between two snapshots. */
export const restoreRevisionBump = 1_000_000_000;

/** An object key the members can put in a URL as it is. */
const isRestoreKey = (value: unknown): value is string => typeof value === "string" && /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(value);

/** `s3://bucket/key` as bucket and key, or undefined unless it is one the members can read. */
export function parseRestoreSource(value: string): { bucket: string; key: string } | undefined {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(value);
    return match && isVirtualHostedBucketName(match[1]) && isRestoreKey(match[2]) ? { bucket: match[1], key: match[2] } : undefined;
}

/** Why the options cannot make a working restore. */
export function restoreProblems(options: RestoreOptions): string[] {
    const problems: string[] = [];
    if (!isVirtualHostedBucketName(options.bucket) || !isRestoreKey(options.key)) {
        problems.push(`restore ${shown(`s3://${options.bucket}/${options.key}`)}: use s3://<bucket>/<key>, a bucket name without dots and a key of ` +
            "letters, digits, \".\", \"_\", \"-\" in \"/\"-separated parts");
    }
    if (!isAwsRegion(options.region)) {
        problems.push(`restore region ${shown(options.region)}: use the bucket's AWS region, such as eu-west-2`);
    }
    return problems;
}

/**
 * `etcd-member-restore IP`: restores this member's data directory from the
 * snapshot, as a member of the cluster `$FORM_FLAGS` forms. The data appears
 * whole or not at all (moved into place last), so a failed run leaves nothing
 * behind that the next start would take for data.
 */
export const restoreScript = `#!/bin/bash
# Restores member $MEMBER_NAME's data from s3://$RESTORE_BUCKET/$RESTORE_KEY as it forms a new cluster.
set -euo pipefail
ip=$1
say() { echo "restore: $*"; }
${s3ClientFragment("RESTORE_BUCKET", "RESTORE_REGION")}
work=$ETCD_DATA_DIR/restore
rm -rf "$work"
mkdir -p "$work"
s3 "$RESTORE_KEY" ${emptyPayloadSha256} -o "$work/snapshot.db"
# The member list and the cluster's token; a restored member starts from its data, not as a new one.
flags=()
for flag in $FORM_FLAGS; do
    if [[ $flag != --initial-cluster-state=* ]]; then flags+=("$flag"); fi
done
$RESTORE_RUN /usr/local/bin/etcdutl snapshot restore "$work/snapshot.db" --name "$MEMBER_NAME" --data-dir "$work/data" \\
    --initial-advertise-peer-urls "$PEER_URL_SCHEME://\${ip}:${peerPort}" --bump-revision ${restoreRevisionBump} --mark-compacted "\${flags[@]}" > /dev/null
mv "$work/data/member" "$ETCD_DATA_DIR/member"
rm -rf "$work"
say "restored $MEMBER_NAME's data from s3://$RESTORE_BUCKET/$RESTORE_KEY, revisions bumped by ${restoreRevisionBump}"
`;

/** The script and its settings; `imageRun` runs the member's image with the data directory mounted, without the program. */
export function restorePart(options: RestoreOptions, imageRun: string): { files: FilePart[]; etcdServiceLines: string[] } {
    const settings = [
        `RESTORE_FROM=s3://${options.bucket}/${options.key}`,
        `RESTORE_BUCKET=${options.bucket}`,
        `RESTORE_REGION=${options.region}`,
        `RESTORE_KEY=${options.key}`,
        `RESTORE_RUN=${imageRun}`,
        `RESTORE_SCRIPT=${restoreScriptPath}`,
        "",
    ].join("\n");
    return {
        files: [
            { path: restoreScriptPath, mode: 0o755, contents: restoreScript },
            { path: restoreSettingsPath, mode: 0o644, contents: settings },
        ],
        etcdServiceLines: [`EnvironmentFile=${restoreSettingsPath}`],
    };
}
