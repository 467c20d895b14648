/**
 * What the test host runs for a command line of a node's unit. Each program a
 * unit may run is listed here with what stands in for it: the container
 * runtimes (see container-runtime.ts), a few coreutils, and systemd's own
 * makefs and e2fsprogs' e2fsck and resize2fs run for real on the node's block
 * devices. A program not listed is
 * refused with its name, so a unit cannot pass locally by doing nothing.
 *
 * Block devices are the node's: a path such as
 * `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol…` means something only
 * through the node's device table, which maps it to a device of the test host
 * (a loop device) from the moment it is attached. No other host device is ever
 * touched.
 */
import * as fs from "fs";
import * as path from "path";
import * as pathPosix from "path/posix";
import { isContainerRuntime, LocalCommand, mapContainerCommand, NodeContext, runtimeDaemonUnits, withCallerEnvironment } from "./container-runtime";
import { mapNodeShell } from "./node-shell";

/** A block device of the node: the host device that plays it, from when it is attached. */
export interface NodeDevice {
    /** The host's block device, e.g. `/dev/loop7`. */
    hostDevice: string;
    /** Epoch ms from which the device is attached; default at once. Plays a volume attached after boot began. */
    attachedAt?: number;
}

/** The node's block devices by the path the node sees (`/dev/disk/by-id/…`, `/dev/nvme1n1`). */
export class DeviceTable {
    private readonly devices = new Map<string, NodeDevice>();

    constructor(devices: Record<string, NodeDevice> = {}) {
        for (const [nodePath, device] of Object.entries(devices)) {
            this.attach(nodePath, device);
        }
    }

    attach(nodePath: string, device: NodeDevice): void {
        if (!nodePath.startsWith("/dev/")) {
            throw new Error(`node device ${nodePath} is not under /dev`);
        }
        // Only loop devices play a node's volumes: no command of a node can reach a real disk of the test host.
        if (!/^\/dev\/loop\d+$/.test(device.hostDevice) || !isBlockDevice(device.hostDevice)) {
            throw new Error(`${device.hostDevice} cannot play ${nodePath}: only a loop device of the test host can`);
        }
        this.devices.set(pathPosix.normalize(nodePath), device);
    }

    detach(nodePath: string): void {
        this.devices.delete(pathPosix.normalize(nodePath));
    }

    /** The host device playing `nodePath` if it is attached now. */
    hostDevice(nodePath: string): string | undefined {
        const device = this.devices.get(pathPosix.normalize(nodePath));
        return device && (device.attachedAt ?? 0) <= Date.now() ? device.hostDevice : undefined;
    }

    /** When `nodePath` will be attached (epoch ms), or undefined if nothing will ever attach it. */
    attachedAt(nodePath: string): number | undefined {
        const device = this.devices.get(pathPosix.normalize(nodePath));
        return device ? device.attachedAt ?? 0 : undefined;
    }
}

/** Everything a node's commands act on. */
export interface NodeHost extends NodeContext {
    devices: DeviceTable;
    /**
     * The proxy of the node's instance metadata stand-in
     * (instance-metadata-service.ts), through which its scripts reach
     * http://169.254.169.254; unset, the node has no metadata service.
     */
    instanceMetadataProxy?: string;
    /**
     * The test CA (a PEM file, test-certificates.ts) that the node's TLS
     * stand-ins behind that proxy (s3-api.ts) have their certificates from: the
     * node's scripts trust it in place of the system trust store's public CAs
     * (`CURL_CA_BUNDLE`, see instanceMetadataProxyEnvironment); unset, they
     * trust the test host's.
     */
    caBundle?: string;
}

/** The path of `nodePath` on the test host: a device through the device table, anything else inside the node root. */
export function hostPathOnNode(host: NodeHost, nodePath: string): string | undefined {
    if (nodePath.startsWith("/dev/")) {
        return host.devices.hostDevice(nodePath);
    }
    return path.join(host.root, nodePath);
}

