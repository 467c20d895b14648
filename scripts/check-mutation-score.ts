/**
 * The mutation score of lib/ against the threshold recorded in mutation/score.json:
 *   npx ts-node --transpile-only scripts/check-mutation-score.ts [--ci | --record] [report.json]
 * reads Stryker's JSON report (default reports/mutation/mutation.json), prints
 * the score and the surviving mutants that mutation/score.json does not list
 * yet, and exits 1 when the score is below the recorded threshold.
 *
 * `--ci` (`npm run test:mutation:ci`) first runs Stryker incrementally, from
 * the committed mutation/stryker-incremental.json, over the files of lib/ that
 * mutation/score.json records: only mutants in code or tests that changed
 * since are tested. A file of lib/ not recorded yet is named, not tested: a
 * full run (`npm run test:mutation`) records it. A record marked `stale` is
 * named as such and only its recorded score is checked (see `ScoreRecord`).
 *
 * `--record` (after a run, as `npm run test:mutation` does) also writes the
 * score, the counts per file and the surviving mutants into mutation/score.json,
 * and drops from mutation/stryker-incremental.json every file it does not
 * record; the threshold is only ever changed by hand. It records every file of
 * lib/, or those `--files lib/a.ts,lib/b.ts` names (a run over part of lib/).
 * Stryker's report also carries results of files it did not test this time,
 * from older runs: only the recorded files are ever counted.
 *
 * The score is Stryker's: killed and timed-out mutants over all mutants that
 * were tested or left uncovered (survived, no coverage); mutants that do not
 * compile, error at run time or are ignored count for neither.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const root = path.join(__dirname, "..");
const scoreFile = path.join(root, "mutation", "score.json");
const incrementalFile = path.join(root, "mutation", "stryker-incremental.json");

type Status = "Killed" | "Timeout" | "Survived" | "NoCoverage" | "CompileError" | "RuntimeError" | "Ignored" | "Pending";

interface ReportMutant {
    mutatorName: string;
    replacement?: string;
    status: Status;
    location: { start: { line: number; column: number } };
}

interface Report {
    files: Record<string, { mutants: ReportMutant[] }>;
}

/** A mutant the tests let through, as mutation/score.json and mutation/report.md name it. */
export interface Survivor {
    file: string;
    line: number;
    column: number;
    mutator: string;
    replacement: string;
    status: "Survived" | "NoCoverage";
}

export interface Counts {
    killed: number;
    timeout: number;
    survived: number;
    noCoverage: number;
    compileError: number;
    runtimeError: number;
    ignored: number;
    /** Killed and timed out over killed, timed out, survived and uncovered, in percent, two decimals. */
    score: number;
}

export interface ScoreRecord {
    /** The score CI refuses to go below. Changed by hand only. */
    threshold: number;
    score: number;
    counts: Omit<Counts, "score">;
    files: Record<string, Counts>;
    survivors: Survivor[];
    /**
     * Set by hand when lib/ or its tests changed after the record and the
     * refresh did not fit in the session: `--ci` then says so and checks the
     * recorded score without running Stryker (the incremental run would
     * re-test what changed, for longer than CI's time limit). The next
     * `--record` drops it.
     */
    stale?: { since: string; why: string };
}

export function countsOf(mutants: readonly ReportMutant[]): Counts {
    const count = (status: Status) => mutants.filter((mutant) => mutant.status === status).length;
    const killed = count("Killed");
    const timeout = count("Timeout");
    const survived = count("Survived");
    const noCoverage = count("NoCoverage");
    const valid = killed + timeout + survived + noCoverage;
    return {
        killed, timeout, survived, noCoverage,
        compileError: count("CompileError"), runtimeError: count("RuntimeError"), ignored: count("Ignored"),
        score: valid === 0 ? 100 : Math.floor(((killed + timeout) / valid) * 10_000) / 100,
    };
}

export function survivorsOf(report: Report): Survivor[] {
    return Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b)).flatMap(([file, { mutants }]) => mutants
        .filter((mutant) => mutant.status === "Survived" || mutant.status === "NoCoverage")
        .map((mutant) => ({
            file,
            line: mutant.location.start.line,
            column: mutant.location.start.column,
            mutator: mutant.mutatorName,
            replacement: mutant.replacement ?? "",
            status: mutant.status as Survivor["status"],
        }))
        .sort((a, b) => a.line - b.line || a.column - b.column || a.mutator.localeCompare(b.mutator)));
}

const sameSurvivor = (a: Survivor, b: Survivor) =>
    a.file === b.file && a.mutator === b.mutator && a.replacement === b.replacement && a.status === b.status;

/** Whether a file only re-exports (`export … from`): nothing in it for Stryker to mutate, and its report leaves it out. */
export function onlyReExports(file: string): boolean {
    const source = ts.createSourceFile(file, fs.readFileSync(path.join(root, file), "utf8"), ts.ScriptTarget.Latest);
    return source.statements.every((statement) => ts.isExportDeclaration(statement) && statement.moduleSpecifier !== undefined);
}

/** The files of lib/ Stryker mutates and reports: every one but those that only re-export (lib/index.ts). */
export function libFiles(): string[] {
    return fs.readdirSync(path.join(root, "lib")).filter((file) => file.endsWith(".ts")).map((file) => `lib/${file}`)
        .filter((file) => !onlyReExports(file)).sort();
}

