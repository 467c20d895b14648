/**
 * The test files themselves. A suite that makes a directory in its `describe`
 * body makes it whenever mocha loads the file, also when the suite does not
 * run (`--grep`, `--dry-run`, Stryker's runs over a subset), and then nothing
 * removes it. Kept with the local suites: it loads every test file in a child
 * process, which the mutation run has no use for.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { useTemporaryDirectory } from "./support/temporary-directory";

const run = promisify(execFile);
const mocha = path.join(__dirname, "..", "node_modules", "mocha", "bin", "mocha.js");

describe("the test files, every one loaded without running a test (mocha --dry-run)", function () {
    this.timeout(180_000);
    const workDir = useTemporaryDirectory("etcd3-test-files-");

    it("leave nothing in the temp dir: each suite makes its directories in its hooks", async () => {
        const tmp = path.join(workDir(), "tmp");
        fs.mkdirSync(tmp);
        const { stdout } = await run(process.execPath, [mocha, "--dry-run", "--reporter", "dot", "tests/**/*.test.ts"], {
            cwd: path.join(__dirname, ".."),
            env: { ...process.env, TMPDIR: tmp },
            timeout: 120_000,
            maxBuffer: 16 * 1024 * 1024,
        });
        expect(stdout).to.match(/\d+ passing/);
        // ts-node's compile cache (v8-compile-cache-lib) is the only directory that belongs there.
        const left = fs.readdirSync(tmp).filter((entry) => !entry.startsWith("v8-compile-cache-"));
        expect(left).to.deep.equal([]);
    });
});
