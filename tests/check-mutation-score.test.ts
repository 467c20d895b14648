/**
 * scripts/check-mutation-score.ts: which files of lib/ it counts. A file that
 * only re-exports has no mutants, so Stryker's report leaves it out; counting
 * it made `--record` fail ("no result for lib/index.ts") and the CI step name
 * it as not recorded yet.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { libFiles, onlyReExports } from "../scripts/check-mutation-score";

describe("the mutation score check's files of lib/ (scripts/check-mutation-score.ts)", () => {
    it("counts every file of lib/ but the ones that only re-export", () => {
        const all = fs.readdirSync(path.join(__dirname, "..", "lib")).filter((file) => file.endsWith(".ts")).map((file) => `lib/${file}`).sort();
        expect(libFiles()).to.deep.equal(all.filter((file) => file !== "lib/index.ts"));
    });

    it("tells a file of re-exports from one with code of its own", () => {
        expect([onlyReExports("lib/index.ts"), onlyReExports("lib/etcd.ts")]).to.deep.equal([true, false]);
    });
});
