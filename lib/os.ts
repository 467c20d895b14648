/**
 * Everything that differs between the CoreOS-family operating systems the
 * cluster can run on. The Ignition builder and the AMI lookup read this table
 * and nothing else, so adding an OS means adding a row, not `if`s.
 */
/** A daily window, in UTC, in which the OS may reboot to finish an automatic update. */
export interface UpdateWindow {
    startHourUtc: number;
    lengthMinutes: number;
}

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
    /**
     * The units that runtime needs running (its daemon): etcd `Requires=` and is
     * ordered `After=` them, so at shutdown or an update reboot systemd stops
     * etcd first. Empty for a daemonless runtime.
     */
    readonly containerRuntimeUnits: readonly string[];
    /** Suffix for bind-mount volumes: `:z` relabels for SELinux where it is enforcing. */
    readonly volumeOptions: string;
    /** The default login user that `sshAuthorizedKeys` are given to. */
    readonly loginUser: string;
    /** Where the update agent reads its reboot window, and what to write there. */
    readonly updateWindowFile: { path: string; contents: (window: UpdateWindow) => string };
}

const hhmm = (hour: number) => `${String(hour).padStart(2, "0")}:00`;

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
        // podman runs the container itself, as the unit's own process: there is no daemon to wait for.
        containerRuntimeUnits: [],
        volumeOptions: ":z",
        loginUser: "core",
        // Zincati's default, `immediate`, reboots as soon as an update is staged: on every member at once.
        updateWindowFile: {
            path: "/etc/zincati/config.d/55-etcd3-cluster-updates.toml",
            contents: (window) => [
                "[updates]",
                'strategy = "periodic"',
                "[[updates.periodic.window]]",
                'days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]',
                `start_time = "${hhmm(window.startHourUtc)}"`,
                `length_minutes = ${window.lengthMinutes}`,
                "",
            ].join("\n"),
        },
    },
    flatcar: {
        amiOwner: "075585003325",
        amiNamePattern: "Flatcar-stable-*",
        metadataUnit: "coreos-metadata.service",
        metadataEnvironmentFile: "/run/metadata/flatcar",
        privateIpv4Variable: "COREOS_EC2_IPV4_LOCAL",
        containerRuntime: "/usr/bin/docker",
        // The docker CLI only asks dockerd; without the ordering dockerd may stop first and kill etcd uncleanly.
        containerRuntimeUnits: ["docker.service"],
        volumeOptions: "",
        loginUser: "core",
        // locksmithd reboots right after an update unless given a window; `reboot` avoids its etcd-lock
        // mode, which would look for a v2 lock in this very cluster.
        updateWindowFile: {
            path: "/etc/flatcar/update.conf",
            contents: (window) => [
                "REBOOT_STRATEGY=reboot",
                `LOCKSMITHD_REBOOT_WINDOW_START=${hhmm(window.startHourUtc)}`,
                `LOCKSMITHD_REBOOT_WINDOW_LENGTH=${window.lengthMinutes}m`,
                "",
            ].join("\n"),
        },
    },
};

export const supportedOperatingSystems = Object.keys(operatingSystems) as OperatingSystem[];
