/**
 * The peer CA rotated on a cluster booted on this machine, as `pulumi up`
 * takes each step: the component's bucket objects written first, then every
 * member replaced, one at a time, with the step's user data; the members'
 * own script reads the new trust bundle and signing key from the S3 stand-in
 * and real etcd trusts what it read when it started. A writer runs through
 * the whole rotation, and every acknowledged write is read back. Skipping the
 * first step is played too: the member rolled first is refused by the
 * others, which is what the guard's refusal prevents.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import type { Etcd3ClusterArgs } from "../lib/args";
import { memberCertificateFiles, memberCertificateSettingsPath, peerCaCertificateKey, peerCaPrivateKeyKey } from "../lib/member-certificate";
import type { LocalCluster, LocalNode } from "../local/cluster";
import { marginMs, readBackMs, rollTimeoutMs, useLocalCluster, writerStopMs } from "./helpers/local-cluster";
import { issueFrom } from "./helpers/peer-certificates";
import {
    checkWrites, failuresByOutcome, isAcknowledged, PacedWriter, readDirectoryWithQuorum, StoredValue, WriteRecord, writeCheckProblems,
} from "./helpers/paced-writes";
import { useTemporaryDirectory } from "./support/temporary-directory";

const run = promisify(execFile);

/** A file of a node's, by its path on the node. */
const onNode = (node: LocalNode, nodePath: string) => path.join(node.root, nodePath.slice(1));

/**
 * The generation a peer CA's subject names (`… etcd peer CA` is 0, `… etcd
 * peer CA 2` is 2), as `CA 0`, `CA 2`; any other subject as it is, so that a
 * certificate from elsewhere never passes for generation 0.
 */
function generationOf(subject: string): string {
    const named = /etcd peer CA(?: (\d+))?$/.exec(subject);
    return named ? `CA ${named[1] ?? 0}` : subject;
}

/** Bound on each openssl or curl run of the tests here. */
const toolMs = 10_000;
/** Worst case of `memberCas`: two openssl runs. */
const memberCasMs = 2 * toolMs;
/** Worst case of `issueFrom` (tests/helpers/peer-certificates.ts): a key, a request and the signature, each an openssl run. */
const issueFromMs = 3 * toolMs;

/** What a member trusts and signs with, as its files say: the CAs in its trust file, and the CA its certificate is from. */
async function memberCas(node: LocalNode): Promise<{ trusts: string[]; signedBy: string }> {
    const trusted = (await run("bash", ["-c", 'openssl crl2pkcs7 -nocrl -certfile "$1" | openssl pkcs7 -print_certs -noout', "trusted", onNode(node, memberCertificateFiles.ca)],
        { timeout: toolMs })).stdout;
    const issuer = (await run("openssl", ["x509", "-in", onNode(node, memberCertificateFiles.certificate), "-noout", "-issuer"], { timeout: toolMs })).stdout.trim();
    return { trusts: trusted.split("\n").filter((line) => line.startsWith("subject=")).map(generationOf), signedBy: generationOf(issuer) };
}

/** The secrets bucket's objects as the members read them: the trust bundle and the signing key. */
function storedCa(cluster: LocalCluster, s3: Awaited<ReturnType<LocalCluster["s3Api"]>>) {
    const bucket = /^TLS_BUCKET=(.*)$/m.exec(fs.readFileSync(onNode(cluster.nodes[0], memberCertificateSettingsPath), "utf8"))![1];
    const objects = s3!.objects(bucket);
    return { certificate: objects.get(peerCaCertificateKey)!.body.toString("utf8"), key: objects.get(peerCaPrivateKeyKey)!.body.toString("utf8") };
}

/** Whether a member's peer port answers `GET /members` (200) to a client presenting `client`'s certificate. */
async function peerPortAccepts(node: LocalNode, client: { certificate: string; key: string }): Promise<boolean> {
    try {
        const { stdout } = await run("curl", ["-sS", "--http1.1", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
            onNode(node, memberCertificateFiles.ca), "--cert", client.certificate, "--key", client.key, `https://${node.ip}:2380/members`], { timeout: toolMs });
        return stdout === "200";
    } catch {
        return false;
    }
}

