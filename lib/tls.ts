/**
 * The cluster's secrets and the store the members read them from: the peer
 * certificate authority (member-certificate.ts issues each member's
 * certificate from it) and, with `rootPassword`, root's password and the
 * members' token signing key (access-control.ts).
 *
 * - **The CA**: an ECDSA P-256 key and a self-signed CA certificate valid
 *   `peerCaValidityYears`, made by Pulumi's TLS provider, or the one the user
 *   gives (peer-ca.ts checks it). Its key is a secret in the stack's state
 *   (encrypted there like every Pulumi secret), never a plain output and
 *   never in the user data.
 * - **The store**: S3 with SSE-KMS rather than SSM Parameter Store, because
 *   the members already read S3 with nothing but curl (s3-client.ts), and a
 *   bucket keeps the certificate and key as the files openssl reads. The
 *   bucket is the cluster's own: encrypted by default with a KMS key the
 *   component creates (rotated yearly), closed to public access, refusing
 *   any request not made over TLS; each object is also written with that key.
 *   The members' role may read `tls/*` (and `auth/*`) and decrypt with the key
 *   only through S3 (backup.ts has the policy); nobody else is granted
 *   anything, so only the account's administrators and the members can read
 *   the CA's key or the password.
 * - **root's password** is checked before anything reads it (a plain string
 *   already with the arguments, an Output once known) and is a secret in
 *   the object's state whether or not it came as one.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as tls from "@pulumi/tls";
import { accessControlSecretsPrefix, rootPasswordKey, rootPasswordProblem, tokenSigningKeyKey } from "./access-control";
import type { GivenPeerCa } from "./args";
import { peerCaCertificateKey, peerCaPrivateKeyKey, PeerCaRound, tlsSecretsPrefix } from "./member-certificate";
import { peerCaPrivateKeyProblem } from "./peer-ca";

/** How long the peer CA is valid; its members' certificates are renewed on the members, the CA itself is not (see the README). */
export const peerCaValidityYears = 10;

/** The bucket the members read their TLS secrets from, its encryption key, and the CA's certificate. */
export interface SecretStore {
    bucketName: pulumi.Output<string>;
    bucketArn: pulumi.Output<string>;
    region: pulumi.Output<string>;
    kmsKeyArn: pulumi.Output<string>;
    /** What the members' role may read: keys under these. */
    prefixes: string[];
    /** The objects the members read at boot: their first boot needs them in place. */
    objects: aws.s3.BucketObjectv2[];
    /** The CA's certificate, PEM: what clients verify the members with (not a secret). */
    caCertificatePem: pulumi.Output<string>;
    /** When the signing CA's certificate expires (RFC 3339), as the TLS provider reports it. */
    caValidityEnd: pulumi.Output<string | undefined>;
}

/** How long before the peer CA expires every `pulumi up` starts warning: time to build a new cluster and move the data. */
export const caExpiryWarningDays = 365;

/**
 * The warning for a peer CA that expires within `caExpiryWarningDays` of
 * `now` (or has expired), naming the date and what to do (a CA the user
 * gave is renewed, not rotated); undefined while it has longer, or when
 * its end is not known (a preview before it exists).
 */
export function caExpiryWarning(validityEnd: string | undefined, now: number, given = false): string | undefined {
    const end = validityEnd === undefined ? NaN : Date.parse(validityEnd);
    if (Number.isNaN(end)) {
        return undefined;
    }
    if (end <= now) {
        return `the cluster's peer CA expired on ${validityEnd}: the members refuse each other's certificates from now on, too late to rotate it; ` +
            "build a new cluster and move the data to it (backups and restoreFrom)";
    }
    const days = Math.floor((end - now) / 86_400_000);
    return days < caExpiryWarningDays
        ? `the cluster's peer CA expires on ${validityEnd}, in ${days} days, and the component does not renew it by itself; ` +
          (given
              ? "it is yours (peerCaCertificate): before then, renew it for the same key and subject (the members roll onto it), or build a new " +
                "cluster with another CA and move the data to it (backups and restoreFrom)"
              : "before then, rotate it to a new CA with peerCaRotation (the README's \"Rotating the peer CA\")")
        : undefined;
}

