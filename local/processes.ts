/**
 * Child processes of the local cluster (etcd members, the discovery service
 * and its store, haproxy): started with their output in a log file, watched
 * for an early exit, and stopped with SIGTERM, a bounded wait, then SIGKILL.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import { setTimeout as sleep } from "timers/promises";

/** What a process was started as; enough to find and stop it from another process (`--stop`). */
export interface ProcessRecord {
    /** Human name for logs, e.g. `etcd-1` or `haproxy`. */
    name: string;
    pid: number;
    /** The executable, checked against `/proc/<pid>/cmdline` so a reused pid is never killed. */
    command: string;
}

export interface ProcessSpec {
    name: string;
    command: string;
    args: string[];
    /** Stdout and stderr are appended here, so the output outlives the parent (`--keep`) and can be quoted on failure. */
    logFile: string;
    /** Default: this process's environment. */
    env?: NodeJS.ProcessEnv;
    /** Working directory; default this process's. */
    cwd?: string;
    /**
     * Own process group: a Ctrl-C in the terminal then reaches only the parent,
     * which is what `--keep` needs. Without it, an interrupted test run takes
     * its children down with it.
     */
    detached?: boolean;
}

export interface ExitStatus {
    code: number | null;
    signal: NodeJS.Signals | null;
    /** Set when the process could not be started at all (e.g. ENOENT). */
    error?: Error;
}

/** How long a stopped process gets to exit after SIGTERM: a leader whose peers are gone can take over 5 s. */
export const defaultStopGraceMs = 10_000;

/** A running (or finished) child process. */
export class ManagedProcess implements ProcessRecord {
    readonly name: string;
    readonly pid: number;
    readonly command: string;
    readonly logFile: string;
    /** Resolves once the process has exited, however that happened. */
    readonly exited: Promise<ExitStatus>;
    private exitStatus: ExitStatus | undefined;

    constructor(spec: ProcessSpec) {
        this.name = spec.name;
        this.command = spec.command;
        this.logFile = spec.logFile;
        const output = fs.openSync(spec.logFile, "a");
        const child = spawn(spec.command, spec.args, {
            env: spec.env ?? process.env,
            cwd: spec.cwd,
            stdio: ["ignore", output, output],
            detached: spec.detached ?? false,
        });
        fs.closeSync(output);
        this.exited = new Promise((resolve) => {
            child.once("error", (error) => resolve({ code: null, signal: null, error }));
            child.once("exit", (code, signal) => resolve({ code, signal }));
        });
        void this.exited.then((status) => (this.exitStatus = status));
        if (spec.detached) {
            child.unref();
        }
        // No pid means the spawn failed; the "error" event then settles `exited`.
        this.pid = child.pid ?? 0;
    }

    get running(): boolean {
        return this.exitStatus === undefined;
    }

    /** The exit, described with the end of the process's output; undefined while it runs. */
    exitReport(): string | undefined {
        const status = this.exitStatus;
        if (!status) {
            return undefined;
        }
        const how = status.error
            ? `could not be started: ${status.error.message}`
            : status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
        return `${this.name} (${this.command}) ${how}\n${indent(tailOfFile(this.logFile))}`;
    }

    /** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves once the process is gone. */
    async stop(graceMs = defaultStopGraceMs): Promise<void> {
        if (!this.running) {
            return;
        }
        signal(this.pid, "SIGTERM");
        const timer = delay(graceMs);
        const outcome = await Promise.race([this.exited.then(() => "exited"), timer.promise]);
        timer.cancel();
        if (outcome !== "exited") {
            signal(this.pid, "SIGKILL");
            await this.exited;
        }
    }

    /** SIGKILL at once; resolves once the process is gone. */
    async kill(): Promise<void> {
        if (this.running) {
            signal(this.pid, "SIGKILL");
            await this.exited;
        }
    }

    record(): ProcessRecord {
        return { name: this.name, pid: this.pid, command: this.command };
    }
}

export function startProcess(spec: ProcessSpec): ManagedProcess {
    return new ManagedProcess(spec);
}

/** The last lines of a log file, or a note that there is none. */
export function tailOfFile(file: string, lines = 25): string {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        return "(no output)";
    }
    const kept = text.trimEnd().split("\n").slice(-lines).join("\n");
    return kept === "" ? "(no output)" : kept;
}

function indent(text: string): string {
    return text.replace(/^/gm, "    ");
}

function signal(pid: number, name: NodeJS.Signals): void {
    // kill(0) and kill(-1) would signal whole process groups, never one child.
    if (pid <= 0) {
        return;
    }
    try {
        process.kill(pid, name);
    } catch (error) {
        // Already gone between the check and the signal.
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") {
            throw error;
        }
    }
}

