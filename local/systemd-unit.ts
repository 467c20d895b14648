/**
 * Reads systemd unit files the way systemd does: sections and keys, `\` line
 * continuations, list settings that an empty assignment resets, drop-ins,
 * `EnvironmentFile=` and `Environment=`, time spans, daily calendar times,
 * path escaping, and the command lines with quoting, `-` prefixes and
 * `${VAR}` / `$VAR` expansion.
 * Anything else that would change how a command runs is refused rather than
 * ignored, so the local boot cannot pass where a real one would not.
 */
import * as fs from "fs";
import * as path from "path";

/** Section → key → values in file order (a list setting may be assigned many times). */
export type UnitFile = Map<string, Map<string, string[]>>;

/**
 * Parses unit file text; a line ending in `\` continues on the next, as in
 * systemd. Given `unit`, the text is read on top of it, as a drop-in is.
 */
export function parseUnitFile(text: string, unit: UnitFile = new Map()): UnitFile {
    let section: Map<string, string[]> | undefined;
    let pending = "";
    for (const rawLine of text.split("\n")) {
        const line = rawLine.trim();
        // systemd skips comment lines even in the middle of a continued value.
        if (line.startsWith("#") || line.startsWith(";")) {
            continue;
        }
        if (line.endsWith("\\")) {
            pending += `${line.slice(0, -1)} `;
            continue;
        }
        const logical = pending + line;
        pending = "";
        if (logical === "") {
            continue;
        }
        const header = /^\[(.+)\]$/.exec(logical);
        if (header) {
            section = unit.get(header[1]) ?? new Map();
            unit.set(header[1], section);
            continue;
        }
        const assignment = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(logical);
        if (!section || !assignment) {
            throw new Error(`unit file line is neither a section header nor an assignment inside a section: ${logical}`);
        }
        const [, key, value] = assignment;
        // An empty assignment resets a list setting.
        section.set(key, value === "" ? [] : [...(section.get(key) ?? []), value]);
    }
    return unit;
}

/** Every value given to `key` in `section`. */
export function unitValues(unit: UnitFile, section: string, key: string): string[] {
    return unit.get(section)?.get(key) ?? [];
}

/** The unit names in space-separated dependency settings such as `Requires=` and `After=`. */
export function unitNames(unit: UnitFile, key: string): string[] {
    return unitValues(unit, "Unit", key).flatMap((value) => value.split(/\s+/)).filter((name) => name !== "");
}

const escapes: Record<string, string> = { "\\": "\\", '"': '"', "'": "'", " ": " ", n: "\n", t: "\t" };

/**
 * Splits a value into words as systemd does: whitespace separates words,
 * single and double quotes group, backslash escapes.
 */
export function splitWords(value: string): string[] {
    const words: string[] = [];
    let word: string | undefined;
    let quote: string | undefined;
    for (let i = 0; i < value.length; i++) {
        const char = value[i];
        if (char === "\\") {
            const escaped = escapes[value[i + 1]];
            if (escaped === undefined) {
                throw new Error(`escape \\${value[i + 1] ?? ""} in "${value}" is not emulated by the local harness`);
            }
            word = (word ?? "") + escaped;
            i++;
        } else if (quote) {
            if (char === quote) {
                quote = undefined;
            } else {
                word += char;
            }
        } else if (char === '"' || char === "'") {
            quote = char;
            word = word ?? "";
        } else if (/\s/.test(char)) {
            if (word !== undefined) {
                words.push(word);
                word = undefined;
            }
        } else {
            word = (word ?? "") + char;
        }
    }
    if (quote) {
        throw new Error(`unbalanced ${quote} in "${value}"`);
    }
    if (word !== undefined) {
        words.push(word);
    }
    return words;
}

