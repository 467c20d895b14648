/**
 * A node root for the harness's own tests: units written as Ignition would
 * write them, a played systemd to boot it, loop devices for its volumes, and
 * teardown that leaves no process, mount, device or directory behind.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { removeWorkDir, workDirPrefix } from "../../local/cluster-registry";
import { ContainerStore } from "../../local/container-runtime";
import { DeviceTable, NodeHost } from "../../local/host-commands";
import { ProcessGroup } from "../../local/processes";
import { requireHostEtcd } from "../../local/system-tools";
import { NodeSystemd, PlayedUnit } from "../../local/systemd";

export class TestNode {
    /** Under the local cluster's prefix, so removeWorkDir unmounts and detaches what is inside. */
    readonly directory = fs.mkdtempSync(workDirPrefix);
    readonly root = path.join(this.directory, "root");
    readonly processes = new ProcessGroup();
    readonly devices = new DeviceTable();
    readonly containers = new ContainerStore(path.join(this.directory, "containers"));
    readonly host: NodeHost;
    readonly lines: string[] = [];
    private readonly boots: NodeSystemd[] = [];

    constructor(address = "127.0.9.1") {
        for (const directory of ["etc/systemd/system", "etc/systemd/system-preset", "var/lib/etcd"]) {
            fs.mkdirSync(path.join(this.root, directory), { recursive: true });
        }
        this.host = { root: this.root, address, etcd: requireHostEtcd(), containers: this.containers, devices: this.devices };
    }

    /** Writes a unit (and enables it when `enable`, as Ignition's `enabled: true` does through a preset). */
    unit(name: string, lines: string[], enable = false): this {
        fs.writeFileSync(path.join(this.root, "etc/systemd/system", name), `${lines.join("\n")}\n`);
        if (enable) {
            fs.appendFileSync(path.join(this.root, "etc/systemd/system-preset/20-ignition.preset"), `enable ${name}\n`);
        }
        return this;
    }

    /** Writes a drop-in for a unit, as Ignition's `dropins` do. */
    dropIn(unitName: string, dropInName: string, lines: string[]): this {
        const directory = path.join(this.root, "etc/systemd/system", `${unitName}.d`);
        fs.mkdirSync(directory, { recursive: true });
        fs.writeFileSync(path.join(directory, dropInName), `${lines.join("\n")}\n`);
        return this;
    }

    /** A new boot of the node (the previous one must have been shut down). */
    systemd(playedUnits: PlayedUnit[] = []): NodeSystemd {
        const systemd = new NodeSystemd({
            node: "test-node",
            host: this.host,
            logDirectory: path.join(this.directory, "logs"),
            playedUnits,
            processes: this.processes,
            log: (line) => this.lines.push(line),
        });
        this.boots.push(systemd);
        return systemd;
    }

    /** A sparse file of `megabytes` attached to a loop device; removed with the node. */
    loopDevice(megabytes = 32): string {
        const image = path.join(this.directory, `volume-${fs.readdirSync(this.directory).length}.img`);
        fs.writeFileSync(image, "");
        fs.truncateSync(image, megabytes * 1024 * 1024);
        return execFileSync("losetup", ["--find", "--show", image], { encoding: "utf8", timeout: 10_000 }).trim();
    }

    /** Stops everything: no restart, every process killed, mounts unmounted, devices detached, files removed. */
    async remove(): Promise<void> {
        this.boots.forEach((boot) => boot.halt());
        await this.processes.stopAll(2000);
        removeWorkDir(this.directory);
    }
}

/** A fresh TestNode for each test of the suite, removed after it (even when it fails); the accessor gives the current one. */
export function useTestNode(): () => TestNode {
    let node: TestNode | undefined;
    beforeEach(() => {
        node = new TestNode();
    });
    afterEach(async function () {
        this.timeout(20_000);
        await node?.remove();
    });
    return () => node!;
}

/** The state of a mount point on the host, from the kernel's table. */
export function isMountPoint(directory: string): boolean {
    return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((line) => line.split(" ")[4] === directory);
}

/** The UUID of the file system on a device, or undefined if it carries none. */
export function fileSystemUuid(device: string): string | undefined {
    try {
        return execFileSync("blkid", ["-p", "-s", "UUID", "-o", "value", device], { encoding: "utf8", timeout: 10_000 }).trim() || undefined;
    } catch {
        return undefined;
    }
}

/** Polls `check` every 20 ms until it holds, for at most `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}

/**
 * A nodes' clock (`LocalClusterOptions.clock`) that reads `atNodeMs`
 * `afterSeconds` after it is first read (the first node's boot), and runs on
 * in real time: a timer's calendar time comes round in seconds, however long
 * after the suite was declared the cluster starts.
 */
export function nodeClockReaching(atNodeMs: number, afterSeconds: number): () => number {
    let offsetMs: number | undefined;
    return () => {
        offsetMs ??= atNodeMs - (Date.now() + afterSeconds * 1000);
        return Date.now() + offsetMs;
    };
}
