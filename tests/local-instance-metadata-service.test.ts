/**
 * A node's instance metadata stand-in (local/instance-metadata-service.ts) as
 * a node's script reaches it: the real curl, the real URL
 * http://169.254.169.254/..., and the proxy environment node scripts get. No
 * request here goes to 169.254.169.254 itself: every one either goes through
 * the stand-in or to loopback.
 */
import { CreateTagsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { Ec2Instance, startEc2Api } from "../local/ec2-api";
import { issueRoleSession, RoleCredentials } from "../local/iam-policy";
import { instanceMetadataProxyEnvironment, InstanceMetadataService, startInstanceMetadataService } from "../local/instance-metadata-service";
import { createTestCertificateAuthority } from "../local/test-certificates";
import { marginMs } from "./helpers/local-cluster";

const instanceId = "i-0123456789abcdef0";
/** Bound on each program a test here runs as a node's unit would (`onNode`). */
const nodeCommandMs = 10_000;
const metadata = "http://169.254.169.254/latest";
const leaveKey = "etcd3-cluster:leave";

describe("local harness: a node's instance metadata stand-in", function () {
    // The most a test here runs: six programs on the node, one after another.
    this.timeout(6 * nodeCommandMs + marginMs);
    let service: InstanceMetadataService;
    /** The instance's tags as its metadata shows them; undefined when they are not in its metadata. */
    let tags: Record<string, string> | undefined;
    /** The instance profile's current credentials; undefined for an instance without one. */
    let credentials: RoleCredentials | undefined;

    beforeEach(async () => {
        tags = { Name: "etcd3-cluster-0" };
        credentials = undefined;
        service = await startInstanceMetadataService({ instanceId, tags: async () => tags, credentials: async () => credentials });
    });
    afterEach(async () => {
        await service?.stop();
    });

    /** The environment a node's script gets: nothing of this process's, the node's proxy. */
    const nodeEnvironment = () => ({ PATH: process.env.PATH!, ...instanceMetadataProxyEnvironment(service.proxy) });

    /**
     * Runs a program as a node's unit runs it: the node's environment, no stdin
     * (bash reads the test host's ~/.bashrc when stdin is a socket, as Node's
     * pipes are), at most 10 s. Its output and exit code.
     */
    function onNode(command: string, args: string[]): Promise<{ output: string; code: number | null }> {
        return new Promise((resolve, reject) => {
            const child = spawn(command, args, { env: nodeEnvironment(), stdio: ["ignore", "pipe", "ignore"], timeout: nodeCommandMs });
            let output = "";
            child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
            child.once("error", reject);
            child.once("close", (code) => resolve({ output, code }));
        });
    }

    /** A bash script run as a node's script runs. */
    const script = (text: string) => onNode("bash", ["-c", `set -euo pipefail\n${text}`]);

    /** One curl call as a node's script makes it: the answer's status and body. */
    async function curl(...args: string[]): Promise<{ status: number; body: string }> {
        const { output, code } = await onNode("curl", ["--silent", "--max-time", "5", "--write-out", "\n%{http_code}", ...args]);
        expect(code, `curl ${args.join(" ")}`).to.equal(0);
        const end = output.lastIndexOf("\n");
        return { status: Number(output.slice(end + 1)), body: output.slice(0, end) };
    }

    const token = async (ttlSeconds = "300") => (await curl("-X", "PUT", `${metadata}/api/token`, "-H", `X-aws-ec2-metadata-token-ttl-seconds: ${ttlSeconds}`)).body;
    const get = async (path: string, withToken?: string) => curl(...(withToken === undefined ? [] : ["-H", `X-aws-ec2-metadata-token: ${withToken}`]), `${metadata}${path}`);

    /** What the leave unit's script does: a token, then its instance's leave tag. */
    const readLeaveTag = `token=$(curl -sf -X PUT ${metadata}/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
curl -sf -H "X-aws-ec2-metadata-token: $token" ${metadata}/meta-data/tags/instance/${leaveKey}`;

    describe("IMDSv2 as a node's script uses it", () => {
        it("gives a token for a PUT with a TTL, and the instance's tag for a GET with that token", async () => {
            tags = { [leaveKey]: "etcd3-cluster-2" };
            expect(await script(readLeaveTag)).to.deep.equal({ output: "etcd3-cluster-2", code: 0 });
        });

        it("answers 404 for a tag the instance does not have, which fails curl -f", async () => {
            const outcome = await script(readLeaveTag);
            expect(outcome.code).to.equal(22);
            expect((await get(`/meta-data/tags/instance/${leaveKey}`, await token())).status).to.equal(404);
        });

        it("lists the instance's tag keys, one a line", async () => {
            tags = { Name: "etcd3-cluster-0", [leaveKey]: "etcd3-cluster-0" };
            expect(await get("/meta-data/tags/instance", await token())).to.deep.equal({ status: 200, body: `Name\n${leaveKey}` });
        });

        it("lists nothing, with 200, for an instance without tags", async () => {
            tags = {};
            expect(await get("/meta-data/tags/instance/", await token())).to.deep.equal({ status: 200, body: "" });
        });

        it("answers 404 for the tags of an instance that does not have them in its metadata", async () => {
            tags = undefined;
            const withToken = await token();
            expect((await get("/meta-data/tags/instance", withToken)).status).to.equal(404);
            expect((await get("/meta-data/tags/instance/Name", withToken)).status).to.equal(404);
        });

        it("answers the instance id", async () => {
            expect(await get("/meta-data/instance-id", await token())).to.deep.equal({ status: 200, body: instanceId });
        });

        it("shows a tag set through the EC2 API stand-in at the next request", async () => {
            const instance: Ec2Instance = { state: "running", tags: {}, metadataTags: true };
            tags = instance.tags;
            const api = await startEc2Api({
                describe: async (id) => (id === instanceId ? instance : undefined),
                createTags: async (id, added) => id === instanceId && Boolean(Object.assign(instance.tags, added)),
                start: async () => false,
            });
            const client = new EC2Client({ region: "us-east-1", endpoint: api.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
            try {
                expect((await script(readLeaveTag)).code).to.equal(22);
                await client.send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: leaveKey, Value: "etcd3-cluster-2" }] }));
                expect((await script(readLeaveTag)).output).to.equal("etcd3-cluster-2");
            } finally {
                client.destroy();
                await api.stop();
            }
        });
    });

    describe("the instance profile's credentials", () => {
        const credentialsPath = "/meta-data/iam/security-credentials";

        it("answers 404 for the role and its credentials of an instance without an instance profile", async () => {
            const withToken = await token();
            for (const pathname of [credentialsPath, `${credentialsPath}/`, `${credentialsPath}/etcd3-cluster-member`]) {
                expect((await get(pathname, withToken)).status, pathname).to.equal(404);
            }
            // A source that says nothing about credentials is an instance without a profile too.
            const withProfile = service;
            service = await startInstanceMetadataService({ instanceId, tags: async () => undefined });
            try {
                expect((await get(`${credentialsPath}/`, await token())).status).to.equal(404);
            } finally {
                await service.stop();
                service = withProfile;
            }
        });

        it("names the role, and gives its current credentials in the real service's JSON, a space either side of each colon", async () => {
            credentials = issueRoleSession("etcd3-cluster-member", [], { now: new Date("2026-01-02T03:04:05.678Z") });
            const withToken = await token();
            expect(await get(`${credentialsPath}/`, withToken)).to.deep.equal({ status: 200, body: "etcd3-cluster-member" });
            expect(await get(credentialsPath, withToken)).to.deep.equal({ status: 200, body: "etcd3-cluster-member" });
            const answer = await get(`${credentialsPath}/etcd3-cluster-member`, withToken);
            expect(answer.status).to.equal(200);
            expect(answer.body).to.equal([
                "{",
                '  "Code" : "Success",',
                '  "LastUpdated" : "2026-01-02T03:04:05Z",',
                '  "Type" : "AWS-HMAC",',
                `  "AccessKeyId" : "${credentials.accessKeyId}",`,
                `  "SecretAccessKey" : "${credentials.secretAccessKey}",`,
                `  "Token" : "${credentials.sessionToken}",`,
                '  "Expiration" : "2026-01-02T09:04:05Z"',
                "}",
            ].join("\n"));
            expect(credentials.accessKeyId).to.match(/^ASIA[A-Z2-7]{16}$/);
            expect(JSON.parse(answer.body)).to.include({ Code: "Success", Type: "AWS-HMAC", Token: credentials.sessionToken });
        });

        it("shows rotated credentials at the next request, and answers 404 for a role the instance does not have", async () => {
            credentials = issueRoleSession("etcd3-cluster-member", []);
            const withToken = await token();
            const first = JSON.parse((await get(`${credentialsPath}/etcd3-cluster-member`, withToken)).body);
            credentials = issueRoleSession("etcd3-cluster-member", []);
            const second = JSON.parse((await get(`${credentialsPath}/etcd3-cluster-member`, withToken)).body);
            expect(second.AccessKeyId).to.equal(credentials.accessKeyId).and.not.equal(first.AccessKeyId);
            expect((await get(`${credentialsPath}/another-role`, withToken)).status).to.equal(404);
            expect((await get(`${credentialsPath}/etcd3-cluster-member/extra`, withToken)).status).to.equal(404);
        });

        it("gives no credentials without a token: 401", async () => {
            credentials = issueRoleSession("etcd3-cluster-member", []);
            expect((await get(`${credentialsPath}/etcd3-cluster-member`)).status).to.equal(401);
        });
    });

    describe("what it refuses as the real service does", () => {
        it("refuses a GET without a token: 401, with the service's error page", async () => {
            const answer = await get("/meta-data/instance-id");
            expect(answer.status).to.equal(401);
            expect(answer.body).to.include("<title>401 - Unauthorized</title>");
        });

        it("refuses a token it did not issue", async () => {
            expect((await get("/meta-data/instance-id", "AQAEAFakeTokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")).status).to.equal(401);
        });

        it("refuses a token once its TTL has passed", async () => {
            const shortLived = await token("1");
            expect((await get("/meta-data/instance-id", shortLived)).status).to.equal(200);
            await new Promise((resolve) => setTimeout(resolve, 1100));
            expect((await get("/meta-data/instance-id", shortLived)).status).to.equal(401);
        });

        it("gives no token without a TTL, or with one outside 1 to 21600 seconds: 400", async () => {
            expect((await curl("-X", "PUT", `${metadata}/api/token`)).status).to.equal(400);
            for (const ttl of ["0", "21601", "300s"]) {
                expect((await curl("-X", "PUT", `${metadata}/api/token`, "-H", `X-aws-ec2-metadata-token-ttl-seconds: ${ttl}`)).status, ttl).to.equal(400);
            }
            expect((await curl("-X", "PUT", `${metadata}/api/token`, "-H", "X-aws-ec2-metadata-token-ttl-seconds: 21600")).status).to.equal(200);
        });

        it("gives no token to a GET: only a PUT gets one", async () => {
            expect((await curl(`${metadata}/api/token`, "-H", "X-aws-ec2-metadata-token-ttl-seconds: 300")).status).to.equal(405);
        });

        it("gives no token to a request that came through a proxy (X-Forwarded-For)", async () => {
            const answer = await curl("-X", "PUT", `${metadata}/api/token`, "-H", "X-aws-ec2-metadata-token-ttl-seconds: 300", "-H", "X-Forwarded-For: 10.0.0.9");
            expect(answer.status).to.equal(403);
        });

        it("answers 404 for a path it does not play, as for one that does not exist", async () => {
            expect((await get("/meta-data/local-ipv4", await token())).status).to.equal(404);
        });
    });

    describe("the proxy", () => {
        /** A loopback server that counts what reaches it. */
        async function loopbackServer(): Promise<{ url: string; hits: string[]; close: () => Promise<void> }> {
            const hits: string[] = [];
            const server = http.createServer((request, response) => {
                hits.push(request.url ?? "");
                response.end("direct");
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.9.250", resolve));
            return {
                url: `http://127.0.9.250:${(server.address() as AddressInfo).port}/`,
                hits,
                close: () => new Promise<void>((resolve) => {
                    server.closeAllConnections();
                    server.close(() => resolve());
                }),
            };
        }

        it("leaves every loopback request of a node's script direct: the members' addresses are not proxied", async () => {
            const server = await loopbackServer();
            try {
                expect(await curl(server.url)).to.deep.equal({ status: 200, body: "direct" });
                expect(server.hits).to.deep.equal(["/"]);
                expect(service.requests).to.deep.equal([]);
            } finally {
                await server.close();
            }
        });

        it("refuses a request for another host, and forwards nothing", async () => {
            const server = await loopbackServer();
            try {
                // Sent through the proxy on purpose (an empty --noproxy overrides no_proxy, which would keep it direct).
                const answer = await curl("--noproxy", "", "--proxy", service.proxy, server.url);
                expect(answer.status).to.equal(403);
                expect(answer.body).to.include("answers only http://169.254.169.254/ and forwards nothing");
                expect(server.hits).to.deep.equal([]);
                expect((await curl("http://example.invalid/")).status).to.equal(403);
            } finally {
                await server.close();
            }
        });

        it("gives node scripts the proxy for HTTPS as well, and the test CA as curl's trust store when the node has TLS stand-ins", () => {
            expect(instanceMetadataProxyEnvironment("http://127.0.0.1:1234")).to.deep.equal({
                http_proxy: "http://127.0.0.1:1234", https_proxy: "http://127.0.0.1:1234", no_proxy: "127.0.0.0/8,localhost",
            });
            expect(instanceMetadataProxyEnvironment("http://127.0.0.1:1234", "/tmp/ca.crt")).to.include({ CURL_CA_BUNDLE: "/tmp/ca.crt" });
        });

        it("leaves a loopback HTTPS request of a node's script direct too", async () => {
            const directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-imds-test-"));
            const hits: string[] = [];
            let server: https.Server | undefined;
            try {
                const authority = await createTestCertificateAuthority(directory);
                const certificate = await authority.issue("member", { ipAddresses: ["127.0.9.250"] });
                server = https.createServer({ key: certificate.key, cert: certificate.certificate }, (request, response) => {
                    hits.push(request.url ?? "");
                    response.end("direct");
                });
                await new Promise<void>((resolve) => server!.listen(0, "127.0.9.250", resolve));
                const url = `https://127.0.9.250:${(server.address() as AddressInfo).port}/`;
                const environment = { PATH: process.env.PATH!, ...instanceMetadataProxyEnvironment(service.proxy, authority.certificateFile) };
                const answer = await new Promise<string>((resolve, reject) => {
                    const child = spawn("curl", ["--silent", "--max-time", "5", url], { env: environment, stdio: ["ignore", "pipe", "ignore"] });
                    let output = "";
                    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
                    child.once("error", reject);
                    child.once("close", () => resolve(output));
                });
                expect(answer).to.equal("direct");
                expect(hits).to.deep.equal(["/"]);
                expect(service.requests).to.deep.equal([]);
            } finally {
                server?.closeAllConnections();
                await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
                fs.rmSync(directory, { recursive: true, force: true });
            }
        });

        it("refuses a CONNECT tunnel, even to 169.254.169.254", async () => {
            const { code } = await onNode("curl", ["--silent", "--max-time", "5", "--proxytunnel", `${metadata}/meta-data/instance-id`]);
            // 56: curl's "received HTTP code 403 from proxy after CONNECT".
            expect(code).to.equal(56);
            expect(service.requests).to.deep.equal([{ method: "CONNECT", target: "169.254.169.254:80", status: 403 }]);
        });
    });
});
