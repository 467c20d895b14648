/**
 * How a member starts, decided on the node each time etcd's unit starts (at
 * boot, and again at each restart after a failure: its first step,
 * `ExecStartPre=`), with etcdctl from the member's own etcd image:
 *
 * - its data directory holds data: etcd starts with it, and nothing else;
 * - no data, no other member answers a quorum read, but one answers on its
 *   own and lists this slot's member as started: the cluster formed before
 *   and has lost its quorum; the member waits for the quorum to return;
 * - no data, and no other member answers a quorum read: the cluster is
 *   forming, and a founding member forms it with the others, through a v2
 *   discovery service (`bootstrap: "discovery"`) or from the founding slots'
 *   static member list (`bootstrap: "static"`). A member added when the
 *   cluster grew never forms one: it waits until the cluster answers;
 * - no data, and the cluster answers: the member's data is gone (a new blank
 *   volume, a volume lost with its zone) or its slot is new. It removes the
 *   member that held its peer URL, if that one ever started, adds itself as a
 *   learner and starts with the current member list; a second oneshot after
 *   etcd (`etcd-member-promote.service`) promotes it once it has caught up.
 *   One change at a time: while another member is still a learner, it waits.
 *   A member of the founding cluster that has never started (a slow first
 *   boot) is no change under way: the late member starts as it, with the
 *   whole member list. etcd's strict reconfiguration check (on by default,
 *   never turned off here) refuses a removal that would cost quorum.
 *
 * A decision that turns out wrong (the cluster did not answer in time, and
 * etcd then refuses to form a second one) fails etcd's start; systemd restarts
 * it, and the decision is made again. Plain data in, unit and file text out:
 * the script is in `memberBootstrapScript`; the decisions it logs are in
 * etcd's journal (`journalctl -u etcd-member`).
 */
import type { UnitPart } from "./data-volume";
import { clientPort, clientUrl, isMemberName, peerPort, peerUrl, shown, UrlScheme } from "./etcd";

/** The `bootstrap` argument's values. */
export type BootstrapMethod = "discovery" | "static";

export const bootstrapMethods: readonly BootstrapMethod[] = ["discovery", "static"];

/** A member by its slot: its name and its slot's private address, which outlives its instances. */
export interface SlotMember {
    name: string;
    /** The private IPv4 address of the member's slot, the one its instance boots with. */
    ip: string;
}

/** The cluster's `--initial-cluster-token`: readable, and unique through the stack's guard id, which is random and never replaced. */
export function initialClusterToken(ecosystem: string, uniqueId: string): string {
    return `${ecosystem}-${uniqueId}`;
}

/** `name=http://ip:2380,...` (`https` with peer TLS), as etcd's `--initial-cluster` takes it. */
export function initialClusterFlag(members: readonly SlotMember[], scheme: UrlScheme = "http"): string {
    return members.map(({ name, ip }) => `${name}=${peerUrl(ip, scheme)}`).join(",");
}

const ipv4Pattern = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** What etcd accepts in a token without quoting trouble in a unit's command line. */
const clusterTokenPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why `members` is not a member list that includes `memberName`, one problem a line; none when it is. */
export function slotMembersProblems(members: unknown, memberName: string): string[] {
    if (!Array.isArray(members) || members.length === 0) {
        return ["members: list every member of the cluster by its slot, as { name, ip }"];
    }
    const problems: string[] = [];
    members.forEach((member: Partial<SlotMember>, index) => {
        if (!isMemberName(member?.name)) {
            problems.push(`members[${index}].name ${shown(member?.name)}: use letters, digits, dots, underscores and hyphens`);
        }
        if (typeof member?.ip !== "string" || !ipv4Pattern.test(member.ip)) {
            problems.push(`members[${index}].ip ${shown(member?.ip)}: use the slot's private IPv4 address, e.g. 10.99.1.10`);
        }
    });
    const names = members.map((member: Partial<SlotMember>) => member?.name);
    const repeated = names.filter((name, index) => names.indexOf(name) !== index);
    if (repeated.length > 0) {
        problems.push(`members: ${[...new Set(repeated)].map(shown).join(", ")} named more than once`);
    }
    if (!names.includes(memberName)) {
        problems.push(`members: ${shown(memberName)} is not among them (${names.map(shown).join(", ")}); a member must be in its own cluster`);
    }
    return problems;
}

