/**
 * Which local clusters exist on this machine. Every member listens on 2379 and
 * 2380 of its own loopback address, so each cluster gets its own /24 inside
 * 127.0.0.0/8 (`127.0.N.0`), reserved by a state file created exclusively in a
 * machine-wide directory. The same file lists the cluster's processes, which is
 * how `--stop` finds a cluster left running with `--keep`, and how a
 * reservation left by a crashed run is recognised as stale.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { isAlive, ProcessRecord, stopRecordedProcess } from "./processes";

/** Machine-wide, not per checkout: two checkouts still share one loopback range. */
export const registryDirectory = path.join(os.tmpdir(), "etcd3-cluster-local");

/** Subnets tried when none is asked for; 127.0.0.x and Debian's 127.0.1.1 (the host name) are left alone. */
const automaticSubnets = { first: 10, last: 250 };

export interface ClusterState {
    /** N in 127.0.N.0/24. */
    subnet: number;
    /** The process that started the cluster; it may be gone if the cluster was kept. */
    ownerPid: number;
    /** Started with `--keep`: `--stop` stops it. */
    kept: boolean;
    /** Temporary directory with every node root, config and log. */
    workDir: string;
    clusterUrl?: string;
    discoveryUrl?: string;
    processes: ProcessRecord[];
}

function stateFile(subnet: number): string {
    return path.join(registryDirectory, `subnet-${subnet}.json`);
}

export function readState(subnet: number): ClusterState | undefined {
    try {
        return JSON.parse(fs.readFileSync(stateFile(subnet), "utf8")) as ClusterState;
    } catch {
        return undefined;
    }
}

export function writeState(state: ClusterState): void {
    const file = stateFile(state.subnet);
    // Written aside and renamed, so a concurrent reader never sees half a file.
    fs.writeFileSync(`${file}.${process.pid}`, JSON.stringify(state, null, 2));
    fs.renameSync(`${file}.${process.pid}`, file);
}

export function releaseSubnet(subnet: number): void {
    fs.rmSync(stateFile(subnet), { force: true });
}

/** Prefix of every cluster's temporary directory. */
export const workDirPrefix = path.join(os.tmpdir(), "etcd3-local-");

/** Mount points under `directory`, deepest first, from the kernel's own table. */
function mountsUnder(directory: string): string[] {
    let table: string;
    try {
        table = fs.readFileSync("/proc/self/mountinfo", "utf8");
    } catch {
        return [];
    }
    // Field 5 is the mount point, with spaces and the like octal-escaped.
    return table.split("\n").map((line) => line.split(" ")[4]).filter((point): point is string => point !== undefined)
        .map((point) => point.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8))))
        .filter((point) => point.startsWith(`${directory}/`))
        .sort((a, b) => b.length - a.length);
}

/** Loop devices whose backing file is under `directory`. */
export function loopDevicesBackedUnder(directory: string): string[] {
    let names: string[];
    try {
        names = fs.readdirSync("/sys/block").filter((name) => /^loop\d+$/.test(name));
    } catch {
        return [];
    }
    return names.filter((name) => {
        try {
            return fs.readFileSync(`/sys/block/${name}/loop/backing_file`, "utf8").trim().startsWith(`${directory}/`);
        } catch {
            return false;
        }
    }).map((name) => `/dev/${name}`);
}

/**
 * Removes a cluster's temporary directory; refuses any other path, since
 * state files can be edited by hand. File systems mounted under it are
 * unmounted first (lazily: a crashed node's may still be busy) and loop
 * devices backed by files in it are detached, so removing the directory
 * never descends into a mounted volume and never leaves a device behind.
 */
export function removeWorkDir(workDir: string): void {
    if (!workDir.startsWith(workDirPrefix) || workDir.includes("..")) {
        throw new Error(`refusing to remove ${workDir}: not a local cluster's directory (${workDirPrefix}*)`);
    }
    for (const mountPoint of mountsUnder(workDir)) {
        execFileSync("umount", ["-l", mountPoint], { timeout: 30_000, stdio: "ignore" });
    }
    for (const device of loopDevicesBackedUnder(workDir)) {
        execFileSync("losetup", ["-d", device], { timeout: 30_000, stdio: "ignore" });
    }
    if (mountsUnder(workDir).length > 0) {
        throw new Error(`refusing to remove ${workDir}: file systems are still mounted under it`);
    }
    fs.rmSync(workDir, { recursive: true, force: true });
}

/** Every cluster state file on this machine. */
export function listStates(): ClusterState[] {
    let names: string[];
    try {
        names = fs.readdirSync(registryDirectory);
    } catch {
        return [];
    }
    return names
        .map((name) => /^subnet-(\d+)\.json$/.exec(name))
        .filter((match): match is RegExpExecArray => match !== null)
        .map((match) => readState(Number(match[1])))
        .filter((state): state is ClusterState => state !== undefined);
}

