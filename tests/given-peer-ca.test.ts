/**
 * A peer CA the user gives (`peerCaCertificate`, `peerCaPrivateKey`) in the
 * resource graph (lib/args.ts, lib/tls.ts, lib/cluster.ts, Pulumi mocks):
 * what the secrets bucket holds, what clients and the guard are given, the
 * refusals before anything is created, and the expiry warning. The members
 * booting with one run for real in tests/local-peer-tls.test.ts.
 */
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { installMocks, resourcesOf, uniqueName, valueOf } from "./support/pulumi-mocks";

installMocks();
import { Etcd3Cluster, Etcd3ClusterArgs, Etcd3ClusterArgumentError } from "../lib";
import { resolveArgs } from "../lib/args";
import { memberCertificateSettingsPath, peerCaCertificateKey, peerCaPrivateKeyKey } from "../lib/member-certificate";
import { checkedPeerCaCertificate, CheckedPeerCaCertificate } from "../lib/peer-ca";
import { createTestCertificateAuthority, TestCertificateAuthority } from "../local/test-certificates";
import { buildWithSecrets, fileIn, INSTANCE, inputsOf, secretsBucket } from "./support/secrets-graph";
import { useTemporaryDirectory } from "./support/temporary-directory";
import { warningsWhile } from "./support/warnings";

const GUARD = "pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard";
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";
const secret = (value: string) => ({ [specialSigKey]: specialSecretSig, value });

