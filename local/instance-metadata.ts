/**
 * Plays the metadata unit's part (Afterburn on Fedora CoreOS,
 * coreos-metadata on Flatcar): writes the environment file that unit writes
 * from the EC2 metadata service, with the node's loopback address as its
 * private IP. Names come from the OS table, never from here.
 */
import * as fs from "fs";
import * as path from "path";
import { OperatingSystemProfile } from "../lib/os";

/** What EC2's metadata service would say about the instance. */
export interface InstanceMetadata {
    privateIpv4: string;
    hostname: string;
    instanceId: string;
    availabilityZone: string;
    region: string;
}

/**
 * Both metadata units name their variables `<prefix>IPV4_LOCAL`,
 * `<prefix>HOSTNAME`, … (`AFTERBURN_AWS_`, `COREOS_EC2_`), so the prefix is
 * read off the OS table's private-IP variable.
 */
const privateIpv4Suffix = "IPV4_LOCAL";

export function metadataVariables(os: OperatingSystemProfile, metadata: InstanceMetadata): Record<string, string> {
    if (!os.privateIpv4Variable.endsWith(privateIpv4Suffix)) {
        throw new Error(`${os.privateIpv4Variable} does not end in ${privateIpv4Suffix}: the local harness does not know that metadata unit's variable names`);
    }
    const prefix = os.privateIpv4Variable.slice(0, -privateIpv4Suffix.length);
    return {
        [os.privateIpv4Variable]: metadata.privateIpv4,
        [`${prefix}HOSTNAME`]: metadata.hostname,
        [`${prefix}INSTANCE_ID`]: metadata.instanceId,
        [`${prefix}AVAILABILITY_ZONE`]: metadata.availabilityZone,
        [`${prefix}REGION`]: metadata.region,
    };
}

/** Writes the metadata environment file into the node root; returns its path on the host. */
export function writeInstanceMetadata(root: string, os: OperatingSystemProfile, metadata: InstanceMetadata): string {
    const file = path.join(root, os.metadataEnvironmentFile);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const lines = Object.entries(metadataVariables(os, metadata)).map(([name, value]) => `${name}=${value}\n`);
    fs.writeFileSync(file, lines.join(""));
    return file;
}