function processExists(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** A reservation nobody holds any more: its owner and all its processes are gone. */
export function isStale(state: ClusterState): boolean {
    return !processExists(state.ownerPid) && !state.processes.some(isAlive);
}

/** Resolves to undefined if `address:port` can be listened on, else to the reason it cannot. */
function portProblem(address: string, port: number): Promise<string | undefined> {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.once("error", (error: NodeJS.ErrnoException) => resolve(`${address}:${port} is not free (${error.code})`));
        server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(undefined)));
    });
}

/**
 * Ports this process handed out lately. A port probed free is closed again at
 * once, so the kernel may hand it out to the next probe too, before whoever
 * asked first has bound it (seen in CI: a discovery service's port given again
 * to its store's peer).
 */
const recentlyGivenPorts: number[] = [];

/** A port the kernel considers free on `address` right now, and that this process has not handed out lately. */
export async function freePort(address: string): Promise<number> {
    for (let attempt = 0; ; attempt++) {
        const port = await probeFreePort(address);
        if (!recentlyGivenPorts.includes(port) || attempt >= 20) {
            recentlyGivenPorts.push(port);
            recentlyGivenPorts.splice(0, Math.max(0, recentlyGivenPorts.length - 256));
            return port;
        }
    }
}

function probeFreePort(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen({ host: address, port: 0, exclusive: true }, () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** The first problem with listening on each of `ports` of each of `addresses`, or undefined. */
async function firstPortProblem(addresses: string[], ports: number[]): Promise<string | undefined> {
    for (const address of addresses) {
        for (const port of ports) {
            const problem = await portProblem(address, port);
            if (problem) {
                return problem;
            }
        }
    }
    return undefined;
}

/**
 * Takes the state file for `subnet` if nobody holds it; false if held. A
 * stale reservation is taken over (and its crashed run's directory removed)
 * under a lock directory, because check-then-replace between two claimants
 * would otherwise let both win.
 */
function claim(subnet: number, workDir: string): boolean {
    const initial: ClusterState = { subnet, ownerPid: process.pid, kept: false, workDir, processes: [] };
    try {
        fs.writeFileSync(stateFile(subnet), JSON.stringify(initial, null, 2), { flag: "wx" });
        return true;
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
            throw error;
        }
    }
    const lock = `${stateFile(subnet)}.lock`;
    try {
        fs.mkdirSync(lock);
    } catch {
        return false;
    }
    try {
        // Missing (just released) or unreadable (being written) counts as held: the next subnet will do.
        const existing = readState(subnet);
        if (!existing || !isStale(existing)) {
            return false;
        }
        removeWorkDir(existing.workDir);
        writeState(initial);
        return true;
    } finally {
        fs.rmdirSync(lock);
    }
}

export interface SubnetRequest {
    /** Use exactly 127.0.N.0/24; default: the first free one from 127.0.10.0. */
    subnet?: number;
    /** Addresses inside the subnet whose `ports` must be free, as host-order last octets. */
    hosts: number[];
    ports: number[];
    workDir: string;
}

/**
 * Reserves a loopback /24 whose member addresses have the member ports free,
 * recording `workDir` in its state file. Throws if an asked-for subnet is
 * taken, or if none is free.
 */
export async function reserveSubnet(request: SubnetRequest): Promise<number> {
    fs.mkdirSync(registryDirectory, { recursive: true });
    const candidates = request.subnet !== undefined
        ? [request.subnet]
        : Array.from({ length: automaticSubnets.last - automaticSubnets.first + 1 }, (_, i) => automaticSubnets.first + i);
    let lastProblem = "every subnet is reserved by another local cluster";
    for (const subnet of candidates) {
        if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) {
            throw new Error(`loopback subnet ${subnet} is not an octet`);
        }
        if (!claim(subnet, request.workDir)) {
            lastProblem = `127.0.${subnet}.0/24 is reserved by another local cluster (${stateFile(subnet)})`;
            continue;
        }
        const problem = await firstPortProblem(request.hosts.map((host) => `127.0.${subnet}.${host}`), request.ports);
        if (problem === undefined) {
            return subnet;
        }
        releaseSubnet(subnet);
        lastProblem = problem;
    }
    throw new Error(`no loopback subnet for a local cluster: ${lastProblem}`);
}

/**
 * Stops the clusters no live process looks after: those started with
 * `--keep` and those whose owner died. Their processes get SIGTERM, a bounded
 * wait and SIGKILL; their files and reservations are removed. Returns what was
 * stopped, one line per cluster.
 */
export async function stopOrphanedClusters(graceMs: number): Promise<string[]> {
    const orphaned = listStates().filter((state) => state.kept || !processExists(state.ownerPid));
    const stopped: string[] = [];
    for (const state of orphaned) {
        await Promise.all(state.processes.map((record) => stopRecordedProcess(record, graceMs)));
        removeWorkDir(state.workDir);
        releaseSubnet(state.subnet);
        stopped.push(`127.0.${state.subnet}.0/24 ${state.clusterUrl ?? "(never became ready)"}: stopped ${state.processes.length} processes, removed ${state.workDir}`);
    }
    return stopped;
}
