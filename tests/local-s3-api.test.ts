/**
 * The S3 stand-in (local/s3-api.ts) as a node's backup script reaches S3: the
 * host's real curl, the real URL https://BUCKET.s3.REGION.amazonaws.com/KEY
 * through the node's proxy (its instance metadata stand-in, which tunnels to
 * the S3 stand-in), requests signed by curl's own `--aws-sigv4` with the
 * credentials the node's metadata gives, and the proxy environment node
 * scripts get. Each refusal is the one S3 makes, by its error code; nothing
 * here leaves loopback.
 */
import { expect } from "chai";
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { objectsOf, RegisteredResource } from "../local/component-resources";
import { issueRoleSession, RoleSession } from "../local/iam-policy";
import { instanceMetadataProxyEnvironment, InstanceMetadataService, PortRange, startInstanceMetadataService } from "../local/instance-metadata-service";
import { S3ApiStandIn, startS3Api } from "../local/s3-api";
import { marginMs } from "./helpers/local-cluster";

const bucket = "etcd3-backups-test";
const region = "eu-west-1";
const endpoint = `https://${bucket}.s3.${region}.amazonaws.com`;
const prefix = "etcd3-cluster/";
const instanceId = "i-0123456789abcdef0";

/** What the component's role policy grants a member (shaped as `aws.iam.RolePolicy` takes it): its prefix only. */
const memberPolicy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
        { Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"], Resource: `arn:aws:s3:::${bucket}/${prefix}*` },
        { Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { "s3:prefix": `${prefix}*` } } },
    ],
});

const sha256 = (body: Buffer | string) => crypto.createHash("sha256").update(body).digest("hex");
const md5Base64 = (body: Buffer | string) => crypto.createHash("md5").update(body).digest("base64");
const emptySha256 = sha256("");
/** Bound on each program a test here runs as a node's unit would (`onNode`). */
const nodeCommandMs = 15_000;

/** The body of the proxy's answer to `CONNECT target`, which curl does not show. */
function connectRefusal(proxy: string, target: string): Promise<string> {
    const { hostname, port } = new URL(proxy);
    return new Promise((resolve, reject) => {
        const request = http.request({ host: hostname, port, method: "CONNECT", path: target, timeout: 5000 });
        request.once("connect", (_response, socket, head: Buffer) => {
            let body = head.toString("utf8");
            socket.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).once("end", () => resolve(body));
            socket.once("error", reject);
        });
        request.once("timeout", () => request.destroy(new Error(`no answer to CONNECT ${target} in 5 s`)));
        request.once("error", reject);
        request.end();
    });
}

