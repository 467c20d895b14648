/**
 * The harness's tls provider under mocks (local/tls-provider.ts): real keys,
 * and certificates that openssl itself takes for what was asked (a CA that
 * can sign, its subject, validity and key usages), made from the inputs as
 * the mocks hand them over (a secret private key wrapped); and what it does
 * not play, refused by name.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { installMocks, registered, settle, uniqueName } from "./support/pulumi-mocks";

installMocks();
import { Etcd3ClusterMocks } from "../lib/testing";
import { newTlsResource, tlsPrivateKeyType, tlsSelfSignedCertType } from "../local/tls-provider";

const run = promisify(execFile);

/** Bound on each openssl run, the tests' own and the provider's (local/test-certificates.ts's, not exported there). */
const opensslRunMs = 30_000;
/** Room a mocha timeout keeps above the bounds it covers, as tests/helpers/local-cluster.ts's `marginMs` (not imported: it loads lib/ before the mocks). */
const marginMs = 5_000;
/** A self-signed certificate from the provider: a request, then its signature. */
const selfSignedRuns = 2;
/** `verifyLeafOf`: a leaf's request, its signature, the verification. */
const verifyLeafRuns = 3;

/** What the engine passes to `newResource`, with the fields these mocks read. */
const resource = (type: string, name: string, inputs: Record<string, unknown>): pulumi.runtime.MockResourceArgs =>
    ({ type, name, inputs, provider: undefined, custom: true } as unknown as pulumi.runtime.MockResourceArgs);

