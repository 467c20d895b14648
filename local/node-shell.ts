/**
 * Plays `/bin/bash SCRIPT ARGS...` of a node's unit: the real bash runs the
 * script the user data wrote, with the unit's environment, in a private mount
 * namespace (`unshare --mount`) that shows it the node and no more of the test
 * host than a Fedora CoreOS or Flatcar node would have:
 *
 * - `/run`, `/var` and `/opt` are the node root's (its data volume mount
 *   included), so what the script reads and writes is the node's;
 * - `/usr/bin` holds only `nodeShellPrograms`, programs both OSes ship, and
 *   `/usr/local/bin`, `/usr/local/sbin` and `/usr/sbin` are empty: a script
 *   that calls a tool the nodes lack (`jq`, the host's `etcdctl`) fails here as
 *   it would there;
 * - `/usr/bin/podman` and `/usr/bin/docker` are the harness's container
 *   runtime: a small client (runtime-shim.cjs) asks the harness, over the
 *   node's runtime socket, to map the command as it maps a unit's command line
 *   (container-runtime.ts, with the node's own containers), and runs what it
 *   is told, so `podman run … etcdctl` runs the etcd image's program; the
 *   variables its `--env NAME` options name it copies from its own
 *   environment, which is the script's, as the runtime would;
 * - http://169.254.169.254 is the node's instance metadata stand-in, reached
 *   through the proxy its host names (`http_proxy`, with `no_proxy` keeping
 *   every loopback address direct); HTTPS goes through the same proxy
 *   (`https_proxy`), which tunnels only to the node's TLS stand-ins (its S3
 *   at `https://BUCKET.s3.REGION.amazonaws.com`), whose test CA the script's
 *   curl trusts as a node's trusts the public CAs (`CURL_CA_BUNDLE`, when its
 *   host names one); a node without a metadata stand-in gets no proxy
 *   setting, so its curl goes to 169.254.169.254 itself, an address the test
 *   host does not hold.
 *
 * Mounts made in the namespace never reach the test host, and they end with it.
 * It is a pid namespace as well: when the unit's process goes, every process
 * the script started goes with it, as systemd stops a unit's whole cgroup.
 */
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { ExitStatus } from "./processes";
import { LocalCommand, mapContainerCommand } from "./container-runtime";
import { workDirPrefix } from "./cluster-registry";
import { instanceMetadataProxyEnvironment } from "./instance-metadata-service";
import type { NodeHost } from "./host-commands";

/**
 * Programs in /usr/bin of both Fedora CoreOS and Flatcar (bash, coreutils, grep, sed, util-linux's flock, and openssl:
 * FCOS's manifest lists it, Flatcar's base ebuild depends on it) that node scripts may call.
 */
export const nodeShellPrograms: readonly string[] = [
    "base64", "bash", "cat", "curl", "date", "env", "flock", "grep", "md5sum", "mkdir", "mktemp", "mv", "openssl", "rm", "sed", "sha256sum", "sleep",
    "stat",
];

/** The node directories the script sees in place of the host's. */
const nodeDirectories = ["/run", "/var", "/opt"];
/** Host directories emptied in the namespace: what is there is not on a node. */
const emptiedDirectories = ["/usr/local/bin", "/usr/local/sbin", "/usr/sbin"];

/** systemd's search path for services, which the script gets unless its unit sets another. */
const servicePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const launcher = path.join(__dirname, "runtime-shim-launcher.sh");
/** Where the etcd binaries are bound in the namespace (the host's directory may be covered, as /usr/local/bin is). */
const etcdBinaries = "/mnt/etcd-bin";

/** podman's and docker's exit code for their own errors. */
const runtimeErrorCode = 125;

/**
 * One runtime call of a script: the command mapped for the node (its prepare run, so its container exists), the
 * process run by the client, and the exit reported back through the mapped command's own handling.
 */