/** The bucket policy that refuses every request not made over TLS. */
export function secureTransportPolicy(bucketArn: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucketArn, `${bucketArn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        }],
    });
}

/** A secret as the members' bucket gets it: checked once known (`problemOf` never shows it), and a secret whether or not it came as one. */
export function checkedSecret(secret: pulumi.Input<string>, problemOf: (value: string) => string | undefined): pulumi.Output<string> {
    return pulumi.secret(pulumi.output(secret).apply((value) => {
        const problem = problemOf(value);
        if (problem) {
            throw new Error(problem);
        }
        return value;
    }));
}

/**
 * One generation of the peer CA: generation 0 is the one the stack was
 * created with (its resources keep the names they had before rotation
 * existed), each later one named and labelled with its number.
 */
function peerCa(name: string, generation: number, opts: pulumi.CustomResourceOptions) {
    const [resourceName, label] = generation === 0 ? [`${name}-peer-ca`, ""] : [`${name}-peer-ca-${generation}`, ` ${generation}`];
    const key = new tls.PrivateKey(resourceName, { algorithm: "ECDSA", ecdsaCurve: "P256" }, opts);
    const certificate = new tls.SelfSignedCert(resourceName, {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName: `${name} etcd peer CA${label}`, organization: "etcd3-cluster" },
        validityPeriodHours: peerCaValidityYears * 365 * 24,
        isCaCertificate: true,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
    }, opts);
    return { key, certificate };
}

/**
 * The secrets bucket and its key, the peer CA's certificates (the trust
 * bundle, the signing CA's first) and the signing CA's key in it, and with
 * `rootPassword` root's password and the members' token signing key.
 */
export function createSecretStore(
    name: string, secrets: { peerCa: PeerCaRound; givenPeerCa?: GivenPeerCa; rootPassword?: pulumi.Input<string>; tokenSigningKeyGeneration?: number },
    tags: Record<string, string>,
    parent: pulumi.Resource, guard: pulumi.Resource,
): SecretStore {
    const opts = { parent };
    // The keys, certificates and objects after the guard: a change it refuses (a CA rotation step skipped) stops before
    // anything the members read changes, even with --skip-preview.
    const guarded = { parent, dependsOn: [guard] };
    const key = new aws.kms.Key(`${name}-secrets`, {
        description: `${name}: encrypts the etcd members' secrets in S3`,
        enableKeyRotation: true,
        tags: { ...tags, Name: `${name}-secrets` },
    }, opts);
    const bucket = new aws.s3.Bucket(`${name}-secrets`, {
        bucketPrefix: `${name}-secrets-`,
        // Its objects are the stack's own and go with it; nothing in it outlives the cluster it secures.
        forceDestroy: true,
        tags: { ...tags, Name: `${name}-secrets` },
    }, opts);
    new aws.s3.BucketPublicAccessBlock(`${name}-secrets-public-access`, {
        bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
    }, opts);
    new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-secrets-encryption`, {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
    }, opts);
    new aws.s3.BucketPolicy(`${name}-secrets-tls-only`, { bucket: bucket.id, policy: bucket.arn.apply(secureTransportPolicy) }, opts);

    const { trustBundle, signingKey, validityEnd } = secrets.givenPeerCa
        ? givenPeerCaSecrets(secrets.givenPeerCa)
        : componentPeerCaSecrets(name, secrets.peerCa, guarded);
    const object = (objectName: string, objectKey: string, content: pulumi.Output<string>, contentType = "application/x-pem-file") => new aws.s3.BucketObjectv2(objectName, {
        bucket: bucket.id,
        key: objectKey,
        content,
        contentType,
        serverSideEncryption: "aws:kms",
        kmsKeyId: key.arn,
        bucketKeyEnabled: true,
        // No tags: S3 allows an object 10, fewer than the stack's tags may be; the bucket has them.
    }, guarded);
    const objects = [
        object(`${name}-peer-ca-certificate`, peerCaCertificateKey, trustBundle),
        object(`${name}-peer-ca-key`, peerCaPrivateKeyKey, signingKey),
    ];
    if (secrets.rootPassword !== undefined) {
        // Generation 0 keeps the name it had before rotation existed; a new name is a new key.
        const generation = secrets.tokenSigningKeyGeneration ?? 0;
        const tokenKey = new tls.PrivateKey(generation === 0 ? `${name}-token-signing` : `${name}-token-signing-${generation}`,
            { algorithm: "ECDSA", ecdsaCurve: "P256" }, guarded);
        objects.push(
            object(`${name}-root-password`, rootPasswordKey, checkedSecret(secrets.rootPassword, rootPasswordProblem), "text/plain"),
            object(`${name}-token-signing-key`, tokenSigningKeyKey, pulumi.secret(tokenKey.privateKeyPem)),
        );
    }
    return {
        bucketName: bucket.bucket,
        bucketArn: bucket.arn,
        region: bucket.region,
        kmsKeyArn: key.arn,
        prefixes: secrets.rootPassword === undefined ? [tlsSecretsPrefix] : [tlsSecretsPrefix, accessControlSecretsPrefix],
        objects,
        caCertificatePem: trustBundle,
        caValidityEnd: validityEnd,
    };
}

/** What the bucket holds of a peer CA, and when the one that signs expires. */
interface PeerCaSecrets {
    /** The CAs the members trust, PEM, the one they sign with first (member-certificate.ts signs with the first). */
    trustBundle: pulumi.Output<string>;
    /** The signing CA's private key, PEM, a secret. */
    signingKey: pulumi.Output<string>;
    /** The signing CA's: the one the members' certificates chain to (during a rotation, the next one once it signs). */
    validityEnd: pulumi.Output<string | undefined>;
}

/** The component's own CAs for a round of rotation: the current one, and the next while a rotation is under way. */
function componentPeerCaSecrets(name: string, round: PeerCaRound, opts: pulumi.CustomResourceOptions): PeerCaSecrets {
    const current = peerCa(name, round.generation, opts);
    const next = round.rotation && peerCa(name, round.generation + 1, opts);
    const [signer, ...alsoTrusted] = round.rotation === "sign-with-next" ? [next!, current] : [current, ...next ? [next] : []];
    return {
        trustBundle: pulumi.all([signer, ...alsoTrusted].map((ca) => ca.certificate.certPem)).apply((pems) => pems.join("")),
        // A secret in the object's state by the component's own say, not only by the TLS provider's.
        signingKey: pulumi.secret(signer.key.privateKeyPem),
        validityEnd: signer.certificate.validityEndTime,
    };
}

/** The user's CA (peer-ca.ts has its checks), trusted alone; its key checked against it once known. */
function givenPeerCaSecrets(given: GivenPeerCa): PeerCaSecrets {
    return {
        trustBundle: pulumi.output(given.certificatePem),
        signingKey: checkedSecret(given.privateKeyPem, (key) => peerCaPrivateKeyProblem(key, given.certificatePem)),
        validityEnd: pulumi.output(given.validityEnd),
    };
}
