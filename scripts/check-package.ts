/**
 * Checks a packed tarball (`npm pack`) the way a consumer would meet it:
 *   npx ts-node --transpile-only scripts/check-package.ts etcd3-cluster-0.1.0.tgz
 * - `main`, `types` and every `exports` / `typesVersions` target is in it, and
 *   every compiled module is reached by an export (Pulumi's serializer needs it);
 * - every source map points at sources that are in it;
 * - every compiled module has its source (no stale output of a deleted module);
 * - it ships only the library (bin/, lib/, the README, the changelog, the license);
 * - @pulumi packages are peer dependencies, not dependencies.
 * Prints one line per problem and exits 1 if there is any.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const tarball = process.argv[2];
if (!tarball) {
    console.error("usage: check-package.ts <tarball>");
    process.exit(2);
}
const root = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-cluster-package-"));
execFileSync("tar", ["-xzf", path.resolve(tarball), "-C", root]);
const packageDir = path.join(root, "package");
const files = new Set(listFiles(packageDir));
const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8"));
const problems: string[] = [];

function listFiles(dir: string, prefix = ""): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => entry.isDirectory()
        ? listFiles(path.join(dir, entry.name), `${prefix}${entry.name}/`)
        : [`${prefix}${entry.name}`]);
}

const normal = (file: string) => path.posix.normalize(file.replace(/^\.\//, ""));
/** A file, or with `*` a pattern (as in `exports`) that at least one file matches. */
function matching(pattern: string): string[] {
    const [prefix, suffix] = normal(pattern).split("*");
    return suffix === undefined
        ? [...files].filter((file) => file === normal(pattern))
        : [...files].filter((file) => file.startsWith(prefix) && file.endsWith(suffix));
}
function expectFile(file: string, why: string): void {
    if (matching(file).length === 0) {
        problems.push(`${why}: ${file} is not in the package`);
    }
}

expectFile(manifest.main, "main");
expectFile(manifest.types, "types");
function exportTargets(value: unknown): string[] {
    if (typeof value === "string") {
        return [value];
    }
    return value && typeof value === "object" ? Object.values(value).flatMap(exportTargets) : [];
}
for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    exportTargets(target).forEach((file) => expectFile(file, `exports["${subpath}"]`));
}
for (const mapping of Object.values(manifest.typesVersions ?? {}) as Record<string, string[]>[]) {
    for (const [subpath, targets] of Object.entries(mapping)) {
        targets.forEach((file) => expectFile(file, `typesVersions "${subpath}"`));
    }
}
// Pulumi's closure serializer refers to a captured module of a package by its
// exported name (require("etcd3-cluster/bin/discovery.js") in a dynamic
// provider); a module no export reaches cannot be serialized at all.
const exportedFiles = new Set(Object.values(manifest.exports ?? {}).flatMap(exportTargets).flatMap(matching));
for (const file of files) {
    if (file.startsWith("bin/") && file.endsWith(".js") && !exportedFiles.has(file)) {
        problems.push(`${file} is reached by no export: a dynamic provider capturing it could not be serialized`);
    }
}
for (const subpath of [".", "./testing", "./package.json"]) {
    if (!(subpath in (manifest.exports ?? {}))) {
        problems.push(`exports has no "${subpath}"`);
    }
}

for (const file of files) {
    if (file.endsWith(".map")) {
        const map = JSON.parse(fs.readFileSync(path.join(packageDir, file), "utf8")) as { sources: string[]; sourceRoot?: string };
        for (const source of map.sources) {
            const resolved = normal(path.posix.join(path.posix.dirname(file), map.sourceRoot ?? "", source));
            if (!files.has(resolved)) {
                problems.push(`${file} points at ${source}, which is not in the package`);
            }
        }
    }
    const compiled = /^bin\/(.*)\.js$/.exec(file);
    if (compiled && !files.has(`lib/${compiled[1]}.ts`)) {
        problems.push(`${file} has no source lib/${compiled[1]}.ts: stale build output?`);
    }
    if (!/^(bin\/|lib\/|README\.md$|CHANGELOG\.md$|LICENSE$|package\.json$)/.test(file)) {
        problems.push(`${file} should not be in the package`);
    }
}

for (const name of Object.keys(manifest.dependencies ?? {})) {
    if (name.startsWith("@pulumi/")) {
        problems.push(`${name} is a dependency: it must be a peer dependency, or consumers get a second copy of it`);
    }
}
for (const name of ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/awsx", "@pulumi/tls"]) {
    if (!manifest.peerDependencies?.[name]) {
        problems.push(`${name} is not a peer dependency`);
    }
}

fs.rmSync(root, { recursive: true, force: true });
if (problems.length > 0) {
    console.error(`${path.basename(tarball)}: ${problems.length} problem(s):\n  - ${problems.join("\n  - ")}`);
    process.exit(1);
}
console.log(`${path.basename(tarball)}: ${files.size} files, exports, types and source maps all resolve inside the package`);
