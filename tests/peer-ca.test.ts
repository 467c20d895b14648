import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { generatedPeerCa, parsedPeerCaCertificate, peerCaIdentity, peerCaPrivateKeyProblem, peerCaValidityEnd } from "../lib/peer-ca";
import { createTestCertificateAuthority, IssuedCertificate, openssl } from "../local/test-certificates";

const run = promisify(execFile);

/** The problem the certificate check finds, or undefined when it takes the certificate. */
const certificateProblem = (pem: string) => {
    const parsed = parsedPeerCaCertificate(pem, Date.now());
    return "problem" in parsed ? parsed.problem : undefined;
};

describe("a peer CA the user gives (lib/peer-ca.ts)", function () {
    this.timeout(60_000);
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-peer-ca-test-"));
    after(() => fs.rmSync(workDir, { recursive: true, force: true }));
    let counter = 0;
    /** A new directory under the suite's own. */
    const directory = () => fs.mkdtempSync(path.join(workDir, `${counter++}-`));

    /** A self-signed CA certificate (CA:TRUE) over a key `openssl genpkey` makes with `keyOptions`. */
    async function selfSignedCa(commonName: string, keyOptions: string[]): Promise<IssuedCertificate> {
        const dir = directory();
        fs.writeFileSync(path.join(dir, "req.cnf"), [
            "[req]", "distinguished_name = dn", "x509_extensions = ca", "prompt = no",
            "[dn]", `CN = ${commonName}`,
            "[ca]", "basicConstraints = critical, CA:TRUE", "keyUsage = critical, keyCertSign, cRLSign", "",
        ].join("\n"));
        await openssl(["genpkey", ...keyOptions, "-out", "ca.key"], dir);
        await openssl(["req", "-x509", "-new", "-config", "req.cnf", "-key", "ca.key", "-days", "30", "-out", "ca.crt"], dir);
        const [certificateFile, keyFile] = [path.join(dir, "ca.crt"), path.join(dir, "ca.key")];
        return { certificateFile, keyFile, certificate: fs.readFileSync(certificateFile, "utf8"), key: fs.readFileSync(keyFile, "utf8") };
    }

    describe("its certificate", () => {
        it("takes a self-signed ECDSA CA valid now", async () => {
            const ca = await createTestCertificateAuthority(directory(), { commonName: "kv peers" });
            expect(certificateProblem(ca.certificate)).to.equal(undefined);
        });

        it("takes an intermediate CA with an RSA key, given without its issuer", async () => {
            const root = await createTestCertificateAuthority(directory(), { commonName: "company root" });
            const intermediate = await root.issueCertificateAuthority("etcd-peers", { commonName: "company etcd peers", keyAlgorithm: "rsa" });
            expect(certificateProblem(intermediate.certificate)).to.equal(undefined);
        });

        it("refuses a certificate that is not a CA's", async () => {
            const ca = await createTestCertificateAuthority(directory());
            const leaf = await ca.issue("leaf", { dnsNames: ["etcd.example.com"] });
            expect(certificateProblem(leaf.certificate)).to.equal(
                "peerCaCertificate: \"CN=etcd.example.com\" is not a CA certificate (its basic constraints do not say CA:TRUE), so the members' certificates it signed would be refused");
        });

        it("refuses a CA that has expired, naming the date", async () => {
            const ca = await createTestCertificateAuthority(directory(), {
                commonName: "old CA", notBefore: new Date("2020-01-01T00:00:00Z"), notAfter: new Date("2021-01-01T00:00:00Z"),
            });
            expect(certificateProblem(ca.certificate)).to.equal(
                "peerCaCertificate: \"CN=old CA\" expired on Jan  1 00:00:00 2021 GMT; give one valid for the cluster's lifetime");
        });

        it("refuses a CA not valid yet, naming the date", async () => {
            const ca = await createTestCertificateAuthority(directory(), {
                commonName: "future CA", notBefore: new Date("2099-01-01T00:00:00Z"), notAfter: new Date("2100-01-01T00:00:00Z"),
            });
            expect(certificateProblem(ca.certificate)).to.equal("peerCaCertificate: \"CN=future CA\" is not valid before Jan  1 00:00:00 2099 GMT");
        });

        it("refuses a chain: the members would trust its issuers too", async () => {
            const root = await createTestCertificateAuthority(directory());
            const intermediate = await root.issueCertificateAuthority("peers", { commonName: "peers" });
            expect(certificateProblem(intermediate.certificate + root.certificate)).to.equal(
                "peerCaCertificate: give exactly one PEM certificate (-----BEGIN CERTIFICATE-----), the CA that signs the members' certificates; it has 2. " +
                "An intermediate CA is fine: the members trust it alone, so leave its issuers out");
            expect(certificateProblem("")).to.match(/^peerCaCertificate: give exactly one PEM certificate .*; it has 0\./);
        });

        it("refuses a private key pasted beside the certificate, without showing it", async () => {
            const ca = await createTestCertificateAuthority(directory());
            const problem = certificateProblem(ca.certificate + ca.key)!;
            expect(problem).to.equal("peerCaCertificate: it holds a private key, which would be kept in clear in the stack's state; " +
                "give the CA's certificate alone here, and its key in peerCaPrivateKey, as a secret");
        });

        it("refuses text that only looks like a certificate", () => {
            expect(certificateProblem("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"))
                .to.match(/^peerCaCertificate: not a PEM certificate openssl or Node\.js can read \(.+\)$/);
        });

        it("refuses keys the members cannot sign with using SHA-256, or Go would not verify, naming what is allowed", async () => {
            const allowed = "use RSA of 2048 bits or more, or ECDSA on P-256, P-384, P-521";
            const cases: [string, string[], string][] = [
                ["ed25519", ["-algorithm", "ed25519"], "a key of type ed25519"],
                ["rsa1024", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"], "an RSA key of 1024 bits, fewer than 2048"],
                ["k256", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"], "an ECDSA key on curve secp256k1"],
            ];
            for (const [name, keyOptions, key] of cases) {
                const ca = await selfSignedCa(name, keyOptions);
                expect(certificateProblem(ca.certificate), name).to.equal(`peerCaCertificate: "CN=${name}" has ${key}; the members sign with it using SHA-256: ${allowed}`);
            }
            for (const [name, keyOptions] of [["p384", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"]], ["rsa2048", ["-algorithm", "RSA"]]]) {
                expect(certificateProblem((await selfSignedCa(name as string, keyOptions as string[])).certificate), name as string).to.equal(undefined);
            }
        });
    });

    describe("its private key", () => {
        it("takes the certificate's own key", async () => {
            const ca = await createTestCertificateAuthority(directory());
            expect(peerCaPrivateKeyProblem(ca.key, ca.certificate)).to.equal(undefined);
        });

        it("refuses another key", async () => {
            const [ca, other] = [await createTestCertificateAuthority(directory()), await createTestCertificateAuthority(directory())];
            expect(peerCaPrivateKeyProblem(other.key, ca.certificate)).to.equal(
                "peerCaPrivateKey: not the private key of peerCaCertificate; give the key the CA's certificate was made for");
        });

        it("refuses an encrypted key, or text that is no key, without showing it", async () => {
            const ca = await createTestCertificateAuthority(directory());
            const { stdout: encrypted } = await run("openssl", ["pkey", "-in", ca.keyFile, "-aes256", "-passout", "pass:a passphrase"], { timeout: 10_000 });
            const refusal = "peerCaPrivateKey: not an unencrypted PEM private key (an encrypted one needs its passphrase, which the members do not have: " +
                "`openssl pkey -in ca.key -out ca-plain.key` decrypts it)";
            expect(encrypted).to.contain("ENCRYPTED PRIVATE KEY");
            expect(peerCaPrivateKeyProblem(encrypted, ca.certificate)).to.equal(refusal);
            expect(peerCaPrivateKeyProblem("correct horse battery staple", ca.certificate)).to.equal(refusal);
        });

        it("refuses a value that is not a string", async () => {
            const ca = await createTestCertificateAuthority(directory());
            expect(peerCaPrivateKeyProblem(42, ca.certificate)).to.equal("peerCaPrivateKey: use a string (a Pulumi secret holding the PEM key), not number");
            expect(peerCaPrivateKeyProblem(null, ca.certificate)).to.equal("peerCaPrivateKey: use a string (a Pulumi secret holding the PEM key), not null");
        });
    });

    describe("what the guard and the expiry warning read of it", () => {
        it("is the certificate's SHA-256 fingerprint as openssl prints it, or \"generated\" for the component's own", async () => {
            const ca = await createTestCertificateAuthority(directory());
            const { stdout } = await run("openssl", ["x509", "-in", ca.certificateFile, "-noout", "-fingerprint", "-sha256"], { timeout: 10_000 });
            expect(peerCaIdentity(ca.certificate)).to.equal(`SHA-256 ${stdout.trim().replace(/^sha256 Fingerprint=/i, "")}`);
            expect(peerCaIdentity(undefined)).to.equal(generatedPeerCa).and.to.equal("generated");
        });

        it("ends when the certificate does, as RFC 3339", async () => {
            const notAfter = new Date("2031-06-30T12:34:56Z");
            const ca = await createTestCertificateAuthority(directory(), { notAfter });
            expect(peerCaValidityEnd(ca.certificate)).to.equal("2031-06-30T12:34:56.000Z");
        });
    });
});