describe("a peer CA the user gives, in the resource graph (Pulumi mocks)", function () {
    this.timeout(60_000);
    const workDir = useTemporaryDirectory("etcd3-given-peer-ca-test-");
    let ca: TestCertificateAuthority;
    let other: TestCertificateAuthority;
    before(async () => {
        // Valid five years: no expiry warning.
        const notAfter = new Date(Date.now() + 5 * 365 * 86_400_000);
        ca = await createTestCertificateAuthority(fs.mkdtempSync(path.join(workDir(), "ca-")), { commonName: "company etcd peers", notAfter });
        other = await createTestCertificateAuthority(fs.mkdtempSync(path.join(workDir(), "other-")), { commonName: "another CA", notAfter });
    });
    const given = (): Etcd3ClusterArgs => ({ peerTls: true, peerCaCertificate: ca.certificate, peerCaPrivateKey: pulumi.secret(ca.key) });

    it("makes no CA of its own; the bucket trusts and signs with the given one alone, clients get it, the guard keeps its subject and key, the members its fingerprint", async () => {
        const { name, cluster } = await buildWithSecrets({ ...given(), clusterSize: 3 });
        const objects = Object.fromEntries(inputsOf(name, OBJECT).map((object) => [object.inputs.key, object.inputs.content]));
        expect({
            keys: inputsOf(name, "tls:index/privateKey:PrivateKey").map((key) => key.name),
            certificates: inputsOf(name, "tls:index/selfSignedCert:SelfSignedCert").map((certificate) => certificate.name),
            objects,
            caCertificate: await valueOf(cluster.caCertificate),
            guard: resourcesOf(name, GUARD)[0].inputs.peerCaCertificate,
            settings: resourcesOf(name, INSTANCE).map((instance) => fileIn(instance.inputs.userData, memberCertificateSettingsPath)),
        }).to.deep.equal({
            keys: [],
            certificates: [],
            objects: { [peerCaCertificateKey]: ca.certificate, [peerCaPrivateKeyKey]: secret(ca.key) },
            caCertificate: ca.certificate,
            guard: (checkedPeerCaCertificate(ca.certificate, Date.now()) as CheckedPeerCaCertificate).identity,
            // The same settings as with the component's own CA: a member reads the CA from the bucket either way.
            // With the certificate's fingerprint: a renewed certificate rolls the members onto it.
            settings: [0, 1, 2].map((member) => [
                `MEMBER_NAME=etcd3-cluster-${member}`, `TLS_BUCKET=${secretsBucket(name)}`, "TLS_REGION=eu-west-2", "CERTIFICATE_DAYS=90", "RENEWAL_DAYS=30",
                "CERTIFICATE_DNS_NAMES=", `PEER_CA_CERTIFICATE_SHA256=${new X509Certificate(ca.certificate).fingerprint256}`, "",
            ].join("\n")),
        });
    });

    it("resolves to the certificate and the key as given", () => {
        const key = pulumi.secret(ca.key);
        expect(resolveArgs("kv", { peerTls: true, peerCaCertificate: ca.certificate, peerCaPrivateKey: key }).givenPeerCa)
            .to.deep.equal({ ...checkedPeerCaCertificate(ca.certificate, Date.now()), certificatePem: ca.certificate, privateKeyPem: key });
    });

    it("keeps a key given as a plain string secret in the bucket object's state", async () => {
        const { name } = await buildWithSecrets({ ...given(), peerCaPrivateKey: ca.key });
        const keyObject = inputsOf(name, OBJECT).find((object) => object.inputs.key === peerCaPrivateKeyKey)!;
        expect(keyObject.inputs.content).to.deep.equal(secret(ca.key));
    });

    it("checks a key given as an Output once known: another CA's key fails the run with the problem, never showing the key", async () => {
        const failure: string = await buildWithSecrets({ ...given(), peerCaPrivateKey: pulumi.secret(other.key) })
            .then(() => "the build succeeded", (error: Error) => error.message);
        expect(failure).to.match(/error serializing property "content": peerCaPrivateKey: not the private key of peerCaCertificate; give the key the CA's certificate was made for$/);
        expect(failure).to.not.contain("PRIVATE KEY");
        expect(failure).to.not.contain(other.key.split("\n")[1]);
    });

    describe("refuses, naming the argument and what it takes, before creating anything", () => {
        const refuse = (args: Etcd3ClusterArgs, message: string) => {
            const name = uniqueName();
            expect(() => new Etcd3Cluster(name, { discoveryLogFile: false, ...args })).to.throw(Etcd3ClusterArgumentError, message);
            expect(resourcesOf(name)).to.deep.equal([]);
        };

        it("one of the two without the other", () => {
            refuse({ peerTls: true, peerCaCertificate: ca.certificate }, "peerCaCertificate: peerCaCertificate and peerCaPrivateKey go together; give both or neither");
            refuse({ peerTls: true, peerCaPrivateKey: pulumi.secret(ca.key) }, "peerCaPrivateKey: peerCaCertificate and peerCaPrivateKey go together; give both or neither");
        });

        it("either without peerTls, whose CA it is", () => {
            refuse({ ...given(), peerTls: undefined }, "peerCaCertificate: the peer CA is peerTls's, and peerTls is off; leave it out, or turn peerTls on");
        });

        it("a rotation, which makes CAs of the component's own", () => {
            const why = "a rotation replaces the component's own peer CA with a next one it makes, and peerCaCertificate gives yours; " +
                "leave peerCaRotation and peerCaGeneration out";
            refuse({ ...given(), peerCaRotation: "trust-next" }, `peerCaRotation: ${why}`);
            refuse({ ...given(), peerCaGeneration: 1 }, `peerCaGeneration: ${why}`);
        });

        it("a certificate that is not a CA's, or a plain key that is not its own", async () => {
            const leaf = await ca.issue("not-a-ca", { dnsNames: ["etcd.example.com"] });
            refuse({ ...given(), peerCaCertificate: leaf.certificate }, "peerCaCertificate: \"CN=etcd.example.com\" is not a CA certificate");
            refuse({ ...given(), peerCaPrivateKey: other.key }, "peerCaPrivateKey: not the private key of peerCaCertificate");
        });
    });

    it("warns at every run once the given CA has less than a year left, saying to renew it for the same key and subject", async () => {
        const directory = fs.mkdtempSync(path.join(workDir(), "ending-"));
        const ending = await createTestCertificateAuthority(directory, { commonName: "ending CA", notAfter: new Date(Date.now() + 100.5 * 86_400_000) });
        const warnings = await warningsWhile(() => buildWithSecrets({ peerTls: true, peerCaCertificate: ending.certificate, peerCaPrivateKey: ending.key }));
        expect(warnings.filter((warning) => warning.includes("peer CA"))).to.deep.equal([
            `the cluster's peer CA expires on ${new Date(Date.parse(new X509Certificate(ending.certificate).validTo)).toISOString()}, in 100 days, ` +
            "and the component does not renew it by itself; it is yours (peerCaCertificate): before then, renew it for the same key and subject " +
            "(the members roll onto it), or build a new cluster with another CA and move the data to it (backups and restoreFrom)",
        ]);
    });
});
