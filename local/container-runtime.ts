/**
 * Stands in for podman/docker on the test host: `run` of an etcd image becomes
 * the host's etcd binary with the container's view of the filesystem mapped
 * into the node root, and every member on its own loopback address because
 * `--net=host` containers of all nodes share this one network stack.
 * Options this file does not know are refused, not skipped.
 */
import * as fs from "fs";
import * as path from "path";
import { parseEtcdRelease } from "../lib/etcd";
import { HostEtcd } from "./system-tools";

/** Where the etcd executable lives inside the official images (distroless: there is nothing else to run). */
export const imageEtcdPath = "/usr/local/bin/etcd";

/**
 * The runtimes the harness emulates, each with the systemd units its CLI needs
 * running on a real host: podman runs containers itself, the docker CLI only
 * talks to dockerd (`docker.service`, shipped by Flatcar and by Docker's
 * packages). Facts about the runtimes, written here and not read from the OS
 * table, so the harness does not just agree with the code it checks. The
 * stand-in plays those units: running the host's etcd is what dockerd would do.
 */
export const runtimeDaemonUnits: Readonly<Record<string, readonly string[]>> = {
    podman: [],
    docker: ["docker.service"],
};

const runtimes = new Set(Object.keys(runtimeDaemonUnits));

/**
 * Subcommands that manage containers, which the host process model has none
 * of, with the flags that make them succeed when the container does not exist.
 * They only run before the service starts, when (on a first boot) there is no
 * container, so without those flags the real runtime would fail.
 */
const housekeeping: Record<string, string[]> = { rm: ["--force", "-f"], stop: ["--ignore", "-i"], pull: [] };

/** What a node looks like from inside its containers. */
export interface NodeContext {
    /** The node root: host paths of volumes are inside it. */
    root: string;
    /** The node's own loopback address, standing for its private IP. */
    address: string;
    etcd: HostEtcd;
}

/** The local equivalent of one container runtime command line. */
export type LocalCommand =
    /** `failure` says why the real runtime would exit non-zero here. */
    | { kind: "no-op"; reason: string; failure?: string }
    | { kind: "process"; command: string; args: string[]; env: NodeJS.ProcessEnv; image: string };

interface Volume {
    hostPath: string;
    containerPath: string;
}

/** `host:container[:options]`; the options (`z`, `ro`) have no meaning without containers. */
function parseVolume(spec: string, context: NodeContext): Volume {
    const [hostPath, containerPath] = spec.split(":");
    if (!hostPath?.startsWith("/") || !containerPath?.startsWith("/")) {
        throw new Error(`volume "${spec}" is not host-path:container-path`);
    }
    // podman refuses to start a container whose bind-mount source is missing.
    if (!fs.existsSync(path.join(context.root, hostPath))) {
        throw new Error(`volume "${spec}": ${hostPath} does not exist on the node (Ignition did not create it)`);
    }
    return { hostPath, containerPath };
}

/** Takes the value of `--flag value` / `--flag=value` at `args[index]`; returns it and how many args it used. */
function optionValue(args: string[], index: number): [string, number] {
    const arg = args[index];
    const equals = arg.indexOf("=");
    if (equals >= 0) {
        return [arg.slice(equals + 1), 1];
    }
    if (index + 1 >= args.length) {
        throw new Error(`container option ${arg} has no value`);
    }
    return [args[index + 1], 2];
}

/**
 * A container path in an argument becomes the host path under the node root
 * (`--data-dir=/var/lib/etcd` → `<root>/var/lib/etcd`), and a wildcard listen
 * address becomes the node's own address.
 */
function mapArgument(arg: string, volumes: Volume[], context: NodeContext): string {
    const equals = arg.indexOf("=");
    const [flag, value] = arg.startsWith("-") && equals >= 0 ? [arg.slice(0, equals + 1), arg.slice(equals + 1)] : ["", arg];
    const volume = volumes.find((v) => value === v.containerPath || value.startsWith(`${v.containerPath}/`));
    const mapped = volume
        ? path.join(context.root, volume.hostPath, value.slice(volume.containerPath.length))
        : value.replace(/:\/\/0\.0\.0\.0(?=[:/]|$)/g, `://${context.address}`);
    return flag + mapped;
}

function mapRun(args: string[], context: NodeContext): LocalCommand {
    const volumes: Volume[] = [];
    let index = 0;
    while (index < args.length && args[index].startsWith("-")) {
        const option = args[index].split("=")[0];
        if (option === "--rm") {
            index += 1;
        } else if (option === "--name") {
            // Names only matter to rm/stop, which have no container to act on here.
            index += optionValue(args, index)[1];
        } else if (option === "--net" || option === "--network") {
            const [value, used] = optionValue(args, index);
            if (value !== "host") {
                throw new Error(`container network "${value}" is not emulated: only --net=host, where the container shares the node's address`);
            }
            index += used;
        } else if (option === "--pull") {
            // The host's etcd stands in for the image, so there is never anything to pull.
            const [value, used] = optionValue(args, index);
            if (!["missing", "always", "never", "newer"].includes(value)) {
                throw new Error(`container option --pull=${value} is not a pull policy podman or docker knows`);
            }
            index += used;
        } else if (option === "--volume" || option === "-v") {
            const [value, used] = optionValue(args, index);
            volumes.push(parseVolume(value, context));
            index += used;
        } else {
            throw new Error(`container option ${args[index]} is not emulated by the local harness`);
        }
    }
    const image = args[index];
    const [command, ...commandArgs] = args.slice(index + 1);
    if (image === undefined || command === undefined) {
        throw new Error(`container run needs an image and a command (the etcd images have no shell and the harness does not know their entrypoint): ${args.join(" ")}`);
    }
    if (command !== imageEtcdPath) {
        throw new Error(`container command ${command} is not emulated: only ${imageEtcdPath} (etcd) is`);
    }
    const release = parseEtcdRelease(image.split(":").pop() ?? "");
    if (!release || release.branch !== context.etcd.branch) {
        throw new Error(`image ${image} is not an etcd ${context.etcd.branch} release; the host's etcd ${context.etcd.version} cannot stand in for it`);
    }
    return {
        kind: "process",
        command: context.etcd.path,
        args: commandArgs.map((arg) => mapArgument(arg, volumes, context)),
        // A container sees neither the host's environment nor the unit's (no --env is passed): were the
        // harness's own ETCD_* variables to leak in, they would configure etcd behind the user data's back.
        env: {},
        image,
    };
}

/** Maps a podman/docker command line from a unit to what the test host runs instead. */
export function mapContainerCommand(argv: string[], context: NodeContext): LocalCommand {
    const [executable, subcommand, ...args] = argv;
    if (!runtimes.has(path.basename(executable))) {
        throw new Error(`${executable} is not a container runtime the local harness emulates (${[...runtimes].join(", ")})`);
    }
    if (subcommand === "run") {
        return mapRun(args, context);
    }
    const tolerant = housekeeping[subcommand];
    if (tolerant) {
        const reason = `${path.basename(executable)} ${subcommand}: no containers on the test host`;
        const succeeds = subcommand === "pull" || args.some((arg) => tolerant.includes(arg));
        return { kind: "no-op", reason, failure: succeeds ? undefined : `no container named ${args.at(-1)} exists` };
    }
    throw new Error(`${executable} ${subcommand} is not emulated by the local harness`);
}