/** The steps of one rotation, each one `pulumi up`. */
const steps: Array<[string, Partial<Etcd3ClusterArgs>]> = [
    ["trust-next", { peerCaRotation: "trust-next" }],
    ["sign-with-next", { peerCaRotation: "sign-with-next" }],
    ["generation 1", { peerCaGeneration: 1 }],
];

describe("local cluster of 3 with peerTls: the peer CA rotated a step and a roll at a time, under a write every 100 ms", function () {
    this.timeout(60_000);
    const cluster = useLocalCluster({ size: 3, bootstrap: "static", peerTls: true });
    const workDir = useTemporaryDirectory("etcd3-peer-ca-rotation-test-");
    const directory = `peer-ca-rotation-${process.pid}-${Date.now()}`;
    const seen: Record<string, Array<{ trusts: string[]; signedBy: string }>> = {};
    let records: WriteRecord[] = [];
    let stored = new Map<string, StoredValue>();
    let firstCa = { certificate: "", key: "" };
    let lastCa = { certificate: "", key: "" };

    before(async function () {
        // The rolls, what the members trust before and after each, the writer's last writes, the quorum read-back.
        this.timeout(rollTimeoutMs(steps.length, 3) + (1 + steps.length) * memberCasMs + writerStopMs + readBackMs);
        const s3 = await cluster().s3Api();
        firstCa = storedCa(cluster(), s3);
        seen.before = await Promise.all(cluster().nodes.map(memberCas));
        // Writes for as long as the rolls may take; stopped when they end.
        const maxDurationMs = rollTimeoutMs(steps.length, 3);
        const writer = new PacedWriter({ baseUrl: cluster().clusterUrl, directory, intervalMs: 100, maxDurationMs, maxWrites: maxDurationMs / 100 });
        writer.start();
        try {
            for (const [label, args] of steps) {
                await cluster().updateObjects(args);
                for (const index of cluster().nodes.keys()) {
                    await cluster().replaceNode(index, { args });
                }
                seen[label] = await Promise.all(cluster().nodes.map(memberCas));
            }
        } finally {
            records = await writer.stop();
            process.stdout.write(`      rotation: ${records.filter((r) => !isAcknowledged(r)).length} of ${records.length} writes failed ` +
                `through the load balancer ${JSON.stringify(failuresByOutcome(records))}\n`);
        }
        lastCa = storedCa(cluster(), s3);
        stored = await readDirectoryWithQuorum(cluster().clusterUrl, directory);
    });

    it("has every member trust, and sign with, the CAs each step names: the next CA trusted everywhere before any member signs with it", () => {
        const each = (trusts: string[], signedBy: string) => [0, 1, 2].map(() => ({ trusts, signedBy }));
        expect(seen).to.deep.equal({
            "before": each(["CA 0"], "CA 0"),
            "trust-next": each(["CA 0", "CA 1"], "CA 0"),
            "sign-with-next": each(["CA 1", "CA 0"], "CA 1"),
            "generation 1": each(["CA 1"], "CA 1"),
        });
    });

    it("keeps every acknowledged write through the three rolls", () => {
        expect(records.filter(isAcknowledged).length).to.be.greaterThan(0);
        expect(writeCheckProblems(checkWrites(records, stored))).to.deep.equal([]);
    });

    it("leaves the members refusing a peer certificate from the old CA, and taking one from the new", async function () {
        // Two certificates, then two requests to each member (the members at once).
        this.timeout(2 * issueFromMs + 2 * toolMs + marginMs);
        const old = await issueFrom(workDir(), "old-ca-peer", firstCa.certificate, firstCa.key);
        const current = await issueFrom(workDir(), "new-ca-peer", lastCa.certificate, lastCa.key);
        const answers = await Promise.all(cluster().nodes.map(async (node) => [await peerPortAccepts(node, old), await peerPortAccepts(node, current)]));
        expect(answers).to.deep.equal([[false, true], [false, true], [false, true]]);
    });
});

