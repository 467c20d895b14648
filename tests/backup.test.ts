/**
 * Snapshots to S3 in the resource graph (lib/backup.ts, Pulumi mocks): the
 * created bucket and its settings, the members' least-privilege policy read
 * whole, the instance profile on every member, and what a named bucket
 * changes.
 */
import { expect } from "chai";
import { calls, installMocks, recordChildOptions, resourcesOf, settle, uniqueName, userBucketInOtherRegion, valueOf } from "./support/pulumi-mocks";

installMocks();
import { Etcd3Cluster, Etcd3ClusterArgs } from "../lib";
import { restoreSettingsPath } from "../lib/restore";
import { snapshotSettingsPath } from "../lib/snapshots";
import { decodeInlineContents, InlineContents } from "../local/ignition-contents";

const BUCKET = "aws:s3/bucket:Bucket";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const PROFILE = "aws:iam/instanceProfile:InstanceProfile";
const INSTANCE = "aws:ec2/instance:Instance";
/** The mocks' created bucket: the prefix the component gives, then AWS's unique suffix. */
const createdBucket = (name: string) => `${name}-backups-20261126000000000000000001`;

async function build(args: Etcd3ClusterArgs) {
    const name = uniqueName();
    const recorder = recordChildOptions();
    const cluster = new Etcd3Cluster(name, { discoveryLogFile: false, ...args }, { transformations: [recorder.transformation] });
    await settle();
    const inputsOf = (type: string) => resourcesOf(name, type).map((resource) => ({ name: resource.name, inputs: resource.inputs }));
    return { name, cluster, inputsOf, children: recorder.children };
}

/** The settings file of the snapshot timer in a member's user data. */
function snapshotSettings(instance: { inputs: any }): string {
    const files: { path: string; contents: InlineContents }[] = JSON.parse(instance.inputs.userData).storage.files;
    const file = files.find((candidate) => candidate.path === snapshotSettingsPath);
    return file ? decodeInlineContents(file.contents) : "(none)";
}

