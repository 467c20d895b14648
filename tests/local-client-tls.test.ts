/**
 * TLS on the members' client port (`clientTls`) on a cluster booted on this
 * machine from the component's user data: each member serves its client port
 * with the certificate it issues itself from the cluster's CA (real openssl,
 * the CA fetched from the S3 stand-in), the ALB stand-in speaks HTTPS to the
 * members without checking their certificates as an ALB does, the NLB
 * stand-in passes TLS through to them, and the members' own units (the
 * bootstrap, the snapshots, the defragmentation) reach each other over TLS
 * with the CA.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tls from "tls";
import { promisify } from "util";
import { memberCertificateFiles, memberCertificateServiceName, memberCertificateSettingsPath } from "../lib/member-certificate";
import { defragmentServiceName } from "../lib/maintenance";
import { snapshotServiceName } from "../lib/snapshots";
import { defaultUnitStartWaitMs, LocalNode } from "../local/cluster";
import {
    etcdctl, etcdctlTimeouts, loseDataAndReboot, loseDataAndRebootMs, marginMs, members, reachingMembers, useLocalCluster, v3Get, v3Put,
} from "./helpers/local-cluster";

const run = promisify(execFile);

/** A file of a node's, by its path on the node. */
const onNode = (node: LocalNode, nodePath: string) => path.join(node.root, nodePath.slice(1));

/** What curl gets from `url` with `args`: its exit code and HTTP status. */
async function curlAnswer(url: string, ...args: string[]): Promise<{ exitCode: number; status: string }> {
    try {
        const { stdout } = await run("curl", ["-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", ...args, url], { timeout: 10_000 });
        return { exitCode: 0, status: stdout };
    } catch (error) {
        const failure = error as { code?: number; stdout?: string };
        return { exitCode: failure.code ?? -1, status: failure.stdout ?? "" };
    }
}

/** The certificate a TLS server at `host:port` presents when asked for `servername`, and whether it verified against `caFile` for that name. */
function presented(host: string, port: number, servername: string, caFile: string): Promise<{ authorized: boolean; error?: string; subjectAltName?: string }> {
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host, port, servername, ca: fs.readFileSync(caFile), rejectUnauthorized: false, timeout: 5_000 }, () => {
            const certificate = socket.getPeerCertificate();
            resolve({ authorized: socket.authorized, error: socket.authorizationError?.toString(), subjectAltName: certificate.subjectaltname });
            socket.end();
        });
        socket.on("timeout", () => socket.destroy(new Error(`no TLS handshake with ${host}:${port} within 5 s`)));
        socket.on("error", reject);
    });
}

