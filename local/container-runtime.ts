/**
 * Stands in for podman/docker on the test host. `run` of an etcd image runs
 * the host's binary of the same branch in place of the image's, with the
 * container's filesystem played by a fresh directory per container (removed
 * with it, so anything written outside a volume is lost, as `--rm` loses it),
 * volumes mapped into the node root, and every member on its own loopback
 * address because `--net=host` containers of all nodes share this one network
 * stack. Containers are kept per node by name, so `rm`, `stop` and a second
 * `run --name` behave as they would on the node. `run` takes `--rm`,
 * `--name`, `--net`/`--network=host`, `--pull`, `--volume`/`-v` and
 * `--env`/`-e`: `NAME=value` sets a literal value, a bare `NAME` copies the
 * variable from the environment of whoever calls the runtime (a unit's, or a
 * script's through runtime-shim.cjs), and not at all when the caller has none,
 * as podman and docker do. Options this file does not know are refused, not
 * skipped.
 */
import * as fs from "fs";
import { constants } from "os";
import * as path from "path";
import { parseEtcdRelease } from "../lib/etcd";
import { ExitStatus, ManagedProcess } from "./processes";
import { HostEtcd } from "./system-tools";

/**
 * What the official etcd images hold (etcd's Dockerfile: distroless, the three
 * binaries in /usr/local/bin, `WORKDIR /var/etcd/` then `WORKDIR /var/lib/etcd/`).
 */
export const etcdImage = {
    executables: ["/usr/local/bin/etcd", "/usr/local/bin/etcdctl", "/usr/local/bin/etcdutl"],
    directories: ["/var/etcd", "/var/lib/etcd", "/tmp"],
    workingDirectory: "/var/lib/etcd",
} as const;

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

/** Seconds `podman stop` / `docker stop` wait after SIGTERM before SIGKILL, unless `--time` says otherwise. */
export const defaultStopSeconds = 10;

/** The exit code podman and docker use for their own errors (no such container, name in use). */
const runtimeErrorCode = 125;

/** One container of a node: its own root directory and, while it runs, its process. */
export interface Container {
    name: string;
    /** The container's own filesystem; removed with the container. */
    directory: string;
    autoRemove: boolean;
    process?: ManagedProcess;
}

/** A node's containers by name, and where their filesystems live. */
export class ContainerStore {
    private readonly containers = new Map<string, Container>();
    private sequence = 0;
    /** After a crash nothing cleans up: `--rm` containers stay, as in the storage of an instance that lost power. */
    private crashed = false;

    constructor(readonly directory: string) {}

    get(name: string): Container | undefined {
        return this.containers.get(name);
    }

    names(): string[] {
        return [...this.containers.keys()];
    }

    /** A directory for the next container (created when it starts). */
    nextDirectory(): string {
        this.sequence += 1;
        return path.join(this.directory, String(this.sequence));
    }

    /** Registers a container; fails as podman and docker do when the name is taken. */
    create(container: Container): void {
        if (this.containers.has(container.name)) {
            throw new CommandFailure(`the container name "${container.name}" is already in use: remove that container to be able to reuse that name`);
        }
        fs.mkdirSync(container.directory, { recursive: true });
        this.containers.set(container.name, container);
        this.crashed = false;
    }

    remove(name: string): void {
        const container = this.containers.get(name);
        if (container) {
            this.containers.delete(name);
            fs.rmSync(container.directory, { recursive: true, force: true });
        }
    }

    /** The container's process ended; an `--rm` container goes with it, unless the node crashed. */
    exited(container: Container): void {
        if (container.autoRemove && !this.crashed && this.containers.get(container.name) === container) {
            this.remove(container.name);
        }
    }

    /** The node lost power: its processes die and nothing removes the containers. */
    crash(): void {
        this.crashed = true;
    }
}

/** A runtime command that fails; `code` is its exit code. */
export class CommandFailure extends Error {
    constructor(message: string, readonly code = runtimeErrorCode) {
        super(message);
    }
}

/** What a node looks like from inside its containers. */
export interface NodeContext {
    /** The node root: host paths of volumes are inside it. */
    root: string;
    /** The node's own loopback address, standing for its private IP. */
    address: string;
    etcd: HostEtcd;
    /** The node's containers. */
    containers: ContainerStore;
}