/** Parses an environment file: `KEY=VALUE` lines, comments, optional quotes around the value. */
export function parseEnvironmentFile(text: string): Record<string, string> {
    const environment: Record<string, string> = {};
    for (const rawLine of text.split("\n")) {
        const line = rawLine.trim();
        if (line === "" || line.startsWith("#") || line.startsWith(";")) {
            continue;
        }
        const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
        if (!match) {
            throw new Error(`environment file line is not KEY=VALUE: ${line}`);
        }
        const quoted = /^(["'])(.*)\1$/.exec(match[2]);
        environment[match[1]] = quoted ? quoted[2] : match[2];
    }
    return environment;
}

/**
 * The unit's environment: each `EnvironmentFile=` read from inside the node
 * root (a `-` prefix makes it optional), then `Environment=` assignments, later
 * ones winning, as in systemd. A missing required file fails the start, as
 * systemd's "Failed to load environment files" does.
 */
export function unitEnvironment(unit: UnitFile, root: string): Record<string, string> {
    const environment: Record<string, string> = {};
    for (const setting of unitValues(unit, "Service", "EnvironmentFile")) {
        const optional = setting.startsWith("-");
        const file = optional ? setting.slice(1) : setting;
        let text: string;
        try {
            text = fs.readFileSync(path.join(root, file), "utf8");
        } catch {
            if (optional) {
                continue;
            }
            throw new Error(`Failed to load environment files: ${file} does not exist in the node root ${root}`);
        }
        Object.assign(environment, parseEnvironmentFile(text));
    }
    for (const setting of unitValues(unit, "Service", "Environment")) {
        for (const assignment of splitWords(setting)) {
            const equals = assignment.indexOf("=");
            if (equals <= 0) {
                throw new Error(`Environment= entry is not KEY=VALUE: ${assignment}`);
            }
            environment[assignment.slice(0, equals)] = assignment.slice(equals + 1);
        }
    }
    return environment;
}

/** One `Exec*=` command line, ready to run. */
export interface UnitCommand {
    argv: string[];
    /** The `-` prefix: a failure is ignored. */
    ignoreFailure: boolean;
}

/**
 * Expands variables in an already split command line as systemd does: `${VAR}`
 * is replaced inside its word; a word that is exactly `$VAR` becomes the
 * value's whitespace-separated words; `$$` is a literal `$`. An undefined
 * variable expands to nothing, exactly like on a real host: that is how a unit
 * naming a variable the metadata file lacks ends up with `http://:2379`.
 */
export function expandVariables(words: string[], environment: Record<string, string>): string[] {
    return words.flatMap((word) => {
        const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
        if (whole) {
            return splitWords(environment[whole[1]] ?? "");
        }
        return [word.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name?: string) => (name === undefined ? "$" : environment[name] ?? ""))];
    });
}

/** Parses and expands one `Exec*=` value. Prefixes other than `-` and specifiers (`%x`) are refused. */
export function parseCommand(value: string, environment: Record<string, string>): UnitCommand {
    const prefix = /^[-@:+!]*/.exec(value)![0];
    if (/[^-]/.test(prefix)) {
        throw new Error(`command prefix "${prefix}" in "${value}" is not emulated by the local harness`);
    }
    const line = value.slice(prefix.length);
    if (line.replace(/%%/g, "").includes("%")) {
        throw new Error(`specifiers (%x) in "${value}" are not emulated by the local harness`);
    }
    const argv = expandVariables(splitWords(line.replace(/%%/g, "%")), environment);
    if (argv.length === 0) {
        throw new Error(`empty command line: "${value}"`);
    }
    return { argv, ignoreFailure: prefix.includes("-") };
}

/** Where units Ignition writes live in a node root. */
export function unitPath(root: string, unitName: string): string {
    return path.join(root, "etc", "systemd", "system", unitName);
}

/**
 * The unit as systemd loads it: the unit file, then each `*.conf` drop-in of
 * `<name>.d/` in lexical order, each read on top of what came before (a list
 * setting grows, an empty assignment resets it, a single setting's last value
 * wins). Undefined if there is no unit file.
 */
export function loadUnitFile(root: string, unitName: string): UnitFile | undefined {
    const file = unitPath(root, unitName);
    if (!fs.existsSync(file)) {
        return undefined;
    }
    const unit = parseUnitFile(fs.readFileSync(file, "utf8"));
    const dropInDirectory = `${file}.d`;
    const dropIns = fs.existsSync(dropInDirectory) ? fs.readdirSync(dropInDirectory).filter((name) => name.endsWith(".conf")).sort() : [];
    for (const dropIn of dropIns) {
        parseUnitFile(fs.readFileSync(path.join(dropInDirectory, dropIn), "utf8"), unit);
    }
    return unit;
}

/** The last value given to a single-valued setting, or undefined. */
export function unitValue(unit: UnitFile, section: string, key: string): string | undefined {
    return unitValues(unit, section, key).at(-1);
}

/** systemd's boolean values. */
export function parseBoolean(value: string, setting: string): boolean {
    const lower = value.trim().toLowerCase();
    if (["1", "yes", "y", "true", "t", "on"].includes(lower)) {
        return true;
    }
    if (["0", "no", "n", "false", "f", "off"].includes(lower)) {
        return false;
    }
    throw new Error(`${setting}=${value} is not a boolean systemd knows`);
}