describe("local cluster of 3 with peerTls: a rotation that skips \"trust-next\", as the guard refuses it", function () {
    this.timeout(60_000);
    const cluster = useLocalCluster({ size: 3, bootstrap: "static", peerTls: true });

    it("leaves the member rolled first unable to rejoin: the others, started trusting the old CA alone, refuse its new certificate", async function () {
        const replaceTimeoutMs = 45_000;
        // The roll of one member, then what it and the others trust (the others at once).
        this.timeout(rollTimeoutMs(1, 1, { replaceTimeoutMs }) + 2 * memberCasMs);
        const args: Partial<Etcd3ClusterArgs> = { peerCaRotation: "sign-with-next" };
        await cluster().updateObjects(args);
        const replaced = cluster().replaceNode(0, { args, timeoutMs: replaceTimeoutMs });
        await replaced.then(() => expect.fail("the member signed by the next CA rejoined members that do not trust it"), (error: Error) => {
            expect(error.message).to.match(/^timed out after \d+ ms waiting for etcd3-cluster-0 \(http:\/\/[\d.]+:2379\) to answer \/health with 200$/);
        });
        expect(await memberCas(cluster().nodes[0])).to.deep.equal({ trusts: ["CA 1", "CA 0"], signedBy: "CA 1" });
        expect(await Promise.all(cluster().nodes.slice(1).map(memberCas))).to.deep.equal([0, 1].map(() => ({ trusts: ["CA 0"], signedBy: "CA 0" })));
    });
});

describe("local cluster of 3 with peerTls and clientTls: clients verifying the members through a rotation", function () {
    this.timeout(60_000);
    const cluster = useLocalCluster({ size: 3, bootstrap: "static", peerTls: true, clientTls: true });
    const workDir = useTemporaryDirectory("etcd3-peer-ca-rotation-clients-test-");
    /** Per step, whether each member's client port verifies with the caCertificate taken before the rotation, and with the one taken after "trust-next". */
    const verified: Record<string, boolean[][]> = {};

    /** Whether a client trusting `caFile` alone verifies the member's client port (its /health answers). */
    async function verifies(node: LocalNode, caFile: string): Promise<boolean> {
        try {
            await run("curl", ["-sS", "--fail", "--max-time", "5", "--cacert", caFile, `${node.clientUrl}/health`], { timeout: toolMs });
            return true;
        } catch {
            return false;
        }
    }

    before(async function () {
        // The rolls, and after each two requests to each member (the members at once).
        this.timeout(rollTimeoutMs(steps.length, 3) + steps.length * 2 * toolMs);
        const before = path.join(workDir(), "ca-before.crt");
        const afterTrustNext = path.join(workDir(), "ca-after-trust-next.crt");
        fs.copyFileSync(cluster().memberCaFile!, before);
        for (const [label, args] of steps) {
            await cluster().updateObjects(args);
            if (label === "trust-next") {
                // What the README asks of clients: caCertificate taken again after step 1, before step 2.
                fs.copyFileSync(cluster().memberCaFile!, afterTrustNext);
            }
            for (const index of cluster().nodes.keys()) {
                await cluster().replaceNode(index, { args });
            }
            verified[label] = await Promise.all(cluster().nodes.map(async (node) => [await verifies(node, before), await verifies(node, afterTrustNext)]));
        }
    });

    it("keeps a client that took caCertificate again after \"trust-next\" verifying every member at every step, and refuses one that did not once they sign with the next CA", () => {
        const each = (withOld: boolean, withBundle: boolean) => [0, 1, 2].map(() => [withOld, withBundle]);
        expect(verified).to.deep.equal({
            "trust-next": each(true, true),
            "sign-with-next": each(false, true),
            "generation 1": each(false, true),
        });
    });
});
