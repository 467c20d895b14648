/**
 * A peer CA the user gives (`peerCaCertificate` and `peerCaPrivateKey`)
 * instead of the one the component makes: what it must be, and what the
 * guard keeps of it.
 *
 * The members sign their own certificates with it at boot (openssl, with
 * SHA-256: member-certificate.ts) and trust it alone, so it may be an
 * intermediate of the user's PKI: etcd's Go TLS takes any certificate in its
 * trusted file as an anchor, and certificates from the rest of that PKI are
 * refused at the peer port. It is checked before anything is created: one
 * CA certificate, valid now, with an RSA (2048 bits or more) or ECDSA
 * (P-256, P-384, P-521) key that openssl signs with SHA-256 and Go verifies,
 * and no extended key usage that leaves out a member's (Go checks it up to
 * the anchor); its private key, unencrypted PEM, must be the certificate's.
 * No message ever shows the key. The guard keeps its subject and public key,
 * so a certificate renewed for both may replace it; the members then roll
 * onto it (member-certificate.ts names its fingerprint in their settings).
 */
import { createHash, createPrivateKey, KeyObject, X509Certificate } from "crypto";

/** The guard's record of a cluster whose peer CA is the component's own (see {@link peerCaIdentity} for a given one). */
export const generatedPeerCa = "generated";

/** The curves a given CA's ECDSA key may use, as Node.js names them, and as the user knows them. */
const supportedCurves: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };

/** The smallest RSA key a given CA may have. */
export const minimumRsaBits = 2048;

const certificateBlock = /-----BEGIN CERTIFICATE-----/g;

/** Why a key cannot sign the members' certificates; undefined when it can. */
function keyTypeProblem(key: KeyObject): string | undefined {
    const details = key.asymmetricKeyDetails ?? {};
    if (key.asymmetricKeyType === "rsa") {
        return (details.modulusLength ?? 0) >= minimumRsaBits ? undefined : `an RSA key of ${details.modulusLength} bits, fewer than ${minimumRsaBits}`;
    }
    if (key.asymmetricKeyType === "ec") {
        return details.namedCurve !== undefined && details.namedCurve in supportedCurves ? undefined
            : `an ECDSA key on ${details.namedCurve === undefined ? "explicit curve parameters" : `curve ${details.namedCurve}`}`;
    }
    return `a key of type ${key.asymmetricKeyType}`;
}

const allowedKeys = `RSA of ${minimumRsaBits} bits or more, or ECDSA on ${Object.values(supportedCurves).join(", ")}`;

/** What the component keeps of a given CA's certificate once checked. */
export interface CheckedPeerCaCertificate {
    /** What the guard keeps: its subject and its key, which a renewed certificate keeps too (see {@link peerCaIdentity}). */
    identity: string;
    /** The certificate's SHA-256 fingerprint, as openssl prints it: a new one (a renewal) rolls the members. */
    fingerprint: string;
    /** When it expires, RFC 3339. */
    validityEnd: string;
}

/** The extended key usages a member's certificate needs, which Go checks on every certificate of the chain, the anchor too. */
const memberKeyUsages: Record<string, string> = { "1.3.6.1.5.5.7.3.1": "serverAuth", "1.3.6.1.5.5.7.3.2": "clientAuth" };
const anyExtendedKeyUsage = "2.5.29.37.0";

