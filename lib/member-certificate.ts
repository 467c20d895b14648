/**
 * Each member's peer certificate, issued on the member itself from the
 * cluster's peer CA: plain data in, a script, its settings, a renewal timer and
 * etcd's TLS flags out, no Pulumi (the CA and the store it is read from are
 * tls.ts).
 *
 * - **Issued where it is used**, as kops' etcd-manager does: before etcd
 *   starts (an `ExecStartPre=` of its unit) the script reads the CA's
 *   certificate and key from the cluster's secrets bucket (the instance
 *   profile's credentials, SSE-KMS), makes the member a key and signs it a
 *   certificate for its slot's address, valid `memberCertificateDays`. The CA
 *   key is held only in a temporary file under `/run` (memory), outside what
 *   etcd's container sees, for the signing, then deleted; the member's key
 *   and certificate live in
 *   `/run/etcd3-cluster/tls`, memory too, so a new instance (or a reboot)
 *   makes a new key and nothing secret reaches a disk or the user data.
 * - **Renewed before it expires, without a restart**: a timer runs the
 *   script every 6 hours; it issues a new certificate, for the same key, once
 *   less than `memberCertificateRenewalDays` are left. etcd reads the
 *   certificate and key from disk at every TLS handshake, and with the key
 *   unchanged a handshake can never read a certificate and a key that do not
 *   belong together, so peers see the new certificate at their next
 *   connection and no request fails. Runs never overlap (a lock), and a
 *   certificate that is not for the key beside it is replaced.
 * - **Mutual TLS between peers**: etcd's peer port asks every peer for a
 *   certificate from the same CA (`--peer-client-cert-auth`).
 */
import type { EtcdFeaturePart } from "./bootstrap";
import { generationProblems, isDnsName, shown, UrlScheme } from "./etcd";
import { timedOneshot } from "./maintenance";
import { emptyPayloadSha256, isAwsRegion, s3ClientFragment } from "./s3-client";
import { isVirtualHostedBucketName } from "./snapshots";

/**
 * A step of a peer CA rotation (README, "Rotating the peer CA"): the next
 * generation's CA trusted beside the current one while the members still
 * sign with the current one, then the members signing with the next.
 */
export type PeerCaRotation = "trust-next" | "sign-with-next";
export const peerCaRotations: readonly PeerCaRotation[] = ["trust-next", "sign-with-next"];

/** Where a member reads the peer CA from: the cluster's secrets bucket (tls.ts) and its region. */
export interface PeerTlsOptions {
    /** The secrets bucket's name. */
    bucket: string;
    /** The bucket's region (`eu-west-2`). */
    region: string;
    /** Which peer CAs are trusted and which signs; default generation 0, the one the stack was created with, and no rotation. */
    ca?: PeerCaRound;
    /**
     * With a CA the user gave (peer-ca.ts): its certificate's SHA-256
     * fingerprint, named in the settings so that a renewed certificate rolls
     * the members onto it. Default none: the component's own CA.
     */
    givenCaFingerprint?: string;
}

/** Which peer CAs the cluster has (tls.ts makes them): its generation's, and during a rotation the next one's too. */
export interface PeerCaRound {
    /** 0 for the CA the stack was created with, one more for each rotation finished since. */
    generation: number;
    /** The step of a rotation to the next generation under way; none when none is. */
    rotation?: PeerCaRotation;
}

/** With client TLS too: the names the member's certificate gives besides its address (the gRPC NLB's DNS name). */
export interface ClientTlsOptions {
    dnsNames: string[];
}

/** The secrets bucket's keys the members may read (the role's policy allows this prefix only). */
export const tlsSecretsPrefix = "tls/";
/** The peer CA's certificate in the secrets bucket. */
export const peerCaCertificateKey = `${tlsSecretsPrefix}peer-ca.crt`;
/** The peer CA's private key in the secrets bucket. */
export const peerCaPrivateKeyKey = `${tlsSecretsPrefix}peer-ca.key`;

