/**
 * One boot of a node, played as systemd plays it, for every unit kind the
 * component's user data uses, in one place: a new feature's unit runs locally
 * without harness code of its own unless it brings a kind not played here.
 *
 * - What starts: the boot target (`multi-user.target`) and, transitively,
 *   everything it `Requires=`/`Wants=`, where units Ignition enabled are wanted
 *   through their `[Install]` section (presets, `.wants/` links), services get
 *   systemd's default dependencies (after `basic.target`, so after every local
 *   mount), mounts are ordered after their parent mounts and device, and
 *   `RequiresMountsFor=` pulls in the mount units of a path.
 * - In what order: `After=`/`Before=` only. Two units that depend on each other
 *   without an ordering are started the way that hurts: the dependent first,
 *   its dependency once the dependent's start has run. Jobs without ordering
 *   run concurrently, as systemd's do. An ordering cycle fails the boot.
 * - Failure: a unit ordered after a required unit that failed fails with
 *   "dependency"; a required unit that is missing or masked fails its
 *   dependents; a failed `local-fs.target` drops the node to emergency mode.
 * - Services (`Type=simple|exec|oneshot`): `ExecStartPre=`, `ExecStart=`,
 *   `ExecStartPost=`, `ExecStop=` (also after the main process ends by itself),
 *   `ExecStopPost=`, `RemainAfterExit=`, conditions, environment loaded at each
 *   start, `Restart=` with `RestartSec=`, and the start rate limit
 *   (`StartLimitIntervalSec=` 10 s and `StartLimitBurst=` 5 by default).
 * - `SuccessAction=none|poweroff`: a unit that goes from up to inactive
 *   rather than failed (its main process exits cleanly, a oneshot without
 *   `RemainAfterExit=` has run, it is stopped outside a shutdown) powers the
 *   node off: the clean shutdown, then `onPowerOff`. As in systemd (unit.c's
 *   unit_notify), that holds even for a clean exit `Restart=always` would
 *   restart: the unit passes through inactive first, and the power-off wins.
 *   A unit stopped by a shutdown does not: systemd skips the action while a
 *   shutdown is under way ("Shutdown is already active"), so an update
 *   reboot stays a reboot.
 * - Mounts: `What=`/`Where=`/`Type=`/`Options=` mounted for real on the node
 *   root, the device waited for (90 s, systemd's default) through the node's
 *   device table; `x-systemd.*` options are ignored as systemd ignores them in
 *   a unit file.
 * - Timers: `OnCalendar=` every day (`*-*-* HH:MM[:SS]`, the hour and
 *   minute also `*` or `start/step`, optionally ` UTC`; the nodes run in
 *   UTC), computed from the node's clock; at each
 *   elapse a start job for `Unit=` (default: the timer's own name with
 *   `.service`), as `systemctl start` makes, which does nothing while that
 *   unit is still up. `Persistent=` only false, `RandomizedDelaySec=` only 0;
 *   `AccuracySec=` is accepted, as firing at the exact time is within it.
 * - Later starts (`startUnit`, a timer's elapse) are transactions like the
 *   boot's: the unit and what it requires or wants that is not up yet, in the
 *   same order and with the same failures.
 *
 * Settings and unit kinds not in these lists are refused with their name
 * rather than ignored.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as pathPosix from "path/posix";
import { promisify } from "util";
import { ActionOutcome, LocalCommand } from "./container-runtime";
import { daemonUnitsOf, hostPathOnNode, mapHostCommand, NodeHost } from "./host-commands";
import { ExitStatus, ManagedProcess, ProcessGroup, tailOfFile } from "./processes";
import {
    CalendarTime, calendarFieldMatches, loadUnitFile, parseBoolean, parseCalendar, parseCommand, parseTimespan, pathUnitName, splitWords, UnitFile,
    unitEnvironment, unitNames, unitPath, unitValue, unitValues,
} from "./systemd-unit";

const run = promisify(execFile);

export type ActiveState = "inactive" | "activating" | "active" | "deactivating" | "failed";

/** A unit's state, in `systemctl show` terms. */
export interface UnitStatus {
    name: string;
    activeState: ActiveState;
    /** `dead`, `start-pre`, `running`, `exited`, `auto-restart`, `mounted`, `waiting`, `failed`, ... */
    subState: string;
    /** `success`, `exit-code`, `signal`, `timeout`, `resources`, `dependency`, `start-limit-hit`, ... */
    result: string;
    /** Automatic restarts so far (`NRestarts`). */
    restarts: number;
    /** The main process while it runs. */
    mainPid?: number;
    /** Why the unit last failed, with the end of its output. */
    failure?: string;
}

/** A unit the test host plays in place of one the OS ships (the metadata unit, a runtime's daemon). */
export interface PlayedUnit {
    name: string;
    /** What the unit does when it starts, as a oneshot that remains active; nothing for a daemon. */
    start?: () => void | Promise<void>;
    /** The environment file its start writes, to explain a unit that reads it too early. */
    writes?: string;
    after?: string[];
    wants?: string[];
}

export interface NodeSystemdOptions {
    /** The node's name, for process names and log lines. */
    node: string;
    host: NodeHost;
    /** Where the journal and each unit's output go. */
    logDirectory: string;
    playedUnits: PlayedUnit[];
    processes: ProcessGroup;
    log?: (line: string) => void;
    /**
     * Caps a unit's `TimeoutStopSec=` (systemd's default 90 s) so a stop stays
     * within a test's bounds. Default 30 s.
     */
    stopTimeoutCapMs?: number;
    /** Called once the node has powered itself off (`SuccessAction=poweroff`) and every unit has stopped. */
    onPowerOff?: () => void;
    /** The node's wall clock in ms since the epoch, which timers' calendar times are computed from. Default `Date.now`. */
    clock?: () => number;
}

/** A timer, in `systemctl list-timers` terms. */
export interface TimerStatus {
    name: string;
    /** The unit its elapse starts. */
    unit: string;
    /** When it next elapses (by the node's clock, ms since the epoch); undefined while it is not waiting. */
    nextElapseMs: number | undefined;
    /** When it last elapsed, by the node's clock. */
    lastTriggerMs?: number;
}

/** How a start job ended, as `systemctl start` reports it. */
export type JobOutcome = "done" | "failed" | "skipped";

/** Settings the harness plays, per section; any other is refused. Conditions are listed in `conditions`. */
const playedSettings: Record<string, ReadonlySet<string>> = {
    Unit: new Set([
        "Description", "Documentation", "Requires", "Wants", "BindsTo", "After", "Before", "RequiresMountsFor",
        "DefaultDependencies", "StartLimitIntervalSec", "StartLimitBurst", "SuccessAction",
    ]),
    Service: new Set([
        "Type", "ExecStartPre", "ExecStart", "ExecStartPost", "ExecStop", "ExecStopPost", "Environment", "EnvironmentFile",
        "Restart", "RestartSec", "RemainAfterExit", "TimeoutStartSec", "TimeoutStopSec", "TimeoutSec",
        // systemd still reads the rate limit here too, as it once lived in [Service].
        "StartLimitIntervalSec", "StartLimitBurst",
    ]),
    Mount: new Set(["What", "Where", "Type", "Options", "DirectoryMode", "TimeoutSec"]),
    Timer: new Set(["OnCalendar", "Persistent", "AccuracySec", "RandomizedDelaySec", "Unit"]),
    Install: new Set(["WantedBy", "RequiredBy", "Also"]),
};

/** The settings played in a section, for the message that refuses another. */
function playedSettingsIn(section: string): string {
    const played = [...playedSettings[section]];
    if (section === "Unit") {
        played.push(...Object.keys(conditions).map((condition) => `Condition${condition}/Assert${condition}`));
    }
    return played.map((key) => `${key}=`).join(", ");
}

/**
 * A `.timer` unit's `[Timer]` section as played: daily `OnCalendar=` times
 * and the unit they start. Throws, naming the setting, on a value not played.
 */
function readTimer(name: string, file: UnitFile): TimerSettings {
    const calendar = unitValues(file, "Timer", "OnCalendar").map(parseCalendar);
    if (calendar.length === 0) {
        throw new Error("no OnCalendar=, the only trigger the local harness plays; systemd refuses a timer without one (\"Timer unit lacks value setting\")");
    }
    const persistent = unitValue(file, "Timer", "Persistent");
    if (persistent !== undefined && parseBoolean(persistent, "Persistent")) {
        throw new Error(`Persistent=${persistent} is not played by the local harness (it plays only Persistent=false): it needs each timer's last ` +
            "trigger kept across reboots (systemd keeps it under /var/lib/systemd/timers), a state the harness does not keep");
    }
    const randomizedDelay = unitValue(file, "Timer", "RandomizedDelaySec");
    if (randomizedDelay !== undefined && parseTimespan(randomizedDelay, "RandomizedDelaySec") !== 0) {
        throw new Error(`RandomizedDelaySec=${randomizedDelay} is not played by the local harness (it plays only 0: it fires at the calendar time)`);
    }
    const accuracy = unitValue(file, "Timer", "AccuracySec");
    if (accuracy !== undefined) {
        // Only checked: systemd may elapse up to AccuracySec= late, and the exact calendar time the harness fires at is within it.
        parseTimespan(accuracy, "AccuracySec");
    }
    return { unit: unitValue(file, "Timer", "Unit") ?? name.replace(/\.timer$/, ".service"), calendar };
}

