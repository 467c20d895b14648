/**
 * The harness's IAM policy evaluator (local/iam-policy.ts), which decides the
 * S3 stand-in's requests from a role's policy documents: IAM's evaluation for
 * what it plays, IAM's refusal of a document IAM would not store, and a
 * refusal by name of what it does not play.
 */
import { expect } from "chai";
import { assumedRoleArn, AuthorizationRequest, checkPolicyDocument, evaluatePolicies, issueRoleSession, MalformedPolicyDocument } from "../local/iam-policy";

const bucket = "etcd3-backups";
/** A policy document of one statement. */
const policy = (statement: Record<string, unknown>) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
const put = (key: string): AuthorizationRequest => ({ action: "s3:PutObject", resource: `arn:aws:s3:::${bucket}/${key}` });
const list = (prefix: string): AuthorizationRequest => ({ action: "s3:ListBucket", resource: `arn:aws:s3:::${bucket}`, context: { "s3:prefix": prefix } });

describe("local harness: the IAM policy evaluator", () => {
    describe("IAM's evaluation", () => {
        const putsUnderPrefix = policy({ Effect: "Allow", Action: "s3:PutObject", Resource: `arn:aws:s3:::${bucket}/etcd3/*` });

        it("allows what an Allow statement's action and resource match", () => {
            expect(evaluatePolicies([putsUnderPrefix], put("etcd3/snapshot.db"))).to.equal("allow");
        });

        it("denies by default: another action, another resource, no policy at all", () => {
            expect(evaluatePolicies([putsUnderPrefix], { action: "s3:GetObject", resource: `arn:aws:s3:::${bucket}/etcd3/snapshot.db` })).to.equal("implicit-deny");
            expect(evaluatePolicies([putsUnderPrefix], put("other/snapshot.db"))).to.equal("implicit-deny");
            expect(evaluatePolicies([putsUnderPrefix], { action: "s3:PutObject", resource: `arn:aws:s3:::other-bucket/etcd3/snapshot.db` })).to.equal("implicit-deny");
            expect(evaluatePolicies([], put("etcd3/snapshot.db"))).to.equal("implicit-deny");
        });

        it("lets an explicit Deny win over any Allow, in the same document or another", () => {
            const deny = { Effect: "Deny", Action: "s3:*", Resource: `arn:aws:s3:::${bucket}/etcd3/locked/*` };
            expect(evaluatePolicies([putsUnderPrefix, policy(deny)], put("etcd3/locked/snapshot.db"))).to.equal("explicit-deny");
            expect(evaluatePolicies([JSON.stringify({ Version: "2012-10-17", Statement: [deny, JSON.parse(putsUnderPrefix).Statement[0]] })],
                put("etcd3/locked/snapshot.db"))).to.equal("explicit-deny");
            expect(evaluatePolicies([putsUnderPrefix, policy(deny)], put("etcd3/snapshot.db"))).to.equal("allow");
        });

        it("matches actions with * and ?, case-insensitively, from a string or a list", () => {
            const resource = `arn:aws:s3:::${bucket}/*`;
            expect(evaluatePolicies([policy({ Effect: "Allow", Action: "s3:*", Resource: resource })], put("a"))).to.equal("allow");
            expect(evaluatePolicies([policy({ Effect: "Allow", Action: "*", Resource: resource })], put("a"))).to.equal("allow");
            expect(evaluatePolicies([policy({ Effect: "Allow", Action: "s3:put?bject", Resource: resource })], put("a"))).to.equal("allow");
            expect(evaluatePolicies([policy({ Effect: "Allow", Action: ["s3:GetObject", "S3:PUTOBJECT"], Resource: resource })], put("a"))).to.equal("allow");
            expect(evaluatePolicies([policy({ Effect: "Allow", Action: "s3:Get*", Resource: resource })], put("a"))).to.equal("implicit-deny");
            expect(evaluatePolicies([policy({ Effect: "Allow", Action: "ec2:*", Resource: "*" })], put("a"))).to.equal("implicit-deny");
        });

        it("matches resources with * and ?, case-sensitively, from a string or a list", () => {
            const allow = (resource: unknown) => [policy({ Effect: "Allow", Action: "s3:PutObject", Resource: resource })];
            expect(evaluatePolicies(allow("*"), put("a"))).to.equal("allow");
            expect(evaluatePolicies(allow(`arn:aws:s3:::${bucket}/snap-?.db`), put("snap-1.db"))).to.equal("allow");
            expect(evaluatePolicies(allow(`arn:aws:s3:::${bucket}/snap-?.db`), put("snap-10.db"))).to.equal("implicit-deny");
            expect(evaluatePolicies(allow(`arn:aws:s3:::${bucket}/ETCD3/*`), put("etcd3/a"))).to.equal("implicit-deny");
            expect(evaluatePolicies(allow(["arn:aws:s3:::other/*", `arn:aws:s3:::${bucket}/etcd3/*`]), put("etcd3/a"))).to.equal("allow");
            // The object ARN's wildcard does not match the bucket's own ARN, which ListBucket needs.
            expect(evaluatePolicies([policy({ Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${bucket}/*` })], list(""))).to.equal("implicit-deny");
            // A literal regular-expression character in an ARN is only itself.
            expect(evaluatePolicies(allow(`arn:aws:s3:::${bucket}/a.b`), put("aXb"))).to.equal("implicit-deny");
        });

        it("applies StringLike and StringEquals on s3:prefix: any value may match, and a request without the key fails the condition", () => {
            const listing = (operator: string, values: unknown) => [policy({
                Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${bucket}`, Condition: { [operator]: { "s3:prefix": values } },
            })];
            expect(evaluatePolicies(listing("StringLike", "etcd3/*"), list("etcd3/snap"))).to.equal("allow");
            expect(evaluatePolicies(listing("StringLike", "etcd3/*"), list("etcd3"))).to.equal("implicit-deny");
            expect(evaluatePolicies(listing("StringLike", "etcd3/*"), list(""))).to.equal("implicit-deny");
            expect(evaluatePolicies(listing("StringLike", ["", "etcd3/*"]), list(""))).to.equal("allow");
            expect(evaluatePolicies(listing("StringEquals", "etcd3/"), list("etcd3/"))).to.equal("allow");
            expect(evaluatePolicies(listing("StringEquals", "etcd3/*"), list("etcd3/snap"))).to.equal("implicit-deny");
            expect(evaluatePolicies(listing("StringEquals", "etcd3/"), list("ETCD3/"))).to.equal("implicit-deny");
            // Condition key names are case-insensitive, as in IAM.
            expect(evaluatePolicies([policy({
                Effect: "Allow", Action: "s3:ListBucket", Resource: "*", Condition: { StringLike: { "S3:Prefix": "etcd3/*" } },
            })], list("etcd3/a"))).to.equal("allow");
            expect(evaluatePolicies(listing("StringLike", "*"), { action: "s3:ListBucket", resource: `arn:aws:s3:::${bucket}` })).to.equal("implicit-deny");
        });

        it("applies StringEquals and StringLike on kms:ViaService, the service that asks KMS for the caller", () => {
            const keyArn = "arn:aws:kms:eu-west-2:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
            const decrypt = (viaService?: string): AuthorizationRequest => ({
                action: "kms:Decrypt", resource: keyArn, ...(viaService === undefined ? {} : { context: { "kms:viaservice": viaService } }),
            });
            const decryptVia = (operator: string, values: unknown) => [policy({
                Sid: "DecryptTlsSecrets", Effect: "Allow", Action: "kms:Decrypt", Resource: keyArn, Condition: { [operator]: { "kms:ViaService": values } },
            })];
            expect(evaluatePolicies(decryptVia("StringEquals", "s3.eu-west-2.amazonaws.com"), decrypt("s3.eu-west-2.amazonaws.com"))).to.equal("allow");
            expect(evaluatePolicies(decryptVia("StringEquals", "s3.eu-west-2.amazonaws.com"), decrypt("s3.us-east-1.amazonaws.com"))).to.equal("implicit-deny");
            expect(evaluatePolicies(decryptVia("StringEquals", "s3.eu-west-2.amazonaws.com"), decrypt("secretsmanager.eu-west-2.amazonaws.com")))
                .to.equal("implicit-deny");
            // Called directly, not through a service: no value, so the condition fails.
            expect(evaluatePolicies(decryptVia("StringEquals", "s3.eu-west-2.amazonaws.com"), decrypt())).to.equal("implicit-deny");
            expect(evaluatePolicies(decryptVia("StringLike", "s3.*.amazonaws.com"), decrypt("s3.us-east-1.amazonaws.com"))).to.equal("allow");
            expect(evaluatePolicies(decryptVia("StringLike", ["ec2.*.amazonaws.com", "s3.eu-*"]), decrypt("s3.eu-west-2.amazonaws.com"))).to.equal("allow");
            expect(evaluatePolicies(decryptVia("StringLike", "s3.*.amazonaws.com"), decrypt("ec2.eu-west-2.amazonaws.com"))).to.equal("implicit-deny");
            // The key name in any case, as IAM takes it.
            expect(evaluatePolicies([policy({ Effect: "Allow", Action: "kms:Decrypt", Resource: "*", Condition: { StringEquals: { "KMS:viaservice": "s3.eu-west-2.amazonaws.com" } } })],
                decrypt("s3.eu-west-2.amazonaws.com"))).to.equal("allow");
        });

        it("requires every condition of a statement to hold", () => {
            const both = [policy({
                Effect: "Allow", Action: "s3:ListBucket", Resource: "*",
                Condition: { StringLike: { "s3:prefix": "etcd3/*" }, StringEquals: { "s3:prefix": "etcd3/exact" } },
            })];
            expect(evaluatePolicies(both, list("etcd3/exact"))).to.equal("allow");
            expect(evaluatePolicies(both, list("etcd3/other"))).to.equal("implicit-deny");
        });
    });

    describe("documents IAM would refuse, and what is not played", () => {
        const check = (document: string) => () => checkPolicyDocument(document);

        it("refuses what IAM would not store as MalformedPolicyDocument", () => {
            expect(check("{ not json")).to.throw(MalformedPolicyDocument, /Syntax errors/);
            expect(check(policy({ Action: "s3:*", Resource: "*" }))).to.throw(MalformedPolicyDocument, /Effect/);
            expect(check(policy({ Effect: "allow", Action: "s3:*", Resource: "*" }))).to.throw(MalformedPolicyDocument, /Effect/);
            expect(check(policy({ Effect: "Allow", Principal: "*", Action: "s3:*", Resource: "*" }))).to.throw(MalformedPolicyDocument, /principal/);
            expect(check(policy({ Effect: "Allow", Resource: "*" }))).to.throw(MalformedPolicyDocument, /actions and resources/);
            expect(check(policy({ Effect: "Allow", Action: "PutObject", Resource: "*" }))).to.throw(MalformedPolicyDocument, /service:Action/);
            expect(check(JSON.stringify({ Version: "2012-10-17" }))).to.throw(MalformedPolicyDocument, /Statement/);
            expect(check(JSON.stringify({ Version: "2020-01-01", Statement: [] }))).to.throw(MalformedPolicyDocument, /Version/);
            expect(() => evaluatePolicies([policy({ Effect: "Allow", Action: [], Resource: "*" })], put("a"))).to.throw(MalformedPolicyDocument);
        });

        it("refuses by name an element, condition operator, condition key or policy variable it does not play", () => {
            expect(check(policy({ Effect: "Allow", NotAction: "s3:DeleteObject", Resource: "*" }))).to.throw(/NotAction is not played/);
            expect(check(policy({ Effect: "Allow", Action: "s3:*", NotResource: "arn:aws:s3:::x" }))).to.throw(/NotResource is not played/);
            expect(check(policy({ Effect: "Allow", Action: "s3:*", Resource: "*", Condition: { StringNotLike: { "s3:prefix": "x" } } })))
                .to.throw(/condition operator StringNotLike is not played/);
            expect(check(policy({ Effect: "Allow", Action: "s3:*", Resource: "*", Condition: { StringLike: { "aws:SourceVpce": "vpce-1" } } })))
                .to.throw(/condition key aws:SourceVpce is not played/);
            expect(check(policy({ Effect: "Allow", Action: "kms:Decrypt", Resource: "*", Condition: { StringEquals: { "kms:CallerAccount": "123456789012" } } })))
                .to.throw(/condition key kms:CallerAccount is not played/);
            expect(check(policy({ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::b/${aws:username}/*" }))).to.throw(/policy variables are not played/);
            // The refusal comes from the evaluation too, never a silent skip of the statement.
            expect(() => evaluatePolicies([policy({ Effect: "Deny", Action: "s3:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } })],
                put("a"))).to.throw(/condition operator Bool is not played/);
        });

        it("takes the documents the harness's role sessions carry, and names a session's caller as S3 does", () => {
            const session = issueRoleSession("etcd3-cluster-member", [policy({ Effect: "Allow", Action: "s3:PutObject", Resource: "*" })], { sessionName: "i-0123456789abcdef0" });
            expect(evaluatePolicies(session.policies, put("a"))).to.equal("allow");
            expect(assumedRoleArn(session)).to.equal("arn:aws:sts::123456789012:assumed-role/etcd3-cluster-member/i-0123456789abcdef0");
            expect(session.expiration.getTime() - session.lastUpdated.getTime()).to.equal(6 * 3_600_000);
        });
    });
});