/** Why `size` cannot say how many of `members` (from the first) formed the cluster; none when it is left out. */
export function foundingClusterSizeProblems(size: unknown, members: readonly unknown[] | undefined): string[] {
    if (size === undefined) {
        return [];
    }
    const most = Array.isArray(members) ? members.length : 0;
    if (most === 0) {
        return [`foundingClusterSize ${shown(size)}: give members too, the slots it counts from the first`];
    }
    return Number.isInteger(size) && (size as number) >= 1 && (size as number) <= most ? []
        : [`foundingClusterSize ${shown(size)}: use how many of members, from the first, formed the cluster: a whole number from 1 to ${most}`];
}

/** Why `token` cannot be an `--initial-cluster-token`. */
export function clusterTokenProblems(token: unknown): string[] {
    return typeof token === "string" && clusterTokenPattern.test(token)
        ? [] : [`clusterToken ${shown(token)}: use letters, digits, dots, underscores and hyphens`];
}

/** The flags with which a member forms the cluster from the static member list. */
export function staticBootstrapFlags(members: readonly SlotMember[], clusterToken: string, scheme: UrlScheme = "http"): string[] {
    return [
        `--initial-cluster=${initialClusterFlag(members, scheme)}`,
        "--initial-cluster-state=new",
        `--initial-cluster-token=${clusterToken}`,
    ];
}

/** The flags with which a member forms the cluster through a v2 discovery service. */
export function discoveryBootstrapFlags(discoveryUrl: string): string[] {
    return [
        `--discovery=${discoveryUrl}`,
        // The default, `proxy`, silently turns a node that finds the token full into a proxy.
        "--discovery-fallback=exit",
    ];
}

/** The unit that runs the member (the promote unit follows it). */
export const etcdUnitName = "etcd-member.service";
export const promoteUnitName = "etcd-member-promote.service";
export const leaveUnitName = "etcd-member-leave.service";
/**
 * The instance tag that tells a member to leave the cluster (its value: the
 * member's name), set by the member's departure (departure.ts) when a smaller
 * `clusterSize` removes it. The member reads it from the instance metadata
 * service, which serves instance tags with `instanceMetadataTags` enabled.
 */
export const leaveTagKey = "etcd3-cluster:leave";
/** The instance metadata service, as every EC2 instance reaches it. */
export const instanceMetadataUrl = "http://169.254.169.254";
/** The script etcd's start and the promote unit run (`/opt` is writable on Fedora CoreOS and Flatcar alike; `/usr` is not). */
export const bootstrapScriptPath = "/opt/etcd3-cluster/etcd-member-bootstrap";
/** What the script reads: the member, its peers and how to run etcdctl. */
export const bootstrapSettingsPath = "/etc/etcd3-cluster/member.env";
/** What the decision writes for etcd's command line: `ETCD_BOOTSTRAP_FLAGS=...` (tmpfs, and removed before each decision). */
export const bootstrapFlagsPath = "/run/etcd-member/bootstrap.env";
/** The variable of that file etcd's command line expands, `$ETCD_BOOTSTRAP_FLAGS`: empty, or the flags to form or join with. */
export const bootstrapFlagsVariable = "ETCD_BOOTSTRAP_FLAGS";

/**
 * Bounds of the script's waits, per mode: how often and how many times it
 * tries before it fails (and with it, etcd's start or the promote unit), ten
 * minutes each. The promotion tries every 2 s: etcd's /health passes on a
 * learner, so a load balancer may start sending it requests (which a learner
 * refuses) once its target's checks pass; promoted within seconds of catching
 * up, a joining member is a voter before the two checks that make it healthy.
 */
export const bootstrapRetry = {
    decide: { attempts: 60, intervalSeconds: 10 },
    promote: { attempts: 300, intervalSeconds: 2 },
    leave: { attempts: 60, intervalSeconds: 10 },
} as const;

/** Seconds between two looks at the instance's tags while a member waits to be told to leave. */
export const leaveWatchIntervalSeconds = 5;

/**
 * The script, `etcd-member-bootstrap decide|promote|leave IP`: `decide` as
 * etcd's `ExecStartPre=`, `promote` as the promote unit's `ExecStart=`, `leave`
 * as the leave unit's.
 * bash, coreutils and curl only, which Fedora CoreOS and Flatcar both ship;
 * etcdctl comes from the etcd image through `$ETCDCTL`. Functions return failures
 * explicitly: `set -e` does not apply inside a function called as a condition.
 */