/** The `SuccessAction=` values played; systemd's others (reboots, exits, the forced and immediate kinds) are refused. */
const playedSuccessActions = ["none", "poweroff"];

/** The conditions (and asserts) played: each tests a path on the node. */
const conditions: Record<string, (file: string | undefined) => boolean> = {
    PathExists: (file) => file !== undefined && fs.existsSync(file),
    PathIsDirectory: (file) => file !== undefined && isDirectory(file),
    DirectoryNotEmpty: (file) => file !== undefined && isDirectory(file) && fs.readdirSync(file).length > 0,
    FileNotEmpty: (file) => {
        try {
            return file !== undefined && fs.statSync(file).isFile() && fs.statSync(file).size > 0;
        } catch {
            return false;
        }
    },
};

function isDirectory(file: string): boolean {
    try {
        return fs.statSync(file).isDirectory();
    } catch {
        return false;
    }
}

/** The boot target of Fedora CoreOS and Flatcar (`default.target` is an alias of it). */
export const bootTarget = "multi-user.target";

/** systemd's standard targets, with the dependencies their unit files carry. */
const standardTargets: Record<string, { requires?: string[]; wants?: string[]; after?: string[] }> = {
    "multi-user.target": { requires: ["basic.target"], after: ["basic.target"] },
    "basic.target": {
        requires: ["sysinit.target"],
        wants: ["sockets.target", "timers.target", "paths.target", "slices.target"],
        after: ["sysinit.target", "sockets.target", "paths.target", "slices.target"],
    },
    "sysinit.target": { wants: ["local-fs.target", "swap.target"], after: ["local-fs.target", "swap.target"] },
    "local-fs.target": { after: ["local-fs-pre.target"] },
    "local-fs-pre.target": {},
    "swap.target": {},
    "sockets.target": {},
    "timers.target": {},
    "paths.target": {},
    "slices.target": {},
    "network-pre.target": {},
    "network.target": { after: ["network-pre.target"] },
    // Reached on every networked host, the test host included.
    "network-online.target": { after: ["network.target"] },
    "remote-fs-pre.target": {},
    "remote-fs.target": { after: ["remote-fs-pre.target"] },
    "time-sync.target": {},
    "nss-lookup.target": {},
    "umount.target": {},
    "shutdown.target": {},
};

/** systemd's defaults. */
const defaults = {
    startLimitIntervalMs: 10_000,
    startLimitBurst: 5,
    restartMs: 100,
    timeoutMs: 90_000,
    deviceTimeoutMs: 90_000,
};

/** Why no process starts once the harness halted a node (teardown is stopping its processes). */
const haltedFailure = "not started: the node is halted";

/** Unit kinds that exist in systemd but are not played here yet. */
const unplayedKinds = ["socket", "path", "automount", "swap", "slice", "scope"];

/** Signals whose ending counts as a clean exit of a service's main process. */
const cleanSignals = new Set(["SIGHUP", "SIGINT", "SIGTERM", "SIGPIPE"]);

type UnitKind = "service" | "mount" | "target" | "timer" | "device" | "played";

/** A timer unit's `[Timer]` section, as played. */
interface TimerSettings {
    /** The unit each elapse starts. */
    unit: string;
    /** The times of day it elapses at, in UTC. */
    calendar: CalendarTime[];
}

/** A unit as loaded for this boot, with every dependency it has, explicit and implicit. */
interface LoadedUnit {
    name: string;
    kind: UnitKind;
    file?: UnitFile;
    played?: PlayedUnit;
    /** Why it cannot be started at all (not found, masked, not played). */
    unloadable?: string;
    /**
     * The unit exists but the harness does not play something in it: it fails
     * loudly even when only wanted, where a unit systemd cannot find is just
     * left out.
     */
    unplayed?: boolean;
    requires: Set<string>;
    wants: Set<string>;
    after: Set<string>;
    before: Set<string>;
    /** For device units: the node path. */
    devicePath?: string;
    timer?: TimerSettings;
}

interface UnitRuntime {
    activeState: ActiveState;
    subState: string;
    result: string;
    restarts: number;
    /** Start times (epoch ms) counted by the start rate limit. */
    starts: number[];
    main?: ManagedProcess;
    /** The main command, for its exit translation. */
    mainCommand?: Extract<LocalCommand, { kind: "process" }>;
    /** A start to come: a service's restart after `RestartSec=`, a timer's next elapse. */
    pendingStart?: NodeJS.Timeout;
    /** A waiting timer's next elapse (node clock, epoch ms). */
    nextElapseMs?: number;
    /** A timer's last elapse (node clock, epoch ms). */
    lastTriggerMs?: number;
    /** A stop was asked for: the main process's end is not a failure to act on. */
    stopping: boolean;
    /** The last start got as far as the main process (so ExecStop= runs when it ends). */
    started: boolean;
    failure?: string;
    /** Host path this mount unit mounted. */
    mountedAt?: string;
    /** Settles when the unit's current stop or end has been handled. */
    settled?: Promise<void>;
}

/** What a command line ended with. */
interface CommandResult {
    ok: boolean;
    result: string;
    description: string;
}

export class NodeSystemd {
    /** Every line the node's systemd would log, oldest first. */
    readonly journal: string[] = [];
    private readonly units = new Map<string, LoadedUnit>();
    private readonly runtime = new Map<string, UnitRuntime>();
    /** Every unit's latest start job this boot, the boot's and later ones'. */
    private readonly jobs = new Map<string, JobOutcome | "running" | "waiting">();
    /** The jobs each job waits for; kept after they end, for the stop order. */
    private orderedAfter = new Map<string, Set<string>>();
    /** Transactions waiting for their jobs to end. */
    private readonly waiters = new Set<{ names: string[]; resolve: () => void }>();
    private bootJobs: ReadonlySet<string> = new Set();
    private bootOver = false;
    private readonly mountUnits = new Map<string, string>();
    private readonly enabledWants = new Map<string, Set<string>>();
    private readonly enabledRequires = new Map<string, Set<string>>();
    /** Daemon units (docker.service) of programs the node's units run: the stand-in plays them. */
    private readonly usedDaemons = new Set<string>();
    private readonly root: string;
    /** Nothing more is scheduled: halted, crashed or shutting down. */
    private halted = false;
    /**
     * No process starts any more: the harness halted the node (teardown stops
     * the processes itself) or it lost power. A clean shutdown still runs `ExecStop=`.
     */
    private processesEnded = false;
    private emergency: string | undefined;
    private transaction: Promise<void> | undefined;
    /** The one clean shutdown of this boot, once begun. */
    private cleanShutdown: Promise<void> | undefined;
    /** Failures since boot, in order: the start fails fast on the first ones. */
    private readonly failures: string[] = [];
    /** Control processes (ExecStartPre=, a oneshot's ExecStart=, …) running now. */
    private readonly controls = new Set<ManagedProcess>();

    constructor(private readonly options: NodeSystemdOptions) {
        this.root = options.host.root;
        fs.mkdirSync(options.logDirectory, { recursive: true });
    }

    /** The journal's file. */
    get journalFile(): string {
        return path.join(this.options.logDirectory, "journal.log");
    }

    /**
     * Boots: reads the units Ignition wrote, builds the boot transaction and
     * runs it. Resolves once every job of the boot has finished (services
     * keep running); rejects only if the transaction cannot be built (an
     * ordering cycle, a unit that is not played).
     */
    boot(): Promise<void> {
        if (this.transaction) {
            throw new Error(`${this.options.node} has booted already`);
        }
        // /run and /tmp are memory file systems: every boot starts with them empty.
        for (const directory of ["run", "tmp"]) {
            fs.rmSync(path.join(this.root, directory), { recursive: true, force: true });
            fs.mkdirSync(path.join(this.root, directory), { recursive: true });
        }
        this.transaction = this.runBootTransaction();
        return this.transaction;
    }

    /** The unit's state; `inactive` for a unit the boot never touched. */
    status(name: string): UnitStatus {
        const state = this.runtime.get(name);
        return {
            name,
            activeState: state?.activeState ?? "inactive",
            subState: state?.subState ?? "dead",
            result: state?.result ?? "success",
            restarts: state?.restarts ?? 0,
            mainPid: state?.main?.running ? state.main.pid : undefined,
            failure: state?.failure,
        };
    }

