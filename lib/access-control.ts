/**
 * etcd's role-based access control on the members: plain data in, a script,
 * its settings, one unit and etcd's token flag out, no Pulumi (the secrets
 * are objects in the cluster's secrets bucket, tls.ts).
 *
 * - **Turned on once the cluster has formed**, by every member
 *   (`etcd-member-access-control.service`, after etcd and its promotion): the
 *   user `root` with the `root` role and the password from the secrets bucket,
 *   then `auth enable`. Each step is checked first, so members racing each
 *   other, or a later boot, change nothing; a `root` that exists while access
 *   control is off (a restored snapshot's) gets the password first, so that
 *   turning it on can never lock the cluster out.
 * - **Tokens every member accepts**: etcd's default "simple" tokens are known
 *   only to the member that issued them, and the ALB sends each request to
 *   any member. The members sign JWTs (ES256) with one key from the secrets
 *   bucket instead, held in memory-backed `/run`, so a token from
 *   `/v3/auth/authenticate` through the ALB works for every later request.
 * - **The members' own tools authenticate as root**: every etcdctl the
 *   members run (the start decision, promotion, departure, snapshots,
 *   defragmentation) goes through `as-root`, which reads the password from
 *   the bucket at each call and hands it to etcdctl in its environment, never
 *   on a command line, in a file or in the user data. Rotating the password is
 *   `etcdctl user passwd root`, then the new secret in the stack: the next
 *   call reads it.
 */
import type { EtcdFeaturePart } from "./bootstrap";
import { etcdUnitName, promoteUnitName } from "./bootstrap";
import { emptyPayloadSha256, s3ClientFragment } from "./s3-client";

/** The secrets bucket's keys of access control (the members' role may read this prefix). */
export const accessControlSecretsPrefix = "auth/";
/** root's password, exactly as given (no newline added). */
export const rootPasswordKey = `${accessControlSecretsPrefix}root-password`;
/** The P-256 key the members sign and check their clients' tokens with (PEM). */
export const tokenSigningKeyKey = `${accessControlSecretsPrefix}token-signing.key`;

/** Memory-backed, mounted into etcd's container: the token signing key and its public half. */
export const tokenKeyDirectory = "/run/etcd3-cluster/auth";
export const tokenKeyFiles = { privateKey: `${tokenKeyDirectory}/token.key`, publicKey: `${tokenKeyDirectory}/token.pub` } as const;
/** How long a client's token is valid: etcd's own default. */
export const tokenTtl = "5m";

export const accessControlScriptPath = "/opt/etcd3-cluster/etcd-member-access-control";
export const accessControlSettingsPath = "/etc/etcd3-cluster/access-control.env";
export const accessControlUnitName = "etcd-member-access-control.service";
/** The environment variables etcdctl reads root's name and password from. */
export const etcdctlCredentialVariables = ["ETCDCTL_USER", "ETCDCTL_PASSWORD"] as const;

/** Tries the turning on makes before its unit fails (and is restarted), and the seconds between them. */
export const accessControlRetry = { attempts: 60, intervalSeconds: 10 };

/** The shortest root password accepted. */
export const rootPasswordMinLength = 12;

/** Why `password` cannot be root's: never the password itself, which is a secret. */
export function rootPasswordProblem(password: unknown): string | undefined {
    if (typeof password !== "string") {
        return `rootPassword: use a string (a Pulumi secret), not ${password === null ? "null" : typeof password}`;
    }
    if ([...password].length < rootPasswordMinLength) {
        return `rootPassword: use at least ${rootPasswordMinLength} characters (it has ${[...password].length}), e.g. \`pulumi config set --secret rootPassword "$(openssl rand -base64 24)"\``;
    }
    // etcdctl reads a password as one line.
    if ([...password].some((character) => character.charCodeAt(0) < 0x20 || character.charCodeAt(0) === 0x7f)) {
        return "rootPassword: use printable characters only (no line breaks, tabs or other control characters)";
    }
    return undefined;
}

/**
 * `etcd-member-access-control token-key|as-root COMMAND…|turn-on URL`:
 * the token key before etcd starts, root's credentials for one etcdctl, and
 * access control turned on once the cluster answers. Every outcome is logged;
 * the password never is.
 */