/** How long a member's certificate is valid. */
export const memberCertificateDays = 90;
/** A certificate with fewer days than this left is renewed: a third of its life, so a member has 30 days of retries. */
export const memberCertificateRenewalDays = 30;

/** Memory-backed: the member's key, its certificate and the CA's certificate, mounted into etcd's container. */
export const memberTlsDirectory = "/run/etcd3-cluster/tls";
export const memberCertificateFiles = {
    certificate: `${memberTlsDirectory}/peer.crt`,
    key: `${memberTlsDirectory}/peer.key`,
    ca: `${memberTlsDirectory}/peer-ca.crt`,
} as const;

/** Held while the script runs, so that runs never overlap. */
const memberCertificateLockPath = "/run/etcd3-cluster/certificate.lock";
/** Where the CA's key is while it signs: memory too, outside the directory etcd's container mounts. */
const caSigningDirectoryStem = "/run/etcd3-cluster/.ca-signing.";

export const memberCertificateScriptPath = "/opt/etcd3-cluster/etcd-member-certificate";
export const memberCertificateSettingsPath = "/etc/etcd3-cluster/certificate.env";
export const memberCertificateServiceName = "etcd-member-certificate.service";
export const memberCertificateTimerName = "etcd-member-certificate.timer";
/** Every 6 hours: a failed renewal is retried well within the 30 days left. */
export const memberCertificateCalendar = "*-*-* 00/6:00:00 UTC";

/** Why the options cannot make a member that reads its CA. */
export function peerTlsProblems(options: PeerTlsOptions): string[] {
    const problems: string[] = [];
    if (!isVirtualHostedBucketName(options.bucket)) {
        problems.push(`peerTls.bucket ${shown(options.bucket)}: use an S3 bucket name of 3 to 63 lowercase letters, digits and hyphens`);
    }
    if (!isAwsRegion(options.region)) {
        problems.push(`peerTls.region ${shown(options.region)}: use the bucket's AWS region, such as eu-west-2`);
    }
    problems.push(...peerCaRoundProblems(options.ca ?? { generation: 0 }, "peerTls.ca.generation", "peerTls.ca.rotation"));
    return problems;
}

/** Why `round` names no peer CAs, each problem under the names given for its fields. */
export function peerCaRoundProblems(round: PeerCaRound, generationName: string, rotationName: string): string[] {
    return [
        ...generationProblems(round.generation, generationName),
        ...round.rotation === undefined || peerCaRotations.includes(round.rotation) ? []
            : [`${rotationName} ${shown(round.rotation)}: use ${peerCaRotations.map((step) => `"${step}"`).join(" or ")}, or leave it out`],
    ];
}

/** Why the options cannot make a member that serves its clients TLS. */
export function clientTlsProblems(options: ClientTlsOptions): string[] {
    return options.dnsNames.filter((name) => !isDnsName(name))
        .map((name) => `clientTls.dnsNames: ${shown(name)} is not a DNS name a certificate can give (such as etcd-nlb-0123456789abcdef.elb.eu-west-2.amazonaws.com)`);
}

/**
 * `etcd-member-certificate IP`: makes sure the member has a key, the CA's
 * certificate and a certificate for IP with more than the renewal days left,
 * issuing one from the CA in the secrets bucket if not. Every outcome is
 * logged; a failure fails the unit (etcd's start then retries).
 */