    /** The unit's main process while it runs. */
    mainProcess(name: string): ManagedProcess | undefined {
        const main = this.runtime.get(name)?.main;
        return main?.running ? main : undefined;
    }

    /** Whether the boot transaction has a job for the unit (it was to be started at boot). */
    inBoot(name: string): boolean {
        return this.bootJobs.has(name);
    }

    /** True once every job of the boot transaction has finished. */
    get booted(): boolean {
        return this.bootOver;
    }

    /**
     * `systemctl start NAME` on the booted node: a start job for the unit and
     * for what it requires or wants that is not up yet, ordered and failed as
     * at boot. A unit already up (or with a job under way) gets no new one.
     * Resolves with the unit's job outcome once that job is over; rejects if
     * the jobs cannot be ordered.
     */
    async startUnit(name: string): Promise<JobOutcome> {
        if (!this.transaction) {
            throw new Error(`${this.options.node} has not booted: start ${name} through boot() or once it has begun`);
        }
        const goal = normalizeName(name);
        await this.finished([...this.enqueue(goal), goal]);
        return this.jobs.get(goal) as JobOutcome;
    }

    /** The timers loaded this boot, by name: what `systemctl list-timers --all` shows. */
    timers(): TimerStatus[] {
        return [...this.units.values()]
            .filter((unit) => unit.timer !== undefined)
            .sort((a, b) => a.name.localeCompare(b.name))
            .map(({ name, timer }) => {
                const state = this.runtime.get(name);
                return { name, unit: timer!.unit, nextElapseMs: state?.nextElapseMs, lastTriggerMs: state?.lastTriggerMs };
            });
    }

    /** The first `count + 1`-th failure since boot, if there were that many. */
    failureBeyond(tolerated: number): string | undefined {
        return this.failures[tolerated];
    }

    /** Why the unit would not be started at this boot, if it would not. */
    whyNotStarted(name: string): string | undefined {
        if (this.inBoot(name)) {
            return undefined;
        }
        const file = unitPath(this.root, name);
        if (!fs.existsSync(file)) {
            return `Ignition wrote no ${name} (expected ${file})`;
        }
        if (!this.enabledByPreset(name)) {
            return `${name} is not enabled (no "enable ${name}" preset under /etc/systemd/system-preset, no .wants/ link): systemd would not start it at boot`;
        }
        return `${name} is enabled but its [Install] section (WantedBy=/RequiredBy=) names no target the boot reaches from ${bootTarget}: nothing starts it at boot`;
    }

    /** Kills a service's main process with `signal`, as the OOM killer or a crash would; systemd then applies `Restart=`. */
    kill(name: string, signal: NodeJS.Signals = "SIGKILL"): void {
        const main = this.mainProcess(name);
        if (!main) {
            throw new Error(`${name} has no running main process to kill`);
        }
        this.record(name, `Sending signal ${signal} to main process ${main.pid}`);
        process.kill(main.pid, signal);
    }

    /**
     * Stops every unit as a clean shutdown does: in reverse start order
     * (dependents before what they depend on), running `ExecStop=`, then
     * unmounting. No unit restarts. A second call (the harness stopping a node
     * that is powering itself off) waits for the same shutdown.
     */
    shutdown(): Promise<void> {
        this.cleanShutdown ??= this.stopEveryUnit();
        return this.cleanShutdown;
    }

    private async stopEveryUnit(): Promise<void> {
        this.halted = true;
        this.cancelPendingStarts();
        // Jobs still under way are cut short: their running start commands are stopped like any process.
        await Promise.all([...this.controls].map((control) => control.stop(this.options.stopTimeoutCapMs ?? 30_000)));
        await this.finished([...this.jobs.keys()]);
        for (const name of this.stopOrder()) {
            await this.stopUnit(name);
        }
    }

    /** The node loses power: every process dies at once, nothing cleans up, nothing restarts. */
    async crash(): Promise<void> {
        this.halted = true;
        this.processesEnded = true;
        this.cancelPendingStarts();
        this.options.host.containers.crash();
        await Promise.all([
            ...[...this.runtime.values()].map(async (state) => {
                state.stopping = true;
                await state.main?.kill();
            }),
            ...[...this.controls].map((control) => control.kill()),
        ]);
        await this.finished([...this.jobs.keys()]);
        // The volumes are detached from a dead instance: unmount whatever is still using them.
        for (const state of this.runtime.values()) {
            if (state.mountedAt) {
                await unmount(state.mountedAt, true);
                state.mountedAt = undefined;
            }
        }
    }

    /** Stops scheduling anything (restarts, timers, pending jobs) and starting any process: for teardown, which kills the processes itself. */
    halt(): void {
        this.halted = true;
        this.processesEnded = true;
        this.cancelPendingStarts();
        for (const state of this.runtime.values()) {
            state.stopping = true;
        }
    }

    /** Host paths of the file systems this boot mounted and has not unmounted. */
    mounts(): string[] {
        return [...this.runtime.values()].flatMap((state) => (state.mountedAt ? [state.mountedAt] : []));
    }

    // ---- loading --------------------------------------------------------------------------------------------

    private record(unit: string, message: string, notable = false): void {
        const line = `${unit}: ${message}`;
        this.journal.push(line);
        fs.appendFileSync(this.journalFile, `${new Date().toISOString()} ${line}\n`);
        if (notable) {
            this.options.log?.(`${this.options.node} ${line}`);
        }
    }

    private fail(unit: string, failure: string): void {
        const state = this.state(unit);
        state.failure = failure;
        this.failures.push(`${this.options.node} ${unit}: ${failure}`);
        this.record(unit, failure, true);
    }

    private state(name: string): UnitRuntime {
        let state = this.runtime.get(name);
        if (!state) {
            state = { activeState: "inactive", subState: "dead", result: "success", restarts: 0, starts: [], stopping: false, started: false };
            this.runtime.set(name, state);
        }
        return state;
    }

    private presetLines(): { enable: boolean; pattern: string }[] {
        const directory = path.join(this.root, "etc", "systemd", "system-preset");
        const files = fs.existsSync(directory) ? fs.readdirSync(directory).filter((name) => name.endsWith(".preset")).sort() : [];
        return files.flatMap((file) => fs.readFileSync(path.join(directory, file), "utf8").split("\n"))
            .map((line) => line.trim().split(/\s+/))
            .filter(([verb, pattern]) => (verb === "enable" || verb === "disable") && pattern !== undefined)
            .map(([verb, pattern]) => ({ enable: verb === "enable", pattern }));
    }

    /** The first preset line that matches decides, as in systemd; none means disabled (the OSes' last preset is `disable *`). */
    private enabledByPreset(name: string): boolean {
        const line = this.presetLines().find(({ pattern }) => globMatches(pattern, name));
        return line?.enable ?? false;
    }

    /** Applies first-boot presets and `.wants/`/`.requires/` links: which units each unit wants because something was enabled. */
    private loadEnablement(): void {
        const directory = path.join(this.root, "etc", "systemd", "system");
        const entries = fs.existsSync(directory) ? fs.readdirSync(directory) : [];
        const add = (map: Map<string, Set<string>>, target: string, unit: string) => {
            const set = map.get(target) ?? new Set<string>();
            set.add(normalizeName(unit));
            map.set(normalizeName(target), set);
        };
        const enable = (name: string, seen: Set<string>) => {
            if (seen.has(name)) {
                return;
            }
            seen.add(name);
            const file = this.isMasked(name) ? undefined : loadUnitFile(this.root, name);
            if (!file) {
                return;
            }
            for (const target of unitValues(file, "Install", "WantedBy").flatMap((v) => splitWords(v))) {
                add(this.enabledWants, target, name);
            }
            for (const target of unitValues(file, "Install", "RequiredBy").flatMap((v) => splitWords(v))) {
                add(this.enabledRequires, target, name);
            }
            for (const also of unitValues(file, "Install", "Also").flatMap((v) => splitWords(v))) {
                enable(also, seen);
            }
        };
        const seen = new Set<string>();
        for (const entry of entries.filter((e) => isUnitName(e)).sort()) {
            if (this.enabledByPreset(entry)) {
                enable(entry, seen);
            }
        }
        for (const entry of entries.sort()) {
            const link = /^(.+)\.(wants|requires)$/.exec(entry);
            if (link && isDirectory(path.join(directory, entry))) {
                for (const unit of fs.readdirSync(path.join(directory, entry)).sort()) {
                    add(link[2] === "wants" ? this.enabledWants : this.enabledRequires, link[1], unit);
                }
            }
        }
        for (const entry of entries.filter((e) => e.endsWith(".mount")).sort()) {
            const file = this.isMasked(entry) ? undefined : loadUnitFile(this.root, entry);
            const where = file && unitValue(file, "Mount", "Where");
            if (where) {
                this.mountUnits.set(pathPosix.normalize(where), entry);
            }
        }
    }