export const memberBootstrapScript = `#!/bin/bash
# How etcd member $MEMBER_NAME starts (decide, each time etcd's unit starts), its
# promotion from learner to voting member (promote, after etcd), and its removal
# once its instance is tagged to leave (leave). Every decision is logged.
# Settings: ${bootstrapSettingsPath}, written by Ignition from the stack.
set -euo pipefail
mode=$1
ip=$2
if [[ $mode != decide && $mode != promote && $mode != leave ]]; then
    echo "usage: $0 decide|promote|leave PRIVATE_IP" >&2
    exit 2
fi
peer_url="$PEER_URL_SCHEME://\${ip}:${peerPort}" client_url="$CLIENT_URL_SCHEME://\${ip}:${clientPort}"
say() { echo "$mode: $*"; }
ctl() { $ETCDCTL --dial-timeout=3s --command-timeout=15s "$@"; }

# The other slots' members, by their client URLs.
others=()
IFS=, read -ra slot_urls <<< "$MEMBER_CLIENT_URLS"
for url in "\${slot_urls[@]}"; do
    if [[ $url != "$client_url" ]]; then others+=("$url"); fi
done

# Prints the client URL of the first other member for which \`"$@" URL\` succeeds. Every other slot is asked at once,
# so the wait is one probe's whatever the cluster's size.
first_other() {
    local url answers
    answers=$(
        for url in "\${others[@]}"; do
            { if "$@" "$url"; then echo "$url"; fi; } &
        done
        wait
    )
    if [[ -z $answers ]]; then
        return 1
    fi
    echo "\${answers%%$'\\n'*}"
}

# A quorum read answers: the cluster has formed and has a leader.
reads_with_quorum() {
    ctl --endpoints="$1" --command-timeout=3s get --keys-only --limit=1 etcd3-cluster/bootstrap-probe > /dev/null 2>&1
}

# The member answers on its own and lists this slot's member as started (it has client URLs): the cluster formed before.
# etcd's peer port serves the member's own view of the members, \`GET /members\`, without a quorum (what etcd itself asks
# before it forms a cluster); while the cluster forms, the others list this member without client URLs.
lists_this_member_started() {
    local listed mine_listed host=\${1#*://}
    # With peer TLS, $PEER_CURL_OPTIONS name the CA and this member's certificate, which the peer port asks for.
    listed=$(curl --silent --fail --max-time 3 $PEER_CURL_OPTIONS "$PEER_URL_SCHEME://\${host%:*}:${peerPort}/members") &&
        mine_listed=$(grep -o '{[^{}]*}' <<< "$listed" | grep -F "\\"peerURLs\\":[\\"$peer_url\\"]") &&
        [[ $mine_listed == *'"clientURLs":["'* ]]
}

# Reads \`member list -w simple\` (ID, status, name, peer URLs, client URLs, is learner) into:
# mine (this slot's member: ID, status, is learner), learners (other members still joining: a change under way),
# voters (the IDs of the other started voting members) and cluster (name=peer URL of every member, this one named;
# a member added and never started has no name yet).
read_members() {
    local id status name peers clients learner
    mine=() learners=() voters=() cluster=()
    while IFS=, read -r id status name peers clients learner; do
        id=\${id// /} name=\${name// /} peers=\${peers// /} clients=\${clients// /} learner=\${learner// /}
        # Started means it has published its client URLs. etcdctl's status column only says whether the name is known,
        # and a static cluster's list names every founding member before it ever starts.
        if [[ -n $clients ]]; then status=started; else status=unstarted; fi
        if [[ $peers == "$peer_url" ]]; then
            mine=("$id" "$status" "$learner")
            cluster+=("$MEMBER_NAME=$peers")
        else
            if [[ $learner == true ]]; then learners+=("\${name:-$peers}"); fi
            if [[ $learner != true && $status == started ]]; then voters+=("$id"); fi
            cluster+=("$name=$peers")
        fi
    done <<< "$1"
}

write_flags() {
    mkdir -p "\${ETCD_BOOTSTRAP_FILE%/*}"
    printf '${bootstrapFlagsVariable}=%s\\n' "$1" > "$ETCD_BOOTSTRAP_FILE.new"
    mv "$ETCD_BOOTSTRAP_FILE.new" "$ETCD_BOOTSTRAP_FILE"
    say "etcd starts with: \${1:-its data alone}"
}

decide() {
    local url witness list added initial
    # A failed decision must never leave the flags of an earlier one behind.
    rm -f "$ETCD_BOOTSTRAP_FILE"
    if [[ -d $ETCD_DATA_DIR/member ]]; then
        say "$ETCD_DATA_DIR/member holds this member's data: it starts as the member it was"
        write_flags ""
        return 0
    fi
    if ! url=$(first_other reads_with_quorum); then
        if witness=$(first_other lists_this_member_started); then
            say "no data, and no other member answers a quorum read, but $witness lists this slot's member as started: the cluster formed before and has lost its quorum; $MEMBER_NAME waits for it to return rather than form another"
            return 1
        fi
        if [[ -z $FORM_FLAGS ]]; then
            say "no data, and no other member answers a quorum read (\${others[*]}): $MEMBER_NAME joined the cluster after it formed and never forms one; it waits until the cluster answers"
            return 1
        fi
        say "no data, and no other member answers a quorum read (\${others[*]:-no other member}): the cluster is forming, and $MEMBER_NAME forms it"
        if [[ -n \${RESTORE_FROM:-} ]]; then
            say "$MEMBER_NAME forms it from the snapshot $RESTORE_FROM"
            /bin/bash "\${RESTORE_SCRIPT:?}" "$ip" || return 1
            write_flags ""
            return 0
        fi
        write_flags "$FORM_FLAGS"
        return 0
    fi
    say "no data, and the cluster answers at $url: $MEMBER_NAME joins it"
    list=$(ctl --endpoints="$url" member list -w simple) || return 1
    read_members "$list"
    if (( \${#learners[@]} > 0 )); then
        say "another membership change is under way (\${learners[*]} still a learner): one change at a time"
        return 1
    fi
    if (( \${#mine[@]} > 0 )) && [[ \${mine[1]} == started ]]; then
        say "member \${mine[0]} has this slot's peer URL $peer_url and its data is gone: removing it"
        ctl --endpoints="$url" member remove "\${mine[0]}" || return 1
        mine=()
    fi
    if (( \${#mine[@]} == 0 )); then
        say "adding $MEMBER_NAME at $peer_url as a learner"
        added=$(ctl --endpoints="$url" member add "$MEMBER_NAME" --peer-urls="$peer_url" --learner) || return 1
        initial=$(sed -n 's/^ETCD_INITIAL_CLUSTER="\\(.*\\)"$/\\1/p' <<< "$added")
    else
        say "member \${mine[0]} at $peer_url is in the cluster and never started (learner: \${mine[2]}): $MEMBER_NAME starts as it"
        initial=$(IFS=,; echo "\${cluster[*]}")
    fi
    write_flags "--initial-cluster=$initial --initial-cluster-state=existing"
}

promote() {
    local status url list
    # The member's own view first, which needs no quorum: every member but one that joined with empty data is done here.
    if status=$(ctl --endpoints="$client_url" --command-timeout=3s endpoint status -w fields 2> /dev/null) &&
        grep -qx '"IsLearner" : false' <<< "$status"; then
        say "$MEMBER_NAME is a voting member"
        return 0
    fi
    if ! url=$(first_other reads_with_quorum) || ! list=$(ctl --endpoints="$url" member list -w simple); then
        say "no other member answers a quorum read yet"
        return 1
    fi
    read_members "$list"
    if (( \${#mine[@]} == 0 )); then
        say "no member has this slot's peer URL $peer_url"
        return 1
    fi
    if [[ \${mine[2]} != true ]]; then
        say "member \${mine[0]} is a voting member"
        return 0
    fi
    if ! ctl --endpoints="$url" member promote "\${mine[0]}"; then
        say "learner \${mine[0]} has not caught up with the leader yet"
        return 1
    fi
    say "promoted learner \${mine[0]} to a voting member"
}

# The value of this instance's leave tag, from the instance metadata service (IMDSv2); fails while there is none.
leave_tag() {
    local token
    token=$(curl --silent --fail --max-time 3 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "${instanceMetadataUrl}/latest/api/token") &&
        curl --silent --fail --max-time 3 -H "X-aws-ec2-metadata-token: $token" "${instanceMetadataUrl}/latest/meta-data/tags/instance/${leaveTagKey}"
}

# The member's own status says it leads the cluster.
leads() {
    local self leader
    self=$(sed -n 's/^"MemberID" : //p' <<< "$1") leader=$(sed -n 's/^"Leader" : //p' <<< "$1")
    [[ -n $self && $self == "$leader" ]]
}

leave() {
    local url list status
    if ! url=$(first_other reads_with_quorum) || ! list=$(ctl --endpoints="$url" member list -w simple); then
        # The last member (a destroy removes them all, highest slot first) has no one to leave: the cluster ends with it.
        if list=$(ctl --endpoints="$client_url" member list -w simple 2> /dev/null) && read_members "$list" &&
            (( \${#mine[@]} > 0 && \${#cluster[@]} == 1 )); then
            say "$MEMBER_NAME is the cluster's last member: there is no cluster to leave"
            return 0
        fi
        say "no other member answers a quorum read: the cluster cannot take a membership change now"
        return 1
    fi
    read_members "$list"
    if (( \${#mine[@]} == 0 )); then
        say "no member has this slot's peer URL $peer_url: $MEMBER_NAME has left the cluster"
        return 0
    fi
    if (( \${#learners[@]} > 0 )); then
        say "another membership change is under way (\${learners[*]} still a learner): one change at a time"
        return 1
    fi
    # A leader that removes itself leaves the others without one until they elect another: hand leadership over first.
    if status=$(ctl --endpoints="$client_url" endpoint status -w fields 2> /dev/null) && leads "$status"; then
        if (( \${#voters[@]} == 0 )); then
            say "$MEMBER_NAME leads and no other member can take over"
            return 1
        fi
        ctl --endpoints="$client_url" move-leader "\${voters[0]}" > /dev/null || return 1
        say "handed leadership to member \${voters[0]}"
    fi
    ctl --endpoints="$url" member remove "\${mine[0]}" > /dev/null || return 1
    say "removed member \${mine[0]} ($MEMBER_NAME at $peer_url) from the cluster"
}

case $mode in
    decide) attempts=${bootstrapRetry.decide.attempts} interval=${bootstrapRetry.decide.intervalSeconds} ;;
    promote) attempts=${bootstrapRetry.promote.attempts} interval=${bootstrapRetry.promote.intervalSeconds} ;;
    leave)
        attempts=${bootstrapRetry.leave.attempts} interval=${bootstrapRetry.leave.intervalSeconds}
        # Quietly, until told: a look every few seconds, for as long as the member lives.
        until tag=$(leave_tag) && [[ $tag == "$MEMBER_NAME" ]]; do sleep ${leaveWatchIntervalSeconds}; done
        say "this instance is tagged ${leaveTagKey}=$MEMBER_NAME: $MEMBER_NAME leaves the cluster"
        ;;
esac
for (( attempt = 1; ; attempt++ )); do
    if "$mode"; then
        exit 0
    fi
    if (( attempt >= attempts )); then
        say "giving up after $attempt attempts"
        exit 1
    fi
    say "trying again in $interval s (attempt $attempt of $attempts)"
    sleep "$interval"
done
`;