export const accessControlScript = `#!/bin/bash
# etcd's role-based access control on this member, with the secrets under s3://$SECRETS_BUCKET/${accessControlSecretsPrefix}:
#   token-key          before etcd starts: the key the members sign and check their clients' tokens with, in ${tokenKeyDirectory}
#   as-root COMMAND…   runs COMMAND (an etcdctl) with root's name and password in its environment
#   turn-on URL        once the cluster answers at URL: the user root, its role and access control turned on
# Settings: ${accessControlSettingsPath}, written by Ignition from the stack, through the unit; as-root gets the bucket
# and its region on its command line, from whichever script calls it.
set -euo pipefail
mode=\${1:-}
say() { echo "access control: $*"; }
${s3ClientFragment("SECRETS_BUCKET", "SECRETS_REGION")}

# root's password into etcdctl's environment: never a command line (ps shows those) or a file.
root_credentials() {
    local password
    if ! password=$(s3 ${rootPasswordKey} ${emptyPayloadSha256}); then
        say "cannot read root's password from s3://$SECRETS_BUCKET/${rootPasswordKey}: $password" >&2
        return 1
    fi
    export ETCDCTL_USER=root ETCDCTL_PASSWORD=$password
}

token_key() {
    umask 077
    mkdir -p ${tokenKeyDirectory}
    # Not local: the trap runs as the script exits, after the function has returned.
    work=$(mktemp -d ${tokenKeyDirectory}/.fetch.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    s3 ${tokenSigningKeyKey} ${emptyPayloadSha256} --output "$work/token.key"
    openssl pkey -in "$work/token.key" -pubout -out "$work/token.pub"
    # Each file whole (a rename): etcd reads both when it starts.
    mv "$work/token.key" ${tokenKeyFiles.privateKey}
    mv "$work/token.pub" ${tokenKeyFiles.publicKey}
    say "the token signing key from s3://$SECRETS_BUCKET/${tokenSigningKeyKey} is in ${tokenKeyDirectory}"
}

# etcdctl at the member's client URL, with root's credentials from root_credentials.
ctl() { $ACCESS_CONTROL_ETCDCTL --dial-timeout=3s --command-timeout=15s --endpoints="$url" "$@"; }
# The v3 JSON gateway, for the two calls that carry the password, on curl's standard input: etcdctl takes one on its
# command line (where ps shows it), from a terminal (which etcd's image cannot ask: it has no stty), or with
# --interactive=false from its standard input read up to the first blank, which would cut a password with spaces short.
with_password() {
    local password=\${ETCDCTL_PASSWORD//\\\\/\\\\\\\\}
    password=\${password//\\"/\\\\\\"}
    local answer
    if ! answer=$(printf '{"name":"root","password":"%s"}' "$password" |
        curl --silent --show-error --fail-with-body --max-time 15 $CLIENT_CURL_OPTIONS --data-binary @- "$url/v3/auth/user/$1" 2>&1); then
        say "$1 of root refused: $answer"
        return 1
    fi
}

# One try: 0 once access control is on with root's password from the bucket.
turn_on_once() {
    local status user
    if ! status=$(ctl auth status 2>&1); then
        if [[ $status == *"authentication failed"* ]]; then
            say "root's password in s3://$SECRETS_BUCKET/${rootPasswordKey} is not the cluster's: set it with etcdctl user passwd root," \\
                "or the stack's rootPassword back (a cluster restored from a snapshot keeps the snapshot's users and passwords)"
        else
            say "the cluster does not answer root yet (forming, no quorum, a learner not yet promoted): \${status##*$'\\n'}"
        fi
        return 1
    fi
    if [[ $status == *"Authentication Status: true"* ]]; then
        say "on, and root's password from the bucket is the cluster's"
        return 0
    fi
    if ! user=$(ctl user get root 2>&1); then
        if [[ $user != *"user name not found"* ]]; then
            say "cannot look the user root up: \${user##*$'\\n'}"
            return 1
        fi
        # A refusal is logged: another member may have made it at the same moment.
        with_password add || true
    fi
    # Whoever made root, with whatever password (another member, a restored snapshot, none at all), it gets the bucket's
    # before access control is on: turning it on must lock nobody out. Both steps change nothing done already.
    with_password changepw || return 1
    ctl user grant-role root root > /dev/null || return 1
    ctl auth enable > /dev/null || return 1
    # Anyone who could reach the cluster before this moment could have added users: say which there are.
    local users roles
    users=$(ctl user list) roles=$(ctl role list)
    users=\${users//$'\\n'/ } roles=\${roles//$'\\n'/ }
    say "turned on: the user root has the role root and the password from s3://$SECRETS_BUCKET/${rootPasswordKey};" \\
        "users: $users; roles besides root's own: \${roles:-none}"
}

case $mode in
    token-key) token_key ;;
    as-root)
        shift
        root_credentials
        exec "$@"
        ;;
    turn-on)
        url=$2
        root_credentials
        for ((attempt = 1; attempt <= ${accessControlRetry.attempts}; attempt++)); do
            turn_on_once && exit 0
            sleep ${accessControlRetry.intervalSeconds}
        done
        say "not on after ${accessControlRetry.attempts} tries; the unit tries again"
        exit 1
        ;;
    *)
        echo "usage: $0 token-key | as-root COMMAND... | turn-on CLIENT_URL" >&2
        exit 2
        ;;
esac
`;