/** The result of a command the harness carries out itself: undefined on success, else why it failed. */
export type ActionOutcome = undefined | { failure: string; code: number };

/** The local equivalent of one command line of a unit. */
export type LocalCommand =
    /** Carried out by the harness itself (container housekeeping, a stand-in tool). */
    | { kind: "action"; description: string; run: () => Promise<ActionOutcome> }
    /** A process the test host runs. */
    | {
        kind: "process";
        command: string;
        args: string[];
        env: NodeJS.ProcessEnv;
        cwd?: string;
        /**
         * Variables the process takes from the environment of whoever runs the command (a container's
         * `--env NAME`): each one the caller has is added to `env`, one it lacks is not set at all. Their values
         * never pass through the harness, only these names: see withCallerEnvironment and runtime-shim.cjs.
         */
        fromCaller?: string[];
        /** The container image the host's binary stands in for, if any. */
        image?: string;
        /** Called right before the process starts; a CommandFailure ends the command with its code. */
        prepare?: () => void;
        /** Called with the started process. */
        started?: (process: ManagedProcess) => void;
        /** Called once it has exited; returns the exit as the runtime reports it. */
        exited?: (status: ExitStatus) => ExitStatus;
    };

interface Volume {
    hostPath: string;
    containerPath: string;
}

/** Volume options that change nothing on the test host: SELinux relabelling and the default read-write. */
const harmlessVolumeOptions = new Set(["z", "Z", "rw"]);