    private isMasked(name: string): boolean {
        try {
            return fs.readlinkSync(unitPath(this.root, name)) === "/dev/null";
        } catch {
            return false;
        }
    }

    /** The mount units, existing on the node, needed to reach `file`: one per mounted prefix. */
    private mountsFor(file: string): string[] {
        const parts = pathPosix.normalize(file).split("/").filter((part) => part !== "");
        const prefixes = ["/", ...parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`)];
        return prefixes.flatMap((prefix) => {
            const unit = this.mountUnits.get(prefix);
            return unit ? [unit] : [];
        });
    }

    private load(name: string): LoadedUnit {
        const existing = this.units.get(name);
        if (existing) {
            return existing;
        }
        const unit: LoadedUnit = { name, kind: "target", requires: new Set(), wants: new Set(), after: new Set(), before: new Set() };
        this.units.set(name, unit);
        const suffix = name.slice(name.lastIndexOf(".") + 1);
        const file = unitPath(this.root, name);
        if (this.isMasked(name)) {
            unit.unloadable = `Unit ${name} is masked.`;
            return unit;
        }
        if (fs.existsSync(file)) {
            this.loadFromFile(unit, suffix);
        } else if (this.options.playedUnits.some((played) => played.name === name)) {
            const played = this.options.playedUnits.find((candidate) => candidate.name === name)!;
            unit.kind = "played";
            unit.played = played;
            played.wants?.forEach((w) => unit.wants.add(w));
            played.after?.forEach((a) => unit.after.add(a));
            // A service of the OS, with systemd's default dependencies.
            unit.requires.add("sysinit.target");
            unit.after.add("sysinit.target").add("basic.target");
        } else if (this.usedDaemons.has(name)) {
            // The runtime stand-in is the daemon: it is up whenever it is asked for.
            unit.kind = "played";
            unit.played = { name };
            unit.requires.add("sysinit.target");
            unit.after.add("sysinit.target").add("basic.target");
        } else if (standardTargets[name]) {
            const target = standardTargets[name];
            target.requires?.forEach((r) => unit.requires.add(r));
            target.wants?.forEach((w) => unit.wants.add(w));
            target.after?.forEach((a) => unit.after.add(a));
        } else if (suffix === "device") {
            unit.kind = "device";
        } else {
            unit.unloadable = `Unit ${name} not found: neither Ignition wrote it nor does the local harness play it ` +
                `(it plays ${this.options.playedUnits.map((p) => p.name).join(", ")} and systemd's standard targets)`;
            return unit;
        }
        if (fs.existsSync(`${file}.d`) && unit.kind === "played") {
            unit.unloadable = `${name} has drop-ins in ${file}.d, which the local harness does not apply to a unit it plays`;
            unit.unplayed = true;
        }
        this.enabledWants.get(name)?.forEach((w) => unit.wants.add(w));
        this.enabledRequires.get(name)?.forEach((r) => unit.requires.add(r));
        if (unit.kind === "target") {
            // Targets are ordered after everything they pull in, unless told otherwise.
            [...unit.wants, ...unit.requires].forEach((dependency) => unit.after.add(dependency));
        }
        return unit;
    }

    private loadFromFile(unit: LoadedUnit, suffix: string): void {
        this.readUnitFile(unit, suffix);
        // The unit exists: whatever keeps it from starting must show, not leave it silently out of the boot.
        unit.unplayed = unit.unloadable !== undefined;
    }

    private readUnitFile(unit: LoadedUnit, suffix: string): void {
        const name = unit.name;
        const file = loadUnitFile(this.root, name)!;
        unit.file = file;
        if (unplayedKinds.includes(suffix)) {
            unit.unloadable = `${name}: .${suffix} units are not played by the local harness yet (see local/systemd.ts)`;
            return;
        }
        if (!["service", "mount", "target", "timer"].includes(suffix)) {
            unit.unloadable = `${name}: not a unit kind systemd knows`;
            return;
        }
        unit.kind = suffix as UnitKind;
        for (const [section, settings] of file) {
            const played = playedSettings[section];
            if (!played && section !== "Install") {
                unit.unloadable = `${name}: section [${section}] is not played by the local harness`;
                return;
            }
            for (const key of settings.keys()) {
                const condition = /^(Condition|Assert)(.+)$/.exec(key);
                if (section === "Unit" && condition && conditions[condition[2]]) {
                    continue;
                }
                if (!played?.has(key)) {
                    unit.unloadable = `${name}: ${key}= in [${section}] is not played by the local harness (there it plays ${playedSettingsIn(section)}); ` +
                        "it would change what the unit does on EC2, so the local boot refuses it rather than ignore it (see local/systemd.ts)";
                    return;
                }
            }
        }
        const successAction = unitValue(file, "Unit", "SuccessAction");
        if (successAction !== undefined && !playedSuccessActions.includes(successAction)) {
            unit.unloadable = `${name}: SuccessAction=${successAction} is not played by the local harness (it plays ${playedSuccessActions.join(" and ")})`;
            return;
        }
        const foreignSection = [...file.keys()].find((section) => ["Service", "Mount", "Timer"].includes(section) && section.toLowerCase() !== suffix);
        if (foreignSection) {
            unit.unloadable = `${name}: a [${foreignSection}] section in a .${suffix} unit`;
            return;
        }
        unitNames(file, "Requires").forEach((r) => unit.requires.add(normalizeName(r)));
        unitNames(file, "BindsTo").forEach((r) => unit.requires.add(normalizeName(r)));
        unitNames(file, "Wants").forEach((w) => unit.wants.add(normalizeName(w)));
        unitNames(file, "After").forEach((a) => unit.after.add(normalizeName(a)));
        unitNames(file, "Before").forEach((b) => unit.before.add(normalizeName(b)));
        for (const mountPath of unitValues(file, "Unit", "RequiresMountsFor").flatMap((value) => splitWords(value))) {
            for (const mount of this.mountsFor(mountPath)) {
                unit.requires.add(mount);
                unit.after.add(mount);
            }
        }
        const defaultDependencies = parseBoolean(unitValue(file, "Unit", "DefaultDependencies") ?? "yes", "DefaultDependencies");
        if (unit.kind === "service") {
            if (defaultDependencies) {
                unit.requires.add("sysinit.target");
                unit.after.add("sysinit.target").add("basic.target");
            }
            // A program that needs a daemon (the docker CLI needs dockerd) makes the daemon's unit one the node has.
            for (const line of ["ExecStartPre", "ExecStart", "ExecStartPost", "ExecStop", "ExecStopPost"].flatMap((key) => unitValues(file, "Service", key))) {
                const executable = parseCommand(line, {}).argv[0];
                for (const daemon of daemonUnitsOf(executable)) {
                    this.usedDaemons.add(daemon);
                    if (!(unit.requires.has(daemon) && unit.after.has(daemon))) {
                        unit.unloadable = `${name} runs ${path.basename(executable)} without Requires= and After=${daemon}: ${daemon} may not be up when it starts, ` +
                            `and at shutdown or an update reboot systemd may stop ${daemon} before it`;
                        return;
                    }
                }
            }
        }
        if (unit.kind === "timer") {
            try {
                unit.timer = readTimer(name, file);
            } catch (error) {
                unit.unloadable = `${name}: ${(error as Error).message}`;
                return;
            }
            unit.before.add(unit.timer.unit);
            if (defaultDependencies) {
                unit.requires.add("sysinit.target");
                // systemd.timer(5): a calendar timer also waits for the clock to be set.
                unit.after.add("sysinit.target").add("time-set.target").add("time-sync.target");
                unit.before.add("timers.target");
            }
        }
        if (unit.kind === "mount") {
            const where = unitValue(file, "Mount", "Where");
            const what = unitValue(file, "Mount", "What");
            if (!where || !what) {
                unit.unloadable = `${name} lacks What= or Where=`;
                return;
            }
            if (pathUnitName(where, "mount") !== name) {
                unit.unloadable = `${name}: Where=${where} belongs in a unit named ${pathUnitName(where, "mount")}; systemd refuses a mount unit named otherwise`;
                return;
            }
            const options = (unitValue(file, "Mount", "Options") ?? "").split(",");
            const parent = pathPosix.dirname(pathPosix.normalize(where));
            for (const mount of where === "/" ? [] : this.mountsFor(parent)) {
                unit.requires.add(mount);
                unit.after.add(mount);
            }
            if (what.startsWith("/dev/")) {
                const device = pathUnitName(what, "device");
                unit.requires.add(device);
                unit.after.add(device);
                const deviceUnit = this.load(device);
                deviceUnit.devicePath = what;
            }
            if (defaultDependencies) {
                unit.after.add("local-fs-pre.target");
                unit.before.add("umount.target");
                if (!options.includes("nofail")) {
                    unit.before.add("local-fs.target");
                }
            }
        }
    }

    // ---- transactions: the boot's and later starts' ------------------------------------------------------------

    private async runBootTransaction(): Promise<void> {
        this.loadEnablement();
        this.bootJobs = this.enqueue(bootTarget);
        await this.finished([...this.bootJobs]);
        this.bootOver = true;
    }

    /**
     * Queues start jobs for `goal` and for what it requires or wants, as a
     * systemd transaction does, and starts those already free to start;
     * returns the units given a job. A unit with a job under way gets none (the
     * new jobs wait for it), nor does one that is up: its start job succeeds at
     * once. Throws, queuing nothing, on an ordering cycle.
     */
    private enqueue(goal: string): Set<string> {
        const jobs = new Set<string>();
        const add = (name: string, required: boolean) => {
            const unit = this.load(name);
            if (jobs.has(name) || isPending(this.jobs.get(name))) {
                return;
            }
            if (!["inactive", "failed"].includes(this.status(name).activeState)) {
                this.jobs.set(name, "done");
                return;
            }
            if (unit.unloadable && !unit.unplayed && !required) {
                this.record(name, `${unit.unloadable} (only wanted: left out)`);
                return;
            }
            jobs.add(name);
            for (const dependency of [...unit.requires].sort()) {
                add(dependency, true);
            }
            for (const dependency of [...unit.wants].sort()) {
                add(dependency, false);
            }
        };
        add(goal, true);
        const names = [...jobs].sort();
        // Orderings on units of earlier transactions count too: a job waits for one still under way, and the stop order needs them all.
        const order = new Map([...this.orderedAfter].map(([name, after]) => [name, new Set(after)]));
        names.forEach((name) => order.set(name, new Set()));
        for (const name of names) {
            const unit = this.units.get(name)!;
            unit.after.forEach((other) => order.has(other) && order.get(name)!.add(other));
            unit.before.forEach((other) => order.has(other) && order.get(other)!.add(name));
        }
        this.addAdversarialOrder(jobs, order);
        this.checkCycles(names, order);
        this.orderedAfter = order;
        names.forEach((name) => this.jobs.set(name, "waiting"));
        this.pump();
        return jobs;
    }

    /** Starts every queued job whose predecessors have ended, and settles the waits whose jobs have all ended. */
    private pump(): void {
        for (const [name, job] of this.jobs) {
            if (job === "waiting" && [...this.orderedAfter.get(name)!].every((before) => isFinished(this.jobs.get(before)))) {
                this.jobs.set(name, "running");
                void this.startJob(name).then((outcome) => {
                    this.jobs.set(name, outcome);
                    this.pump();
                });
            }
        }
        for (const waiter of this.waiters) {
            if (!waiter.names.some((name) => isPending(this.jobs.get(name)))) {
                this.waiters.delete(waiter);
                waiter.resolve();
            }
        }
    }

    /** Resolves once none of the units has a job under way. */
    private finished(names: string[]): Promise<void> {
        return new Promise((resolve) => {
            this.waiters.add({ names, resolve });
            this.pump();
        });
    }

    /**
     * Two units of which one needs the other but neither is ordered on the
     * other run in an order systemd does not promise. The harness picks the
     * one that breaks a unit relying on luck: the dependency only after the
     * dependent has started.
     */
    private addAdversarialOrder(jobs: ReadonlySet<string>, order: Map<string, Set<string>>): void {
        const reaches = (from: string, to: string): boolean => {
            const seen = new Set<string>();
            const stack = [from];
            while (stack.length > 0) {
                const next = stack.pop()!;
                if (next === to) {
                    return true;
                }
                if (!seen.has(next)) {
                    seen.add(next);
                    stack.push(...order.get(next)!);
                }
            }
            return false;
        };
        for (const dependent of [...jobs].sort()) {
            const unit = this.units.get(dependent)!;
            for (const dependency of [...unit.requires, ...unit.wants].filter((d) => jobs.has(d)).sort()) {
                if (dependency !== dependent && !reaches(dependent, dependency) && !reaches(dependency, dependent)) {
                    order.get(dependency)!.add(dependent);
                    this.record(dependency, `not ordered on ${dependent}, which needs it: started after it (systemd gives them no order)`);
                }
            }
        }
    }

    private checkCycles(names: string[], order: Map<string, Set<string>>): void {
        const state = new Map<string, "visiting" | "done">();
        const visit = (name: string, trail: string[]) => {
            if (state.get(name) === "done") {
                return;
            }
            if (state.get(name) === "visiting") {
                const cycle = [...trail.slice(trail.indexOf(name)), name];
                throw new Error(`${this.options.node}: ordering cycle ${cycle.join(" after ")}; systemd would delete one of these jobs to break it, ` +
                    "so a unit of the cycle would not start");
            }
            state.set(name, "visiting");
            for (const before of [...order.get(name)!].sort()) {
                visit(before, [...trail, name]);
            }
            state.set(name, "done");
        };
        names.forEach((name) => visit(name, []));
    }

    /** Why a unit cannot start because of what it requires, or undefined. */
    private dependencyProblem(unit: LoadedUnit): string | undefined {
        for (const required of [...unit.requires].sort()) {
            const dependency = this.units.get(required);
            if (dependency?.unloadable) {
                return `${unit.name} Requires=${required}, which cannot start: ${dependency.unloadable}`;
            }
            const outcome = this.jobs.get(required);
            // Only a real ordering makes the dependent wait for the outcome; the harness's own order does not.
            const ordered = unit.after.has(required) || (dependency?.before.has(unit.name) ?? false);
            if (outcome === "failed" && ordered) {
                return `Dependency failed for ${unit.name}: it requires ${required}, which failed`;
            }
        }
        return undefined;
    }

    private async startJob(name: string): Promise<JobOutcome> {
        const unit = this.units.get(name)!;
        if (this.halted) {
            return "failed";
        }
        if (this.emergency) {
            this.failUnit(name, "dependency", `not started: ${this.emergency}`);
            return "failed";
        }
        if (unit.unloadable) {
            this.failUnit(name, "resources", unit.unloadable);
            return "failed";
        }
        const problem = this.dependencyProblem(unit);
        if (problem) {
            this.failUnit(name, "dependency", problem);
            return "failed";
        }
        let outcome: JobOutcome;
        switch (unit.kind) {
            case "target":
                this.enter(name, "active", "active");
                outcome = "done";
                break;
            case "device":
                outcome = await this.startDevice(unit);
                break;
            case "played":
                outcome = await this.startPlayed(unit);
                break;
            case "mount":
                outcome = await this.startMount(unit);
                break;
            case "service":
                outcome = await this.startService(unit);
                break;
            case "timer":
                outcome = this.startTimer(unit);
                break;
        }
        if (outcome === "failed" && name === "local-fs.target") {
            this.emergency = "local-fs.target failed, and the node dropped to emergency mode";
        }
        return outcome;
    }

    private enter(name: string, activeState: ActiveState, subState: string, result?: string): void {
        const state = this.state(name);
        const wasUp = state.activeState !== "inactive" && state.activeState !== "failed";
        state.activeState = activeState;
        state.subState = subState;
        if (result !== undefined) {
            state.result = result;
        }
        // systemd's rule: a unit that goes from up to inactive (not failed) has succeeded.
        if (wasUp && activeState === "inactive" && !this.halted && this.successAction(name) === "poweroff") {
            this.powerOff(name);
        }
    }

    private successAction(name: string): string {
        const file = this.units.get(name)?.file;
        return (file && unitValue(file, "Unit", "SuccessAction")) ?? "none";
    }

    /** `SuccessAction=poweroff`: the node shuts down cleanly, not awaited by the unit's own job, then reports itself off. */
    private powerOff(name: string): void {
        this.record(name, `Powering off: unit ${name} succeeded (SuccessAction=poweroff)`, true);
        void this.shutdown().then(
            () => this.options.onPowerOff?.(),
            (error: Error) => this.record(name, `the power-off's shutdown failed: ${error.message}`, true),
        );
    }

    private failUnit(name: string, result: string, failure: string): void {
        this.enter(name, "failed", "failed", result);
        this.fail(name, failure);
    }

    private async startDevice(unit: LoadedUnit): Promise<JobOutcome> {
        const nodePath = unit.devicePath!;
        const attachedAt = this.options.host.devices.attachedAt(nodePath);
        const deadline = Date.now() + defaults.deviceTimeoutMs;
        if (attachedAt === undefined) {
            this.failUnit(unit.name, "timeout", `Job ${unit.name}/start timed out: no device ${nodePath} is attached to the node, ` +
                `and nothing will attach one (on EC2 systemd gives up after ${defaults.deviceTimeoutMs / 1000} s)`);
            return "failed";
        }
        this.enter(unit.name, "activating", "waiting");
        while (this.options.host.devices.hostDevice(nodePath) === undefined) {
            if (this.halted || Date.now() >= deadline) {
                this.failUnit(unit.name, "timeout", `Job ${unit.name}/start timed out waiting ${defaults.deviceTimeoutMs / 1000} s for ${nodePath}`);
                return "failed";
            }
            await sleep(Math.min(100, Math.max(1, attachedAt - Date.now())));
        }
        this.enter(unit.name, "active", "plugged");
        return "done";
    }

    private async startPlayed(unit: LoadedUnit): Promise<JobOutcome> {
        this.enter(unit.name, "activating", "start");
        try {
            await unit.played!.start?.();
        } catch (error) {
            this.failUnit(unit.name, "exit-code", (error as Error).message);
            return "failed";
        }
        this.enter(unit.name, "active", unit.played!.start ? "exited" : "running", "success");
        return "done";
    }

    /** True if the unit's conditions hold (skipped otherwise); an assert that fails fails the unit. */
    private checkConditions(unit: LoadedUnit): "pass" | "skip" | "fail" {
        const file = unit.file!;
        const settings = file.get("Unit") ?? new Map<string, string[]>();
        let triggers = 0;
        let triggered = false;
        for (const [key, values] of settings) {
            const match = /^(Condition|Assert)(.+)$/.exec(key);
            if (!match) {
                continue;
            }
            for (const raw of values) {
                const trigger = raw.startsWith("|");
                const negate = raw.replace(/^\|/, "").startsWith("!");
                const nodePath = raw.replace(/^\|?!?/, "");
                const holds = conditions[match[2]](hostPathOnNode(this.options.host, nodePath)) !== negate;
                if (trigger) {
                    triggers += 1;
                    triggered ||= holds;
                } else if (!holds) {
                    this.record(unit.name, `${key}=${raw} not met`);
                    return match[1] === "Assert" ? "fail" : "skip";
                }
            }
        }
        return triggers > 0 && !triggered ? "skip" : "pass";
    }

    private async startMount(unit: LoadedUnit): Promise<JobOutcome> {
        const file = unit.file!;
        const conditionsMet = this.checkConditions(unit);
        if (conditionsMet !== "pass") {
            return this.notStarted(unit.name, conditionsMet);
        }
        const what = unitValue(file, "Mount", "What")!;
        const where = unitValue(file, "Mount", "Where")!;
        const type = unitValue(file, "Mount", "Type");
        const options = (unitValue(file, "Mount", "Options") ?? "").split(",").filter((o) => o !== "");
        const ignored = options.filter((o) => o.startsWith("x-systemd."));
        if (ignored.length > 0) {
            this.record(unit.name, `${ignored.join(",")} ignored: systemd reads x-systemd.* options only in /etc/fstab, not in a unit file`);
        }
        const source = what.startsWith("/dev/") ? this.options.host.devices.hostDevice(what) : options.includes("bind") ? path.join(this.root, what) : what;
        if (source === undefined) {
            this.failUnit(unit.name, "exit-code", `${what} is not attached to the node`);
            return "failed";
        }
        const target = path.join(this.root, where);
        const timeoutMs = parseTimespan(unitValue(file, "Mount", "TimeoutSec") ?? "90s", "TimeoutSec");
        this.enter(unit.name, "activating", "mounting");
        fs.mkdirSync(target, { recursive: true, mode: parseInt(unitValue(file, "Mount", "DirectoryMode") ?? "0755", 8) });
        const kept = options.filter((o) => !o.startsWith("x-"));
        const args = [...(type ? ["-t", type] : []), ...(kept.length > 0 ? ["-o", kept.join(",")] : []), source, target];
        try {
            await run("mount", args, { timeout: Number.isFinite(timeoutMs) ? timeoutMs : 0 });
        } catch (error) {
            const failure = error as { stderr?: string; message: string };
            this.failUnit(unit.name, "exit-code", `Mount process exited: mount ${what} on ${where} failed: ${(failure.stderr ?? failure.message).trim()}`);
            return "failed";
        }
        this.state(unit.name).mountedAt = target;
        this.enter(unit.name, "active", "mounted", "success");
        this.record(unit.name, `Mounted ${what} on ${where}`);
        return "done";
    }

    private notStarted(name: string, verdict: "skip" | "fail"): JobOutcome {
        if (verdict === "fail") {
            this.failUnit(name, "assert", `${name}: an Assert…= setting does not hold`);
            return "failed";
        }
        this.enter(name, "inactive", "dead", "success");
        return "skipped";
    }

    // ---- timers ---------------------------------------------------------------------------------------------

    /** Starts a timer: it waits for its next elapse, refusing to start, as systemd does, when its unit cannot be loaded. */
    private startTimer(unit: LoadedUnit): JobOutcome {
        const verdict = this.checkConditions(unit);
        if (verdict !== "pass") {
            return this.notStarted(unit.name, verdict);
        }
        const triggered = this.load(unit.timer!.unit);
        if (triggered.unloadable) {
            this.failUnit(unit.name, "resources", `Refusing to start, unit ${triggered.name} to trigger not loaded: ${triggered.unloadable}`);
            return "failed";
        }
        this.enter(unit.name, "active", "waiting", "success");
        this.waitForElapse(unit, this.clock());
        return "done";
    }

    /** Schedules the timer's first elapse after `afterMs` by the node's clock. */
    private waitForElapse(unit: LoadedUnit, afterMs: number): void {
        const state = this.state(unit.name);
        const elapseMs = Math.min(...unit.timer!.calendar.map((time) => nextElapse(time, afterMs)));
        state.nextElapseMs = elapseMs;
        // A timer a day away must not keep the harness's process alive; shutdown, crash and halt clear it.
        state.pendingStart = setTimeout(() => this.elapse(unit, elapseMs), elapseMs - this.clock()).unref();
        this.record(unit.name, `Waiting: next elapse at ${new Date(elapseMs).toISOString()}`);
    }

    /** The timer elapses: it waits for its next time and queues a start job for its unit (nothing new if that is still up). */
    private elapse(unit: LoadedUnit, elapseMs: number): void {
        const state = this.state(unit.name);
        const triggered = unit.timer!.unit;
        state.pendingStart = undefined;
        state.lastTriggerMs = this.clock();
        this.record(unit.name, `Triggering ${triggered}`);
        // From the elapse time itself, should the clock read a little earlier, so the same elapse never comes twice.
        this.waitForElapse(unit, Math.max(elapseMs, state.lastTriggerMs));
        void this.startUnit(triggered).catch((error: Error) => this.fail(unit.name, `could not start ${triggered}: ${error.message}`));
    }

    private clock(): number {
        return (this.options.clock ?? Date.now)();
    }

    // ---- services -------------------------------------------------------------------------------------------

    private serviceType(file: UnitFile): "simple" | "exec" | "oneshot" {
        const type = unitValue(file, "Service", "Type") ?? "simple";
        if (type !== "simple" && type !== "exec" && type !== "oneshot") {
            throw new Error(`Type=${type} is not played by the local harness (simple, exec and oneshot are)`);
        }
        return type;
    }

    private startLimit(file: UnitFile): { intervalMs: number; burst: number } {
        const interval = unitValue(file, "Unit", "StartLimitIntervalSec") ?? unitValue(file, "Service", "StartLimitIntervalSec");
        const burst = unitValue(file, "Unit", "StartLimitBurst") ?? unitValue(file, "Service", "StartLimitBurst");
        return {
            intervalMs: interval === undefined ? defaults.startLimitIntervalMs : parseTimespan(interval, "StartLimitIntervalSec"),
            burst: burst === undefined ? defaults.startLimitBurst : Number(burst),
        };
    }

    private startTimeoutMs(file: UnitFile, type: string): number {
        const value = unitValue(file, "Service", "TimeoutStartSec") ?? unitValue(file, "Service", "TimeoutSec");
        // A oneshot's start has no timeout unless given one.
        return value !== undefined ? parseTimespan(value, "TimeoutStartSec") : type === "oneshot" ? Infinity : defaults.timeoutMs;
    }

    private stopTimeoutMs(file: UnitFile): number {
        const value = unitValue(file, "Service", "TimeoutStopSec") ?? unitValue(file, "Service", "TimeoutSec");
        const timeout = value !== undefined ? parseTimespan(value, "TimeoutStopSec") : defaults.timeoutMs;
        return Math.min(timeout, this.options.stopTimeoutCapMs ?? 30_000);
    }

    /** Starts (or restarts) a service; resolves when its start job is over: the main process runs, or the oneshot finished. */
    private async startService(unit: LoadedUnit): Promise<JobOutcome> {
        const name = unit.name;
        const file = unit.file!;
        const state = this.state(name);
        let type: "simple" | "exec" | "oneshot";
        try {
            type = this.serviceType(file);
        } catch (error) {
            this.failUnit(name, "resources", `${name}: ${(error as Error).message}`);
            return "failed";
        }
        const verdict = this.checkConditions(unit);
        if (verdict !== "pass") {
            return this.notStarted(name, verdict);
        }
        const limit = this.startLimit(file);
        const now = Date.now();
        state.starts = state.starts.filter((time) => time > now - limit.intervalMs);
        if (limit.burst > 0 && state.starts.length >= limit.burst) {
            this.enter(name, "failed", "failed", "start-limit-hit");
            this.fail(name, `Start request repeated too quickly (${limit.burst} starts within ${limit.intervalMs / 1000} s). ` +
                `Failed with result 'start-limit-hit'.${state.failure ? ` Last failure: ${state.failure}` : ""}`);
            return "failed";
        }
        state.starts.push(now);
        state.stopping = false;
        state.started = false;
        this.enter(name, "activating", "start-pre");
        const timeoutMs = this.startTimeoutMs(file, type);

        for (const line of unitValues(file, "Service", "ExecStartPre")) {
            const outcome = await this.runControl(unit, "ExecStartPre", line, timeoutMs);
            if (!outcome.ok) {
                return this.enterDead(unit, outcome.result, `ExecStartPre=${outcome.description}`);
            }
        }
        const starts = unitValues(file, "Service", "ExecStart");
        if (type === "oneshot") {
            this.enter(name, "activating", "start");
            for (const line of starts) {
                const outcome = await this.runControl(unit, "ExecStart", line, timeoutMs);
                if (!outcome.ok) {
                    return this.enterDead(unit, outcome.result, `ExecStart=${outcome.description}`);
                }
            }
        } else {
            if (starts.length !== 1) {
                return this.enterDead(unit, "resources", `${name} has ${starts.length} ExecStart= lines; a Type=${type} service has exactly one`);
            }
            const failure = this.startMain(unit, starts[0]);
            if (failure) {
                return this.enterDead(unit, failure.result, failure.description);
            }
        }
        for (const line of unitValues(file, "Service", "ExecStartPost")) {
            const outcome = await this.runControl(unit, "ExecStartPost", line, timeoutMs);
            if (!outcome.ok) {
                await this.stopMain(unit);
                return this.enterDead(unit, outcome.result, `ExecStartPost=${outcome.description}`);
            }
        }
        state.started = true;
        if (type === "oneshot") {
            const remain = parseBoolean(unitValue(file, "Service", "RemainAfterExit") ?? "no", "RemainAfterExit");
            this.enter(name, remain ? "active" : "inactive", remain ? "exited" : "dead", "success");
            return "done";
        }
        if (state.main?.running) {
            this.enter(name, "active", "running", "success");
        }
        return state.activeState === "failed" ? "failed" : "done";
    }

    /** Loads the environment and maps a command line; a failure to do either is the unit's. */
    private prepareCommand(
        unit: LoadedUnit,
        line: string,
    ): { command: LocalCommand; ignoreFailure: boolean; description: string } | { failure: string; result: string } {
        let environment: Record<string, string>;
        try {
            environment = unitEnvironment(unit.file!, this.root);
        } catch (error) {
            return { failure: `${(error as Error).message}${this.writerHint(unit)}`, result: "resources" };
        }
        try {
            const parsed = parseCommand(line, environment);
            return { command: mapHostCommand(parsed.argv, this.options.host, environment), ignoreFailure: parsed.ignoreFailure, description: parsed.argv.join(" ") };
        } catch (error) {
            return { failure: `${line}: ${(error as Error).message}`, result: "resources" };
        }
    }

    /** For a missing environment file: which unit would have written it, and why it had not yet. */
    private writerHint(unit: LoadedUnit): string {
        for (const setting of unitValues(unit.file!, "Service", "EnvironmentFile")) {
            const played = this.options.playedUnits.find((candidate) => candidate.writes === setting.replace(/^-/, ""));
            if (played && !(unit.requires.has(played.name) && unit.after.has(played.name))) {
                return ` (${played.name} writes it; ${unit.name} reads it without Requires= and After=${played.name}, so nothing starts that unit first)`;
            }
        }
        return "";
    }

    /** Runs a control command (ExecStartPre=, a oneshot's ExecStart=, ExecStop=, …) to its end. */
    private async runControl(unit: LoadedUnit, setting: string, line: string, timeoutMs: number): Promise<CommandResult> {
        const prepared = this.prepareCommand(unit, line);
        if ("failure" in prepared) {
            this.record(unit.name, `${setting}: ${prepared.failure}`);
            return { ok: false, result: prepared.result, description: `${line}: ${prepared.failure}` };
        }
        const { command, ignoreFailure, description } = prepared;
        let outcome: ActionOutcome;
        if (command.kind === "action") {
            outcome = await command.run();
            this.record(unit.name, `${setting}: ${command.description}${outcome ? ` failed: ${outcome.failure}` : ""}`);
        } else {
            outcome = await this.runProcessToEnd(unit.name, setting, command, timeoutMs);
        }
        if (outcome && !ignoreFailure) {
            return { ok: false, result: outcome.code === -1 ? "timeout" : outcome.code >= 128 ? "signal" : "exit-code", description: `${description}: ${outcome.failure}` };
        }
        if (outcome) {
            this.record(unit.name, `${setting}: failure ignored for "-": ${outcome.failure}`);
        }
        return { ok: true, result: "success", description };
    }

    private async runProcessToEnd(unitName: string, setting: string, command: Extract<LocalCommand, { kind: "process" }>, timeoutMs: number): Promise<ActionOutcome> {
        if (this.processesEnded) {
            return { failure: haltedFailure, code: 1 };
        }
        try {
            command.prepare?.();
        } catch (error) {
            const code = (error as { code?: number }).code ?? 1;
            return { failure: (error as Error).message, code: typeof code === "number" ? code : 1 };
        }
        const child = this.spawn(unitName, setting, command);
        this.controls.add(child);
        void child.exited.then(() => this.controls.delete(child));
        let timer: NodeJS.Timeout | undefined;
        const timedOut = Number.isFinite(timeoutMs)
            ? new Promise<"timeout">((resolve) => { timer = setTimeout(() => resolve("timeout"), timeoutMs); })
            : new Promise<never>(() => undefined);
        const ended = await Promise.race([child.exited, timedOut]);
        clearTimeout(timer);
        if (ended === "timeout") {
            await child.kill();
            command.exited?.(await child.exited);
            return { failure: `timed out after ${timeoutMs} ms`, code: -1 };
        }
        const status = command.exited ? command.exited(ended) : ended;
        this.record(unitName, `${setting}: ${describeExit(status)}`);
        return exitFailure(status, child);
    }

    private spawn(unitName: string, setting: string, command: Extract<LocalCommand, { kind: "process" }>): ManagedProcess {
        const child = this.options.processes.start({
            name: [this.options.node, unitName, setting].filter((part) => part !== "").join(" "),
            command: command.command,
            args: command.args,
            env: command.env,
            cwd: command.cwd,
            logFile: path.join(this.options.logDirectory, `${unitName}.log`),
        });
        command.started?.(child);
        return child;
    }

    /** Starts the main process of a simple/exec service; returns why it could not start. */
    private startMain(unit: LoadedUnit, line: string): { result: string; description: string } | undefined {
        const prepared = this.prepareCommand(unit, line);
        if ("failure" in prepared) {
            return { result: prepared.result, description: `ExecStart=${line}: ${prepared.failure}` };
        }
        const { command } = prepared;
        if (this.processesEnded) {
            return { result: "resources", description: `ExecStart=${prepared.description}: ${haltedFailure}` };
        }
        if (command.kind !== "process") {
            return { result: "resources", description: `ExecStart=${prepared.description}: does nothing on the test host (${command.description}); a service needs a process` };
        }
        try {
            command.prepare?.();
        } catch (error) {
            return { result: "exit-code", description: `ExecStart=${prepared.description}: ${(error as Error).message}` };
        }
        const state = this.state(unit.name);
        const main = this.spawn(unit.name, "", command);
        state.main = main;
        state.mainCommand = command;
        this.record(unit.name, `Started: main process ${main.pid} runs ${command.command}${command.image ? ` for image ${command.image}` : ""}`);
        state.settled = main.exited.then((status) => this.mainExited(unit, main, status));
        return undefined;
    }

    /** SIGTERM to the main process, the stop timeout, then SIGKILL. */
    private async stopMain(unit: LoadedUnit): Promise<void> {
        const state = this.state(unit.name);
        state.stopping = true;
        await state.main?.stop(this.stopTimeoutMs(unit.file!));
    }

    private async mainExited(unit: LoadedUnit, main: ManagedProcess, raw: ExitStatus): Promise<void> {
        const state = this.state(unit.name);
        if (state.main !== main) {
            return;
        }
        const status = state.mainCommand?.exited ? state.mainCommand.exited(raw) : raw;
        this.record(unit.name, `Main process exited, ${describeExit(status)}`, !state.stopping && !isClean(status));
        if (state.stopping) {
            return;
        }
        const result = isClean(status) ? "success" : status.signal ? "signal" : "exit-code";
        const report = result === "success" ? undefined : exitFailure(status, main)!.failure;
        if (report) {
            state.failure = report;
            this.failures.push(`${this.options.node} ${unit.name}: ${report}`);
        }
        this.enter(unit.name, "deactivating", "stop");
        const finalResult = await this.runStopCommands(unit, result);
        await this.enterDead(unit, finalResult, report);
    }

    /** `ExecStop=` (when the start had got as far as running), then `ExecStopPost=`; returns the result they leave. */
    private async runStopCommands(unit: LoadedUnit, result: string): Promise<string> {
        const file = unit.file!;
        const state = this.state(unit.name);
        const timeoutMs = this.stopTimeoutMs(file);
        let final = result;
        const stops = state.started ? unitValues(file, "Service", "ExecStop") : [];
        for (const line of [...stops, ...unitValues(file, "Service", "ExecStopPost")]) {
            const setting = stops.includes(line) ? "ExecStop" : "ExecStopPost";
            const outcome = await this.runControl(unit, setting, line, timeoutMs);
            if (!outcome.ok) {
                this.record(unit.name, `${setting}=${outcome.description}`);
                if (final === "success") {
                    final = outcome.result;
                }
            }
        }
        if (state.main?.running) {
            await state.main.stop(timeoutMs);
        }
        return final;
    }

    /** The unit is dead with `result`; with a failure, `Restart=` decides whether it starts again after `RestartSec=`. */
    private async enterDead(unit: LoadedUnit, result: string, failure?: string): Promise<JobOutcome> {
        const name = unit.name;
        const state = this.state(name);
        if (result === "success") {
            this.enter(name, "inactive", "dead", "success");
        } else {
            this.enter(name, "failed", "failed", result);
            if (failure && state.failure !== failure) {
                this.fail(name, failure);
            }
        }
        if (this.halted || state.stopping || !shallRestart(unitValue(unit.file!, "Service", "Restart") ?? "no", result)) {
            return result === "success" ? "done" : "failed";
        }
        const delayMs = parseTimespan(unitValue(unit.file!, "Service", "RestartSec") ?? "100ms", "RestartSec");
        this.enter(name, "activating", "auto-restart", result);
        state.pendingStart = setTimeout(() => {
            state.pendingStart = undefined;
            if (this.halted || state.stopping) {
                return;
            }
            state.restarts += 1;
            this.record(name, `Scheduled restart job, restart counter is at ${state.restarts}.`, true);
            void this.startService(unit);
        }, delayMs);
        this.record(name, `Failed with result '${result}'; Restart= schedules a restart in ${delayMs} ms`);
        return "failed";
    }

    private cancelPendingStarts(): void {
        for (const [name, state] of this.runtime) {
            cancelPendingStart(state);
            if (state.subState === "auto-restart") {
                this.enter(name, state.result === "success" ? "inactive" : "failed", state.result === "success" ? "dead" : "failed");
            }
        }
    }

    /** Units in the order a shutdown stops them: the reverse of an order the boot could have started them in. */
    private stopOrder(): string[] {
        const order: string[] = [];
        const seen = new Set<string>();
        const visit = (name: string) => {
            if (seen.has(name)) {
                return;
            }
            seen.add(name);
            [...(this.orderedAfter.get(name) ?? [])].sort().forEach(visit);
            order.push(name);
        };
        [...this.jobs.keys()].sort().forEach(visit);
        return order.reverse();
    }

    /** `systemctl stop`: ExecStop=, the stop timeout, unmount; no restart. */
    async stopUnit(name: string): Promise<void> {
        const unit = this.units.get(name);
        const state = this.runtime.get(name);
        if (!unit || !state) {
            return;
        }
        cancelPendingStart(state);
        if (unit.kind === "service" && (state.main?.running || (state.started && state.activeState === "active"))) {
            state.stopping = true;
            this.enter(name, "deactivating", "stop");
            await this.runStopCommands(unit, state.result);
            await state.settled;
            this.enter(name, "inactive", "dead");
            this.record(name, "Stopped.");
        } else if (unit.kind === "mount" && state.mountedAt) {
            await unmount(state.mountedAt, false, (line) => this.record(name, line));
            state.mountedAt = undefined;
            this.enter(name, "inactive", "dead");
        } else if (state.activeState !== "failed") {
            state.stopping = true;
            this.enter(name, "inactive", "dead");
        }
    }
}

function isFinished(job: JobOutcome | "running" | "waiting" | undefined): boolean {
    return job === "done" || job === "failed" || job === "skipped";
}

/** The first moment after `afterMs` at which the calendar time falls, in UTC (the nodes' time zone): today's or tomorrow's. */
function nextElapse(time: CalendarTime, afterMs: number): number {
    const day = new Date(afterMs);
    for (let dayOffset = 0; dayOffset <= 1; dayOffset++) {
        for (let hour = 0; hour < 24; hour++) {
            for (let minute = 0; minute < 60; minute++) {
                const at = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + dayOffset, hour, minute, time.second);
                if (at > afterMs && calendarFieldMatches(time.hour, hour) && calendarFieldMatches(time.minute, minute)) {
                    return at;
                }
            }
        }
    }
    throw new Error("unreachable: every played calendar time falls at least once a day");
}

