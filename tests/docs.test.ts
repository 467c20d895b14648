import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { docsCommand, renderDocs, root } from "../scripts/docs";

describe("documentation generated from the argument and output definitions", () => {
    for (const [file, expected] of renderDocs()) {
        const name = path.relative(root, file);
        it(`${name} matches lib/args.ts and lib/outputs.ts`, () => {
            const actual = fs.readFileSync(file, "utf8");
            expect(actual === expected, `${name} has drifted from the definitions; run: ${docsCommand}`).to.equal(true);
        });
    }
});
