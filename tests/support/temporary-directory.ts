/**
 * A temporary directory a suite owns, made in its `before` hook and removed in
 * its `after` hook. Made in a `describe` body instead, it would be made
 * whenever mocha loads the file, also when the suite then does not run
 * (`--grep`, `--dry-run`, Stryker's runs over a subset of the tests), and
 * nothing would remove it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Call in a `describe` body; the returned function gives the directory inside the suite's hooks and tests. */
export function useTemporaryDirectory(prefix: string): () => string {
    let directory: string | undefined;
    before(() => {
        directory = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    });
    after(() => {
        if (directory !== undefined) {
            fs.rmSync(directory, { recursive: true, force: true });
        }
    });
    return () => {
        if (directory === undefined) {
            throw new Error(`the suite's temporary directory (${prefix}…) is asked for outside its hooks and tests`);
        }
        return directory;
    };
}