describe("snapshots to S3 in the resource graph (lib/backup.ts, Pulumi mocks)", () => {
    describe("with a bucket the component creates", () => {
        let built: Awaited<ReturnType<typeof build>>;
        before(async () => {
            built = await build({ backups: true, backupRetentionDays: 14, tags: { team: "db" } });
        });

        it("creates the bucket, versioned, encrypted with S3's key, closed to the public, expiring snapshots under the prefix", () => {
            const { name, inputsOf } = built;
            const bucket = createdBucket(name);
            const ecosystemTags = { team: "db", ecosystem: "etcd3-cluster" };
            expect(inputsOf(BUCKET)).to.deep.equal([
                { name: `${name}-backups`, inputs: { bucketPrefix: `${name}-backups-`, tags: { ...ecosystemTags, Name: `${name}-backups` } } },
            ]);
            const settings = (type: string) => inputsOf(type).map((resource) => resource.inputs);
            expect(settings("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")).to.deep.equal([
                { bucket: `${name}-backups-id`, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            ]);
            expect(settings("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")).to.deep.equal([
                { bucket: `${name}-backups-id`, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
            ]);
            expect(settings("aws:s3/bucketVersioning:BucketVersioning")).to.deep.equal([
                { bucket: `${name}-backups-id`, versioningConfiguration: { status: "Enabled" } },
            ]);
            expect(settings("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")).to.deep.equal([{
                bucket: `${name}-backups-id`,
                rules: [{
                    id: "expire-snapshots", status: "Enabled", filter: { prefix: "etcd3-cluster/" }, expiration: { days: 14 },
                    noncurrentVersionExpiration: { noncurrentDays: 7 }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                }],
            }]);
            expect(bucket).to.match(/^[a-z0-9-]{3,63}$/);
        });

        it("keeps the bucket and each of its settings in AWS when they leave the stack, the lifecycle rule made after versioning", () => {
            const { name, children } = built;
            // The SDK's own `aliases` (the types' former V2 tokens) aside.
            const kept = [...children].filter(([, child]) => child.type.startsWith("aws:s3/"))
                .map(([child, { type, options: { aliases: _aliases, ...options } }]) => [child, type, options]);
            const component = { parent: name, retainOnDelete: true };
            expect(kept).to.deep.equal([
                [`${name}-backups`, BUCKET, component],
                [`${name}-backups-public-access`, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", component],
                [`${name}-backups-encryption`, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", component],
                [`${name}-backups-versioning`, "aws:s3/bucketVersioning:BucketVersioning", component],
                [`${name}-backups-lifecycle`, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                    { ...component, dependsOn: [`${name}-backups-versioning`] }],
            ]);
        });

        it("lets the members put objects under the prefix and list it, and nothing else", () => {
            const { name, inputsOf } = built;
            const bucketArn = `arn:aws:s3:::${createdBucket(name)}`;
            const [policy] = inputsOf(ROLE_POLICY);
            expect(policy.name).to.equal(`${name}-member-s3`);
            expect(policy.inputs.role).to.equal(`${name}-member-1234567`);
            expect(JSON.parse(policy.inputs.policy)).to.deep.equal({
                Version: "2012-10-17",
                Statement: [
                    { Sid: "PutSnapshots", Effect: "Allow", Action: "s3:PutObject", Resource: `${bucketArn}/etcd3-cluster/*` },
                    {
                        Sid: "ListSnapshots", Effect: "Allow", Action: "s3:ListBucket", Resource: bucketArn,
                        Condition: { StringLike: { "s3:prefix": "etcd3-cluster/*" } },
                    },
                ],
            });
            expect(inputsOf(ROLE_POLICY)).to.have.length(1);
        });

        it("gives the members a role only EC2 can take, through one instance profile", () => {
            const { name, inputsOf } = built;
            const tags = { team: "db", ecosystem: "etcd3-cluster" };
            expect(inputsOf(ROLE)).to.deep.equal([{
                name: `${name}-member`,
                inputs: {
                    description: `etcd members of ${name}: upload snapshots under etcd3-cluster/`,
                    assumeRolePolicy: JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
                    }),
                    tags,
                },
            }]);
            expect(inputsOf(PROFILE)).to.deep.equal([{ name: `${name}-member`, inputs: { role: `${name}-member-1234567`, tags } }]);
        });

        it("puts the instance profile on every member, each created after the role's policy", () => {
            const { name, inputsOf, children } = built;
            expect(inputsOf(INSTANCE).map((instance) => instance.inputs.iamInstanceProfile)).to.deep.equal(Array(3).fill(`${name}-member-1234567`));
            for (const index of [0, 1, 2]) {
                expect(children.get(`${name}-${index}`)!.options.dependsOn, `member ${index}`).to.include(`${name}-member-s3`);
            }
        });

        it("tells each member the bucket, its region and the prefix", () => {
            const { name } = built;
            const settings = resourcesOf(name, INSTANCE).map(snapshotSettings);
            expect(settings[0]).to.match(new RegExp(`^BACKUP_BUCKET=${createdBucket(name)}\nBACKUP_REGION=eu-west-2\nBACKUP_PREFIX=etcd3-cluster/\n`));
            expect(new Set(settings).size).to.equal(1);
        });

        it("says where the snapshots go", async () => {
            expect(await valueOf(built.cluster.backupLocation)).to.equal(`s3://${createdBucket(built.name)}/etcd3-cluster/`);
        });
    });

    describe("with a bucket the user names", () => {
        let built: Awaited<ReturnType<typeof build>>;
        before(async () => {
            built = await build({ backups: true, backupBucket: userBucketInOtherRegion.name, backupPrefix: "prod/kv/", backupIntervalMinutes: 60 });
        });

        it("creates no bucket and adds no rule to the user's", () => {
            expect(resourcesOf(built.name).filter((resource) => resource.type.startsWith("aws:s3/"))).to.deep.equal([]);
        });

        it("looks the bucket up, so one that is not there fails the preview", () => {
            expect(calls.filter((call) => call.token === "aws:s3/getBucket:getBucket" && call.inputs.bucket === userBucketInOtherRegion.name)).to.have.length(1);
        });

        it("limits the members to the given prefix of that bucket", () => {
            const [policy] = resourcesOf(built.name, ROLE_POLICY);
            const statements = JSON.parse(policy.inputs.policy).Statement;
            expect(statements.map((statement: any) => [statement.Action, statement.Resource, statement.Condition])).to.deep.equal([
                ["s3:PutObject", "arn:aws:s3:::ops-etcd-snapshots/prod/kv/*", undefined],
                ["s3:ListBucket", "arn:aws:s3:::ops-etcd-snapshots", { StringLike: { "s3:prefix": "prod/kv/*" } }],
            ]);
        });

        it("tells each member that bucket, the region AWS says it is in, and the prefix", async () => {
            const [settings] = resourcesOf(built.name, INSTANCE).map(snapshotSettings);
            expect(settings).to.match(/^BACKUP_BUCKET=ops-etcd-snapshots\nBACKUP_REGION=us-east-2\nBACKUP_PREFIX=prod\/kv\/\n/);
            expect(await valueOf(built.cluster.backupLocation)).to.equal("s3://ops-etcd-snapshots/prod/kv/");
        });
    });

    describe("restored from a snapshot (restoreFrom)", () => {
        const key = "etcd3-cluster/etcd-snapshot-rev-00000000000000001234-20261126T231500Z.db";
        let built: Awaited<ReturnType<typeof build>>;
        before(async () => {
            built = await build({ bootstrap: "static", restoreFrom: `s3://${userBucketInOtherRegion.name}/${key}` });
        });

        it("lets the members read that one object, and nothing else", () => {
            const [policy] = resourcesOf(built.name, ROLE_POLICY);
            expect(JSON.parse(policy.inputs.policy)).to.deep.equal({
                Version: "2012-10-17",
                Statement: [{ Sid: "GetRestoredSnapshot", Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::ops-etcd-snapshots/${key}` }],
            });
        });

        it("tells each member the snapshot, in the region AWS says its bucket is in, and gives it the instance profile", () => {
            const { name } = built;
            for (const instance of resourcesOf(name, INSTANCE)) {
                const files: { path: string; contents: InlineContents }[] = JSON.parse(instance.inputs.userData).storage.files;
                const settings = decodeInlineContents(files.find((file) => file.path === restoreSettingsPath)!.contents);
                expect(settings).to.match(new RegExp(`^RESTORE_FROM=s3://ops-etcd-snapshots/${key}\nRESTORE_BUCKET=ops-etcd-snapshots\n` +
                    `RESTORE_REGION=us-east-2\nRESTORE_KEY=${key}\n`));
                expect(instance.inputs.iamInstanceProfile).to.equal(`${name}-member-1234567`);
            }
        });

        it("describes the members' role by what it may read", () => {
            const [role] = resourcesOf(built.name, ROLE);
            expect(role.inputs.description).to.equal(`etcd members of ${built.name}: read s3://ops-etcd-snapshots/${key}`);
        });

        it("creates no bucket and no backups", async () => {
            expect(resourcesOf(built.name, BUCKET)).to.deep.equal([]);
            expect(await valueOf(built.cluster.backupLocation)).to.equal(undefined);
        });
    });

    describe("without backups", () => {
        it("creates no bucket, role or profile, gives the members no profile, and says nothing of a location", async () => {
            const { name, cluster, inputsOf } = await build({});
            const backupTypes = [BUCKET, ROLE, ROLE_POLICY, PROFILE];
            expect(resourcesOf(name).filter((resource) => backupTypes.includes(resource.type))).to.deep.equal([]);
            expect(inputsOf(INSTANCE).map((instance) => instance.inputs.iamInstanceProfile)).to.deep.equal([undefined, undefined, undefined]);
            expect(resourcesOf(name, INSTANCE).map(snapshotSettings)).to.deep.equal(["(none)", "(none)", "(none)"]);
            expect(await valueOf(cluster.backupLocation)).to.equal(undefined);
        });
    });
});
