/**
 * Reads a systemd service unit the way systemd does, as far as the etcd unit
 * needs: sections and keys, `\` line continuations, list settings that an
 * empty assignment resets, `EnvironmentFile=` and `Environment=`, and the
 * command lines with quoting, `-` prefixes and `${VAR}` / `$VAR` expansion.
 * Anything else that would change how the command runs is refused rather than
 * ignored, so the local boot cannot pass where a real one would not.
 */
import * as fs from "fs";
import * as path from "path";

/** Section → key → values in file order (a list setting may be assigned many times). */
export type UnitFile = Map<string, Map<string, string[]>>;

/** Parses unit file text; a line ending in `\` continues on the next, as in systemd. */
export function parseUnitFile(text: string): UnitFile {
    const unit: UnitFile = new Map();
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
