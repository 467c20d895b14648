/**
 * Everything that differs between the CoreOS-family operating systems the
 * cluster can run on. The Ignition builder and the AMI lookup read this table
 * and nothing else, so adding an OS means adding a row, not `if`s.
 */
export interface OperatingSystemProfile {
    /** AWS account that publishes the official AMIs. */
    readonly amiOwner: string;
    /** `name` filter for the AMI lookup (the architecture is filtered separately). */
    readonly amiNamePattern: string;
    /** The unit that writes the instance metadata file at boot (not enabled by default, so etcd `Requires=` it). */
    readonly metadataUnit: string;
    /** The environment file that unit writes. */
    readonly metadataEnvironmentFile: string;
    /** The variable in that file holding the instance's private IPv4 address. */
    readonly privateIpv4Variable: string;
    /** The container runtime binary that runs etcd's image. */
    readonly containerRuntime: string;
    /** Suffix for bind-mount volumes: `:z` relabels for SELinux where it is enforcing. */
    readonly volumeOptions: string;
    /** The default login user that `sshAuthorizedKeys` are given to. */
    readonly loginUser: string;
}

export type OperatingSystem = "fedora-coreos" | "flatcar";

export const operatingSystems: Readonly<Record<OperatingSystem, OperatingSystemProfile>> = {
    "fedora-coreos": {
        amiOwner: "125523088429",
        // The stable stream has `.3.` as its third version field.
        amiNamePattern: "fedora-coreos-*.3.*",
        metadataUnit: "afterburn.service",
        metadataEnvironmentFile: "/run/metadata/afterburn",
        privateIpv4Variable: "AFTERBURN_AWS_IPV4_LOCAL",
        containerRuntime: "/usr/bin/podman",
        volumeOptions: ":z",
        loginUser: "core",
    },
    flatcar: {
        amiOwner: "075585003325",
        amiNamePattern: "Flatcar-stable-*",
        metadataUnit: "coreos-metadata.service",
        metadataEnvironmentFile: "/run/metadata/flatcar",
        privateIpv4Variable: "COREOS_EC2_IPV4_LOCAL",
        containerRuntime: "/usr/bin/docker",
        volumeOptions: "",
        loginUser: "core",
    },
};

export const supportedOperatingSystems = Object.keys(operatingSystems) as OperatingSystem[];
