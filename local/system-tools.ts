/**
 * The Debian binaries the local cluster is made of, found up front so a
 * missing package is reported with the line that installs it rather than as an
 * ENOENT halfway through a boot.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const setupHint = "or run `sudo bash scripts/setup.sh`, which installs everything the local cluster needs";

interface ToolSpec {
    /** An absolute path, or a bare name looked up on PATH. */
    location: string;
    /** The Debian package that ships it. */
    aptPackage: string;
}

/** Where each tool lives when its Debian (bookworm) package is installed. */
const toolSpecs = {
    /** Real Ignition; Debian ships it only inside its dracut module. */
    ignition: { location: "/usr/lib/dracut/modules.d/30ignition/ignition", aptPackage: "ignition" },
    ignitionValidate: { location: "/usr/bin/ignition-validate", aptPackage: "ignition" },
    discoveryService: { location: "/usr/bin/discovery.etcd.io", aptPackage: "etcd-discovery" },
    haproxy: { location: "/usr/sbin/haproxy", aptPackage: "haproxy" },
    /** Loop devices playing the member slots' EBS volumes (bookworm ships it in `mount`, not `util-linux`). */
    losetup: { location: "/usr/sbin/losetup", aptPackage: "mount" },
} satisfies Record<string, ToolSpec>;

export type ToolName = keyof typeof toolSpecs;

function isExecutable(file: string): boolean {
    try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
    } catch {
        return false;
    }
}

/** The first executable called `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
    for (const directory of (process.env.PATH ?? "").split(path.delimiter)) {
        if (directory !== "" && isExecutable(path.join(directory, name))) {
            return path.join(directory, name);
        }
    }
    return undefined;
}

/** The absolute path of a system tool; throws naming the apt-get line if it is missing. */
export function requireTool(tool: ToolName): string {
    const spec: ToolSpec = toolSpecs[tool];
    if (!isExecutable(spec.location)) {
        throw new Error(`${spec.location} is missing: install it with \`sudo apt-get install ${spec.aptPackage}\` ${setupHint}`);
    }
    return spec.location;
}

/** The host's etcd binary and its version. */
export interface HostEtcd {
    path: string;
    /** e.g. `3.5.30` */
    version: string;
    /** e.g. `3.5` */
    branch: string;
}

/** The oldest etcd branch that serves the v2 API and v2 discovery the cluster relies on. */
const minimumEtcd = { major: 3, minor: 5 };

/**
 * The etcd on PATH that stands in for the one in the container image. Debian
 * bookworm's own etcd is 3.4 (end of life), so setup.sh puts 3.5 in
 * /usr/local/bin.
 */
export function requireHostEtcd(): HostEtcd {
    const found = findOnPath("etcd");
    const install = `install etcd >= ${minimumEtcd.major}.${minimumEtcd.minor} with \`sudo bash scripts/setup.sh\` (it puts Debian unstable's etcd 3.5 in /usr/local/bin)`;
    if (!found) {
        throw new Error(`no etcd on PATH: ${install}`);
    }
    const output = execFileSync(found, ["--version"], { encoding: "utf8", timeout: 10_000 });
    const match = /etcd Version: (\d+)\.(\d+)\.(\d+)/.exec(output);
    if (!match) {
        throw new Error(`${found} --version did not report an etcd version: ${output.trim()}`);
    }
    const [major, minor] = [Number(match[1]), Number(match[2])];
    if (major < minimumEtcd.major || (major === minimumEtcd.major && minor < minimumEtcd.minor)) {
        throw new Error(`${found} is etcd ${match[1]}.${match[2]}.${match[3]}: ${install}`);
    }
    return { path: found, version: `${match[1]}.${match[2]}.${match[3]}`, branch: `${major}.${minor}` };
}