/**
 * What access control adds to a member's user data, to etcd's unit (the token
 * key before etcd starts, and its token flag) and to the members' etcdctl.
 */
export interface AccessControlPart extends EtcdFeaturePart {
    /** Host directories etcd's container mounts at the same path. */
    etcdVolumes: string[];
    /** What every etcdctl of the members' scripts is run through: root's credentials in its environment. */
    etcdctlPrefix: string;
}

/** Where the part's script runs from, and how it runs etcdctl. */
export interface AccessControlContext {
    memberName: string;
    /** The secrets bucket and its region. */
    bucket: string;
    region: string;
    metadataEnvironmentFile: string;
    /** The member's client URL, with `${VAR}` for its private IP, as systemd fills it in. */
    clientUrl: string;
    /** etcdctl from the member's image, taking root's credentials from its environment. */
    etcdctl: string;
    /** curl's options for the member's client port (the CA it verifies the member with). */
    curlOptions: string;
    /** The token signing key's generation: named in the settings when not 0, so that a new key rolls the members. */
    tokenSigningKeyGeneration: number;
}

export function accessControlPart(context: AccessControlContext): AccessControlPart {
    const settings = [
        `SECRETS_BUCKET=${context.bucket}`,
        `SECRETS_REGION=${context.region}`,
        `ACCESS_CONTROL_ETCDCTL=${context.etcdctl}`,
        `CLIENT_CURL_OPTIONS=${context.curlOptions}`,
        // Read by no script: a line that changes with the key is what rolls the members onto it.
        ...context.tokenSigningKeyGeneration ? [`TOKEN_SIGNING_KEY_GENERATION=${context.tokenSigningKeyGeneration}`] : [],
        "",
    ].join("\n");
    const unit = [
        "[Unit]",
        `Description=Turn on etcd's access control (the user root, its password from the secrets bucket) once member ${context.memberName}'s cluster answers`,
        `Wants=${etcdUnitName}`,
        `After=${etcdUnitName} ${promoteUnitName}`,
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        `EnvironmentFile=${context.metadataEnvironmentFile}`,
        `EnvironmentFile=${accessControlSettingsPath}`,
        `ExecStart=/bin/bash ${accessControlScriptPath} turn-on ${context.clientUrl}`,
        // A cluster still forming (or without quorum) outlasts the script's own tries.
        "Restart=on-failure",
        "RestartSec=30s",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
    return {
        units: [{ name: accessControlUnitName, enabled: true, contents: unit }],
        files: [
            { path: accessControlScriptPath, mode: 0o755, contents: accessControlScript },
            { path: accessControlSettingsPath, mode: 0o644, contents: settings },
        ],
        etcdServiceLines: [`EnvironmentFile=${accessControlSettingsPath}`],
        etcdStartPre: [`/bin/bash ${accessControlScriptPath} token-key`],
        etcdFlags: [`--auth-token=jwt,pub-key=${tokenKeyFiles.publicKey},priv-key=${tokenKeyFiles.privateKey},sign-method=ES256,ttl=${tokenTtl}`],
        etcdVolumes: [tokenKeyDirectory],
        // The bucket on the command line: the scripts that call it have their own settings, not these.
        etcdctlPrefix: `/usr/bin/env SECRETS_BUCKET=${context.bucket} SECRETS_REGION=${context.region} /bin/bash ${accessControlScriptPath} as-root `,
    };
}
