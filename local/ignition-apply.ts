/**
 * Applies a node's user data with the real Ignition binary, into a directory
 * that plays the node's root filesystem. On EC2 Ignition runs in the
 * initramfs with `-platform aws` and fetches the same bytes from the instance
 * metadata service; `-platform file` reads them from IGNITION_CONFIG_FILE.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { requireTool } from "./system-tools";

const run = promisify(execFile);

/** Time allowed for each Ignition invocation; they take milliseconds. */
const ignitionTimeoutMs = 60_000;

interface CommandFailure extends Error {
    code?: number | string;
    stdout?: string;
    stderr?: string;
}

function outputOf(error: CommandFailure): string {
    return [error.stdout, error.stderr].filter((text) => text && text.trim() !== "").join("\n").trim() || error.message;
}

/** Runs `ignition-validate` on a user data file; throws with its verdict if it rejects the file. Aborting `signal` kills it. */
export async function validateUserData(userDataFile: string, signal?: AbortSignal): Promise<void> {
    try {
        await run(requireTool("ignitionValidate"), [userDataFile], { timeout: ignitionTimeoutMs, signal });
    } catch (error) {
        throw new Error(`ignition-validate rejected ${userDataFile}:\n${outputOf(error as CommandFailure)}`);
    }
}

/**
 * What the files stage needs from a root besides the config: it relabels what
 * it wrote for SELinux, so it reads the policy type from `/etc/selinux/config`
 * (as on Fedora CoreOS) and runs `setfiles`, which here is a no-op script put
 * first on PATH for Ignition only.
 */
function prepareRoot(root: string, toolsDir: string): void {
    fs.mkdirSync(path.join(root, "etc", "selinux"), { recursive: true });
    fs.writeFileSync(path.join(root, "etc", "selinux", "config"), "SELINUX=enforcing\nSELINUXTYPE=targeted\n");
    fs.mkdirSync(toolsDir, { recursive: true });
    fs.writeFileSync(path.join(toolsDir, "setfiles"), "#!/bin/sh\n# No SELinux on the test host: nothing to relabel.\nexit 0\n", { mode: 0o755 });
}

export interface IgnitionApplyOptions {
    /** The user data, exactly as EC2 would hand it to the instance. */
    userDataFile: string;
    /** The node's own directory: its root, Ignition's cache, state and log go in here. */
    nodeDir: string;
    /** Aborting it kills a running Ignition stage. */
    signal?: AbortSignal;
}

/**
 * Runs Ignition's fetch and files stages on the user data and returns the
 * node root they wrote into (units in `<root>/etc/systemd/system`, presets in
 * `<root>/etc/systemd/system-preset`, directories such as `/var/lib/etcd`).
 * Throws with Ignition's log if a stage fails. Ignition's log is also kept in
 * `<nodeDir>/ignition.log`.
 */
export async function applyIgnition(options: IgnitionApplyOptions): Promise<string> {
    const ignition = requireTool("ignition");
    const root = path.join(options.nodeDir, "root");
    const toolsDir = path.join(options.nodeDir, "ignition-tools");
    const logFile = path.join(options.nodeDir, "ignition.log");
    prepareRoot(root, toolsDir);
    const env = {
        ...process.env,
        PATH: `${toolsDir}${path.delimiter}${process.env.PATH ?? ""}`,
        IGNITION_CONFIG_FILE: options.userDataFile,
    };
    const privatePaths = [
        "-config-cache", path.join(options.nodeDir, "ignition-config-cache.json"),
        "-state-file", path.join(options.nodeDir, "ignition-state.json"),
        "-neednet", path.join(options.nodeDir, "ignition-neednet"),
    ];
    for (const stage of ["fetch", "files"]) {
        try {
            const { stdout, stderr } = await run(
                ignition,
                ["-platform", "file", "-stage", stage, "-root", root, "-log-to-stdout", ...privatePaths],
                { env, timeout: ignitionTimeoutMs, signal: options.signal },
            );
            fs.appendFileSync(logFile, stdout + stderr);
        } catch (error) {
            const output = outputOf(error as CommandFailure);
            fs.appendFileSync(logFile, output);
            throw new Error(`Ignition's ${stage} stage failed for ${options.userDataFile}:\n${output}`);
        }
    }
    return root;
}