export const memberCertificateScript = `#!/bin/bash
# Issues this member's peer certificate from the cluster's CA (s3://$TLS_BUCKET/${peerCaCertificateKey}, the first there), unless the one it has is for
# this address and has more than $RENEWAL_DAYS days left. Settings: ${memberCertificateSettingsPath}, written by Ignition from the stack.
set -euo pipefail
ip=$1
say() { echo "certificate: $*"; }
cert=${memberCertificateFiles.certificate} key=${memberCertificateFiles.key} ca=${memberCertificateFiles.ca}
# Nothing this script writes is for other users: the key least of all.
umask 077
mkdir -p ${memberTlsDirectory}
# One run at a time: etcd's start and the timer's run can overlap, and two runs could leave one's certificate with the other's key.
exec {lock}> ${memberCertificateLockPath}
flock "$lock"
# What a run killed midway left behind.
rm -rf ${memberTlsDirectory}/.issue.* ${caSigningDirectoryStem}*

# The names the certificate gives: this address, and the DNS names in the settings; as openssl prints them, and as it takes them.
names_shown="IP Address:$ip" names_given="IP:$ip"
for name in $CERTIFICATE_DNS_NAMES; do names_shown+=", DNS:$name" names_given+=",DNS:$name"; done

# The certificate in place is for the key beside it and exactly these names, and has more than the renewal days left.
current_will_do() {
    [[ -s $cert && -s $key && -s $ca ]] && openssl x509 -in "$cert" -noout -checkend $((RENEWAL_DAYS * 86400)) > /dev/null &&
        [[ $(openssl x509 -in "$cert" -noout -ext subjectAltName | sed -n '2s/^ *//p') == "$names_shown" ]] &&
        [[ $(openssl x509 -in "$cert" -noout -pubkey) == "$(openssl pkey -in "$key" -pubout)" ]]
}
if current_will_do; then
    say "kept: $(openssl x509 -in "$cert" -noout -enddate) (renewed once fewer than $RENEWAL_DAYS days are left)"
    exit 0
fi

${s3ClientFragment("TLS_BUCKET", "TLS_REGION")}
# The member's files are made in the directory etcd's container mounts, so that they carry its SELinux label; the CA's
# key in one the container never sees. Both go whatever happens.
work=$(mktemp -d ${memberTlsDirectory}/.issue.XXXXXX)
signing=$(mktemp -d ${caSigningDirectoryStem}XXXXXX)
trap 'rm -rf "$work" "$signing"' EXIT
s3 ${peerCaCertificateKey} ${emptyPayloadSha256} --output "$work/ca.crt"
s3 ${peerCaPrivateKeyKey} ${emptyPayloadSha256} --output "$signing/ca.key"
# The key is kept across renewals, so etcd never reads a certificate and a key that do not belong together.
if [[ ! -s $key ]]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/peer.key"
    mv "$work/peer.key" "$key"
fi
openssl req -new -key "$key" -subj "/O=etcd3-cluster/CN=$MEMBER_NAME" -out "$work/peer.csr"
printf '%s\\n' "subjectAltName=$names_given" "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \\
    "extendedKeyUsage=serverAuth,clientAuth" > "$work/extensions"
openssl x509 -req -in "$work/peer.csr" -CA "$work/ca.crt" -CAkey "$signing/ca.key" -set_serial "0x$(openssl rand -hex 16)" \\
    -days "$CERTIFICATE_DAYS" -sha256 -extfile "$work/extensions" -out "$work/peer.crt"
# A signing CA that is not its own issuer (an intermediate the user gave) is served after the certificate, so that a
# client trusting only the CA's issuer can build the chain.
signer_subject=$(openssl x509 -in "$work/ca.crt" -noout -subject) signer_issuer=$(openssl x509 -in "$work/ca.crt" -noout -issuer)
if [[ \${signer_subject#subject=} != "\${signer_issuer#issuer=}" ]]; then
    openssl x509 -in "$work/ca.crt" >> "$work/peer.crt"
fi
# Each file is replaced whole (a rename), so a handshake reads either the old one or the new one.
mv "$work/ca.crt" "$ca"
mv "$work/peer.crt" "$cert"
say "issued for $MEMBER_NAME ($names_shown): $(openssl x509 -in "$cert" -noout -enddate), $(openssl x509 -in "$cert" -noout -issuer)"
`;