describe("local cluster of 3 with clientTls: TLS on the members' client port", function () {
    // The other tests' longest: a start job; or a TLS handshake (5 s) and an openssl run (10 s) per member.
    this.timeout(defaultUnitStartWaitMs + marginMs);
    const cluster = useLocalCluster({ size: 3, bootstrap: "static", peerTls: true, clientTls: true, grpcLoadBalancer: true, backups: true });

    it("serves the seed's writes and reads through the ALB, which speaks HTTPS to the members", async () => {
        const { clusterUrl, nodes, loadBalancerConfig } = cluster();
        expect(clusterUrl).to.match(/^http:\/\//);
        expect((await v3Put(clusterUrl, "client-tls/written", Buffer.from("through the ALB"))).status).to.equal(200);
        expect((await v3Get(clusterUrl, "client-tls/written"))?.toString()).to.equal("through the ALB");
        expect(nodes.every((node) => node.clientUrl.startsWith("https://"))).to.equal(true);
        expect(loadBalancerConfig).to.match(/\nbackend alb-targets\n[^]*?default-server [^\n]* ssl [^\n]*verify none/);
    });

    it("advertises https:// client URLs, which etcdctl reaches at clientEndpoints verifying the members with the CA", async () => {
        const { clientEndpoints, memberCaFile, nodes } = cluster();
        expect(clientEndpoints).to.deep.equal(nodes.map((node) => `https://${node.ip}:2379`));
        const list = await etcdctl(clientEndpoints, [`--cacert=${memberCaFile}`, "member", "list", "-w", "simple"]);
        const clientUrls = list.trim().split("\n").map((line) => line.split(", ")[4]).sort();
        expect(clientUrls).to.deep.equal([...clientEndpoints].sort());
    });

    it("refuses plain HTTP on the client port, and is refused by a client that does not trust the CA", async () => {
        const [node] = cluster().nodes;
        // etcd closes a plain HTTP connection to its TLS port without an answer: curl's "empty reply from server".
        expect(await curlAnswer(`http://${node.ip}:2379/health`)).to.deep.equal({ exitCode: 52, status: "000" });
        expect((await curlAnswer(`${node.clientUrl}/health`)).exitCode, "curl's exit code for an unverified certificate").to.equal(60);
        expect(await curlAnswer(`${node.clientUrl}/health`, "--cacert", cluster().memberCaFile!)).to.deep.equal({ exitCode: 0, status: "200" });
    });

    it("serves each member's own certificate for its address and the NLB's DNS name", async () => {
        for (const node of cluster().nodes) {
            const settings = fs.readFileSync(onNode(node, memberCertificateSettingsPath), "utf8");
            const nlbDnsName = /^CERTIFICATE_DNS_NAMES=(.+)$/m.exec(settings)![1];
            expect(nlbDnsName).to.match(/\.elb\.amazonaws\.com$/);
            const served = await presented(node.ip, 2379, nlbDnsName, cluster().memberCaFile!);
            expect(served, node.name).to.deep.equal({ authorized: true, error: undefined, subjectAltName: `IP Address:${node.ip}, DNS:${nlbDnsName}` });
            const onDisk = (await run("openssl", ["x509", "-in", onNode(node, memberCertificateFiles.certificate), "-noout", "-ext", "subjectAltName"], { timeout: 10_000 })).stdout;
            expect(onDisk.split("\n")[1].trim(), node.name).to.equal(`IP Address:${node.ip}, DNS:${nlbDnsName}`);
        }
    });

    it("keeps a certificate that gives exactly its names when the renewal timer's service runs", async () => {
        const node = cluster().nodes[1];
        const before = fs.readFileSync(onNode(node, memberCertificateFiles.certificate), "utf8");
        expect(await node.startUnit(memberCertificateServiceName), node.unitOutput(memberCertificateServiceName)).to.equal("done");
        expect(node.unitOutput(memberCertificateServiceName)).to.match(/certificate: kept: notAfter=/).and.not.contain("issued");
        expect(fs.readFileSync(onNode(node, memberCertificateFiles.certificate), "utf8")).to.equal(before);
    });

    it("passes TLS through the NLB: a gRPC client that verifies the NLB's name sees a member's certificate and trusts it", async () => {
        const { grpcEndpoint, memberCaFile, nodes } = cluster();
        const [host, port] = grpcEndpoint!.split(":");
        const nlbDnsName = /^CERTIFICATE_DNS_NAMES=(.+)$/m.exec(fs.readFileSync(onNode(nodes[0], memberCertificateSettingsPath), "utf8"))![1];
        const served = await presented(host, Number(port), nlbDnsName, memberCaFile!);
        expect(served.authorized, served.error).to.equal(true);
        expect(nodes.map((node) => `IP Address:${node.ip}, DNS:${nlbDnsName}`)).to.include(served.subjectAltName);
    });

    it("rejoins a member whose data is gone over TLS: it asks the others at their https:// client URLs and adds itself", async function () {
        const node = cluster().nodes[2];
        const rejoin = { peerScheme: "https", timeoutMs: 90_000 } as const;
        // The member lists before and after, the rejoin, the read from the member.
        this.timeout(3 * etcdctlTimeouts.processMs + loseDataAndRebootMs(node, rejoin) + marginMs);
        const before = await members(cluster());
        await loseDataAndReboot(cluster(), 2, rejoin);
        const after = await members(cluster());
        expect(after.map((member) => member.peerUrl)).to.deep.equal(before.map((member) => member.peerUrl));
        expect(after.find((member) => member.name === node.name)!.id).to.not.equal(before.find((member) => member.name === node.name)!.id);
        expect(node.unitOutput("etcd-member.service")).to.match(new RegExp(`decide: adding ${node.name} at https://[\\d.]+:2380 as a learner`));
        const caughtUp = await etcdctl([node.clientUrl], [...reachingMembers(cluster()), "get", "client-tls/written", "--print-value-only"]);
        expect(caughtUp.trim(), "the data, caught up from the others, read from the member itself").to.equal("through the ALB");
    });

    it("takes a snapshot on the leader over TLS, with the CA its etcdctl is given, and the others see they do not lead", async function () {
        const nodes = cluster().nodes;
        this.timeout(nodes.length * defaultUnitStartWaitMs + marginMs);
        for (const node of nodes) {
            expect(await node.startUnit(snapshotServiceName), node.unitOutput(snapshotServiceName)).to.equal("done");
        }
        const outputs = nodes.map((node) => node.unitOutput(snapshotServiceName));
        expect(outputs.filter((output) => /snapshot: uploaded revision \d+ of the cluster/.test(output)), outputs.join("\n")).to.have.length(1);
        expect(outputs.filter((output) => output.includes("does not lead the cluster")), outputs.join("\n")).to.have.length(2);
    });

    it("checks every member's health over TLS before it defragments", async () => {
        const [node] = cluster().nodes;
        expect(await node.startUnit(defragmentServiceName), node.unitOutput(defragmentServiceName)).to.equal("done");
        expect(node.unitOutput(defragmentServiceName)).to.not.contain("skipped: not every member is healthy");
        expect(node.unitOutput(defragmentServiceName)).to.match(/defragment: (defragmented|skipped: \d+ of the backend's)/);
    });
});
