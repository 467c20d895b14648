/**
 * Mutual TLS between the members (`peerTls`) on a cluster booted on this
 * machine from the component's user data: each member's own script fetches
 * the peer CA from the S3 stand-in (signed requests, the role's policy, the
 * object's KMS key) and issues itself a certificate with the real openssl;
 * real etcd forms the cluster over https:// peer URLs and refuses a peer
 * without a certificate from the CA; the renewal timer's service replaces a
 * short-lived certificate while requests through the load balancer go on.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { bootstrapSettingsPath } from "../lib/bootstrap";
import { memberCertificateFiles, memberCertificateServiceName, memberCertificateSettingsPath, peerCaCertificateKey, peerCaPrivateKeyKey } from "../lib/member-certificate";
import { defaultUnitStartWaitMs, LocalClusterOptions, LocalNode } from "../local/cluster";
import { createTestCertificateAuthority, IssuedCertificate, TestCertificateAuthority } from "../local/test-certificates";
import {
    etcdctl, etcdctlTimeouts, loseDataAndReboot, loseDataAndRebootMs, marginMs, members, requestTimeoutMs, useLocalCluster, v3Get, v3Put,
} from "./helpers/local-cluster";
import { issueFrom } from "./helpers/peer-certificates";
import { useTemporaryDirectory } from "./support/temporary-directory";

const run = promisify(execFile);

/** Bound on each openssl or curl run of the tests here. */
const toolMs = 10_000;

/** A file of a node's, by its path on the node. */
const onNode = (node: LocalNode, nodePath: string) => path.join(node.root, nodePath.slice(1));

/** `openssl x509 -noout <fields>` of a PEM file: e.g. `-serial`, `-enddate`. */
async function certificateFields(file: string, ...fields: string[]): Promise<string> {
    return (await run("openssl", ["x509", "-in", file, "-noout", ...fields], { timeout: toolMs })).stdout.trim();
}

/** The PEM certificates of a file, in order. */
const certificatesIn = (file: string) => fs.readFileSync(file, "utf8").match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];

/** What curl gets from a member's peer port (`GET /members`) with `args`: its exit code and HTTP status. */
async function peerPortAnswer(node: LocalNode, ...args: string[]): Promise<{ exitCode: number; status: string }> {
    try {
        const { stdout } = await run("curl", ["-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", ...args, `https://${node.ip}:2380/members`],
            { timeout: toolMs });
        return { exitCode: 0, status: stdout };
    } catch (error) {
        const failure = error as { code?: number; stdout?: string };
        return { exitCode: failure.code ?? -1, status: failure.stdout ?? "" };
    }
}

/** The curl options the member's bootstrap script asks a peer's port with (its settings' PEER_CURL_OPTIONS), its paths on this host. */
function memberPeerCurlOptions(node: LocalNode): string[] {
    const settings = fs.readFileSync(onNode(node, bootstrapSettingsPath), "utf8");
    return /^PEER_CURL_OPTIONS=(.*)$/m.exec(settings)![1].split(" ").map((word) => (word.startsWith("/") ? onNode(node, word) : word));
}

/** The serial of the certificate a member's peer port presents to a new connection, made with the member's own certificate. */
async function servedSerial(node: LocalNode): Promise<string> {
    const file = (which: keyof typeof memberCertificateFiles) => onNode(node, memberCertificateFiles[which]);
    const { stdout } = await run("bash", ["-c", 'openssl s_client -connect "$1" -CAfile "$2" -cert "$3" -key "$4" < /dev/null 2> /dev/null | openssl x509 -noout -serial',
        "served-serial", `${node.ip}:2380`, file("ca"), file("certificate"), file("key")], { timeout: toolMs });
    return stdout.trim();
}