/** A file Ignition writes on the node. */
export interface FilePart {
    path: string;
    mode: number;
    contents: string;
}

/** What the start decision and the promote unit need to know of the node and the member. */
export interface BootstrapContext {
    memberName: string;
    /** Every member of the cluster by its slot; none when the builder is called without slots (the member then only forms). */
    members: readonly SlotMember[];
    /** How the cluster first forms: discovery or static flags; none for a member that joined the cluster after it formed (it never forms one). */
    formFlags: readonly string[];
    /** `etcdctl` run from the member's etcd image: the runtime's `run` of it, without arguments. */
    etcdctl: string;
    /** The unit that writes the environment file with the private IP, the file, and the variable it is in. */
    metadataUnit: string;
    metadataEnvironmentFile: string;
    privateIpVariable: string;
    /** Where etcd keeps its data (etcd's unit makes sure it is mounted before it starts, decision included). */
    dataDirectory: string;
    /** The members' peer URLs' scheme: `https` with peer TLS. */
    peerScheme: UrlScheme;
    /** curl's options for a request to a peer's port: with peer TLS, the CA and the member's certificate; else none. */
    peerCurlOptions: string;
    /** The members' client URLs' scheme: `https` with client TLS (`etcdctl` then carries the CA). */
    clientScheme: UrlScheme;
}

