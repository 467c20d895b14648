/**
 * The README's measured figures are generated from the committed
 * bench/results.json: this fails when they differ (someone edited a figure,
 * or reran the benchmark without regenerating), and says how to regenerate.
 */
import { expect } from "chai";
import * as fs from "fs";
import type { BenchResults } from "../bench/results-format";
import { benchTablesCommand, readmeFile, readResults, renderBenchSections, renderReadme } from "../scripts/bench-tables";

describe("README figures generated from bench/results.json", () => {
    const results = readResults();

    it("bench/results.json is a complete run without errors", () => {
        expect(results.errors ?? [], "errors recorded in bench/results.json; rerun: npm run bench").to.deep.equal([]);
        for (const section of ["userData", "program", "bootstrap", "loadBalancer", "faults", "rolling"] as const) {
            expect(results[section], `bench/results.json lacks ${section}; rerun: npm run bench -- --only ${section.toLowerCase()}`).to.not.equal(undefined);
        }
        expect(results.faults!.scenarios.map((s) => s.fault)).to.deep.equal(["stop-leader", "crash-leader", "stop-follower", "stop-cluster"]);
        expect(results.faults!.scenarios.every((s) => s.lostOrAltered === 0), "a committed run lost acknowledged writes").to.equal(true);
        expect(results.rolling!.results.map((r) => r.size), "the rolling section rolls clusters of 3 and 5").to.deep.equal([3, 5]);
        expect(results.rolling!.results.every((r) => r.lostOrAltered === 0 && r.runs.every((run) => run.lostOrAltered === 0)),
            "a committed roll lost acknowledged writes").to.equal(true);
    });

    it("README.md's generated sections match what scripts/bench-tables.ts renders from it", () => {
        const readme = fs.readFileSync(readmeFile, "utf8");
        const expected = renderReadme(readme, results);
        const differing = readme.split("\n").filter((line, i) => line !== expected.split("\n")[i]).slice(0, 3);
        expect(readme === expected, `README.md's figures differ from bench/results.json (first differing lines: ${JSON.stringify(differing)}); run: ${benchTablesCommand}`).to.equal(true);
    });

    it("refuses to render a run that recorded errors", () => {
        const failed: BenchResults = { ...results, errors: ["bootstrap: 3 nodes, run 1: the start failed"] };
        expect(() => renderBenchSections(failed)).to.throw(/failed run/);
    });

    it("reports a README that lost a marker rather than guessing", () => {
        for (const name of ["faults", "rolling"]) {
            const readme = fs.readFileSync(readmeFile, "utf8").replace(`<!-- bench:${name}:end -->`, "");
            expect(() => renderReadme(readme, results)).to.throw(new RegExp(`bench:${name}`));
        }
    });

    it("puts the roll's figures in the README's Rolling replacement section", () => {
        const readme = fs.readFileSync(readmeFile, "utf8");
        const section = readme.slice(readme.indexOf("### Rolling replacement"), readme.indexOf("\n### ", readme.indexOf("### Rolling replacement") + 1));
        expect(section).to.contain("<!-- bench:rolling:start");
        expect(section).to.contain("<!-- bench:rolling:end -->");
    });
});
