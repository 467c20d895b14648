/**
 * Where the members connect out to, and so the only egress their security
 * group allows. Plain data in, plain data out (no SDK), so it can be tested
 * and read without Pulumi.
 *
 * What security groups never filter needs no rule: the VPC's DNS resolver,
 * the instance metadata service and the Amazon Time Sync Service
 * (169.254.169.123).
 */
import { BootstrapMethod } from "./bootstrap";
import { registryPort } from "./etcd";

/** One port the members reach outside their own group, with every reason they do. */
export interface OutboundPort {
    protocol: "tcp" | "udp";
    port: number;
    /** Why, for the rule's description. */
    purposes: string[];
}

export interface MemberEgressOptions {
    bootstrap: BootstrapMethod;
    /** The discovery token's URL when the user gave one; otherwise the token comes from `discoveryService`. */
    discoveryUrl?: string;
    discoveryService: string;
    etcdImageRepository: string;
}

const httpsPort = 443;

/**
 * The ports the members open connections to on other hosts, each once:
 * HTTPS for the AWS API they call (S3, for backups and restores), the image
 * registry and OS updates; NTP for an OS whose time servers are not the
 * Amazon Time Sync Service; and the discovery service and a registry on a
 * port of their own.
 */
export function memberOutboundPorts(options: MemberEgressOptions): OutboundPort[] {
    const needs: { protocol: OutboundPort["protocol"]; port: number; purpose: string }[] = [
        { protocol: "tcp", port: httpsPort, purpose: "AWS APIs" },
        { protocol: "tcp", port: registryPort(options.etcdImageRepository), purpose: "etcd image pulls" },
        { protocol: "tcp", port: httpsPort, purpose: "OS updates" },
        { protocol: "udp", port: 123, purpose: "NTP" },
    ];
    if (options.bootstrap === "discovery") {
        needs.push({ protocol: "tcp", port: urlPort(options.discoveryUrl ?? options.discoveryService), purpose: "discovery" });
    }
    const ports = new Map<string, OutboundPort>();
    for (const need of needs) {
        const key = `${need.protocol}-${need.port}`;
        const entry = ports.get(key) ?? { protocol: need.protocol, port: need.port, purposes: [] };
        entry.purposes.push(need.purpose);
        ports.set(key, entry);
    }
    return [...ports.values()];
}

/** The port of an http(s) URL, its scheme's default when it names none. */
function urlPort(url: string): number {
    const parsed = new URL(url);
    return parsed.port !== "" ? Number(parsed.port) : parsed.protocol === "http:" ? 80 : httpsPort;
}
