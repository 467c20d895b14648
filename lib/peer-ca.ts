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
 * (P-256, P-384, P-521) key that openssl signs with SHA-256 and Go verifies;
 * its private key, unencrypted PEM, must be the certificate's. No message
 * ever shows the key.
 */
import { createPrivateKey, KeyObject, X509Certificate } from "crypto";

/** The guard's record of a cluster whose peer CA is the component's own (see {@link peerCaIdentity}). */
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
        return details.namedCurve !== undefined && details.namedCurve in supportedCurves ? undefined : `an ECDSA key on curve ${details.namedCurve}`;
    }
    return `a key of type ${key.asymmetricKeyType}`;
}

const allowedKeys = `RSA of ${minimumRsaBits} bits or more, or ECDSA on ${Object.values(supportedCurves).join(", ")}`;

/** The certificate, parsed, or why it cannot be the peer CA; `now` in milliseconds. */
export function parsedPeerCaCertificate(pem: string, now: number): { certificate: X509Certificate } | { problem: string } {
    const problem = (text: string) => ({ problem: `peerCaCertificate: ${text}` });
    if (/PRIVATE KEY-----/.test(pem)) {
        // Not shown, and not kept: the certificate is a plain argument, in plain state.
        return problem("it holds a private key, which would be kept in clear in the stack's state; give the CA's certificate alone here, " +
            "and its key in peerCaPrivateKey, as a secret");
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
    const named = `"${certificate.subject.replace(/\n/g, ", ")}"`;
    if (!certificate.ca) {
        return problem(`${named} is not a CA certificate (its basic constraints do not say CA:TRUE), so the members' certificates it signed would be refused`);
    }
    const [from, to] = [Date.parse(certificate.validFrom), Date.parse(certificate.validTo)];
    if (!(to > now)) {
        return problem(`${named} expired on ${certificate.validTo}; give one valid for the cluster's lifetime`);
    }
    if (!(from <= now)) {
        return problem(`${named} is not valid before ${certificate.validFrom}`);
    }
    const keyProblem = keyTypeProblem(certificate.publicKey);
    if (keyProblem) {
        return problem(`${named} has ${keyProblem}; the members sign with it using SHA-256: use ${allowedKeys}`);
    }
    return { certificate };
}

/**
 * Why `keyPem` cannot be the private key of the CA `certificatePem` (already
 * checked by {@link parsedPeerCaCertificate}); undefined when it is.
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
 * What the guard keeps of the peer CA: {@link generatedPeerCa} for the
 * component's own, or the given certificate's SHA-256 fingerprint (not a
 * secret: the certificate is the one clients verify the members with).
 */
export function peerCaIdentity(certificatePem: string | undefined): string {
    return certificatePem === undefined ? generatedPeerCa : `SHA-256 ${new X509Certificate(certificatePem).fingerprint256}`;
}

/** When the certificate expires, RFC 3339. */
export function peerCaValidityEnd(certificatePem: string): string {
    return new Date(Date.parse(new X509Certificate(certificatePem).validTo)).toISOString();
}
