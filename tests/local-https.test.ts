/**
 * HTTPS at the load balancer (`certificateArn`) on a cluster booted on this
 * machine: haproxy plays the ALB's two listeners as the component registers
 * them (443 forwarding with the certificate the ACM stand-in holds and the
 * listener's TLS policy, 80 redirecting), and the seed's session runs through
 * it with the real curl, trusting only the test CA the certificate chains to.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import { promisify } from "util";
import { etcdctlTimeouts, marginMs, members, useLocalCluster } from "./helpers/local-cluster";

const run = promisify(execFile);

/** Bound on each run of curl (its own --max-time is 10 s). */
const curlRunMs = 15_000;

/** What one curl command did: its exit code (0, or curl's error number), the HTTP status, the headers and the body. */
interface CurlResult {
    exitCode: number;
    status: number;
    headers: Record<string, string>;
    body: string;
    stderr: string;
}

/** Runs the real curl, bounded, with `args`; its status line and headers are read from `-D`. */
async function curl(...args: string[]): Promise<CurlResult> {
    const marker = "\n--etcd3-cluster-test-body--\n";
    try {
        const { stdout, stderr } = await run("curl", ["-sS", "--max-time", "10", "-D", "-", "-w", `${marker}%{http_code}`, ...args], { timeout: curlRunMs });
        return { exitCode: 0, ...parse(stdout, marker), stderr };
    } catch (error) {
        const failure = error as { code?: number; stdout?: string; stderr?: string };
        return { exitCode: failure.code ?? -1, status: 0, headers: {}, body: "", stderr: failure.stderr ?? String(error) };
    }
}

function parse(stdout: string, marker: string): Pick<CurlResult, "status" | "headers" | "body"> {
    const [response, status] = [stdout.slice(0, stdout.lastIndexOf(marker)), stdout.slice(stdout.lastIndexOf(marker) + marker.length)];
    const split = response.indexOf("\r\n\r\n");
    const headerLines = response.slice(0, split).split("\r\n").slice(1);
    const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
    return { status: Number(status), headers, body: response.slice(split + 4) };
}

describe("local cluster with certificateArn: the seed's session over HTTPS through the load balancer", function () {
    // The longest test: three curl runs (or an etcdctl run).
    this.timeout(Math.max(3 * curlRunMs, etcdctlTimeouts.processMs) + marginMs);
    const cluster = useLocalCluster({ size: 3, bootstrap: "static", https: true });
    const trusted = () => ["--cacert", cluster().caFile!];

    it("gives an https:// cluster URL and plays the listener with the certificate and the default policy's TLS 1.2 to 1.3", () => {
        expect(cluster().clusterUrl).to.match(/^https:\/\/127\.0\.\d+\.254:\d+$/);
        expect(cluster().loadBalancerConfig).to.match(/\n {4}bind 127\.0\.\d+\.254:\d+ ssl crt \S+load-balancer\.pem ssl-min-ver TLSv1\.2 ssl-max-ver TLSv1\.3\n/);
    });

    it("encrypts every hop by default with a certificate: the ALB speaks HTTPS to the members, whose peers talk mutual TLS", async () => {
        const { clientEndpoints, loadBalancerConfig, memberCaFile } = cluster();
        expect(clientEndpoints.every((url) => url.startsWith("https://")), clientEndpoints.join(" ")).to.equal(true);
        expect(loadBalancerConfig).to.match(/\nbackend alb-targets\n[^]*?default-server [^\n]* ssl [^\n]*verify none/);
        expect((await members(cluster())).map((member) => member.peerUrl)).to.deep.equal(cluster().nodes.map((node) => `https://${node.ip}:2380`).sort());
        expect(memberCaFile, "the cluster's CA, as the stack outputs it").to.be.a("string");
    });

    it("answers /health with health true to a client that trusts the certificate's CA", async () => {
        const answer = await curl(...trusted(), `${cluster().clusterUrl}/health`);
        expect([answer.exitCode, answer.status, JSON.parse(answer.body).health]).to.deep.equal([0, 200, "true"]);
    });

    it("sets, reads and deletes /v2/keys/planets as the seed's session does, over https://", async () => {
        const url = `${cluster().clusterUrl}/v2/keys/planets`;
        const put = await curl(...trusted(), "-X", "PUT", url, "-d", "value=earth jupiter mars");
        expect(put.status).to.be.oneOf([200, 201]);
        expect(JSON.parse(put.body).node).to.include({ key: "/planets", value: "earth jupiter mars" });
        const get = await curl(...trusted(), `${url}?quorum=true`);
        expect([get.status, JSON.parse(get.body).node.value]).to.deep.equal([200, "earth jupiter mars"]);
        const deletion = await curl(...trusted(), "-X", "DELETE", url);
        expect([deletion.status, JSON.parse(deletion.body).action]).to.deep.equal([200, "delete"]);
    });

    it("is refused by a client that does not trust the certificate's CA: the TLS is real", async () => {
        const answer = await curl(`${cluster().clusterUrl}/health`);
        expect(answer.exitCode, answer.stderr).to.equal(60);
        expect(answer.stderr).to.match(/certificate/i);
    });

    it("answers plain HTTP on port 80 with a 301 to the same path and query over https://, writing nothing", async () => {
        const answer = await curl("-X", "PUT", `${cluster().redirectUrl}/v2/keys/moons?x=1`, "-d", "value=io");
        expect([answer.status, answer.headers.location]).to.deep.equal([301, `${cluster().clusterUrl}/v2/keys/moons?x=1`]);
        const read = await curl(...trusted(), `${cluster().clusterUrl}/v2/keys/moons?quorum=true`);
        expect(read.status).to.equal(404);
    });

    it("speaks TLS 1.2 as well as 1.3 under the default policy", async () => {
        const tls12 = await curl(...trusted(), "--tlsv1.2", "--tls-max", "1.2", `${cluster().clusterUrl}/health`);
        const tls13 = await curl(...trusted(), "--tlsv1.3", `${cluster().clusterUrl}/health`);
        expect([tls12.status, tls13.status]).to.deep.equal([200, 200]);
    });
});

describe("local cluster with a TLS 1.3-only sslPolicy: the load balancer refuses TLS 1.2", function () {
    this.timeout(2 * curlRunMs + marginMs);
    const cluster = useLocalCluster({ size: 1, bootstrap: "static", https: true, sslPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06" });

    it("refuses a TLS 1.2 client and serves a TLS 1.3 one", async () => {
        const tls12 = await curl("--cacert", cluster().caFile!, "--tlsv1.2", "--tls-max", "1.2", `${cluster().clusterUrl}/health`);
        const tls13 = await curl("--cacert", cluster().caFile!, "--tlsv1.3", `${cluster().clusterUrl}/health`);
        expect(tls12.exitCode, tls12.stderr).to.equal(35);
        expect(tls13.status).to.equal(200);
    });
});