function serveRuntimeCall(socket: net.Socket, host: NodeHost): void {
    let buffer = "";
    let running: Extract<LocalCommand, { kind: "process" }> | undefined;
    const reply = (message: object) => socket.write(`${JSON.stringify(message)}\n`);
    const finish = (status: ExitStatus): number => {
        const reported = running?.exited ? running.exited(status) : status;
        running = undefined;
        return reported.code ?? 1;
    };
    const handle = async (message: { argv?: string[]; status?: ExitStatus }) => {
        if (message.status) {
            reply({ exit: finish(message.status) });
            return;
        }
        let command: LocalCommand;
        try {
            command = mapContainerCommand(message.argv ?? [], host);
            if (command.kind === "process") {
                command.prepare?.();
            }
        } catch (error) {
            reply({ exit: (error as { code?: number }).code ?? runtimeErrorCode, message: `Error: ${(error as Error).message}` });
            return;
        }
        if (command.kind === "action") {
            const outcome = await command.run();
            reply(outcome ? { exit: outcome.code, message: `Error: ${outcome.failure}` } : { exit: 0 });
            return;
        }
        running = command;
        const executable = command.command.startsWith(`${path.dirname(host.etcd.path)}/`)
            ? path.join(etcdBinaries, path.basename(command.command)) : command.command;
        // The client adds the variables of fromCaller from its own environment, the script's: their values
        // (passwords among them) never come through here.
        reply({ run: { command: executable, args: command.args, env: command.env, fromCaller: command.fromCaller ?? [], cwd: command.cwd } });
    };
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
        buffer += chunk;
        for (let newline = buffer.indexOf("\n"); newline >= 0; newline = buffer.indexOf("\n")) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            void handle(JSON.parse(line));
        }
    });
    // A client killed with its namespace never reports: its container is ended as the runtime would end it.
    socket.on("close", () => running && finish({ code: null, signal: "SIGKILL" }));
    socket.on("error", () => undefined);
}

/** Each node's runtime socket while any of its scripts runs: where, and how many scripts use it. */
const runtimeSockets = new WeakMap<NodeHost, { path: string; server: net.Server; users: number }>();

/** The node's runtime socket, opened for one more script; `release` closes it after the last. */
function acquireRuntimeSocket(host: NodeHost): string {
    let entry = runtimeSockets.get(host);
    if (!entry) {
        fs.mkdirSync(host.containers.directory, { recursive: true });
        const socketPath = path.join(host.containers.directory, "runtime.sock");
        fs.rmSync(socketPath, { force: true });
        const server = net.createServer((socket) => serveRuntimeCall(socket, host));
        server.listen(socketPath);
        server.unref();
        entry = { path: socketPath, server, users: 0 };
        runtimeSockets.set(host, entry);
    }
    entry.users += 1;
    return entry.path;
}

function releaseRuntimeSocket(host: NodeHost): void {
    const entry = runtimeSockets.get(host);
    if (entry && --entry.users === 0) {
        entry.server.close();
        runtimeSockets.delete(host);
    }
}

/**
 * The namespace's set-up, run by the host's bash as root before the script:
 * everything the script must not see of the host is covered, the node's
 * directories are bound over the host's, then the script runs.
 * Arguments: NODE_ROOT ETCD_DIRECTORY SCRIPT ARGS...
 */