/** Stryker, incrementally, over the recorded files; false if it failed. */
function runIncrementally(recorded: ScoreRecord): boolean {
    const files = Object.keys(recorded.files).filter((file) => fs.existsSync(path.join(root, file)));
    const unrecorded = libFiles().filter((file) => !(file in recorded.files));
    if (unrecorded.length > 0) {
        console.log(`not recorded yet, so not tested here (npm run test:mutation records them): ${unrecorded.join(", ")}`);
    }
    // As the record was taken: code the dynamic providers run in Pulumi's host counts for the tests that start it.
    const env = { ...process.env, ETCD3_MUTATION_PROVIDER_COVERAGE: "1" };
    const stryker = spawnSync("npx", ["stryker", "run", "--mutate", files.join(","), "--reporters", "json,progress"], { cwd: root, stdio: "inherit", env });
    return stryker.status === 0;
}

function main(args: string[]): number {
    const record = args.includes("--record");
    const reportFile = args.find((arg) => !arg.startsWith("--")) ?? path.join(root, "reports", "mutation", "mutation.json");
    const recorded = JSON.parse(fs.readFileSync(scoreFile, "utf8")) as ScoreRecord;
    if (args.includes("--ci") && recorded.stale) {
        console.log(`the mutation record is stale since ${recorded.stale.since}: ${recorded.stale.why}. ` +
            "Stryker is not run here; refresh the record with npm run test:mutation (or a run over the changed files and --record) " +
            "and commit it. Checking the recorded score.");
        console.log(`recorded mutation score of lib/: ${recorded.score.toFixed(2)} %; threshold ${recorded.threshold.toFixed(2)} %`);
        return recorded.score >= recorded.threshold ? 0 : 1;
    }
    if (args.includes("--ci")) {
        fs.rmSync(reportFile, { force: true });
        if (!runIncrementally(recorded)) {
            console.error("Stryker failed");
            return 1;
        }
    }
    if (!fs.existsSync(reportFile)) {
        console.error(`no Stryker JSON report at ${reportFile}: run Stryker first (npm run test:mutation)`);
        return 1;
    }
    const fullReport = JSON.parse(fs.readFileSync(reportFile, "utf8")) as Report;
    const filesArgument = args.find((arg) => arg.startsWith("--files="))?.slice("--files=".length);
    const counted = record ? (filesArgument ? filesArgument.split(",") : libFiles()) : Object.keys(recorded.files);
    const missing = counted.filter((file) => !(file in fullReport.files));
    if (missing.length > 0) {
        console.error(`Stryker's report has no result for ${missing.join(", ")}`);
        return 1;
    }
    const report: Report = { files: Object.fromEntries(counted.map((file) => [file, fullReport.files[file]])) };
    const all = Object.values(report.files).flatMap((file) => file.mutants);
    const { score, ...counts } = countsOf(all);
    const survivors = survivorsOf(report);

    console.log(`mutation score of lib/: ${score.toFixed(2)} % (${counts.killed} killed, ${counts.timeout} timed out, ` +
        `${counts.survived} survived, ${counts.noCoverage} not covered; ${counts.compileError} did not compile, ` +
        `${counts.ignored} ignored as static); threshold ${recorded.threshold.toFixed(2)} %, recorded ${recorded.score.toFixed(2)} %`);
    // Line numbers move with every edit: a survivor is matched by file, mutator and replacement.
    const unlisted = survivors.filter((survivor) => !recorded.survivors.some((known) => sameSurvivor(known, survivor)));
    if (!record && unlisted.length > 0) {
        console.log(`${unlisted.length} surviving mutant(s) not in mutation/score.json (see reports/mutation/mutation.html):`);
        unlisted.forEach((s) => console.log(`  ${s.file}:${s.line}:${s.column} ${s.mutator} ${s.status}: ${JSON.stringify(s.replacement.slice(0, 120))}`));
    }

    if (record) {
        const files = Object.fromEntries(Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))
            .map(([file, { mutants }]) => [file, countsOf(mutants)]));
        const next: ScoreRecord = { threshold: recorded.threshold, score, counts, files, survivors };
        fs.writeFileSync(scoreFile, `${JSON.stringify(next, null, 2)}\n`);
        const incremental = JSON.parse(fs.readFileSync(incrementalFile, "utf8")) as Report & Record<string, unknown>;
        incremental.files = Object.fromEntries(Object.entries(incremental.files).filter(([file]) => counted.includes(file)));
        fs.writeFileSync(incrementalFile, JSON.stringify(incremental));
        console.log(`recorded ${counted.length} file(s) in ${path.relative(root, scoreFile)}; ${path.relative(root, incrementalFile)} keeps their results only`);
    }
    if (score < recorded.threshold) {
        console.error(`the mutation score ${score.toFixed(2)} % is below the threshold ${recorded.threshold.toFixed(2)} %: ` +
            "kill the new surviving mutants with tests, or list an equivalent one in mutation/report.md");
        return 1;
    }
    return 0;
}

if (require.main === module) {
    process.exitCode = main(process.argv.slice(2));
}
