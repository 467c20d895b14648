/**
 * The README's library snippets are regions of the examples' files, so they
 * cannot drift from code that CI runs (scripts/test-examples.sh). A snippet is
 * marked in the README with
 *     <!-- example: examples/new-vpc/index.ts#program -->
 * right before its code block, and the file holds the region between
 * `// #region program` and `// #endregion program`. The install facts the
 * README states (peer ranges, Node.js, the git URL) are checked against
 * package.json the same way.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";

const root = path.join(__dirname, "..");
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));

interface Snippet { file: string; region: string; code: string; line: number }

/** Every marked code block of the README. */
function snippets(): Snippet[] {
    const found: Snippet[] = [];
    const marker = /<!-- example: (\S+)#([\w-]+) -->\n+```\w*\n([\s\S]*?)```/g;
    for (let match = marker.exec(readme); match; match = marker.exec(readme)) {
        found.push({ file: match[1], region: match[2], code: match[3], line: readme.slice(0, match.index).split("\n").length });
    }
    return found;
}

/** The lines between `// #region name` and `// #endregion name`, without their common indentation. */
function region(file: string, name: string): string {
    const lines = fs.readFileSync(path.join(root, file), "utf8").split("\n");
    const start = lines.findIndex((line) => line.trim() === `// #region ${name}`);
    const end = lines.findIndex((line, index) => index > start && /^\/\/ #endregion\b/.test(line.trim()) &&
        [`// #endregion ${name}`, "// #endregion"].includes(line.trim()));
    if (start < 0 || end < 0) {
        throw new Error(`${file} has no region "${name}" (// #region ${name} ... // #endregion ${name})`);
    }
    const body = lines.slice(start + 1, end);
    const indent = Math.min(...body.filter((line) => line.trim() !== "").map((line) => line.length - line.trimStart().length));
    return body.map((line) => line.slice(indent)).join("\n") + "\n";
}

describe("README snippets taken from examples/", () => {
    const marked = snippets();

    it("quotes every example at least once", () => {
        const examples = fs.readdirSync(path.join(root, "examples"), { withFileTypes: true })
            .filter((entry) => entry.isDirectory()).map((entry) => `examples/${entry.name}/`);
        expect(examples).to.have.length.greaterThan(0);
        for (const example of examples) {
            expect(marked.some((snippet) => snippet.file.startsWith(example)), `README quotes nothing from ${example}`).to.equal(true);
        }
    });

    for (const snippet of marked) {
        it(`README line ${snippet.line} is ${snippet.file}#${snippet.region}`, () => {
            expect(snippet.code, `README.md line ${snippet.line} differs from ${snippet.file}#${snippet.region}: copy the region into the README`)
                .to.equal(region(snippet.file, snippet.region));
        });
    }
});

describe("README install facts agree with package.json", () => {
    const install = readme.slice(readme.indexOf("## Install"), readme.indexOf("\n## ", readme.indexOf("## Install") + 1));

    it("has an Install section", () => {
        expect(readme).to.contain("## Install");
    });

    for (const [name, range] of Object.entries(manifest.peerDependencies as Record<string, string>)) {
        it(`states the peer range of ${name}, ${range}`, () => {
            expect(install).to.contain(`| \`${name}\` | \`${range}\``);
        });
    }

    it("states the Node.js versions of engines", () => {
        const minimum = /^>=(\d+)$/.exec(manifest.engines.node)![1];
        expect(install).to.contain(`Node.js ${minimum} or newer`);
    });

    it("installs from the git repository package.json names", () => {
        const url = manifest.repository.url as string;
        expect(install).to.contain(`npm install ${url}`);
    });
});
