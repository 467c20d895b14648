/**
 * How the members find each other when the cluster first forms: through a v2
 * discovery service (the seed's way), or statically from the member slots'
 * addresses. Plain data in, etcd flags out; etcd reads these flags only while
 * a member's data directory is empty, so a formed cluster ignores them.
 */
import { isMemberName, peerPort, shown } from "./etcd";

/** The `bootstrap` argument's values. */
export type BootstrapMethod = "discovery" | "static";

export const bootstrapMethods: readonly BootstrapMethod[] = ["discovery", "static"];

/** One member of a static `--initial-cluster`: its name and its slot's private address. */
export interface InitialClusterMember {
    name: string;
    /** The private IPv4 address of the member's slot, the one its instance boots with. */
    ip: string;
}

/** What a statically bootstrapped member is told: every member the cluster forms with, and the cluster's own token. */
export interface StaticBootstrap {
    /** Every member the cluster first forms with, this one included, in member order. */
    members: InitialClusterMember[];
    /**
     * `--initial-cluster-token`: unique to the cluster, so that members of two
     * clusters that reuse each other's addresses (a destroyed and recreated
     * stack) never join each other.
     */
    clusterToken: string;
}

/** The cluster's `--initial-cluster-token`: readable, and unique through the stack's guard id, which is random and never replaced. */
export function initialClusterToken(ecosystem: string, uniqueId: string): string {
    return `${ecosystem}-${uniqueId}`;
}

/** `name=http://ip:2380,...`, as etcd's `--initial-cluster` takes it. */
export function initialClusterFlag(members: readonly InitialClusterMember[]): string {
    return members.map(({ name, ip }) => `${name}=http://${ip}:${peerPort}`).join(",");
}

const ipv4Pattern = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** What etcd accepts in a token without quoting trouble in a unit's command line. */
const clusterTokenPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why `bootstrap` cannot bootstrap member `memberName`, one problem a line; none when it can. */
export function staticBootstrapProblems(bootstrap: unknown, memberName: string): string[] {
    const { members, clusterToken } = (bootstrap ?? {}) as Partial<StaticBootstrap>;
    if (!Array.isArray(members) || members.length === 0) {
        return ["initialCluster.members: list every member the cluster forms with, as { name, ip }"];
    }
    const problems: string[] = [];
    members.forEach((member: Partial<InitialClusterMember>, index) => {
        if (!isMemberName(member?.name)) {
            problems.push(`initialCluster.members[${index}].name ${shown(member?.name)}: use letters, digits, dots, underscores and hyphens`);
        }
        if (typeof member?.ip !== "string" || !ipv4Pattern.test(member.ip)) {
            problems.push(`initialCluster.members[${index}].ip ${shown(member?.ip)}: use the slot's private IPv4 address, e.g. 10.99.1.10`);
        }
    });
    const names = members.map((member: Partial<InitialClusterMember>) => member?.name);
    const repeated = names.filter((name, index) => names.indexOf(name) !== index);
    if (repeated.length > 0) {
        problems.push(`initialCluster.members: ${[...new Set(repeated)].map(shown).join(", ")} named more than once`);
    }
    if (!names.includes(memberName)) {
        problems.push(`initialCluster.members: ${shown(memberName)} is not among them (${names.map(shown).join(", ")}); a member must be in the cluster it forms`);
    }
    if (typeof clusterToken !== "string" || !clusterTokenPattern.test(clusterToken)) {
        problems.push(`initialCluster.clusterToken ${shown(clusterToken)}: use letters, digits, dots, underscores and hyphens`);
    }
    return problems;
}

/** The flags with which a member forms the cluster from the static member list. */
export function staticBootstrapFlags({ members, clusterToken }: StaticBootstrap): string[] {
    return [
        `--initial-cluster=${initialClusterFlag(members)}`,
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