/** The certificate checked, or why it cannot be the peer CA; `now` in milliseconds. */
export function checkedPeerCaCertificate(pem: string, now: number): CheckedPeerCaCertificate | { problem: string } {
    const problem = (text: string) => ({ problem: `peerCaCertificate: ${text}` });
    if (/PRIVATE KEY-----/.test(pem)) {
        // Not shown, and not kept: the certificate is a plain argument, in plain state.
        return problem("it holds a private key, which would be kept in clear in the stack's state; give the CA's certificate alone here, " +
            "and its key in peerCaPrivateKey, as a secret. If it came from stack config, it is already in clear in Pulumi.<stack>.yaml: " +
            "remove it from there and take the key as exposed");
    }
    const blocks = pem.match(certificateBlock)?.length ?? 0;
    if (blocks !== 1) {
        return problem(`give exactly one PEM certificate (-----BEGIN CERTIFICATE-----), the CA that signs the members' certificates; it has ${blocks}. ` +
            "An intermediate CA is fine: the members trust it alone, so leave its issuers out");
    }
    let certificate: X509Certificate;
    try {
        certificate = new X509Certificate(pem);
    } catch (error) {
        return problem(`not a PEM certificate openssl or Node.js can read (${(error as Error).message})`);
    }
    const named = `"${subjectOf(certificate)}"`;
    // Node's (OpenSSL's) check: CA:TRUE in the basic constraints, and certificate signing in the key usage when it has one.
    if (!certificate.ca) {
        return problem(`${named} is not a CA certificate (its basic constraints must say CA:TRUE, and its key usage, when it has one, ` +
            "must allow signing certificates), so the members' certificates it signed would be refused");
    }
    const usages = certificate.keyUsage;
    const missing = usages === undefined || usages.includes(anyExtendedKeyUsage) ? []
        : Object.entries(memberKeyUsages).filter(([oid]) => !usages.includes(oid)).map(([, usage]) => usage);
    if (missing.length > 0) {
        return problem(`${named} limits its extended key usage without ${missing.join(" and ")}; each member's certificate is a server and a client ` +
            "to its peers, and etcd's TLS checks the usage up to the CA, so the members would refuse each other. Give a CA without an " +
            "extended key usage, or with both serverAuth and clientAuth");
    }
    const [from, to] = [Date.parse(certificate.validFrom), Date.parse(certificate.validTo)];
    if (!(to > now)) {
        return problem(`${named} expired on ${certificate.validTo}; members trusting it refuse each other's certificates. A running cluster ` +
            "with it has stopped: build a new cluster with a new CA and move the data (backups and restoreFrom)");
    }
    if (!(from <= now)) {
        return problem(`${named} is not valid before ${certificate.validFrom}`);
    }
    const keyProblem = keyTypeProblem(certificate.publicKey);
    if (keyProblem) {
        return problem(`${named} has ${keyProblem}; the members sign with it using SHA-256: use ${allowedKeys}`);
    }
    return {
        identity: peerCaIdentity(certificate),
        fingerprint: certificate.fingerprint256,
        validityEnd: new Date(to).toISOString(),
    };
}

/**
 * Why `keyPem` cannot be the private key of the CA `certificatePem` (already
 * checked by {@link checkedPeerCaCertificate}); undefined when it is.
 */
export function peerCaPrivateKeyProblem(keyPem: unknown, certificatePem: string): string | undefined {
    if (typeof keyPem !== "string") {
        return `peerCaPrivateKey: use a string (a Pulumi secret holding the PEM key), not ${keyPem === null ? "null" : typeof keyPem}`;
    }
    let key: KeyObject;
    try {
        key = createPrivateKey({ key: keyPem, format: "pem" });
    } catch {
        // The parser's own message may quote the input.
        return "peerCaPrivateKey: not an unencrypted PEM private key (an encrypted one needs its passphrase, which the members do not have: " +
            "`openssl pkey -in ca.key -out ca-plain.key` decrypts it)";
    }
    return new X509Certificate(certificatePem).checkPrivateKey(key)
        ? undefined
        : "peerCaPrivateKey: not the private key of peerCaCertificate; give the key the CA's certificate was made for";
}

/**
 * What the guard keeps of a given peer CA: its subject and the SHA-256 of
 * its public key (neither is secret). A certificate renewed for the same key
 * and subject verifies the same member certificates, so it may replace the
 * old one on a running cluster; any other CA may not.
 */
function peerCaIdentity(certificate: X509Certificate): string {
    const key = createHash("sha256").update(certificate.publicKey.export({ type: "spki", format: "der" })).digest("hex").toUpperCase();
    return `subject "${subjectOf(certificate)}", public key SHA-256 ${key.match(/../g)!.join(":")}`;
}

/** A certificate's subject on one line, as the messages and the guard show it (`CN=a, O=b`). */
const subjectOf = (certificate: X509Certificate) => certificate.subject.replace(/\n/g, ", ");