/**
 * What the member's certificate adds to its user data and to etcd's unit: the
 * certificate before anything that talks to a peer, and etcd's TLS flags.
 */
export interface MemberCertificatePart extends EtcdFeaturePart {
    /** Host directories etcd's container mounts at the same path. */
    etcdVolumes: string[];
    /** curl's options for a request to a peer's port, as the bootstrap script sends it. */
    peerCurlOptions: string;
    /** With client TLS: the scheme of the member's client URLs. */
    clientScheme: UrlScheme;
    /** etcdctl's options for the members' client port: with client TLS, the CA it verifies them with. */
    etcdctlOptions: string;
}

/** Where the script runs from, and what it reads the member's name and address from. */
export interface MemberCertificateContext {
    memberName: string;
    metadataEnvironmentFile: string;
    privateIpVariable: string;
}

/** The member's certificate for the peer port, and with `clientTls` for the client port too. */
export function memberCertificatePart(options: PeerTlsOptions, context: MemberCertificateContext, clientTls?: ClientTlsOptions): MemberCertificatePart {
    const settings = [
        `MEMBER_NAME=${context.memberName}`,
        `TLS_BUCKET=${options.bucket}`,
        `TLS_REGION=${options.region}`,
        `CERTIFICATE_DAYS=${memberCertificateDays}`,
        `RENEWAL_DAYS=${memberCertificateRenewalDays}`,
        `CERTIFICATE_DNS_NAMES=${clientTls?.dnsNames.join(" ") ?? ""}`,
        // Only once the CA has changed, so that a cluster never rotated keeps its user data; each step of a rotation
        // changes them, which is what rolls the members (etcd reads the CAs it trusts only when it starts).
        ...options.ca?.generation ? [`PEER_CA_GENERATION=${options.ca.generation}`] : [],
        ...options.ca?.rotation ? [`PEER_CA_ROTATION=${options.ca.rotation}`] : [],
        ...options.givenCaFingerprint ? [`PEER_CA_CERTIFICATE_SHA256=${options.givenCaFingerprint}`] : [],
        "",
    ].join("\n");
    const command = `/bin/bash ${memberCertificateScriptPath} \${${context.privateIpVariable}}`;
    const environmentFiles = [context.metadataEnvironmentFile, memberCertificateSettingsPath];
    const { certificate, key, ca } = memberCertificateFiles;
    return {
        units: timedOneshot({
            serviceName: memberCertificateServiceName,
            timerName: memberCertificateTimerName,
            description: `Renew etcd member ${context.memberName}'s peer certificate when fewer than ${memberCertificateRenewalDays} days are left`,
            timerDescription: `Check etcd member ${context.memberName}'s peer certificate every 6 hours`,
            calendar: memberCertificateCalendar,
            environmentFiles,
            command,
        }),
        files: [
            { path: memberCertificateScriptPath, mode: 0o755, contents: memberCertificateScript },
            { path: memberCertificateSettingsPath, mode: 0o644, contents: settings },
        ],
        etcdServiceLines: [`EnvironmentFile=${memberCertificateSettingsPath}`],
        etcdStartPre: [command],
        etcdFlags: [
            `--peer-cert-file=${certificate}`, `--peer-key-file=${key}`, `--peer-trusted-ca-file=${ca}`, "--peer-client-cert-auth=true",
            // No --trusted-ca-file: etcd would then ask clients for certificates, which the ALB has none of.
            ...clientTls ? [`--cert-file=${certificate}`, `--key-file=${key}`] : [],
        ],
        etcdVolumes: [memberTlsDirectory],
        // HTTP/1.1 as etcd's own peers ask: over HTTP/2, which curl would negotiate, the peer port drops the request.
        peerCurlOptions: `--http1.1 --cacert ${ca} --cert ${certificate} --key ${key}`,
        clientScheme: clientTls ? "https" : "http",
        etcdctlOptions: clientTls ? ` --cacert=${ca}` : "",
    };
}
