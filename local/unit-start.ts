/**
 * What systemd would do at first boot with the unit Ignition wrote: start it
 * only if it is enabled, only after the units it requires, with its
 * environment loaded, its `ExecStartPre=` lines run and its `ExecStart=`
 * command, mapped from the container runtime to the host, as the service.
 *
 * `Restart=on-failure` is deliberately not emulated: a member that exits is
 * reported with its output instead of being restarted, so a unit that can
 * never work fails the local boot at once rather than looping the way it
 * would on EC2.
 */
import * as fs from "fs";
import * as path from "path";
import * as pathPosix from "path/posix";
import { LocalCommand, mapContainerCommand, NodeContext, runtimeDaemonUnits } from "./container-runtime";
import { parseCommand, parseUnitFile, UnitFile, unitEnvironment, unitNames, unitValues } from "./systemd-unit";

/** A unit the test host provides in place of the real one (the metadata unit) or has anyway. */
export interface ProvidedUnit {
    name: string;
    /** The file the unit writes before it counts as started, e.g. `/run/metadata/afterburn`. */
    writes?: string;
}

/** Targets a unit must be wanted by to be started at boot once enabled. */
const bootTargets = new Set(["multi-user.target", "default.target"]);

/** The etcd process a unit would run, as the host runs it. */
export interface UnitStart {
    command: string;
    args: string[];
    env: NodeJS.ProcessEnv;
    /** The container image the host's binary stands in for. */
    image: string;
    /** Lines like `ExecStartPre: podman rm: no containers on the test host`. */
    notes: string[];
}

export function unitPath(root: string, unitName: string): string {
    return path.join(root, "etc", "systemd", "system", unitName);
}

/** True if a preset file Ignition wrote enables the unit; that is what `enabled: true` in the config becomes. */
function enabledByPreset(root: string, unitName: string): boolean {
    const presetDir = path.join(root, "etc", "systemd", "system-preset");
    const files = fs.existsSync(presetDir) ? fs.readdirSync(presetDir).filter((name) => name.endsWith(".preset")) : [];
    return files.some((file) =>
        fs.readFileSync(path.join(presetDir, file), "utf8").split("\n").some((line) => line.trim().split(/\s+/).join(" ") === `enable ${unitName}`),
    );
}

function checkStartedAtBoot(unit: UnitFile, root: string, unitName: string): void {
    if (!enabledByPreset(root, unitName)) {
        throw new Error(`${unitName} is not enabled (no "enable ${unitName}" preset under /etc/systemd/system-preset): systemd would not start it at boot`);
    }
    const wantedBy = [...unitValues(unit, "Install", "WantedBy"), ...unitValues(unit, "Install", "RequiredBy")].flatMap((value) => value.split(/\s+/));
    if (!wantedBy.some((target) => bootTargets.has(target))) {
        throw new Error(`${unitName} has no [Install] WantedBy= of ${[...bootTargets].join(" or ")}: enabling it would not start it at boot`);
    }
    const type = unitValues(unit, "Service", "Type").at(-1) ?? "simple";
    if (type !== "simple" && type !== "exec") {
        throw new Error(`${unitName} has Type=${type}; the local harness runs only simple services`);
    }
}

const execSettings = ["ExecStartPre", "ExecStart", "ExecStartPost", "ExecStop", "ExecStopPost"];

/** The emulated container runtimes the unit's commands run, by name (`docker`, `podman`). */
function runtimesUsed(unit: UnitFile): string[] {
    const names = execSettings.flatMap((key) => unitValues(unit, "Service", key))
        .map((line) => pathPosix.basename(parseCommand(line, {}).argv[0]))
        .filter((name) => name in runtimeDaemonUnits);
    return [...new Set(names)];
}

/**
 * The daemon units of the runtimes the unit uses, which the runtime stand-in
 * plays. The unit must require them and be ordered after them: otherwise the
 * daemon need not be up when the unit starts, and at shutdown or an update
 * reboot systemd (stopping units in reverse start order) may stop the daemon
 * first, killing the container under a running etcd.
 */