/** Programs a unit may run, by the path it names them with, and what the test host does instead. */
const programs: Record<string, (args: string[], host: NodeHost, environment: Record<string, string>) => LocalCommand> = {
    // A script the user data wrote, run by the real bash in a namespace that shows it the node (node-shell.ts).
    "/usr/bin/bash": mapNodeShell,
    "/usr/bin/true": (args) => ({ kind: "process", command: "/usr/bin/true", args, env: {} }),
    "/usr/bin/false": (args) => ({ kind: "process", command: "/usr/bin/false", args, env: {} }),
    "/usr/bin/sleep": (args) => {
        if (args.length !== 1 || !/^\d+(\.\d+)?$/.test(args[0])) {
            throw new Error(`sleep ${args.join(" ")}: the local harness plays only "sleep SECONDS"`);
        }
        return { kind: "process", command: "/usr/bin/sleep", args, env: {} };
    },
    // systemd's makefs: formats the device only if it carries no signature at all. Run for real on the host
    // device that plays the node's, so its blank check is the real one.
    "/usr/lib/systemd/systemd-makefs": (args, host) => {
        const [type, device, ...rest] = args;
        if (type === undefined || device === undefined || rest.length > 0) {
            throw new Error(`systemd-makefs ${args.join(" ")}: it takes a file system type and a device`);
        }
        const hostDevice = host.devices.hostDevice(device);
        if (hostDevice === undefined) {
            return {
                kind: "action",
                description: `systemd-makefs ${type} ${device}`,
                run: async () => ({ failure: `Failed to open ${device}: No such file or directory (no such device is attached to the node)`, code: 1 }),
            };
        }
        return { kind: "process", command: "/usr/lib/systemd/systemd-makefs", args: [type, hostDevice], env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } };
    },
    // e2fsprogs' check and grow, run for real on the host device that plays the node's.
    "/usr/sbin/e2fsck": (args, host) => onNodeDevice("e2fsck", args, ["-f", "-p"], host),
    "/usr/sbin/resize2fs": (args, host) => onNodeDevice("resize2fs", args, [], host),
};

/** `program [options] DEVICE` run on the host device that plays the node's `DEVICE`; only the options listed are played. */
function onNodeDevice(program: string, args: string[], options: string[], host: NodeHost): LocalCommand {
    const device = args[args.length - 1];
    const given = args.slice(0, -1);
    if (device === undefined || device.startsWith("-") || given.join(" ") !== options.join(" ")) {
        throw new Error(`${program} ${args.join(" ")}: the local harness plays only "${[program, ...options, "DEVICE"].join(" ")}"`);
    }
    const hostDevice = host.devices.hostDevice(device);
    if (hostDevice === undefined) {
        return {
            kind: "action",
            description: `${program} ${args.join(" ")}`,
            run: async () => ({ failure: `${program}: No such file or directory while trying to open ${device} (no such device is attached to the node)`, code: 8 }),
        };
    }
    return { kind: "process", command: `/usr/sbin/${program}`, args: [...options, hostDevice], env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } };
}

/** Other names of the same programs (usr-merged systems have both). */
const aliases: Record<string, string> = {
    "/bin/bash": "/usr/bin/bash",
    "/bin/true": "/usr/bin/true",
    "/bin/false": "/usr/bin/false",
    "/bin/sleep": "/usr/bin/sleep",
    "/lib/systemd/systemd-makefs": "/usr/lib/systemd/systemd-makefs",
    "/sbin/resize2fs": "/usr/sbin/resize2fs",
    "/sbin/e2fsck": "/usr/sbin/e2fsck",
};

/**
 * Maps one expanded command line of a unit to what the test host does for it.
 * `environment` is the unit's (Environment=, EnvironmentFile=): what systemd
 * hands the process; the programs that need it take it, and a container run's
 * `--env NAME` copies NAME from it.
 */
export function mapHostCommand(argv: string[], host: NodeHost, environment: Record<string, string> = {}): LocalCommand {
    const [executable, ...args] = argv;
    if (!executable.startsWith("/")) {
        throw new Error(`${executable}: systemd needs an absolute path here, or a name it finds in its fixed search path; the local harness takes absolute paths only`);
    }
    if (isContainerRuntime(executable)) {
        // systemd hands the runtime the unit's environment: that is where `--env NAME` takes NAME from.
        return withCallerEnvironment(mapContainerCommand(argv, host), environment);
    }
    const program = programs[aliases[executable] ?? executable];
    if (!program) {
        throw new Error(`${executable} is not a program the local harness knows how to run on a node (it knows ${[...Object.keys(programs), "podman", "docker"].join(", ")}); ` +
            "add what stands in for it to local/host-commands.ts");
    }
    return program(args, host, environment);
}

/** The units a command's program needs running on the node (the docker CLI needs dockerd). */
export function daemonUnitsOf(executable: string): readonly string[] {
    return isContainerRuntime(executable) ? runtimeDaemonUnits[path.basename(executable)] : [];
}

/** True if `file` exists and is a block device. */
export function isBlockDevice(file: string): boolean {
    try {
        return fs.statSync(file).isBlockDevice();
    } catch {
        return false;
    }
}
