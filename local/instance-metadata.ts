/**
 * Plays the metadata unit each OS ships (Afterburn on Fedora CoreOS,
 * coreos-metadata on Flatcar): the unit's name, the file it writes and the
 * variable names it writes there on AWS are facts about those OSes, written
 * here from their documentation and never read from lib/os.ts, the code under
 * test. A unit naming a variable these tools do not write then expands it to
 * nothing locally, exactly as systemd does on EC2.
 */
import * as fs from "fs";
import * as path from "path";
import type { OperatingSystem } from "../lib/os";

/** What EC2's instance metadata service says about an instance. */
export interface InstanceMetadata {
    privateIpv4: string;
    hostname: string;
    instanceId: string;
    instanceType: string;
    availabilityZone: string;
    region: string;
    /** Only for an instance with a public address; the component's members, in private subnets, have none. */
    publicIpv4?: string;
    publicHostname?: string;
}

/** What the OS's metadata unit writes on AWS: its name, its file, and the variable each fact goes into. */
export interface MetadataUnitFacts {
    unit: string;
    file: string;
    variables: Readonly<Record<keyof InstanceMetadata, string>>;
}

/**
 * Afterburn's AWS attributes (docs/usage/attributes.md) and coreos-metadata's
 * legacy EC2 attributes, which Flatcar writes to /run/metadata/flatcar. Both
 * leave out an attribute the metadata service has no value for (the public
 * address of an instance without one).
 */
export const metadataUnits: Readonly<Record<OperatingSystem, MetadataUnitFacts>> = {
    "fedora-coreos": {
        unit: "afterburn.service",
        file: "/run/metadata/afterburn",
        variables: {
            privateIpv4: "AFTERBURN_AWS_IPV4_LOCAL",
            hostname: "AFTERBURN_AWS_HOSTNAME",
            instanceId: "AFTERBURN_AWS_INSTANCE_ID",
            instanceType: "AFTERBURN_AWS_INSTANCE_TYPE",
            availabilityZone: "AFTERBURN_AWS_AVAILABILITY_ZONE",
            region: "AFTERBURN_AWS_REGION",
            publicIpv4: "AFTERBURN_AWS_IPV4_PUBLIC",
            publicHostname: "AFTERBURN_AWS_PUBLIC_HOSTNAME",
        },
    },
    flatcar: {
        unit: "coreos-metadata.service",
        file: "/run/metadata/flatcar",
        variables: {
            privateIpv4: "COREOS_EC2_IPV4_LOCAL",
            hostname: "COREOS_EC2_HOSTNAME",
            instanceId: "COREOS_EC2_INSTANCE_ID",
            instanceType: "COREOS_EC2_INSTANCE_TYPE",
            availabilityZone: "COREOS_EC2_AVAILABILITY_ZONE",
            region: "COREOS_EC2_REGION",
            publicIpv4: "COREOS_EC2_IPV4_PUBLIC",
            publicHostname: "COREOS_EC2_PUBLIC_HOSTNAME",
        },
    },
};

/** The metadata unit of `os`; throws for an OS the harness has no facts about. */
export function metadataUnitOf(os: OperatingSystem): MetadataUnitFacts {
    const facts = metadataUnits[os];
    if (!facts) {
        throw new Error(`the local harness does not know which metadata unit ${os} ships and what it writes: add it to local/instance-metadata.ts`);
    }
    return facts;
}

/** The file's variables: one per fact the metadata service has a value for. */
export function metadataVariables(os: OperatingSystem, metadata: InstanceMetadata): Record<string, string> {
    const { variables } = metadataUnitOf(os);
    const entries = (Object.keys(variables) as (keyof InstanceMetadata)[])
        .filter((fact) => metadata[fact] !== undefined)
        .map((fact) => [variables[fact], metadata[fact]!]);
    return Object.fromEntries(entries);
}

/** Writes the metadata environment file into the node root, as the unit does when it starts; returns its host path. */
export function writeInstanceMetadata(root: string, os: OperatingSystem, metadata: InstanceMetadata): string {
    const file = path.join(root, metadataUnitOf(os).file);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const lines = Object.entries(metadataVariables(os, metadata)).map(([name, value]) => `${name}=${value}\n`);
    fs.writeFileSync(file, lines.join(""));
    return file;
}