/** What a feature adds to a member's user data (units, files) and to etcd's own unit. */
export interface EtcdFeaturePart {
    units: UnitPart[];
    files: FilePart[];
    /** `[Service]` lines of etcd's unit, before its commands. */
    etcdServiceLines: string[];
    /** etcd's unit's `ExecStartPre=` commands, after its own clean-up, in the order the features are given. */
    etcdStartPre: string[];
    /** Words of etcd's command line. */
    etcdFlags: string[];
}

/** The promote and leave units, the script and its settings, and what etcd's own unit gains: the decision, and the word that takes the decided flags. */
export type BootstrapPart = EtcdFeaturePart;

/**
 * How long etcd's start may take, its decision included: the decision retries
 * for about ten minutes while another membership change is under way (a start
 * that runs out is retried by `Restart=`, deciding again).
 */
export const etcdStartTimeout = "20min";

/** `KEY=value` lines as systemd's `EnvironmentFile=` reads them: the rest of the line is the value, spaces included. */
function settingsFile(settings: Record<string, string>): string {
    return Object.entries(settings).map(([key, value]) => `${key}=${value}\n`).join("");
}

export function bootstrapPart(context: BootstrapContext): BootstrapPart {
    const command = (mode: "decide" | "promote" | "leave") => `/bin/bash ${bootstrapScriptPath} ${mode} \${${context.privateIpVariable}}`;
    const promoteUnit = [
        "[Unit]",
        `Description=Promote etcd member ${context.memberName} to a voting member once it has caught up, if it joined as a learner`,
        `Requires=${etcdUnitName}`,
        `After=${etcdUnitName}`,
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        `EnvironmentFile=${context.metadataEnvironmentFile}`,
        `EnvironmentFile=${bootstrapSettingsPath}`,
        `ExecStart=${command("promote")}`,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
    const leaveUnit = [
        "[Unit]",
        `Description=Remove etcd member ${context.memberName} from the cluster and power the instance off once the instance is tagged ${leaveTagKey} (a smaller clusterSize)`,
        `Requires=${context.metadataUnit}`,
        `After=${context.metadataUnit} ${etcdUnitName}`,
        // Done means the member is no longer in the cluster: the instance has nothing left to do, and its departure waits for it to stop.
        "SuccessAction=poweroff",
        "",
        "[Service]",
        `EnvironmentFile=${context.metadataEnvironmentFile}`,
        `EnvironmentFile=${bootstrapSettingsPath}`,
        `ExecStart=${command("leave")}`,
        // After the bounded retries (no quorum, another change under way), it watches the tag and tries again.
        "Restart=on-failure",
        `RestartSec=${bootstrapRetry.leave.intervalSeconds}`,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
    const settings = settingsFile({
        MEMBER_NAME: context.memberName,
        MEMBER_CLIENT_URLS: context.members.map((member) => clientUrl(member.ip, context.clientScheme)).join(","),
        FORM_FLAGS: context.formFlags.join(" "),
        ETCDCTL: context.etcdctl,
        ETCD_DATA_DIR: context.dataDirectory,
        ETCD_BOOTSTRAP_FILE: bootstrapFlagsPath,
        PEER_URL_SCHEME: context.peerScheme,
        PEER_CURL_OPTIONS: context.peerCurlOptions,
        CLIENT_URL_SCHEME: context.clientScheme,
    });
    return {
        units: [{ name: promoteUnitName, enabled: true, contents: promoteUnit }, { name: leaveUnitName, enabled: true, contents: leaveUnit }],
        files: [
            { path: bootstrapScriptPath, mode: 0o755, contents: memberBootstrapScript },
            { path: bootstrapSettingsPath, mode: 0o644, contents: settings },
        ],
        // The flags file is read for ExecStart=, after the decision wrote it; `-`: it does not exist yet when the decision starts.
        etcdServiceLines: [`EnvironmentFile=${bootstrapSettingsPath}`, `EnvironmentFile=-${bootstrapFlagsPath}`, `TimeoutStartSec=${etcdStartTimeout}`],
        etcdStartPre: [command("decide")],
        etcdFlags: [`$${bootstrapFlagsVariable}`],
    };
}