describe("local cluster of 3 with peerTls: mutual TLS between the members", function () {
    // The other tests' longest: four openssl runs per member.
    this.timeout(3 * 4 * toolMs + marginMs);
    const cluster = useLocalCluster({ size: 3, bootstrap: "static", peerTls: true });
    const workDir = useTemporaryDirectory("etcd3-peer-tls-test-");

    it("forms the cluster with https:// peer URLs and serves the seed's writes through the load balancer", async () => {
        const { nodes, clusterUrl } = cluster();
        const list = await etcdctl([nodes[0].clientUrl], ["member", "list", "-w", "simple"]);
        const peerUrls = list.trim().split("\n").map((line) => line.split(", ")[3]).sort();
        expect(peerUrls).to.deep.equal(nodes.map((node) => `https://${node.ip}:2380`).sort());
        expect((await v3Put(clusterUrl, "peer-tls/formed", Buffer.from("yes"))).status).to.equal(200);
        expect((await v3Get(nodes[2].clientUrl, "peer-tls/formed"))?.toString()).to.equal("yes");
    });

    it("reads the CA from the S3 stand-in, where the component stored it under its KMS key", async () => {
        const s3 = (await cluster().s3Api())!;
        const settings = fs.readFileSync(onNode(cluster().nodes[0], memberCertificateSettingsPath), "utf8");
        const bucket = /^TLS_BUCKET=(.*)$/m.exec(settings)![1];
        const objects = s3.objects(bucket);
        expect([...objects.keys()].sort()).to.deep.equal([peerCaCertificateKey, peerCaPrivateKeyKey].sort());
        for (const object of objects.values()) {
            expect(object.encryption?.kmsKeyArn).to.match(/^arn:aws:kms:[a-z0-9-]+:\d{12}:key\//);
        }
        // What each member holds as the CA is the certificate the component stored.
        for (const node of cluster().nodes) {
            expect(fs.readFileSync(onNode(node, memberCertificateFiles.ca), "utf8")).to.equal(objects.get(peerCaCertificateKey)!.body.toString("utf8"));
        }
    });

    it("gives each member a certificate from the CA for its own address, valid 90 days, served alone, its key readable by root alone and the CA's key gone", async () => {
        for (const node of cluster().nodes) {
            const certificate = onNode(node, memberCertificateFiles.certificate);
            await run("openssl", ["verify", "-CAfile", onNode(node, memberCertificateFiles.ca), certificate], { timeout: toolMs });
            expect(await certificateFields(certificate, "-ext", "subjectAltName")).to.equal(`X509v3 Subject Alternative Name: \n    IP Address:${node.ip}`);
            expect(await certificateFields(certificate, "-subject")).to.equal(`subject=O = etcd3-cluster, CN = ${node.name}`);
            expect(certificatesIn(certificate), "served alone: the component's CA is its own issuer").to.have.length(1);
            const notAfter = Date.parse((await certificateFields(certificate, "-enddate")).replace("notAfter=", ""));
            expect((notAfter - Date.now()) / 86_400_000, node.name).to.be.within(89.9, 90);
            expect((fs.statSync(onNode(node, memberCertificateFiles.key)).mode & 0o777).toString(8)).to.equal("600");
            expect(fs.readdirSync(path.dirname(onNode(node, memberCertificateFiles.key))).sort()).to.deep.equal(["peer-ca.crt", "peer.crt", "peer.key"]);
            expect(fs.readdirSync(onNode(node, "/run/etcd3-cluster")).sort(), "no CA key left behind").to.deep.equal(["certificate.lock", "tls"]);
        }
    });

    it("answers the member list on the peer port to the bootstrap script's own request, and refuses a peer without a certificate from the CA", async () => {
        const node = cluster().nodes[1];
        const trustsCa = ["--http1.1", "--cacert", onNode(node, memberCertificateFiles.ca)];
        const stranger = await (await createTestCertificateAuthority(workDir(), { commonName: "another CA" }))
            .issue("stranger", { ipAddresses: ["127.0.0.1"], usages: ["serverAuth", "clientAuth"] });
        expect(await peerPortAnswer(node, ...memberPeerCurlOptions(node)), "the bootstrap script's request").to.deep.equal({ exitCode: 0, status: "200" });
        const withoutCertificate = await peerPortAnswer(node, ...trustsCa);
        const withStranger = await peerPortAnswer(node, ...trustsCa, "--cert", stranger.certificateFile, "--key", stranger.keyFile);
        for (const [what, answer] of Object.entries({ withoutCertificate, withStranger })) {
            expect(answer.exitCode, what).to.not.equal(0);
            expect(answer.status, what).to.equal("000");
        }
    });

    it("keeps a certificate with more than 30 days left when the renewal timer's service runs", async function () {
        this.timeout(2 * toolMs + defaultUnitStartWaitMs + marginMs);
        const node = cluster().nodes[0];
        const certificate = onNode(node, memberCertificateFiles.certificate);
        const before = await certificateFields(certificate, "-serial");
        expect(await node.startUnit(memberCertificateServiceName)).to.equal("done");
        expect(await certificateFields(certificate, "-serial")).to.equal(before);
        expect(node.unitOutput(memberCertificateServiceName)).to.match(/certificate: kept: notAfter=.* \(renewed once fewer than 30 days are left\)\n$/);
    });

    it("re-issues a certificate that names another member's address, and one that is not for the key beside it", async function () {
        // Two start jobs, six openssl runs.
        this.timeout(2 * defaultUnitStartWaitMs + 6 * toolMs + marginMs);
        const [node, other] = cluster().nodes;
        const file = (of: LocalNode, which: keyof typeof memberCertificateFiles) => onNode(of, memberCertificateFiles[which]);
        const publicKeys = async () => [
            await certificateFields(file(node, "certificate"), "-pubkey"),
            (await run("openssl", ["pkey", "-in", file(node, "key"), "-pubout"], { timeout: toolMs })).stdout.trim(),
        ];
        // Another member's certificate and key: valid, from the CA, for the wrong address.
        fs.copyFileSync(file(other, "certificate"), file(node, "certificate"));
        fs.copyFileSync(file(other, "key"), file(node, "key"));
        expect(await node.startUnit(memberCertificateServiceName)).to.equal("done");
        expect(await certificateFields(file(node, "certificate"), "-ext", "subjectAltName")).to.equal(`X509v3 Subject Alternative Name: \n    IP Address:${node.ip}`);
        // A key the certificate is not for.
        await run("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file(node, "key")], { timeout: toolMs });
        const [certificateKey, key] = await publicKeys();
        expect(certificateKey).to.not.equal(key);
        expect(await node.startUnit(memberCertificateServiceName)).to.equal("done");
        const [renewedCertificateKey, keptKey] = await publicKeys();
        expect([renewedCertificateKey, keptKey]).to.deep.equal([key, key]);
        expect(node.unitOutput(memberCertificateServiceName).match(/certificate: issued for /g)).to.have.length(2);
    });

    it("renews a short-lived certificate, for the same key, while requests through the load balancer go on without a failure", async function () {
        // The renewals: two start jobs and five openssl runs; the load stops with them, at its deadline at the latest.
        const renewalsMs = 2 * defaultUnitStartWaitMs + 5 * toolMs;
        // An openssl run, the renewals, the load's last request, a write and a read.
        this.timeout(toolMs + renewalsMs + 3 * requestTimeoutMs + marginMs);
        const node = cluster().nodes[2];
        const certificate = onNode(node, memberCertificateFiles.certificate);
        const settingsFile = onNode(node, memberCertificateSettingsPath);
        const settings = fs.readFileSync(settingsFile, "utf8");
        const key = fs.readFileSync(onNode(node, memberCertificateFiles.key), "utf8");
        const original = await certificateFields(certificate, "-serial");

        const statuses: number[] = [];
        let renewing = true;
        const loadDeadline = Date.now() + renewalsMs;
        const load = (async () => {
            for (let index = 0; renewing && index < 2000 && Date.now() < loadDeadline; index++) {
                statuses.push((await v3Put(cluster().clusterUrl, `peer-tls/renewal/${index % 20}`, Buffer.from(String(index)))).status);
            }
        })();
        const hoursLeft = async () => (Date.parse((await certificateFields(certificate, "-enddate")).replace("notAfter=", "")) - Date.now()) / 3_600_000;
        try {
            // A short-lived certificate: issued for 1 day, at once (any certificate with fewer than 91 days left is due).
            fs.writeFileSync(settingsFile, settings.replace(/^CERTIFICATE_DAYS=90$/m, "CERTIFICATE_DAYS=1").replace(/^RENEWAL_DAYS=30$/m, "RENEWAL_DAYS=91"));
            expect(await node.startUnit(memberCertificateServiceName), "issuing the short-lived certificate").to.equal("done");
            const shortLived = await certificateFields(certificate, "-serial");
            expect(await hoursLeft(), "hours the short-lived certificate is valid").to.be.within(23.9, 24);
            // The component's own settings again: the timer's service renews it, having fewer than 30 days left.
            fs.writeFileSync(settingsFile, settings);
            expect(await node.startUnit(memberCertificateServiceName), "the renewal").to.equal("done");
            expect(await hoursLeft(), "hours the renewed certificate is valid").to.be.within(90 * 24 - 0.1, 90 * 24);
            const renewed = await certificateFields(certificate, "-serial");
            expect(new Set([original, shortLived, renewed]).size, "three certificates, each its own serial").to.equal(3);
            expect(await servedSerial(node), "the certificate a new peer connection is shown").to.equal(renewed);
            expect(node.unitOutput(memberCertificateServiceName)).to.contain(`certificate: issued for ${node.name} (IP Address:${node.ip}): notAfter=`);
        } finally {
            renewing = false;
            await load;
        }
        expect(fs.readFileSync(onNode(node, memberCertificateFiles.key), "utf8"), "the member's key").to.equal(key);
        expect(statuses.length, "requests sent during the renewals").to.be.greaterThan(0);
        expect(statuses.filter((status) => status !== 200), "failed requests").to.deep.equal([]);
        // The peers still talk: a write through another member reaches this one.
        expect((await v3Put(cluster().nodes[0].clientUrl, "peer-tls/after-renewal", Buffer.from("ok"))).status).to.equal(200);
        expect((await v3Get(node.clientUrl, "peer-tls/after-renewal"))?.toString()).to.equal("ok");
    });

    it("rejoins a member whose data is gone over TLS: it asks the others' peer ports with its certificate and adds itself at its https:// URL", async function () {
        const node = cluster().nodes[0];
        const rejoin = { peerScheme: "https", timeoutMs: 90_000 } as const;
        // The member lists before and after, the rejoin, the read from the member.
        this.timeout(2 * etcdctlTimeouts.processMs + loseDataAndRebootMs(node, rejoin) + requestTimeoutMs + marginMs);
        const before = await members(cluster());
        const keyBefore = fs.readFileSync(onNode(node, memberCertificateFiles.key), "utf8");
        await loseDataAndReboot(cluster(), 0, rejoin);
        const after = await members(cluster());
        expect(after.map((member) => member.peerUrl)).to.deep.equal(before.map((member) => member.peerUrl));
        expect(after.find((member) => member.name === node.name)!.id).to.not.equal(before.find((member) => member.name === node.name)!.id);
        expect(node.unitOutput("etcd-member.service")).to.match(/decide: adding etcd3-cluster-0 at https:\/\/[\d.]+:2380 as a learner/);
        expect((await v3Get(node.clientUrl, "peer-tls/formed"))?.toString(), "the data, caught up from the others").to.equal("yes");
        // /run is memory: the booted member made itself a new key and fetched the CA again.
        expect(fs.readFileSync(onNode(node, memberCertificateFiles.key), "utf8")).to.not.equal(keyBefore);
    });
});

describe("local cluster of 3 with peerTls and the user's own intermediate CA (peerCaCertificate, an RSA key)", function () {
    this.timeout(120_000);
    const workDir = useTemporaryDirectory("etcd3-given-peer-ca-test-");
    const options: LocalClusterOptions = { size: 3, bootstrap: "static", peerTls: true };
    let root: TestCertificateAuthority;
    let intermediate: IssuedCertificate;
    // Before the cluster's own hook, which starts it with these options.
    before(async () => {
        root = await createTestCertificateAuthority(workDir(), { commonName: "company root" });
        intermediate = await root.issueCertificateAuthority("etcd-peers", { commonName: "company etcd peers", keyAlgorithm: "rsa" });
        options.peerCa = { certificate: intermediate.certificate, privateKey: intermediate.key };
    });
    const cluster = useLocalCluster(options);

    it("forms the cluster, each member trusting the given CA alone, signed by it, and serving it after its own certificate", async () => {
        const { nodes, clusterUrl } = cluster();
        expect((await v3Put(clusterUrl, "given-ca/formed", Buffer.from("yes"))).status).to.equal(200);
        expect((await v3Get(nodes[2].clientUrl, "given-ca/formed"))?.toString()).to.equal("yes");
        for (const node of nodes) {
            expect(fs.readFileSync(onNode(node, memberCertificateFiles.ca), "utf8"), node.name).to.equal(intermediate.certificate);
            const certificate = onNode(node, memberCertificateFiles.certificate);
            // The intermediate as the anchor, as etcd's Go TLS takes it: without its issuer.
            await run("openssl", ["verify", "-partial_chain", "-CAfile", intermediate.certificateFile, certificate], { timeout: toolMs });
            expect(await certificateFields(certificate, "-issuer"), node.name).to.equal("issuer=CN = company etcd peers");
            const served = certificatesIn(certificate);
            expect([served.length, served[1]], node.name).to.deep.equal([2, intermediate.certificate]);
        }
    });

    it("is verified by a client trusting only the user's root, which the given CA after each member's certificate lets it build the chain to", async () => {
        const [node, other] = cluster().nodes;
        const ownCertificate = ["--cert", onNode(other, memberCertificateFiles.certificate), "--key", onNode(other, memberCertificateFiles.key)];
        expect(await peerPortAnswer(node, "--http1.1", "--cacert", root.certificateFile, ...ownCertificate)).to.deep.equal({ exitCode: 0, status: "200" });
    });

    it("takes a peer certificate the given CA signed, and refuses one from the rest of the user's PKI: the given CA's own issuer's", async () => {
        const node = cluster().nodes[1];
        const trustsCa = ["--http1.1", "--cacert", onNode(node, memberCertificateFiles.ca)];
        const fromGiven = await issueFrom(workDir(), "from-given", intermediate.certificate, intermediate.key);
        const fromRoot = await issueFrom(workDir(), "from-root", root.certificate, root.key);
        const withCertificate = (client: { certificate: string; key: string }) => peerPortAnswer(node, ...trustsCa, "--cert", client.certificate, "--key", client.key);
        expect(await withCertificate(fromGiven), "a certificate from the given CA").to.deep.equal({ exitCode: 0, status: "200" });
        const refused = await withCertificate(fromRoot);
        expect(refused.status, "a certificate from the root").to.equal("000");
        expect(refused.exitCode, "a certificate from the root").to.not.equal(0);
    });
});