/** Cancels a unit's restart or a timer's next elapse. */
function cancelPendingStart(state: UnitRuntime): void {
    clearTimeout(state.pendingStart);
    state.pendingStart = undefined;
    state.nextElapseMs = undefined;
}

function isPending(job: JobOutcome | "running" | "waiting" | undefined): boolean {
    return job === "waiting" || job === "running";
}

/** `default.target` is the boot target's alias. */
function normalizeName(name: string): string {
    return name === "default.target" ? bootTarget : name;
}

function isUnitName(name: string): boolean {
    return /\.(service|mount|target|timer|socket|path|automount|swap)$/.test(name);
}

/** Preset patterns are shell globs. */
function globMatches(pattern: string, name: string): boolean {
    const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
    return regex.test(name);
}

function isClean(status: ExitStatus): boolean {
    return status.code === 0 || (status.signal !== null && cleanSignals.has(status.signal));
}

function describeExit(status: ExitStatus): string {
    if (status.error) {
        return `could not be started: ${status.error.message}`;
    }
    return status.signal ? `code=killed, status=${status.signal}` : `code=exited, status=${status.code}${status.code === 0 ? "/SUCCESS" : "/FAILURE"}`;
}

/** A failed exit, described with the end of the process's output; undefined for a clean one. */
function exitFailure(status: ExitStatus, child: ManagedProcess): ActionOutcome {
    if (isClean(status) && !status.error) {
        return undefined;
    }
    const how = status.error ? `could not be started: ${status.error.message}` : status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
    return {
        failure: `${child.command} ${how}\n${tailOfFile(child.logFile).replace(/^/gm, "    ")}`,
        code: status.code ?? 128,
    };
}

