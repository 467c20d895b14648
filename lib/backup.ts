/**
 * Where the members' snapshots go (snapshots.ts takes them): a bucket the
 * component creates, or one the user names; the snapshot a new cluster is
 * restored from (restore.ts); and the members' instance profile, which may
 * put objects under the cluster's prefix and list them, and read the one
 * snapshot to restore, nothing else.
 *
 * A created bucket keeps its snapshots safe from the stack: versioned (an
 * overwritten or deleted snapshot stays as a former version), encrypted with
 * S3's own key (SSE-S3, which needs no KMS permission on the members), closed
 * to public access, with a lifecycle rule that expires snapshots after the
 * retention, and kept in AWS when the stack is destroyed (its snapshots are
 * what a restore needs). A bucket the user names is taken as it is: the
 * component adds no rule to it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { SecretStore } from "./tls";

/** How the snapshots are kept, as resolved from the arguments. */
export interface BackupSettings {
    /** An existing bucket's name; none: the component creates one. */
    bucket?: string;
    /** Every snapshot's key starts with it. */
    prefix: string;
    intervalMinutes: number;
    /** Days a created bucket keeps a snapshot; none for an existing bucket. */
    retentionDays?: number;
}

/** Days a former version of a snapshot (overwritten or deleted) is kept in a created bucket. */
export const formerVersionRetentionDays = 7;

/** What the members reach in S3, and the instance profile that lets them. */
export interface MemberStorage {
    /** With backups: the bucket the snapshots go to, and its region. */
    backupBucket?: { name: pulumi.Output<string>; region: pulumi.Output<string> };
    /** With `restoreFrom`: the snapshot's bucket, its region, and the key. */
    restoreSource?: { bucket: string; region: pulumi.Output<string>; key: string };
    /** With peer TLS: the secrets bucket the members read the peer CA from, and its region. */
    secretsBucket?: { name: pulumi.Output<string>; region: pulumi.Output<string> };
    /** The members' instance profile. */
    instanceProfile: aws.iam.InstanceProfile;
    /** The members' role (for users that add their own policies to it). */
    role: aws.iam.Role;
    /** The role's one policy: the members need it before their first boot reads or writes S3. */
    rolePolicy: aws.iam.RolePolicy;
    /** What a member's first boot reads or needs in place: the policy, and the secrets' objects. */
    bootDependencies: pulumi.Resource[];
}

/** The secrets a member's role may read: objects under prefixes of a bucket, encrypted with a KMS key in the bucket's region. */
export interface SecretsAccess {
    bucketArn: string;
    prefixes: string[];
    kmsKeyArn: string;
    region: string;
}

/**
 * The members' permissions. With backups: put snapshots under the prefix,
 * and list the prefix (to skip a revision uploaded already, and to check an
 * upload); no read, no delete, so a member cannot destroy a snapshot. With
 * `restoreFrom`: read that one object. With secrets: read the objects under
 * their prefix, and decrypt with their key only as S3 asks on the member's
 * behalf (`kms:ViaService`), so the key decrypts nothing else for them.
 */
export function memberStoragePolicy(access: {
    snapshots?: { bucketArn: string; prefix: string };
    restoreObjectArn?: string;
    secrets?: SecretsAccess;
}): string {
    const { snapshots, restoreObjectArn, secrets } = access;
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            ...snapshots ? [
                { Sid: "PutSnapshots", Effect: "Allow", Action: "s3:PutObject", Resource: `${snapshots.bucketArn}/${snapshots.prefix}*` },
                {
                    Sid: "ListSnapshots",
                    Effect: "Allow",
                    Action: "s3:ListBucket",
                    Resource: snapshots.bucketArn,
                    Condition: { StringLike: { "s3:prefix": `${snapshots.prefix}*` } },
                },
            ] : [],
            ...restoreObjectArn ? [{ Sid: "GetRestoredSnapshot", Effect: "Allow", Action: "s3:GetObject", Resource: restoreObjectArn }] : [],
            ...secrets ? [
                { Sid: "GetSecrets", Effect: "Allow", Action: "s3:GetObject", Resource: secrets.prefixes.map((prefix) => `${secrets.bucketArn}/${prefix}*`) },
                {
                    Sid: "DecryptSecrets",
                    Effect: "Allow",
                    Action: "kms:Decrypt",
                    Resource: secrets.kmsKeyArn,
                    Condition: { StringEquals: { "kms:ViaService": `s3.${secrets.region}.amazonaws.com` } },
                },
            ] : [],
        ],
    });
}