describe("local harness: the S3 stand-in, as a node's script reaches S3", function () {
    // The most a test here runs: four programs on the node, one after another.
    this.timeout(4 * nodeCommandMs + marginMs);
    let s3: S3ApiStandIn | undefined;
    let service: InstanceMetadataService | undefined;
    let directory: string;
    /** The role sessions S3 knows, by access key id. */
    let sessions: Map<string, RoleSession>;
    /** The instance profile's current session, which the node's metadata gives. */
    let session: RoleSession;
    /** How far S3's clock is ahead of the host's. */
    let clockOffsetMs: number;

    beforeEach(async () => {
        directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-s3-test-"));
        clockOffsetMs = 0;
        session = issueRoleSession("etcd3-cluster-member", [memberPolicy], { sessionName: instanceId });
        sessions = new Map([[session.accessKeyId, session]]);
        s3 = await startS3Api({
            buckets: [{ name: bucket, region }],
            session: async (accessKeyId) => sessions.get(accessKeyId),
            clock: () => Date.now() + clockOffsetMs,
        });
        service = await startInstanceMetadataService(
            { instanceId, tags: async () => undefined, credentials: async () => session },
            { tunnels: [s3.tunnel] },
        );
    });
    afterEach(async () => {
        await service?.stop();
        await s3?.stop();
        service = undefined;
        s3 = undefined;
        fs.rmSync(directory, { recursive: true, force: true });
    });

    /** The environment a node's script gets: nothing of this process's, the node's proxy and trust store. */
    const nodeEnvironment = (caBundle = true) => ({
        PATH: process.env.PATH!,
        ...instanceMetadataProxyEnvironment(service!.proxy, caBundle ? s3!.caBundle : undefined),
    });

    /**
     * Runs a program as a node's unit runs it: the node's environment, no stdin
     * (bash reads the test host's ~/.bashrc when stdin is a socket, as Node's
     * pipes are), at most 15 s.
     */
    function onNode(command: string, args: string[], environment = nodeEnvironment()): Promise<{ stdout: string; stderr: string; code: number | null }> {
        return new Promise((resolve, reject) => {
            const child = spawn(command, args, { env: environment, stdio: ["ignore", "pipe", "pipe"], timeout: nodeCommandMs });
            let stdout = "";
            let stderr = "";
            child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
            child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
            child.once("error", reject);
            child.once("close", (code) => resolve({ stdout, stderr, code }));
        });
    }

    /** How a request is signed: the session's own credentials unless a test changes one. */
    interface Signing {
        region?: string;
        service?: string;
        accessKeyId?: string;
        secret?: string;
        /** The token sent as `x-amz-security-token`; null sends none. */
        token?: string | null;
        /** The `x-amz-content-sha256` value; null sends none. Default: the empty body's, for requests without one. */
        payloadHash?: string | null;
    }

    /**
     * One S3 call as the node's script makes it: curl signs it (`--aws-sigv4`)
     * and fails on an error status with the body (`--fail-with-body`). The
     * status (0 when no HTTP answer came), the body and curl's exit code.
     */
    async function s3Call(url: string, args: string[] = [], signing: Signing = {}): Promise<{ status: number; body: string; code: number | null }> {
        const token = signing.token === undefined ? session.sessionToken : signing.token;
        const payloadHash = signing.payloadHash === undefined ? emptySha256 : signing.payloadHash;
        const { stdout, code } = await onNode("curl", [
            "-sS", "--fail-with-body", "--max-time", "10", "--write-out", "\n%{http_code}",
            "--aws-sigv4", `aws:amz:${signing.region ?? region}:${signing.service ?? "s3"}`,
            "--user", `${signing.accessKeyId ?? session.accessKeyId}:${signing.secret ?? session.secretAccessKey}`,
            ...(token === null ? [] : ["-H", `x-amz-security-token: ${token}`]),
            ...(payloadHash === null ? [] : ["-H", `x-amz-content-sha256: ${payloadHash}`]),
            ...args, url,
        ]);
        const end = stdout.lastIndexOf("\n");
        return { status: Number(stdout.slice(end + 1)), body: stdout.slice(0, end), code };
    }

    /** Writes `body` to a file of the node's and PUTs it as the script does: `-T`, its SHA-256 and (unless told otherwise) its MD5. */
    function putFile(key: string, body: string, options: { md5?: string | null; payloadHash?: string } & Signing = {}) {
        const file = path.join(directory, "upload");
        fs.writeFileSync(file, body);
        const md5 = options.md5 === undefined ? md5Base64(body) : options.md5;
        return s3Call(`${endpoint}/${key}`, ["-T", file, ...(md5 === null ? [] : ["-H", `Content-MD5: ${md5}`])],
            { ...options, payloadHash: options.payloadHash ?? sha256(body) });
    }

    /** S3's error code in an error document. */
    const errorCode = (body: string) => /<Error><Code>([^<]+)<\/Code>/.exec(body)?.[1];
    const stored = () => [...s3!.objects(bucket).keys()];

    describe("as a node's backup script uses it", () => {
        it("puts, lists, gets and heads a snapshot with the credentials the node's metadata gives, using only bash, coreutils and curl", async () => {
            const snapshot = path.join(directory, "snapshot.db");
            fs.writeFileSync(snapshot, crypto.randomBytes(100_000));
            const script = `set -euo pipefail
metadata=http://169.254.169.254/latest
token=$(curl -sSf -X PUT "$metadata/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
role=$(curl -sSf -H "X-aws-ec2-metadata-token: $token" "$metadata/meta-data/iam/security-credentials/")
credentials=$(curl -sSf -H "X-aws-ec2-metadata-token: $token" "$metadata/meta-data/iam/security-credentials/$role")
field() { sed -n "s/^  \\"$1\\" : \\"\\(.*\\)\\",\\{0,1\\}$/\\1/p" <<< "$credentials"; }
id=$(field AccessKeyId) secret=$(field SecretAccessKey) session=$(field Token)
s3() { curl -sS --fail-with-body --aws-sigv4 "aws:amz:${region}:s3" --user "$id:$secret" -H "x-amz-security-token: $session" "$@"; }
url=${endpoint}
empty=$(sha256sum < /dev/null | cut -c1-64)
sha=$(sha256sum "$1" | cut -c1-64)
md5=$(printf "$(md5sum "$1" | cut -c1-32 | sed 's/../\\\\x&/g')" | base64)
s3 -H "x-amz-content-sha256: $sha" -H "Content-MD5: $md5" -T "$1" "$url/${prefix}snapshot-1.db"
echo "--- list"
s3 -H "x-amz-content-sha256: $empty" "$url/?list-type=2&max-keys=1&prefix=etcd3-cluster%2F"
echo
echo "--- get"
s3 -H "x-amz-content-sha256: $empty" -o "$1.back" "$url/${prefix}snapshot-1.db"
cmp "$1" "$1.back" && echo same
echo "--- head"
s3 -H "x-amz-content-sha256: $empty" -I --suppress-connect-headers "$url/${prefix}snapshot-1.db"
`;
            const { stdout, stderr, code } = await onNode("bash", ["-c", script, "backup", snapshot]);
            expect(code, stderr).to.equal(0);
            const body = fs.readFileSync(snapshot);
            const etag = crypto.createHash("md5").update(body).digest("hex");
            const [put, list, get, head] = stdout.split(/--- \w+\n/);
            expect(put).to.equal("");
            expect(list).to.match(new RegExp(`<KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>${prefix}snapshot-1.db</Key>` +
                `<LastModified>\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.000Z</LastModified><ETag>&quot;${etag}&quot;</ETag><Size>100000</Size>`));
            expect(get).to.equal("same\n");
            expect(head).to.match(/^HTTP\/1\.1 200 OK\r\n/).and.include(`etag: "${etag}"\r\n`).and.include("content-length: 100000\r\n");
            expect(s3!.objects(bucket).get(`${prefix}snapshot-1.db`)?.body.equals(body)).to.equal(true);
            expect(s3!.requests.map((request) => `${request.operation} ${request.status}`))
                .to.deep.equal(["PutObject 200", "ListObjectsV2 200", "GetObject 200", "HeadObject 200"]);
            expect(service!.requests.filter((request) => request.method === "CONNECT"))
                .to.have.length(4).and.satisfy((tunnels: Array<{ target: string; status: number }>) =>
                    tunnels.every((tunnel) => tunnel.target === `${bucket}.s3.${region}.amazonaws.com:443` && tunnel.status === 200));
        });

        it("lists in key order, max-keys at a time, the next page through the continuation token", async () => {
            for (const name of ["c", "a", "b"]) {
                s3!.putObject(bucket, `${prefix}${name}`, name);
            }
            s3!.putObject(bucket, "elsewhere/a", "a");
            const first = await s3Call(`${endpoint}/?list-type=2&max-keys=2&prefix=etcd3-cluster%2F`);
            expect(first.status, first.body).to.equal(200);
            const keys = (body: string) => [...body.matchAll(/<Key>([^<]+)<\/Key>/g)].map((match) => match[1]);
            expect(keys(first.body)).to.deep.equal([`${prefix}a`, `${prefix}b`]);
            expect(first.body).to.include("<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>");
            const token = /<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(first.body)![1];
            const second = await s3Call(`${endpoint}/?continuation-token=${encodeURIComponent(token)}&list-type=2&max-keys=2&prefix=etcd3-cluster%2F`);
            expect(keys(second.body)).to.deep.equal([`${prefix}c`]);
            expect(second.body).to.include("<IsTruncated>false</IsTruncated>");
        });
    });

    describe("authentication, refused as S3 refuses it", () => {
        it("refuses a request signed with a wrong secret: 403 SignatureDoesNotMatch, showing the canonical request it computed, and stores nothing", async () => {
            const answer = await putFile(`${prefix}snapshot.db`, "data", { secret: `${session.secretAccessKey.slice(1)}x` });
            expect(answer.status).to.equal(403);
            expect(answer.code).to.equal(22);
            expect(errorCode(answer.body)).to.equal("SignatureDoesNotMatch");
            expect(answer.body).to.include(`<CanonicalRequest>PUT\n/${prefix}snapshot.db\n\ncontent-md5:${md5Base64("data")}\n` +
                `host:${bucket}.s3.${region}.amazonaws.com\n`);
            expect(stored()).to.deep.equal([]);
        });

        it("refuses a request signed for another region, or another service: 400 AuthorizationHeaderMalformed naming the bucket's region", async () => {
            const otherRegion = await s3Call(`${endpoint}/${prefix}snapshot.db`, [], { region: "us-east-1" });
            expect([otherRegion.status, errorCode(otherRegion.body)]).to.deep.equal([400, "AuthorizationHeaderMalformed"]);
            expect(otherRegion.body).to.include("the region 'us-east-1' is wrong; expecting 'eu-west-1'").and.include(`<Region>${region}</Region>`);
            const otherService = await s3Call(`${endpoint}/${prefix}snapshot.db`, [], { service: "ec2" });
            expect([otherService.status, errorCode(otherService.body)]).to.deep.equal([400, "AuthorizationHeaderMalformed"]);
        });

        it("refuses a temporary key sent without its token (403 InvalidAccessKeyId), with another token (400 InvalidToken), and an unknown key", async () => {
            const url = `${endpoint}/?list-type=2&prefix=etcd3-cluster%2F`;
            const withoutToken = await s3Call(url, [], { token: null });
            expect([withoutToken.status, errorCode(withoutToken.body)]).to.deep.equal([403, "InvalidAccessKeyId"]);
            const otherToken = await s3Call(url, [], { token: issueRoleSession("etcd3-cluster-member", []).sessionToken });
            expect([otherToken.status, errorCode(otherToken.body)]).to.deep.equal([400, "InvalidToken"]);
            const unknownKey = await s3Call(url, [], { accessKeyId: "ASIAXXXXXXXXXXXXXXXX" });
            expect([unknownKey.status, errorCode(unknownKey.body)]).to.deep.equal([403, "InvalidAccessKeyId"]);
            expect((await s3Call(url)).status).to.equal(200);
        });

        it("refuses expired credentials (400 ExpiredToken) and a request more than 15 minutes from its clock (403 RequestTimeTooSkewed)", async () => {
            const url = `${endpoint}/?list-type=2&prefix=etcd3-cluster%2F`;
            clockOffsetMs = 14 * 60_000;
            expect((await s3Call(url)).status).to.equal(200);
            clockOffsetMs = 16 * 60_000;
            const skewed = await s3Call(url);
            expect([skewed.status, errorCode(skewed.body)]).to.deep.equal([403, "RequestTimeTooSkewed"]);
            clockOffsetMs = 0;
            session.expiration = new Date(Date.now() - 1000);
            const expired = await s3Call(url);
            expect([expired.status, errorCode(expired.body)]).to.deep.equal([400, "ExpiredToken"]);
        });

        it("answers 404 NoSuchBucket for a bucket it does not have, after checking the signature", async () => {
            const url = `https://another-bucket.s3.${region}.amazonaws.com/?list-type=2`;
            const missing = await s3Call(url);
            expect([missing.status, errorCode(missing.body)]).to.deep.equal([404, "NoSuchBucket"]);
            const wronglySigned = await s3Call(url, [], { secret: "wrong" });
            expect([wronglySigned.status, errorCode(wronglySigned.body)]).to.deep.equal([403, "SignatureDoesNotMatch"]);
        });

        it("refuses a request without x-amz-content-sha256 (400 InvalidRequest), and an unsigned one (403 AccessDenied)", async () => {
            const withoutHash = await s3Call(`${endpoint}/${prefix}snapshot.db`, [], { payloadHash: null });
            expect([withoutHash.status, errorCode(withoutHash.body)]).to.deep.equal([400, "InvalidRequest"]);
            expect(withoutHash.body).to.include("Missing required header for this request: x-amz-content-sha256");
            const anonymous = await onNode("curl", ["-sS", "--write-out", "\n%{http_code}", `${endpoint}/${prefix}snapshot.db`]);
            expect(anonymous.stdout).to.match(/<Code>AccessDenied<\/Code><Message>Access Denied<\/Message>.*\n403$/s);
        });
    });

    describe("the body of a PUT", () => {
        it("refuses a body whose Content-MD5 is another's: 400 BadDigest, and stores nothing", async () => {
            const answer = await putFile(`${prefix}snapshot.db`, "the snapshot", { md5: md5Base64("another body") });
            expect([answer.status, errorCode(answer.body)]).to.deep.equal([400, "BadDigest"]);
            expect(stored()).to.deep.equal([]);
            expect((await putFile(`${prefix}snapshot.db`, "the snapshot")).status).to.equal(200);
            expect(stored()).to.deep.equal([`${prefix}snapshot.db`]);
        });

        it("refuses a body whose x-amz-content-sha256 is another's: 400 XAmzContentSHA256Mismatch, and stores nothing; UNSIGNED-PAYLOAD is taken", async () => {
            const answer = await putFile(`${prefix}snapshot.db`, "the snapshot", { payloadHash: sha256("another body") });
            expect([answer.status, errorCode(answer.body)]).to.deep.equal([400, "XAmzContentSHA256Mismatch"]);
            expect(stored()).to.deep.equal([]);
            expect((await putFile(`${prefix}snapshot.db`, "the snapshot", { payloadHash: "UNSIGNED-PAYLOAD" })).status).to.equal(200);
            expect(s3!.objects(bucket).get(`${prefix}snapshot.db`)?.body.toString()).to.equal("the snapshot");
        });

        it("refuses a single PUT over 5 GiB by its Content-Length, before the body is sent: 400 EntityTooLarge", async () => {
            const file = path.join(directory, "small");
            fs.writeFileSync(file, "small");
            const answer = await s3Call(`${endpoint}/${prefix}huge.db`, ["-T", file, "-H", `Content-Length: ${5 * 1024 ** 3 + 1}`],
                { payloadHash: "UNSIGNED-PAYLOAD" });
            expect([answer.status, errorCode(answer.body)]).to.deep.equal([400, "EntityTooLarge"]);
            expect(stored()).to.deep.equal([]);
        });
    });

    describe("the role's policies", () => {
        it("refuses a put outside the policy's prefix: 403 AccessDenied naming the action, and stores nothing", async () => {
            const answer = await putFile("another-cluster/snapshot.db", "data");
            expect([answer.status, errorCode(answer.body)]).to.deep.equal([403, "AccessDenied"]);
            expect(answer.body).to.include(`is not authorized to perform: s3:PutObject on resource: &quot;arn:aws:s3:::${bucket}/another-cluster/snapshot.db&quot;`);
            expect(stored()).to.deep.equal([]);
        });

        it("refuses a list whose prefix the policy's condition does not match, or without a prefix: 403 AccessDenied", async () => {
            for (const query of ["list-type=2&prefix=another-cluster%2F", "list-type=2", "list-type=2&prefix=etcd3-cluster"]) {
                const answer = await s3Call(`${endpoint}/?${query}`);
                expect([answer.status, errorCode(answer.body)], query).to.deep.equal([403, "AccessDenied"]);
            }
            expect((await s3Call(`${endpoint}/?list-type=2&prefix=etcd3-cluster%2Fsnap`)).status).to.equal(200);
        });

        it("answers a missing key with 404 NoSuchKey only to a caller allowed to list the bucket, with 403 AccessDenied otherwise; a HEAD's without a body", async () => {
            const url = `${endpoint}/${prefix}missing.db`;
            const denied = await s3Call(url);
            expect([denied.status, errorCode(denied.body)]).to.deep.equal([403, "AccessDenied"]);
            session.policies = [memberPolicy, JSON.stringify({
                Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${bucket}` }],
            })];
            const missing = await s3Call(url);
            expect([missing.status, errorCode(missing.body)]).to.deep.equal([404, "NoSuchKey"]);
            const head = await s3Call(url, ["--head", "--suppress-connect-headers"]);
            expect([head.status, head.code]).to.deep.equal([404, 22]);
            // The answer's headers, as -I prints them, and nothing after them.
            expect(head.body).to.match(/^HTTP\/1\.1 404 Not Found\r\n.*\r\ncontent-length: 0\r\n.*\r\n\r\n$/s);
        });
    });

    describe("SSE-KMS objects: S3 decrypts them with KMS as the caller", () => {
        const keyArn = `arn:aws:kms:${region}:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`;
        const caKey = "tls/peer-ca.key";
        /** The statements the component gives a member to read its TLS secrets, decrypting through S3 in `viaService`. */
        const tlsSecretsPolicy = (viaService: string, decrypt = true) => JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                { Sid: "GetTlsSecrets", Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${bucket}/tls/*` },
                ...(decrypt ? [{
                    Sid: "DecryptTlsSecrets", Effect: "Allow", Action: "kms:Decrypt", Resource: keyArn,
                    Condition: { StringEquals: { "kms:ViaService": viaService } },
                }] : []),
            ],
        });
        const get = (key: string) => s3Call(`${endpoint}/${key}`, ["--include", "--suppress-connect-headers"]);
        const head = (key: string) => s3Call(`${endpoint}/${key}`, ["--head", "--suppress-connect-headers"]);

        beforeEach(() => {
            s3!.putObject(bucket, caKey, "-----BEGIN EC PRIVATE KEY-----\n", { contentType: "application/x-pem-file", encryption: { kmsKeyArn: keyArn } });
            s3!.putObject(bucket, "tls/readme.txt", "not a secret");
        });

        it("answers a caller allowed s3:GetObject and kms:Decrypt through S3 in the bucket's region, naming the key; SSE-S3 objects stay AES256", async () => {
            session.policies = [tlsSecretsPolicy(`s3.${region}.amazonaws.com`)];
            const answer = await get(caKey);
            expect(answer.status, answer.body).to.equal(200);
            expect(answer.body).to.include("x-amz-server-side-encryption: aws:kms\r\n")
                .and.include(`x-amz-server-side-encryption-aws-kms-key-id: ${keyArn}\r\n`)
                .and.include("content-type: application/x-pem-file\r\n")
                .and.match(/\r\n\r\n-----BEGIN EC PRIVATE KEY-----\n$/);
            // An SSE-KMS object's ETag is not its MD5, as on S3: a script must not check the body against it.
            const etag = /etag: "([0-9a-f]{32})"\r\n/.exec(answer.body)?.[1];
            expect(etag).to.be.a("string").and.not.equal(crypto.createHash("md5").update("-----BEGIN EC PRIVATE KEY-----\n").digest("hex"));
            const headAnswer = await head(caKey);
            expect(headAnswer.status).to.equal(200);
            expect(headAnswer.body).to.include(`x-amz-server-side-encryption-aws-kms-key-id: ${keyArn}\r\n`);
            const plain = await get("tls/readme.txt");
            expect(plain.body).to.include("x-amz-server-side-encryption: AES256\r\n").and.not.include("aws-kms-key-id");
            expect(s3!.objects(bucket).get(caKey)?.encryption).to.deep.equal({ kmsKeyArn: keyArn });
        });

        it("refuses a caller allowed s3:GetObject but not kms:Decrypt: 403 AccessDenied naming kms:Decrypt on the key, a HEAD's without a body", async () => {
            session.policies = [tlsSecretsPolicy(`s3.${region}.amazonaws.com`, false)];
            const answer = await get(caKey);
            expect([answer.status, errorCode(answer.body)]).to.deep.equal([403, "AccessDenied"]);
            expect(answer.body).to.include(`User: arn:aws:sts::123456789012:assumed-role/etcd3-cluster-member/${instanceId} is not authorized to perform: ` +
                `kms:Decrypt on resource: ${keyArn} because no identity-based policy allows the kms:Decrypt action`);
            const headAnswer = await head(caKey);
            expect([headAnswer.status, headAnswer.code]).to.deep.equal([403, 22]);
            expect(headAnswer.body).to.match(/\r\ncontent-length: 0\r\n.*\r\n\r\n$/s);
            // The SSE-S3 object beside it needs no key.
            expect((await get("tls/readme.txt")).status).to.equal(200);
        });

        it("refuses a kms:Decrypt allowed only through S3 in another region, or through another service: 403 AccessDenied", async () => {
            for (const viaService of ["s3.us-east-1.amazonaws.com", `secretsmanager.${region}.amazonaws.com`]) {
                session.policies = [tlsSecretsPolicy(viaService)];
                const answer = await get(caKey);
                expect([answer.status, errorCode(answer.body)], viaService).to.deep.equal([403, "AccessDenied"]);
                expect(answer.body, viaService).to.include(`kms:Decrypt on resource: ${keyArn}`);
            }
            session.policies = [tlsSecretsPolicy(`s3.${region}.amazonaws.com`), JSON.stringify({
                Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "kms:*", Resource: "*" }],
            })];
            const denied = await get(caKey);
            expect(denied.body).to.include(`kms:Decrypt on resource: ${keyArn} with an explicit deny in an identity-based policy`);
        });

        it("refuses to seed an object under a KMS key S3 would not encrypt with: not a key ARN, another region's, another account's", () => {
            const seed = (kmsKeyArn: string) => () => s3!.putObject(bucket, "tls/x", "x", { encryption: { kmsKeyArn } });
            expect(seed(`arn:aws:kms:${region}:123456789012:alias/etcd3-secrets`)).to.throw(/is not a KMS key ARN/);
            expect(seed("0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0")).to.throw(/is not a KMS key ARN/);
            expect(seed(keyArn.replace(region, "us-east-1"))).to.throw(/of another region/);
            expect(seed(keyArn.replace("123456789012", "210987654321"))).to.throw(/another account/);
            expect(s3!.objects(bucket).has("tls/x")).to.equal(false);
        });
    });

    describe("seeded with the objects the component registers (objectsOf)", () => {
        const keyArn = `arn:aws:kms:${region}:123456789012:key/local-secrets-id`;
        const caCertificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        const caKey = "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n";
        /** A secret as the mocks hand it over when the program marked it. */
        const secret = (value: string) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });
        const registered = (type: string, name: string, inputs: Record<string, unknown>, state: Record<string, unknown> = inputs): RegisteredResource =>
            ({ type, name, inputs, id: `${name}-id`, state });
        /**
         * What the component registers for its TLS secrets, as the mocks record
         * it: `object` changes the CA key's object, `keyState` the KMS key's
         * state, whose arn the objects' kmsKeyId is.
         */
        const secretsResources = (object: Record<string, unknown> = {}, keyState: Record<string, unknown> = { arn: keyArn }) => [
            registered("aws:s3/bucket:Bucket", "local-secrets", { bucketPrefix: "local-secrets-" }, { bucket, region }),
            registered("aws:s3/bucket:Bucket", "local-backups", { bucketPrefix: "local-backups-" }, { bucket: "local-backups-1", region }),
            registered("aws:kms/key:Key", "local-secrets", { description: "etcd3-cluster local secrets" }, keyState),
            registered("aws:s3/bucketObjectv2:BucketObjectv2", "local-peer-ca-crt", {
                // By its id, as a bucket is often named: on AWS its id is its name.
                bucket: "local-secrets-id", key: "tls/peer-ca.crt", content: caCertificate, contentType: "application/x-pem-file",
                serverSideEncryption: "aws:kms", kmsKeyId: keyState.arn, bucketKeyEnabled: true, tags: { Name: "local-secrets" },
            }),
            registered("aws:s3/bucketObjectv2:BucketObjectv2", "local-peer-ca-key", {
                bucket, key: "tls/peer-ca.key", content: secret(caKey), serverSideEncryption: "aws:kms", kmsKeyId: keyState.arn, ...object,
            }),
        ];
        /** The statements the component gives a member for its TLS secrets. */
        const tlsSecretsPolicy = JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                { Sid: "GetTlsSecrets", Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${bucket}/tls/*` },
                { Sid: "DecryptTlsSecrets", Effect: "Allow", Action: "kms:Decrypt", Resource: keyArn,
                    Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } } },
            ],
        });

        it("seeds each object with its content (a secret's unwrapped), content type and KMS key, which a member's policy then reads", async () => {
            const objects = objectsOf(secretsResources());
            const encryption = { kmsKeyArn: keyArn };
            expect(objects.map((object) => ({ ...object, body: object.body.toString() }))).to.deep.equal([
                { resourceName: "local-peer-ca-crt", bucket, key: "tls/peer-ca.crt", body: caCertificate, encryption, contentType: "application/x-pem-file" },
                { resourceName: "local-peer-ca-key", bucket, key: "tls/peer-ca.key", body: caKey, encryption },
            ]);
            // As local/cluster.ts seeds them.
            for (const object of objects) {
                s3!.putObject(object.bucket, object.key, object.body, { contentType: object.contentType, encryption: object.encryption });
            }
            session.policies = [tlsSecretsPolicy];
            const key = await s3Call(`${endpoint}/tls/peer-ca.key`);
            expect([key.status, key.body]).to.deep.equal([200, caKey]);
            const certificate = await s3Call(`${endpoint}/tls/peer-ca.crt`);
            expect([certificate.status, certificate.body]).to.deep.equal([200, caCertificate]);
            expect(s3!.objects(bucket).get("tls/peer-ca.key")?.contentType).to.equal("binary/octet-stream");
        });

        it("fails loudly, naming each, for what would seed a wrong or empty object rather than the component's", () => {
            const problems = (object: Record<string, unknown>, keyState?: Record<string, unknown>) => {
                let message = "";
                try {
                    objectsOf(secretsResources(object, keyState));
                } catch (error) {
                    message = (error as Error).message;
                }
                expect(message).to.match(/^the component's bucket objects cannot be played locally:/);
                return message;
            };
            // An output whose source has no such state field under mocks reaches the object as nothing at all.
            expect(problems({ content: undefined })).to.include("bucket object local-peer-ca-key: content undefined is not the object's text");
            // So does a key whose arn is not in its state: both objects name no key.
            expect(problems({}, {})).to.include("local-peer-ca-crt: serverSideEncryption aws:kms without a kmsKeyId")
                .and.include("local-peer-ca-key: serverSideEncryption aws:kms without a kmsKeyId");
            expect(problems({ kmsKeyId: keyArn.replace("local-secrets-id", "another") })).to.match(/kmsKeyId \S+another is not the ARN of a KMS key of the component's/);
            expect(problems({ bucket: "another-bucket" })).to.include(`bucket "another-bucket" is neither the name nor the id of a bucket of the component's ` +
                `(${bucket}, id local-secrets-id; local-backups-1, id local-backups-id)`);
            expect(problems({ serverSideEncryption: undefined, kmsKeyId: undefined })).to.include("a bucket's default encryption is not played");
            expect(problems({ source: "./peer-ca.key" })).to.include("local-peer-ca-key: source not played by the local harness");
            const withKeyPolicy = secretsResources();
            withKeyPolicy.find((r) => r.type === "aws:kms/key:Key")!.inputs.policy = JSON.stringify({ Version: "2012-10-17", Statement: [] });
            expect(() => objectsOf(withKeyPolicy)).to.throw(/has a key policy of its own, which the local harness does not play/);
        });
    });

    describe("what it does not play, refused by name", () => {
        it("refuses another operation, query parameter or x-amz-* header as InvalidRequest naming it, and does nothing", async () => {
            s3!.putObject(bucket, `${prefix}snapshot.db`, "data");
            const deletion = await s3Call(`${endpoint}/${prefix}snapshot.db`, ["-X", "DELETE"]);
            expect([deletion.status, errorCode(deletion.body)]).to.deep.equal([400, "InvalidRequest"]);
            expect(deletion.body).to.include("DeleteObject is not played by the local S3 stand-in");
            expect(stored()).to.deep.equal([`${prefix}snapshot.db`]);
            const delimiter = await s3Call(`${endpoint}/?delimiter=%2F&list-type=2&prefix=etcd3-cluster%2F`);
            expect(delimiter.body).to.include("The query parameter delimiter of ListObjectsV2 is not played");
            const file = path.join(directory, "upload");
            fs.writeFileSync(file, "data");
            const header = await s3Call(`${endpoint}/${prefix}kms.db`, ["-T", file, "-H", "x-amz-server-side-encryption: aws:kms"], { payloadHash: sha256("data") });
            expect([header.status, errorCode(header.body)]).to.deep.equal([400, "InvalidRequest"]);
            expect(header.body).to.include("The header x-amz-server-side-encryption of PutObject is not played");
            expect(stored()).to.deep.equal([`${prefix}snapshot.db`]);
        });

        it("refuses a path-style request by name", async () => {
            const answer = await s3Call(`https://s3.${region}.amazonaws.com/${bucket}/${prefix}snapshot.db`);
            expect([answer.status, errorCode(answer.body)]).to.deep.equal([400, "InvalidRequest"]);
            expect(answer.body).to.include("A path-style request");
        });
    });

    describe("the node's proxy and trust store", () => {
        /** The node's proxy again, letting it reach only `egressTcpPorts` outside the VPC. */
        async function proxyWithEgress(egressTcpPorts: PortRange[]): Promise<InstanceMetadataService> {
            await service!.stop();
            service = await startInstanceMetadataService(
                { instanceId, tags: async () => undefined, credentials: async () => session }, { tunnels: [s3!.tunnel], egressTcpPorts },
            );
            return service;
        }

        it("tunnels to S3 on 443 when the node's security group opens it", async () => {
            const proxy = await proxyWithEgress([{ from: 443, to: 443 }, { from: 8087, to: 8087 }]);
            // Unsigned, so S3 itself answers (403 AccessDenied) and curl, without -f, succeeds.
            const { code } = await onNode("curl", ["-sS", "--max-time", "5", `https://${bucket}.s3.${region}.amazonaws.com/`]);
            expect(code).to.equal(0);
            expect(proxy.requests.map((request) => request.status)).to.deep.equal([200]);
            expect(s3!.requests).to.have.length(1);
        });

        it("refuses a tunnel to S3 when the node's security group opens no TCP 443 outside the VPC, naming what it opens", async () => {
            const proxy = await proxyWithEgress([{ from: 80, to: 80 }, { from: 5000, to: 5010 }]);
            const target = `${bucket}.s3.${region}.amazonaws.com:443`;
            const { code } = await onNode("curl", ["-sS", "--max-time", "5", `https://${target}/`]);
            // 56: curl's "CONNECT tunnel failed, response 403".
            expect(code).to.equal(56);
            expect(await connectRefusal(proxy.proxy, target)).to.equal(
                `CONNECT ${target} refused: the node's security group lets it reach TCP 80, 5000-5010 outside the VPC, not 443\n`);
            expect(proxy.requests.map((request) => `${request.method} ${request.target} ${request.status}`)).to.deep.equal([`CONNECT ${target} 403`, `CONNECT ${target} 403`]);
            expect(s3!.requests).to.deep.equal([]);
        });

        it("still refuses a CONNECT to any other host, another region's S3 included: 403 from the proxy, and nothing reaches S3", async () => {
            for (const url of [`https://sts.${region}.amazonaws.com/`, `https://${bucket}.s3.us-east-1.amazonaws.com/`, "https://example.com/",
                `https://${bucket}.s3.${region}.amazonaws.com:8443/`]) {
                const { code } = await onNode("curl", ["-sS", "--max-time", "5", url]);
                // 56: curl's "CONNECT tunnel failed, response 403".
                expect(code, url).to.equal(56);
            }
            expect(service!.requests.map((request) => `${request.method} ${request.target} ${request.status}`)).to.deep.equal([
                `CONNECT sts.${region}.amazonaws.com:443 403`, `CONNECT ${bucket}.s3.us-east-1.amazonaws.com:443 403`, "CONNECT example.com:443 403",
                `CONNECT ${bucket}.s3.${region}.amazonaws.com:8443 403`,
            ]);
            expect(s3!.requests).to.deep.equal([]);
        });

        it("fails TLS for a bucket name with a dot, as S3's wildcard certificate does", async () => {
            const { code, stderr } = await onNode("curl", ["-sS", "--max-time", "5", `https://etcd3.backups.s3.${region}.amazonaws.com/`]);
            // 60: the certificate does not name the host.
            expect(code).to.equal(60);
            expect(stderr).to.include("no alternative certificate subject name matches target host name");
            expect(s3!.requests).to.deep.equal([]);
        });

        it("is trusted only through the test CA given as the node's trust store: without CURL_CA_BUNDLE, curl refuses its certificate", async () => {
            const { code } = await onNode("curl", ["-sS", "--max-time", "5", `${endpoint}/`], nodeEnvironment(false));
            expect(code).to.equal(60);
            expect(s3!.requests).to.deep.equal([]);
        });
    });
});
