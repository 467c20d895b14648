import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { checkedPeerCaCertificate, peerCaPrivateKeyProblem } from "../lib/peer-ca";
import { createTestCertificateAuthority, IssuedCertificate, openssl } from "../local/test-certificates";
import { useTemporaryDirectory } from "./support/temporary-directory";

const run = promisify(execFile);

/** The problem the certificate check finds, or undefined when it takes the certificate. */
const certificateProblem = (pem: string) => {
    const checked = checkedPeerCaCertificate(pem, Date.now());
    return "problem" in checked ? checked.problem : undefined;
};

describe("a peer CA the user gives (lib/peer-ca.ts)", function () {
    this.timeout(60_000);
    const workDir = useTemporaryDirectory("etcd3-peer-ca-test-");
    let counter = 0;
    /** A new directory under the suite's own. */
    const directory = () => fs.mkdtempSync(path.join(workDir(), `${counter++}-`));

    /** A self-signed CA certificate over a key `openssl genpkey` makes with `keyOptions`, with `extensions` (by default CA:TRUE, certificate signing). */
    async function selfSignedCa(commonName: string, keyOptions: string[], extensions = ["basicConstraints = critical, CA:TRUE", "keyUsage = critical, keyCertSign, cRLSign"]) {
        const dir = directory();
        fs.writeFileSync(path.join(dir, "req.cnf"), [
            "[req]", "distinguished_name = dn", "x509_extensions = ca", "prompt = no",
            "[dn]", `CN = ${commonName}`,
            "[ca]", ...extensions, "",
        ].join("\n"));
        await openssl(["genpkey", ...keyOptions, "-out", "ca.key"], dir);
        await openssl(["req", "-x509", "-new", "-config", "req.cnf", "-key", "ca.key", "-days", "30", "-out", "ca.crt"], dir);
        const [certificateFile, keyFile] = [path.join(dir, "ca.crt"), path.join(dir, "ca.key")];
        const issued: IssuedCertificate = { certificateFile, keyFile, certificate: fs.readFileSync(certificateFile, "utf8"), key: fs.readFileSync(keyFile, "utf8") };
        return issued;
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
                "peerCaCertificate: \"CN=etcd.example.com\" is not a CA certificate (its basic constraints must say CA:TRUE, and its key usage, when it " +
                "has one, must allow signing certificates), so the members' certificates it signed would be refused");
        });

        it("refuses a CA whose key usage does not allow signing certificates, saying so", async () => {
            const ca = await selfSignedCa("no-cert-sign", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
                ["basicConstraints = critical, CA:TRUE", "keyUsage = critical, digitalSignature"]);
            expect(certificateProblem(ca.certificate)).to.equal("peerCaCertificate: \"CN=no-cert-sign\" is not a CA certificate (its basic constraints must " +
                "say CA:TRUE, and its key usage, when it has one, must allow signing certificates), so the members' certificates it signed would be refused");
        });

        it("refuses a CA whose extended key usage leaves out a member's, which Go checks up to the CA; takes one that names both, or any", async () => {
            const ec = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
            const withUsage = (name: string, usage: string) => selfSignedCa(name, ec, ["basicConstraints = critical, CA:TRUE", "keyUsage = critical, keyCertSign", `extendedKeyUsage = ${usage}`]);
            expect(certificateProblem((await withUsage("server-only", "serverAuth")).certificate)).to.equal(
                "peerCaCertificate: \"CN=server-only\" limits its extended key usage without clientAuth; each member's certificate is a server and a client " +
                "to its peers, and etcd's TLS checks the usage up to the CA, so the members would refuse each other. Give a CA without an " +
                "extended key usage, or with both serverAuth and clientAuth");
            expect(certificateProblem((await withUsage("email", "emailProtection")).certificate)).to.match(/limits its extended key usage without serverAuth and clientAuth;/);
            expect(certificateProblem((await withUsage("both", "serverAuth, clientAuth")).certificate)).to.equal(undefined);
            expect(certificateProblem((await withUsage("any", "anyExtendedKeyUsage")).certificate)).to.equal(undefined);
        });

        it("refuses a CA that has expired, naming the date", async () => {
            const ca = await createTestCertificateAuthority(directory(), {
                commonName: "old CA", notBefore: new Date("2020-01-01T00:00:00Z"), notAfter: new Date("2021-01-01T00:00:00Z"),
            });
            expect(certificateProblem(ca.certificate)).to.equal(
                "peerCaCertificate: \"CN=old CA\" expired on Jan  1 00:00:00 2021 GMT; members trusting it refuse each other's certificates. " +
                "A running cluster with it has stopped: build a new cluster with a new CA and move the data (backups and restoreFrom)");
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
                "give the CA's certificate alone here, and its key in peerCaPrivateKey, as a secret. If it came from stack config, it is already " +
                "in clear in Pulumi.<stack>.yaml: remove it from there and take the key as exposed");
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

    describe("what the guard, the members' settings and the expiry warning read of it", () => {
        /** `openssl x509 <options>` of a certificate file, trimmed. */
        const x509 = async (file: string, ...options: string[]) => (await run("openssl", ["x509", "-in", file, ...options], { timeout: 10_000 })).stdout.trim();

        it("is its subject and the SHA-256 of its public key for the guard, its SHA-256 fingerprint, and its end, each as openssl reads them", async () => {
            const notAfter = new Date("2031-06-30T12:34:56Z");
            const ca = await createTestCertificateAuthority(directory(), { commonName: "kv peers", notAfter });
            const { stdout: publicKeyDigest } = await run("bash", ["-c", 'openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum',
                "digest", ca.certificateFile], { timeout: 10_000 });
            const colons = (hex: string) => hex.toUpperCase().match(/../g)!.join(":");
            expect(checkedPeerCaCertificate(ca.certificate, Date.now())).to.deep.equal({
                identity: `subject "CN=kv peers", public key SHA-256 ${colons(publicKeyDigest.split(" ")[0])}`,
                fingerprint: (await x509(ca.certificateFile, "-noout", "-fingerprint", "-sha256")).replace(/^sha256 Fingerprint=/i, ""),
                validityEnd: "2031-06-30T12:34:56.000Z",
            });
        });

        it("writes a subject of several parts on one line, comma-separated, for the guard and the messages", async () => {
            const ca = await selfSignedCa("kv peers\nO = Example Ltd\nC = GB", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
            const checked = checkedPeerCaCertificate(ca.certificate, Date.now());
            expect("identity" in checked && checked.identity).to.match(/^subject "CN=kv peers, O=Example Ltd, C=GB", public key SHA-256 [0-9A-F:]{95}$/);
        });

        it("keeps the guard's identity for a certificate renewed with the same key and subject, and changes the fingerprint", async () => {
            const ca = await createTestCertificateAuthority(directory(), { commonName: "kv peers" });
            const renewedFile = path.join(ca.directory, "renewed.crt");
            const state = path.join(ca.directory, "renew.cnf");
            fs.writeFileSync(state, ["[req]", "distinguished_name = dn", "x509_extensions = ca", "prompt = no", "[dn]", "CN = kv peers",
                "[ca]", "basicConstraints = critical, CA:TRUE", "keyUsage = critical, keyCertSign, cRLSign", ""].join("\n"));
            await openssl(["req", "-x509", "-new", "-config", state, "-key", ca.keyFile, "-days", "400", "-out", renewedFile], ca.directory);
            const [first, renewed] = [ca.certificate, fs.readFileSync(renewedFile, "utf8")].map((pem) => checkedPeerCaCertificate(pem, Date.now()) as { identity: string; fingerprint: string });
            const other = checkedPeerCaCertificate((await createTestCertificateAuthority(directory(), { commonName: "kv peers" })).certificate, Date.now()) as { identity: string };
            expect(renewed.identity).to.equal(first.identity);
            expect(renewed.fingerprint).to.not.equal(first.fingerprint);
            expect(other.identity, "another key under the same subject").to.not.equal(first.identity);
        });
    });
});