const setup = `set -euo pipefail
root=$1 etcd_directory=$2
shift 2
mount -t tmpfs -o mode=0755 tmpfs /mnt
mkdir /mnt/usr-bin ${etcdBinaries}
touch /mnt/node /mnt/runtime
mount --bind /usr/bin /mnt/usr-bin
mount --bind "$etcd_directory" ${etcdBinaries}
mount --bind "$ETCD3_LOCAL_NODE_BINARY" /mnt/node
mount --bind "${launcher}" /mnt/runtime
for directory in ${nodeDirectories.join(" ")}; do
    if [[ -d $root$directory ]]; then /mnt/usr-bin/mount --rbind "$root$directory" "$directory"; fi
done
# A new namespace starts with a copy of every mount of the host, other nodes' data volumes among them: detached
# here, or this namespace would keep those volumes busy after their nodes unmount them. This node's own stay: the
# container runtime runs the image's programs here on the host's paths of its volumes (etcdutl on the data volume).
mapfile -t mounts < /proc/self/mountinfo
for mount in "\${mounts[@]}"; do
    read -r _ _ _ _ target _ <<< "$mount"
    if [[ $target == "${workDirPrefix}"* && $target != "$root"/* ]]; then /mnt/usr-bin/umount --lazy "$target" 2> /dev/null || true; fi
done
for directory in ${emptiedDirectories.join(" ")}; do
    /mnt/usr-bin/mount -t tmpfs -o mode=0755 tmpfs "$directory"
done
/mnt/usr-bin/mount -t tmpfs -o mode=0755 tmpfs /usr/bin
for program in ${nodeShellPrograms.join(" ")}; do
    /mnt/usr-bin/touch "/usr/bin/$program"
    /mnt/usr-bin/mount --bind "/mnt/usr-bin/$program" "/usr/bin/$program"
done
for runtime in podman docker; do
    /mnt/usr-bin/touch "/usr/bin/$runtime"
    /mnt/usr-bin/mount --bind /mnt/runtime "/usr/bin/$runtime"
done
export ETCD3_LOCAL_NODE_BINARY=/mnt/node
cd /
exec /usr/bin/bash "$@"
`;

/**
 * What the harness runs and stops: `unshare` in the background, ended as
 * systemd ends a unit's cgroup. On SIGTERM the namespace's first process is
 * killed, which kills every process in the pid namespace, and the kernel lets
 * `unshare` see it gone only once all of them are: so when this exits, the
 * namespace, and its hold on the node's mounts, is gone too. Killed outright
 * (a crash), it takes `unshare` with it (`setpriv --pdeathsig`).
 * Arguments: the unshare command line.
 */
const runner = `setpriv --pdeathsig KILL "$@" &
unshare=$!
trap 'for first in $(cat /proc/$unshare/task/$unshare/children 2>/dev/null); do kill -KILL "$first"; done' TERM INT
while :; do
    wait "$unshare"
    status=$?
    if ! kill -0 "$unshare" 2>/dev/null; then
        exit "$status"
    fi
done
`;

/** `/bin/bash SCRIPT ARGS...` of a unit, run on the test host as the node would run it. */
export function mapNodeShell(args: string[], host: NodeHost, environment: Record<string, string>): LocalCommand {
    const [script, ...scriptArgs] = args;
    if (script === undefined || !script.startsWith("/") || script.startsWith("-")) {
        throw new Error(`bash ${args.join(" ")}: the local harness plays only "bash /path/to/script [args]"`);
    }
    if (!fs.existsSync(path.join(host.root, script))) {
        return {
            kind: "action",
            description: `bash ${args.join(" ")}`,
            run: async () => ({ failure: `/bin/bash: ${script}: No such file or directory`, code: 127 }),
        };
    }
    const command: Extract<LocalCommand, { kind: "process" }> = {
        kind: "process",
        command: "/usr/bin/bash",
        // A pid namespace as well, whose processes all die with it: stopping the unit ends the script's children
        // (command substitutions, the runtime, etcdctl) as systemd's stop of the unit's cgroup does.
        args: ["-c", runner, "node-shell-runner", "/usr/bin/unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--", "/usr/bin/bash", "-c", setup, "node-shell", host.root, path.dirname(host.etcd.path), script, ...scriptArgs],
        env: {
            PATH: servicePath,
            // Before the unit's environment: a proxy the unit sets itself is the one its curl uses, as on the node.
            ...(host.instanceMetadataProxy ? instanceMetadataProxyEnvironment(host.instanceMetadataProxy, host.caBundle) : {}),
            ...environment,
            // For the runtime's client (runtime-shim.cjs), which asks the harness to map each call.
            ETCD3_LOCAL_NODE_BINARY: process.execPath,
            ETCD3_LOCAL_RUNTIME_SHIM: path.join(__dirname, "runtime-shim.cjs"),
        },
        prepare: () => {
            command.env.ETCD3_LOCAL_RUNTIME_SOCKET = acquireRuntimeSocket(host);
        },
        exited: (status) => {
            releaseRuntimeSocket(host);
            return status;
        },
    };
    return command;
}