/**
 * Kills every process whose command line names `marker` (a cluster's own
 * directory, which each of its processes is started with) and that `stopAll`
 * did not end, and waits until they are gone. A safety net for teardown that
 * reports what it caught: each is a start the harness failed to track.
 */
export async function killStrays(marker: string, timeoutMs = 5_000): Promise<string[]> {
    const strays = fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid).flatMap((pid) => {
        const commandLine = rawCommandLine(Number(pid))?.replace(/\0/g, " ").trim();
        return commandLine?.includes(marker) ? [{ pid: Number(pid), commandLine }] : [];
    });
    strays.forEach((stray) => signal(stray.pid, "SIGKILL"));
    const deadline = Date.now() + timeoutMs;
    // A zombie's command line is empty: it has exited already.
    while (strays.some((stray) => (rawCommandLine(stray.pid) ?? "") !== "") && Date.now() < deadline) {
        await sleep(20);
    }
    return strays.map((stray) => `${stray.pid} ${stray.commandLine}`);
}

/** `/proc/<pid>/cmdline` (arguments NUL-separated), or undefined once the process is gone. */
function rawCommandLine(pid: number): string | undefined {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
        return undefined;
    }
}

/** True if `record` still names a live process running the same executable (not a reused pid). */
export function isAlive(record: ProcessRecord): boolean {
    // A zombie has an empty command line: it has exited already.
    return rawCommandLine(record.pid)?.split("\0")[0] === record.command;
}

/**
 * Stops a process this process did not start (found in a state file):
 * SIGTERM, poll until gone for up to `graceMs`, then SIGKILL.
 */
export async function stopRecordedProcess(record: ProcessRecord, graceMs = defaultStopGraceMs): Promise<void> {
    if (!isAlive(record)) {
        return;
    }
    signal(record.pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (isAlive(record) && Date.now() < deadline) {
        await sleep(100);
    }
    if (isAlive(record)) {
        signal(record.pid, "SIGKILL");
        while (isAlive(record)) {
            await sleep(50);
        }
    }
}

/** A cancellable sleep, so a race against it leaves no timer keeping the event loop alive. */
function delay(ms: number): { promise: Promise<"timeout">; cancel: () => void } {
    let timer: NodeJS.Timeout | undefined;
    const promise = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), ms);
    });
    return { promise, cancel: () => clearTimeout(timer) };
}

export interface WaitOptions {
    /** What is awaited, for the timeout message, e.g. `etcd-1 healthy`. */
    description: string;
    timeoutMs: number;
    intervalMs?: number;
    /** Checked before each poll; a returned reason ends the wait at once with that reason (e.g. the process exited). */
    failFast?: () => string | undefined;
}

/**
 * `operation`, or a rejection naming `what` once `deadline` (epoch ms) passes
 * first. The operation itself goes on: whoever started it stops it (a
 * cluster's teardown stops every process and unit).
 */
export async function within<T>(deadline: number, what: string, operation: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_, reject) => {
        const ms = Math.max(0, deadline - Date.now());
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    });
    try {
        return await Promise.race([operation, expiry]);
    } finally {
        clearTimeout(timer);
    }
}

/** Polls `check` until it returns true, failing fast or after a bounded time. */
export async function waitUntil(check: () => Promise<boolean>, options: WaitOptions): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
        const reason = options.failFast?.();
        if (reason !== undefined) {
            throw new Error(`gave up waiting for ${options.description}: ${reason}`);
        }
        if (await check()) {
            return;
        }
        if (Date.now() >= deadline) {
            throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.description}`);
        }
        await sleep(options.intervalMs ?? 100);
    }
}

/**
 * Every process one cluster started, so that whatever happened (a failed
 * start, a test that threw) one call stops them all.
 */
export class ProcessGroup {
    private readonly members: ManagedProcess[] = [];

    constructor(private readonly detached = false) {}

    start(spec: Omit<ProcessSpec, "detached">): ManagedProcess {
        const started = startProcess({ ...spec, detached: this.detached });
        this.members.push(started);
        return started;
    }

    /** The exit report of the first of `processes` that has exited, or undefined while all run. */
    static firstExit(processes: ManagedProcess[]): string | undefined {
        return processes.map((member) => member.exitReport()).find((report) => report !== undefined);
    }

    records(): ProcessRecord[] {
        return this.runningMembers().map((member) => member.record());
    }

    /**
     * Stops all at once: one by one, each etcd leader left alone would spend
     * seconds trying to hand over leadership. A process started while the
     * others stop (a unit's start that was already past its last check) is
     * stopped in the next round, so none outlives the call.
     */
    async stopAll(graceMs = defaultStopGraceMs): Promise<void> {
        for (let running = this.runningMembers(); running.length > 0; running = this.runningMembers()) {
            await Promise.all(running.map((member) => member.stop(graceMs)));
        }
    }

    private runningMembers(): ManagedProcess[] {
        return this.members.filter((member) => member.running);
    }
}