/** The error `promise` rejects with, or a failure if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
    const outcome = await promise.then(() => undefined, (error: Error) => error);
    expect(outcome, "the call succeeded").to.be.instanceOf(Error);
    return outcome!;
}

describe("local harness: the tls provider under mocks, with real keys and certificates", function () {
    // Tests here that run openssl set their own timeouts.
    this.timeout(30_000);
    let directory: string;

    beforeEach(() => {
        directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-tls-provider-test-"));
    });
    afterEach(() => {
        fs.rmSync(directory, { recursive: true, force: true });
    });

    const openssl = async (args: string[]) => (await run("openssl", args, { cwd: directory, timeout: opensslRunMs })).stdout;
    const newKey = async () => (await newTlsResource(resource(tlsPrivateKeyType, "key", { algorithm: "ECDSA", ecdsaCurve: "P256" })))!;

    /**
     * The inputs of a SelfSignedCert as the mocks hand them to `newResource`:
     * registered through the SDK (which marks the private key secret) under
     * the suite's mocks, and read back from what they recorded.
     */
    async function certificateInputs(args: tls.SelfSignedCertArgs): Promise<Record<string, unknown>> {
        const name = uniqueName();
        new tls.SelfSignedCert(name, args);
        await settle();
        return registered.find((r) => r.type === tlsSelfSignedCertType && r.name === name)!.inputs;
    }

    /** A leaf certificate signed by `ca` with its key, and whether openssl verifies it against `ca` alone (its answer). */
    async function verifyLeafOf(ca: string, caKey: string): Promise<{ ok: boolean; output: string }> {
        fs.writeFileSync(path.join(directory, "ca.pem"), ca);
        fs.writeFileSync(path.join(directory, "ca.key"), caKey, { mode: 0o600 });
        fs.writeFileSync(path.join(directory, "leaf.ext"), "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n");
        await openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-subj", "/CN=member-0", "-out", "leaf.csr"]);
        await openssl(["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "1", "-days", "1", "-extfile", "leaf.ext", "-out", "leaf.pem"]);
        try {
            return { ok: true, output: await openssl(["verify", "-x509_strict", "-CAfile", "ca.pem", "leaf.pem"]) };
        } catch (error) {
            return { ok: false, output: String((error as { stdout?: string }).stdout) + String((error as { stderr?: string }).stderr) };
        }
    }

    it("gives a PrivateKey a new ECDSA P-256 key: SEC1 PEM as the provider writes it, its PKCS#8 and public PEMs, id the SHA-1 of the public PEM", async () => {
        const { id, state } = await newKey();
        expect(state.privateKeyPem).to.match(/^-----BEGIN EC PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END EC PRIVATE KEY-----\n$/);
        const key = crypto.createPrivateKey(state.privateKeyPem);
        expect([key.asymmetricKeyType, key.asymmetricKeyDetails?.namedCurve]).to.deep.equal(["ec", "prime256v1"]);
        expect(crypto.createPrivateKey(state.privateKeyPemPkcs8).export({ type: "sec1", format: "pem" })).to.equal(state.privateKeyPem);
        expect(crypto.createPublicKey(key).export({ type: "spki", format: "pem" })).to.equal(state.publicKeyPem);
        expect(id).to.equal(crypto.createHash("sha1").update(state.publicKeyPem).digest("hex"));
        expect(state).to.include({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        expect((await newKey()).state.privateKeyPem).to.not.equal(state.privateKeyPem);
    });

    it("self-signs a CA with the key as the mocks hand it over (a secret): openssl verifies a leaf it signs; subject, validity, constraints and usages as asked", async function () {
        // The certificate, the leaf it signs, then its extensions read.
        this.timeout((selfSignedRuns + verifyLeafRuns + 1) * opensslRunMs + marginMs);
        const key = (await newKey()).state;
        const inputs = await certificateInputs({
            privateKeyPem: key.privateKeyPem, subject: { commonName: "etcd peer CA", organization: "etcd3-cluster" }, validityPeriodHours: 87600,
            isCaCertificate: true, allowedUses: ["cert_signing", "crl_signing", "digital_signature"], earlyRenewalHours: 720,
        });
        expect(pulumi.runtime.isRpcSecret(inputs.privateKeyPem), "the private key arrives wrapped as a secret").to.equal(true);
        // Through the package's mocks, which leave the tls types to the user's.
        const mocks = new Etcd3ClusterMocks({ mocks: { newResource: newTlsResource } });
        const before = Date.now();
        const { id, state } = await mocks.newResource(resource(tlsSelfSignedCertType, "peer-ca", inputs));

        expect((await verifyLeafOf(state.certPem, key.privateKeyPem)).ok).to.equal(true);
        const certificate = new crypto.X509Certificate(state.certPem);
        expect(certificate.ca).to.equal(true);
        expect(certificate.checkPrivateKey(crypto.createPrivateKey(key.privateKeyPem))).to.equal(true);
        expect(certificate.verify(crypto.createPublicKey(key.privateKeyPem))).to.equal(true);
        expect(certificate.subject).to.equal("O=etcd3-cluster\nCN=etcd peer CA");
        expect(certificate.issuer).to.equal(certificate.subject);
        const notBefore = new Date(certificate.validFrom).getTime();
        const notAfter = new Date(certificate.validTo).getTime();
        expect(notAfter - notBefore).to.equal(87600 * 3_600_000);
        expect(notBefore).to.be.within(Math.floor(before / 1000) * 1000, Date.now());
        expect(state.validityStartTime).to.equal(new Date(notBefore).toISOString().replace(".000Z", "Z"));
        expect(state.validityEndTime).to.equal(new Date(notAfter).toISOString().replace(".000Z", "Z"));
        expect(id).to.equal(BigInt(`0x${certificate.serialNumber}`).toString());
        expect(state).to.include({ keyAlgorithm: "ECDSA", readyForRenewal: false, isCaCertificate: true, earlyRenewalHours: 720 });
        fs.writeFileSync(path.join(directory, "peer-ca.pem"), state.certPem);
        const extensions = await openssl(["x509", "-in", "peer-ca.pem", "-noout", "-ext", "basicConstraints,keyUsage,extendedKeyUsage,subjectKeyIdentifier"]);
        expect(extensions).to.match(/X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/)
            .and.match(/X509v3 Key Usage: critical\n\s+Digital Signature, Certificate Sign, CRL Sign\n/)
            .and.match(/X509v3 Subject Key Identifier: \n\s+[0-9A-F:]{59}\n/)
            .and.not.include("Extended Key Usage");
    });

    it("gives a CA only the usages asked: without cert_signing, openssl refuses the leaves it signs", async function () {
        this.timeout((selfSignedRuns + verifyLeafRuns) * opensslRunMs + marginMs);
        const key = (await newKey()).state;
        const { state } = (await newTlsResource(resource(tlsSelfSignedCertType, "no-signing", {
            privateKeyPem: key.privateKeyPem, subject: { commonName: "not a signer" }, validityPeriodHours: 24, isCaCertificate: true,
            allowedUses: ["digital_signature", "key_encipherment"],
        })))!;
        const verified = await verifyLeafOf(state.certPem, key.privateKeyPem);
        expect(verified.ok).to.equal(false);
        expect(verified.output).to.match(/key usage does not include certificate signing/i);
    });

    it("refuses by name what it does not play: another algorithm or curve, a use, input or subject field it does not map, a CA without a subject", async () => {
        const key = (await newKey()).state;
        const certificate = (inputs: Record<string, unknown>) => rejectionOf(newTlsResource(resource(tlsSelfSignedCertType, "ca", {
            privateKeyPem: key.privateKeyPem, subject: { commonName: "ca" }, validityPeriodHours: 24, isCaCertificate: true, allowedUses: ["cert_signing"], ...inputs,
        })));
        const privateKey = (inputs: Record<string, unknown>) => rejectionOf(newTlsResource(resource(tlsPrivateKeyType, "key", inputs)));
        expect((await privateKey({ algorithm: "RSA", rsaBits: 2048 })).message).to.match(/rsaBits not played/);
        expect((await privateKey({ algorithm: "RSA" })).message).to.match(/algorithm "RSA" .* is not played/);
        expect((await privateKey({ algorithm: "ECDSA" })).message).to.match(/ecdsaCurve undefined is not played .*default curve is P224/);
        expect((await privateKey({ algorithm: "ECDSA", ecdsaCurve: "P384" })).message).to.match(/ecdsaCurve "P384" is not played/);
        expect((await certificate({ allowedUses: ["cert_signing", "server_auth"] })).message).to.match(/allowedUses "server_auth" not played/);
        expect((await certificate({ allowedUses: ["certSigning"] })).message).to.match(/allowedUses "certSigning" not played .*snake_case/);
        expect((await certificate({ dnsNames: ["etcd.internal"] })).message).to.match(/dnsNames not played/);
        expect((await certificate({ subject: { commonName: "ca", country: "GB" } })).message).to.match(/subject country not played/);
        expect((await certificate({ subject: {} })).message).to.match(/Must contain at least one Distinguished Name when creating Certificate Authority/);
        expect((await certificate({ validityPeriodHours: 0 })).message).to.match(/validityPeriodHours 0 is not a whole number of hours of at least 1/);
        const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
        expect((await certificate({ privateKeyPem: rsa })).message).to.match(/a rsa private key other than ECDSA P-256 is not played/);
        expect((await certificate({ privateKeyPem: undefined })).message).to.match(/privateKeyPem is undefined, not a PEM key/);
    });

    it("answers nothing for any other type, which the cluster's mocks then answer with its inputs", async () => {
        expect(await newTlsResource(resource("tls:index/locallySignedCert:LocallySignedCert", "cert", {}))).to.equal(undefined);
        const mocks = new Etcd3ClusterMocks({ mocks: { newResource: newTlsResource } });
        expect(await mocks.newResource(resource("aws:s3/bucketObjectv2:BucketObjectv2", "object", { key: "tls/peer-ca.crt" })))
            .to.deep.equal({ id: "object-id", state: { key: "tls/peer-ca.crt" } });
    });
});