/** `host:container[:options]`. */
function parseVolume(spec: string, runtime: string, context: NodeContext): Volume {
    const [hostPath, containerPath, options, ...rest] = spec.split(":");
    if (!hostPath?.startsWith("/") || !containerPath?.startsWith("/") || rest.length > 0) {
        throw new Error(`volume "${spec}" is not host-path:container-path[:options]`);
    }
    for (const option of (options ?? "").split(",").filter((o) => o !== "")) {
        if (!harmlessVolumeOptions.has(option)) {
            throw new Error(`volume option "${option}" in "${spec}" is not emulated by the local harness`);
        }
    }
    const onNode = path.join(context.root, hostPath);
    if (!fs.existsSync(onNode)) {
        if (runtime !== "docker") {
            // podman refuses to start a container whose bind-mount source is missing.
            throw new Error(`volume "${spec}": ${hostPath} does not exist on the node (Ignition did not create it)`);
        }
        // dockerd creates a missing bind-mount source as an empty directory.
        fs.mkdirSync(onNode, { recursive: true });
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
 * One `--env`/`-e` value of run: `NAME=value` into `literal`, a bare `NAME` into `fromCaller`. Messages
 * name the variable, never its value (the component passes passwords this way).
 */
function addEnvironment(spec: string, literal: Record<string, string>, fromCaller: string[]): void {
    const equals = spec.indexOf("=");
    const name = equals >= 0 ? spec.slice(0, equals) : spec;
    if (name === "") {
        throw new Error("container option --env gives no variable name");
    }
    if (name.includes("*")) {
        throw new Error(`container option --env ${name}: podman's match of every variable with a prefix is not emulated by the local harness`);
    }
    if (name in literal || fromCaller.includes(name)) {
        // Which one wins (`--env A=1 --env A`, with or without an A in the caller's environment) is a detail of each
        // runtime's option parsing that the harness does not play: refused, not guessed.
        throw new Error(`container option --env gives ${name} twice; the local harness does not guess which one the runtime would keep`);
    }
    if (equals >= 0) {
        literal[name] = spec.slice(equals + 1);
    } else {
        fromCaller.push(name);
    }
}

/** The run's arguments for a message: the values of `--env`/`-e NAME=value` are hidden. */
function withoutEnvironmentValues(args: string[]): string {
    return args.map((arg, index) => {
        const option = /^(--env|-e)=([^=]*)=/.exec(arg);
        if (option) {
            return `${option[1]}=${option[2]}=…`;
        }
        return index > 0 && ["--env", "-e"].includes(args[index - 1]) ? arg.replace(/=[\s\S]*$/, "=…") : arg;
    }).join(" ");
}

/**
 * `command` as run by a caller whose environment is `environment` (a unit's Environment= and
 * EnvironmentFile=, for a runtime on a unit's command line): each variable of `fromCaller` it has is set
 * in the process's own, as the runtime copies it from its own environment; one it lacks is not set.
 */
export function withCallerEnvironment(command: LocalCommand, environment: Readonly<Record<string, string | undefined>>): LocalCommand {
    if (command.kind !== "process" || !command.fromCaller?.length) {
        return command;
    }
    const env = { ...command.env };
    for (const name of command.fromCaller) {
        const value = environment[name];
        if (value !== undefined) {
            env[name] = value;
        }
    }
    return { ...command, env, fromCaller: [] };
}

/** Paths a container has of its own kernel's, not of its image. */
const kernelPaths = ["/dev/", "/proc/", "/sys/"];

/** Where a path inside the container is on the host: in the node root under a volume, else in the container's own root. */
function hostPathOf(containerPath: string, volumes: Volume[], rootfs: string, context: NodeContext): string {
    if (kernelPaths.some((prefix) => containerPath.startsWith(prefix))) {
        return containerPath;
    }
    // The last matching volume wins, as the later mount covers the earlier one.
    const volume = [...volumes].reverse()
        .find((v) => containerPath === v.containerPath || containerPath.startsWith(`${v.containerPath.replace(/\/$/, "")}/`));
    return volume
        ? path.join(context.root, volume.hostPath, containerPath.slice(volume.containerPath.length))
        : path.join(rootfs, containerPath);
}

/** A URL's host, if the value is one (`http://0.0.0.0:2379` → `0.0.0.0`). */
const urlPattern = /^([a-z][a-z0-9+.-]*:\/\/)(\[[^\]]*\]|[^/:?#]*)(.*)$/i;

/** The addresses that mean "every interface" to a listener, and so are no one's address to advertise. */
function isWildcardHost(host: string): boolean {
    if (host === "0.0.0.0") {
        return true;
    }
    if (host.startsWith("[")) {
        try {
            return new URL(`http://${host}/`).hostname === "[::]";
        } catch {
            return false;
        }
    }
    return false;
}

/** etcd flags whose URLs say where it listens: a wildcard there becomes the node's own address. */
const listenFlag = /^--?listen-[a-z-]+$/;
/** etcd flags whose URLs it hands to peers and clients: they must be an address others can reach. */
const advertiseFlag = /^--?(advertise-client-urls|initial-advertise-peer-urls)$/;

/**
 * One command-line value as the host runs it. A wildcard host in a listen
 * URL becomes the node's address (`--net=host` containers of every node share
 * this machine's interfaces, so each must bind its own); nothing else about
 * an address is touched. A wildcard in an advertised URL is refused: EC2
 * would hand peers and clients an address that is nobody's.
 */
function mapValue(flag: string | undefined, value: string, volumes: Volume[], rootfs: string, context: NodeContext): string {
    if (flag !== undefined && listenFlag.test(flag)) {
        return value.split(",").map((url) => {
            const match = urlPattern.exec(url);
            return match && isWildcardHost(match[2]) ? `${match[1]}${context.address}${match[3]}` : url;
        }).join(",");
    }
    if (flag !== undefined && advertiseFlag.test(flag)) {
        for (const url of value.split(",")) {
            const match = urlPattern.exec(url);
            if (match && isWildcardHost(match[2])) {
                throw new Error(`${flag}=${value}: ${url} advertises a wildcard address; etcd hands this URL to its peers and clients, ` +
                    "and on EC2 no member is reachable there (use the instance's private IP)");
            }
        }
        return value;
    }
    if (flag === "--auth-token") {
        // `jwt,pub-key=PATH,priv-key=PATH,…`: the key files are paths in the container like any other.
        return value.split(",").map((option) => {
            const match = /^(pub-key|priv-key)=(\/.*)$/.exec(option);
            return match ? `${match[1]}=${hostPathOf(match[2], volumes, rootfs, context)}` : option;
        }).join(",");
    }
    return value.startsWith("/") ? hostPathOf(value, volumes, rootfs, context) : value;
}

/**
 * The one check of etcd's that the harness turns off, and only for a member
 * that asks its peers for certificates: that a peer's client certificate
 * names the address the peer connects from. On EC2 a member connects from its
 * own private address, the one its certificate names; here every member's
 * etcd shares this host's loopback, and the kernel sends each connection from
 * 127.0.0.1 whatever member makes it. The CA, the expiry, the key usages and
 * the server's name are all still checked.
 */
export const sharedLoopbackPeerFlag = "--experimental-peer-skip-client-san-verification=true";
const asksPeersForCertificates = (args: readonly string[]) => args.some((arg) => /^--?peer-client-cert-auth(=true)?$/.test(arg));

/** Maps every argument of the container's command: `--flag=value`, `--flag value` for address flags, and bare values. */
function mapArguments(args: string[], volumes: Volume[], rootfs: string, context: NodeContext): string[] {
    const mapped: string[] = [];
    for (let index = 0; index < args.length; index++) {
        const arg = args[index];
        const flag = /^(--?[A-Za-z0-9][A-Za-z0-9-]*)(?:=([\s\S]*))?$/.exec(arg);
        if (flag && flag[2] !== undefined) {
            mapped.push(`${flag[1]}=${mapValue(flag[1], flag[2], volumes, rootfs, context)}`);
        } else if (flag && (listenFlag.test(flag[1]) || advertiseFlag.test(flag[1])) && index + 1 < args.length) {
            mapped.push(arg, mapValue(flag[1], args[index + 1], volumes, rootfs, context));
            index += 1;
        } else {
            mapped.push(flag ? arg : mapValue(undefined, arg, volumes, rootfs, context));
        }
    }
    return mapped;
}

function mapRun(runtime: string, args: string[], context: NodeContext): LocalCommand {
    const volumes: Volume[] = [];
    const literalEnvironment: Record<string, string> = {};
    const fromCaller: string[] = [];
    let name: string | undefined;
    let autoRemove = false;
    let index = 0;
    while (index < args.length && args[index].startsWith("-")) {
        const option = args[index].split("=")[0];
        if (option === "--rm") {
            autoRemove = true;
            index += 1;
        } else if (option === "--name") {
            const [value, used] = optionValue(args, index);
            name = value;
            index += used;
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
            volumes.push(parseVolume(value, runtime, context));
            index += used;
        } else if (option === "--env" || option === "-e") {
            const [value, used] = optionValue(args, index);
            addEnvironment(value, literalEnvironment, fromCaller);
            index += used;
        } else {
            // The option's name only: glued to it may be a value not to show (`-eNAME=value`).
            throw new Error(`container option ${option} is not emulated by the local harness`);
        }
    }
    const image = args[index];
    const [command, ...commandArgs] = args.slice(index + 1);
    if (image === undefined || command === undefined) {
        throw new Error(`container run needs an image and a command (the etcd images have no shell and the harness does not know their entrypoint): ${withoutEnvironmentValues(args)}`);
    }
    if (!(etcdImage.executables as readonly string[]).includes(command)) {
        throw new Error(`container command ${command} is not emulated: only the etcd image's ${etcdImage.executables.join(", ")} are`);
    }
    const release = parseEtcdRelease(image.split(":").pop() ?? "");
    if (!release || release.branch !== context.etcd.branch) {
        throw new Error(`image ${image} is not an etcd ${context.etcd.branch} release; the host's etcd ${context.etcd.version} cannot stand in for it`);
    }
    const directory = context.containers.nextDirectory();
    const rootfs = path.join(directory, "rootfs");
    const container: Container = { name: name ?? path.basename(directory), directory, autoRemove };
    return {
        kind: "process",
        command: path.join(path.dirname(context.etcd.path), path.basename(command)),
        args: [
            ...mapArguments(commandArgs, volumes, rootfs, context),
            ...command === imageEtcdPath && asksPeersForCertificates(commandArgs) ? [sharedLoopbackPeerFlag] : [],
        ],
        // A container sees neither the host's environment nor the unit's, only what its --env options give it:
        // were the harness's own ETCD_* variables to leak in, they would configure etcd behind the user data's back.
        env: literalEnvironment,
        fromCaller,
        cwd: hostPathOf(etcdImage.workingDirectory, volumes, rootfs, context),
        image,
        prepare: () => {
            context.containers.create(container);
            for (const directoryInImage of etcdImage.directories) {
                fs.mkdirSync(path.join(rootfs, directoryInImage), { recursive: true });
            }
        },
        started: (process) => (container.process = process),
        exited: (status) => {
            context.containers.exited(container);
            // The runtime reports a container killed by a signal as 128 + the signal's number.
            return status.signal ? { code: 128 + signalNumber(status.signal), signal: null } : status;
        },
    };
}

function signalNumber(signal: NodeJS.Signals): number {
    return constants.signals[signal] ?? 0;
}

/** `--time N`, `-t N`, `--time=N` of stop and rm, in seconds. */
function stopSeconds(args: string[]): number {
    const index = args.findIndex((arg) => /^(--time|-t)(=|$)/.test(arg));
    if (index < 0) {
        return defaultStopSeconds;
    }
    const seconds = Number(optionValue(args, index)[0]);
    if (!Number.isFinite(seconds) || seconds < 0) {
        throw new Error(`container stop time ${args[index]} is not a number of seconds`);
    }
    return seconds;
}

/** The container names of `stop`/`rm`: the arguments that are neither options nor option values. */
function containerNames(args: string[]): string[] {
    const names: string[] = [];
    for (let index = 0; index < args.length; index++) {
        if (/^(--time|-t)$/.test(args[index])) {
            index += 1;
        } else if (!args[index].startsWith("-")) {
            names.push(args[index]);
        }
    }
    return names;
}

const knownFlags: Record<string, string[]> = {
    rm: ["--force", "-f", "--ignore", "-i", "--time", "-t"],
    stop: ["--ignore", "-i", "--time", "-t"],
};

/** `stop`/`rm`: acts on the node's containers by name, failing as the runtime does when one is missing. */
function mapHousekeeping(runtime: string, subcommand: "rm" | "stop", args: string[], context: NodeContext): LocalCommand {
    for (const arg of args.filter((a) => a.startsWith("-"))) {
        if (!knownFlags[subcommand].includes(arg.split("=")[0])) {
            throw new Error(`${runtime} ${subcommand} option ${arg} is not emulated by the local harness`);
        }
    }
    const has = (...flags: string[]) => args.some((arg) => flags.includes(arg));
    const force = subcommand === "rm" && has("--force", "-f");
    // podman's --force also ignores a missing container; docker has no --ignore.
    const ignoreMissing = has("--ignore", "-i") || (force && runtime === "podman");
    const graceMs = (force && runtime === "docker" ? 0 : stopSeconds(args)) * 1000;
    const names = containerNames(args);
    if (names.length === 0) {
        throw new Error(`${runtime} ${subcommand} names no container`);
    }
    return {
        kind: "action",
        description: `${runtime} ${subcommand} ${args.join(" ")}`,
        run: async () => {
            for (const name of names) {
                const container = context.containers.get(name);
                if (!container) {
                    if (!ignoreMissing) {
                        return { failure: `no container with name or ID "${name}" found: no such container`, code: runtimeErrorCode };
                    }
                    continue;
                }
                if (subcommand === "rm" && container.process?.running && !force) {
                    return { failure: `cannot remove container ${name} as it is running: stop it first or remove it with --force`, code: 2 };
                }
                await container.process?.stop(graceMs);
                if (subcommand === "rm") {
                    context.containers.remove(name);
                }
            }
            return undefined;
        },
    };
}

/** Maps a podman/docker command line from a unit to what the test host does instead. */
export function mapContainerCommand(argv: string[], context: NodeContext): LocalCommand {
    const [executable, subcommand, ...args] = argv;
    const runtime = path.basename(executable);
    if (!runtimes.has(runtime)) {
        throw new Error(`${executable} is not a container runtime the local harness emulates (${[...runtimes].join(", ")})`);
    }
    if (subcommand === "run") {
        return mapRun(runtime, args, context);
    }
    if (subcommand === "rm" || subcommand === "stop") {
        return mapHousekeeping(runtime, subcommand, args, context);
    }
    if (subcommand === "pull") {
        return { kind: "action", description: `${runtime} pull: the host's etcd stands in for the image`, run: async () => undefined };
    }
    throw new Error(`${executable} ${subcommand} is not emulated by the local harness`);
}

/** True if `executable` is one of the emulated container runtimes. */
export function isContainerRuntime(executable: string): boolean {
    return runtimes.has(path.basename(executable));
}