const timeUnitsMs: Record<string, number> = {
    us: 0.001, usec: 0.001, ms: 1, msec: 1, "": 1000, s: 1000, sec: 1000, second: 1000, seconds: 1000,
    m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000,
    d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/**
 * A systemd time span in milliseconds: `5`, `5s`, `100ms`, `1min 30s`,
 * `2h`; `infinity` is `Infinity`. A bare number is seconds.
 */
export function parseTimespan(value: string, setting: string): number {
    const text = value.trim();
    if (text === "infinity") {
        return Infinity;
    }
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]*)/g)];
    if (parts.length === 0 || parts.map((part) => part[0]).join("").replace(/\s/g, "") !== text.replace(/\s/g, "")) {
        throw new Error(`${setting}=${value} is not a time span systemd knows`);
    }
    return parts.reduce((total, [, amount, unit]) => {
        const factor = timeUnitsMs[unit];
        if (factor === undefined) {
            throw new Error(`${setting}=${value}: "${unit}" is not a time unit systemd knows`);
        }
        return total + Number(amount) * factor;
    }, 0);
}

/** A time of day, in UTC. */
/** One field of a calendar time: `start`, then every `step` after it within the field's range; no step is the one value. */
export interface CalendarField {
    start: number;
    step?: number;
}

/** A calendar event of the form the harness plays: every day, at the hours and minutes the fields match, at `second`. */
export interface CalendarTime {
    hour: CalendarField;
    minute: CalendarField;
    second: number;
}

/** Whether `value` is one of the field's. */
export function calendarFieldMatches(field: CalendarField, value: number): boolean {
    return field.step === undefined ? value === field.start : value >= field.start && (value - field.start) % field.step === 0;
}

/** `NN`, `*` (every value from 0) or `NN/step` (every step from NN), within 0 to `max`; undefined for anything else. */
function parseCalendarField(text: string, max: number): CalendarField | undefined {
    const match = /^(?:(\*)|(\d{1,2})(?:\/(\d{1,2}))?)$/.exec(text);
    if (!match) {
        return undefined;
    }
    if (match[1]) {
        return { start: 0, step: 1 };
    }
    const start = Number(match[2]);
    const step = match[3] === undefined ? undefined : Number(match[3]);
    return start <= max && (step === undefined || step >= 1) ? { start, step } : undefined;
}

/**
 * An `OnCalendar=` value of the form `*-*-* HH:MM` or `*-*-* HH:MM:SS`,
 * optionally followed by ` UTC`, where the hour and the minute may also be `*`
 * or `start/step` (`*:00/15:00`: every quarter hour; `00/6:00:00`: every six
 * hours): every day at the times they match. Without ` UTC` it is the node's
 * local time, which is UTC on the nodes. Other calendar expressions are
 * refused.
 */
export function parseCalendar(value: string): CalendarTime {
    const match = /^\*-\*-\* ([^:\s]+):([^:\s]+)(?::(\d{2}))?(?: UTC)?$/.exec(value.trim());
    const hour = match ? parseCalendarField(match[1], 23) : undefined;
    const minute = match ? parseCalendarField(match[2], 59) : undefined;
    const second = Number(match?.[3] ?? 0);
    if (!hour || !minute || second > 59) {
        throw new Error(`OnCalendar=${value} is not played by the local harness (it plays only *-*-* HH:MM or *-*-* HH:MM:SS, ` +
            "where the hour and the minute may also be * or start/step, optionally followed by \" UTC\")");
    }
    return { hour, minute, second };
}

/**
 * `systemd-escape --path`: the unit name part for a path, as mount units must
 * be named (`/var/lib/etcd` → `var-lib-etcd`) and device units are
 * (`/dev/disk/by-id/x` → `dev-disk-by\x2did-x`).
 */
export function escapePath(fsPath: string): string {
    const trimmed = fsPath.split("/").filter((part) => part !== "").join("/");
    if (trimmed === "") {
        return "-";
    }
    return [...trimmed].map((char, index) => {
        if (char === "/") {
            return "-";
        }
        if (/[A-Za-z0-9:_]/.test(char) || (char === "." && index > 0)) {
            return char;
        }
        return [...Buffer.from(char, "utf8")].map((byte) => `\\x${byte.toString(16).padStart(2, "0")}`).join("");
    }).join("");
}

/** The unit name systemd gives a path with the given suffix, e.g. `var-lib-etcd.mount`. */
export function pathUnitName(fsPath: string, suffix: "mount" | "device"): string {
    return `${escapePath(fsPath)}.${suffix}`;
}