/**
 * Whether `Restart=` restarts a service that ended with `result`
 * (systemd.service(5)'s table; a skipped condition, a failed dependency and
 * the start limit never restart).
 */
export function shallRestart(restart: string, result: string): boolean {
    const abnormal = ["signal", "core-dump", "timeout", "watchdog"];
    switch (restart) {
        case "no":
            return false;
        case "always":
            return !["start-limit-hit", "dependency"].includes(result);
        case "on-success":
            return result === "success";
        case "on-failure":
            return result !== "success" && !["start-limit-hit", "dependency", "condition"].includes(result);
        case "on-abnormal":
            return abnormal.includes(result);
        case "on-abort":
            return result === "signal" || result === "core-dump";
        case "on-watchdog":
            return result === "watchdog";
        default:
            throw new Error(`Restart=${restart} is not a value systemd knows`);
    }
}

/** Unmounts a file system the node mounted; lazily when it is busy (or at once if asked), so teardown never leaves it behind. */
export async function unmount(target: string, lazy: boolean, note?: (line: string) => void): Promise<void> {
    try {
        await run("umount", lazy ? ["-l", target] : [target], { timeout: 30_000 });
    } catch (error) {
        note?.(`umount ${target} failed (${((error as { stderr?: string }).stderr ?? "").trim()}); unmounting lazily`);
        await run("umount", ["-l", target], { timeout: 30_000 }).catch(() => undefined);
    }
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