function runtimeDaemons(unit: UnitFile, unitName: string): ProvidedUnit[] {
    const requires = unitNames(unit, "Requires");
    const after = unitNames(unit, "After");
    return runtimesUsed(unit).flatMap((runtime) => runtimeDaemonUnits[runtime].map((daemon) => {
        if (!(requires.includes(daemon) && after.includes(daemon))) {
            throw new Error(`${unitName} runs ${runtime} without Requires= and After=${daemon}: ${daemon} may not be up when it starts, ` +
                `and at shutdown or an update reboot systemd may stop ${daemon} before it`);
        }
        return { name: daemon };
    }));
}

/**
 * Every required unit must be one the harness provides (or one nothing can
 * run without), and a unit that writes an environment file the service reads
 * must be both required and ordered before it, or the file may not exist yet.
 */
function checkDependencies(unit: UnitFile, unitName: string, hostUnits: ProvidedUnit[]): void {
    const provided = [...hostUnits, ...runtimeDaemons(unit, unitName)];
    const requires = unitNames(unit, "Requires");
    const after = unitNames(unit, "After");
    for (const name of requires) {
        if (!provided.some((candidate) => candidate.name === name)) {
            throw new Error(`${unitName} Requires=${name}, which the local harness does not provide (it provides ${provided.map((p) => p.name).join(", ")})`);
        }
    }
    for (const setting of unitValues(unit, "Service", "EnvironmentFile")) {
        const writer = provided.find((candidate) => candidate.writes === setting.replace(/^-/, ""));
        if (writer && !(requires.includes(writer.name) && after.includes(writer.name))) {
            throw new Error(`${unitName} reads ${writer.writes}, written by ${writer.name}, without Requires= and After=${writer.name}: nothing would start it first`);
        }
    }
}

function describe(command: LocalCommand): string {
    return command.kind === "no-op" ? command.reason : `${command.command} ${command.args.join(" ")}`;
}

/**
 * Reads the unit from the node root, checks that a first boot would start it
 * with everything it needs, and returns the process its `ExecStart=` runs.
 * `ExecStartPre=` lines must map to no-ops (container housekeeping); one that
 * would fail stops the start unless its `-` prefix says to ignore that.
 */
export function planUnitStart(root: string, unitName: string, provided: ProvidedUnit[], context: NodeContext): UnitStart {
    const file = unitPath(root, unitName);
    if (!fs.existsSync(file)) {
        throw new Error(`Ignition wrote no ${unitName} (expected ${file})`);
    }
    const unit = parseUnitFile(fs.readFileSync(file, "utf8"));
    checkStartedAtBoot(unit, root, unitName);
    checkDependencies(unit, unitName, provided);
    const environment = unitEnvironment(unit, root);

    const notes = unitValues(unit, "Service", "ExecStartPre").map((line) => {
        const command = parseCommand(line, environment);
        const local = mapContainerCommand(command.argv, context);
        if (local.kind !== "no-op") {
            throw new Error(`ExecStartPre=${line} would run a process; the local harness runs only ExecStart=`);
        }
        if (local.failure && !command.ignoreFailure) {
            throw new Error(`${unitName} ExecStartPre=${line} fails (${local.failure}) and has no "-" prefix: the service would not start`);
        }
        return `ExecStartPre: ${describe(local)}${local.failure ? ` (fails: ${local.failure}; ignored for "-")` : ""}`;
    });
    const starts = unitValues(unit, "Service", "ExecStart");
    if (starts.length !== 1) {
        throw new Error(`${unitName} has ${starts.length} ExecStart= lines; a simple service has exactly one`);
    }
    const local = mapContainerCommand(parseCommand(starts[0], environment).argv, context);
    if (local.kind !== "process") {
        throw new Error(`${unitName} ExecStart= does nothing on the test host: ${describe(local)}`);
    }
    return { command: local.command, args: local.args, env: local.env, image: local.image, notes };
}
