/**
 * What a local cluster left behind, judged from its own log lines (which name
 * its subnet and directory): processes, files, the subnet reservation.
 */
import * as fs from "fs";
import { listStates } from "../../local/cluster-registry";

/** Command lines of every live process on the machine. */
export function commandLines(): string[] {
    return fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).flatMap((pid) => {
        try {
            const line = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
            return line === "" ? [] : [line];
        } catch {
            return [];
        }
    });
}

/**
 * Everything a cluster whose log is `lines` left behind, one description per
 * leftover; empty when it cleaned up. Judged by its directory and its
 * discovery service's address, never by its subnet alone, which another
 * cluster may take as soon as it is released.
 */
export function leftoversOf(lines: string[]): string[] {
    const log = lines.join("\n");
    const workDir = /files in (\S+)/.exec(log)?.[1];
    const discoveryAddress = /discovery: http:\/\/([\d.]+:\d+)\//.exec(log)?.[1];
    const leftovers: string[] = [];
    if (workDir === undefined) {
        return ["the log names no directory: the start was interrupted before it made one, or the log format changed"];
    }
    if (fs.existsSync(workDir)) {
        leftovers.push(`directory ${workDir}`);
    }
    if (listStates().some((state) => state.workDir === workDir)) {
        leftovers.push(`subnet reservation of ${workDir}`);
    }
    const mine = (line: string) => line.includes(workDir) || (discoveryAddress !== undefined && line.includes(discoveryAddress));
    leftovers.push(...commandLines().filter(mine).map((line) => `process ${line}`));
    return leftovers;
}