/** The role EC2 instances take, whose credentials reach a member through its instance metadata. */
const ec2AssumeRolePolicy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** The created bucket and its settings, all kept in AWS when they leave the stack. */
function createBucket(name: string, settings: BackupSettings, tags: Record<string, string>, parent: pulumi.Resource) {
    // Kept when the stack goes: the snapshots are what a restore of this cluster needs.
    const opts = { parent, retainOnDelete: true };
    const bucket = new aws.s3.Bucket(`${name}-backups`, { bucketPrefix: `${name}-backups-`, tags: { ...tags, Name: `${name}-backups` } }, opts);
    new aws.s3.BucketPublicAccessBlock(`${name}-backups-public-access`, {
        bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
    }, opts);
    new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-backups-encryption`, {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    }, opts);
    const versioning = new aws.s3.BucketVersioning(`${name}-backups-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, opts);
    // After versioning, as AWS's provider advises: the rule's former-version expiry is for a bucket that keeps them.
    new aws.s3.BucketLifecycleConfiguration(`${name}-backups-lifecycle`, {
        bucket: bucket.id,
        rules: [{
            id: "expire-snapshots",
            status: "Enabled",
            filter: { prefix: settings.prefix },
            expiration: { days: settings.retentionDays! },
            noncurrentVersionExpiration: { noncurrentDays: formerVersionRetentionDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        }],
    }, { ...opts, dependsOn: [versioning] });
    return { bucketName: bucket.bucket, bucketArn: bucket.arn, bucketRegion: bucket.region };
}

/** A bucket the user names, looked up so that one that does not exist (or is not this account's to see) fails the preview. */
function existingBucket(bucket: string, parent: pulumi.Resource) {
    const existing = aws.s3.getBucketOutput({ bucket }, { parent });
    return { bucketName: existing.bucket, bucketArn: existing.arn, bucketRegion: existing.region };
}

/** The buckets the members use, and their role; none when they use none. */
export function createMemberStorage(
    name: string,
    { backup, restore, secrets }: { backup?: BackupSettings; restore?: { bucket: string; key: string }; secrets?: SecretStore },
    tags: Record<string, string>,
    parent: pulumi.Resource,
): MemberStorage | undefined {
    if (!backup && !restore && !secrets) {
        return undefined;
    }
    const snapshots = backup && (backup.bucket === undefined ? createBucket(name, backup, tags, parent) : existingBucket(backup.bucket, parent));
    const source = restore && existingBucket(restore.bucket, parent);
    const role = new aws.iam.Role(`${name}-member`, {
        description: `etcd members of ${name}: ${[
            backup && `upload snapshots under ${backup.prefix}`,
            restore && `read s3://${restore.bucket}/${restore.key}`,
            secrets && `read their secrets under ${secrets.prefixes.join(", ")}`,
        ].filter(Boolean).join("; ")}`,
        assumeRolePolicy: ec2AssumeRolePolicy,
        tags,
    }, { parent });
    const rolePolicy = new aws.iam.RolePolicy(`${name}-member-s3`, {
        role: role.name,
        policy: pulumi.all([snapshots?.bucketArn, source?.bucketArn, secrets?.bucketArn, secrets?.kmsKeyArn, secrets?.region])
            .apply(([snapshotsArn, sourceArn, secretsArn, kmsKeyArn, secretsRegion]) => memberStoragePolicy({
                snapshots: snapshotsArn === undefined ? undefined : { bucketArn: snapshotsArn, prefix: backup!.prefix },
                restoreObjectArn: sourceArn === undefined ? undefined : `${sourceArn}/${restore!.key}`,
                secrets: secretsArn === undefined ? undefined
                    : { bucketArn: secretsArn, prefixes: secrets!.prefixes, kmsKeyArn: kmsKeyArn!, region: secretsRegion! },
            })),
    }, { parent });
    const instanceProfile = new aws.iam.InstanceProfile(`${name}-member`, { role: role.name, tags }, { parent });
    return {
        backupBucket: snapshots && { name: snapshots.bucketName, region: snapshots.bucketRegion },
        restoreSource: restore && source && { bucket: restore.bucket, region: source.bucketRegion, key: restore.key },
        secretsBucket: secrets && { name: secrets.bucketName, region: secrets.region },
        instanceProfile,
        role,
        rolePolicy,
        bootDependencies: [rolePolicy, ...secrets?.objects ?? []],
    };
}
