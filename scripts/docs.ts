/**
 * Renders what is derived from the argument and output definitions: the
 * README's argument and output tables and Pulumi.yaml's config. The
 * descriptions are the TSDoc of `Etcd3ClusterArgs` and `Etcd3ClusterOutputs`;
 * the types and defaults come from `argumentDefinitions`.
 *
 *   npx ts-node --transpile-only scripts/docs.ts --write   rewrite the files
 *   npx ts-node --transpile-only scripts/docs.ts           exit 1 if they differ
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { ArgumentDefinition, argumentDefinitions, ArgumentType } from "../lib/args";
import { outputNames } from "../lib/outputs";

export const root = path.join(__dirname, "..");
export const docsCommand = "npx ts-node --transpile-only scripts/docs.ts --write";

/** The TSDoc of each property of an interface, as one line of text. */
export function interfaceDocs(file: string, interfaceName: string): Map<string, string> {
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const docs = new Map<string, string>();
    const visit = (node: ts.Node) => {
        if (ts.isInterfaceDeclaration(node) && node.name.text === interfaceName) {
            for (const member of node.members) {
                const comment = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc).map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? "");
                docs.set((member.name as ts.Identifier).text, comment.join(" ").replace(/\s+/g, " ").trim());
            }
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    return docs;
}

/** The default as the README and the TSDoc write it. */
export function defaultText(definition: ArgumentDefinition): string {
    const value = definition.default;
    if (value === undefined) {
        return "none";
    }
    if (typeof value === "object") {
        return value.words;
    }
    return `\`${value}\`` + (definition.defaultOnlyWhen ? ` when ${definition.defaultOnlyWhen}` : "");
}

/** Splits an argument's TSDoc into its description and its closing `Default …` sentence, which must match the definition. */
function describeArgument(name: string, doc: string | undefined, definition: ArgumentDefinition): string {
    const closing = `Default ${defaultText(definition)}.`;
    if (!doc || !doc.endsWith(closing)) {
        throw new Error(`lib/args.ts: the TSDoc of ${name} must end with "${closing}" (found: ${JSON.stringify(doc?.slice(-80))})`);
    }
    return doc.slice(0, -closing.length).trim();
}

const typeNames: Record<ArgumentType, string> = {
    "string": "string",
    "integer": "integer",
    "boolean": "boolean",
    "string-list": "list of strings",
    "string-map": "map of strings",
    "string-input": "string (or Output)",
    "string-list-input": "list of strings (or Output)",
    "secret-input": "secret string (or Output)",
    "path-or-false": "string or `false`",
};

const cell = (text: string) => text.replace(/\|/g, "\\|");

export function argumentsTable(): string {
    const docs = interfaceDocs(path.join(root, "lib/args.ts"), "Etcd3ClusterArgs");
    const rows = Object.entries(argumentDefinitions).map(([name, definition]) =>
        `| \`${name}\` | ${typeNames[definition.type]} | ${cell(defaultText(definition))} | ${cell(describeArgument(name, docs.get(name), definition))} |`);
    return ["| argument | type | default | what it is |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

export function outputsTable(): string {
    const docs = interfaceDocs(path.join(root, "lib/outputs.ts"), "Etcd3ClusterOutputs");
    const rows = outputNames.map((name) => {
        const doc = docs.get(name);
        if (!doc) {
            throw new Error(`lib/outputs.ts: the output ${name} has no TSDoc`);
        }
        return `| \`${name}\` | ${cell(doc)} |`;
    });
    return ["| output | what it is |", "| --- | --- |", ...rows].join("\n");
}

/** Pulumi.yaml's config: the arguments whose default is one value in every case. */
export function pulumiConfig(): string {
    const docs = interfaceDocs(path.join(root, "lib/args.ts"), "Etcd3ClusterArgs");
    const yamlTypes: Partial<Record<ArgumentType, string>> = { "string": "string", "integer": "integer", "boolean": "boolean", "path-or-false": "string" };
    const lines = ["config:"];
    for (const [name, definition] of Object.entries(argumentDefinitions)) {
        const value = definition.default;
        if (value === undefined || typeof value === "object" || definition.defaultOnlyWhen) {
            continue;
        }
        lines.push(
            `  ${name}:`,
            `    type: ${yamlTypes[definition.type]}`,
            `    default: ${JSON.stringify(value)}`,
            `    description: ${JSON.stringify(describeArgument(name, docs.get(name), definition))}`,
        );
    }
    return lines.join("\n");
}

/** Replaces what stands between `<!-- name:start -->` and `<!-- name:end -->`. */
function replaceBetween(text: string, marker: string, content: string, file: string): string {
    const start = `<!-- ${marker}:start (generated by scripts/docs.ts) -->`;
    const end = `<!-- ${marker}:end -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from) {
        throw new Error(`${file}: the markers ${start} and ${end} are missing`);
    }
    return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}

/** Every generated file with the content it should have. */
export function renderDocs(): Map<string, string> {
    const readmePath = path.join(root, "README.md");
    let readme = fs.readFileSync(readmePath, "utf8");
    readme = replaceBetween(readme, "arguments", argumentsTable(), "README.md");
    readme = replaceBetween(readme, "outputs", outputsTable(), "README.md");
    const projectPath = path.join(root, "Pulumi.yaml");
    const project = fs.readFileSync(projectPath, "utf8");
    const configStart = project.indexOf("\nconfig:");
    if (configStart < 0) {
        throw new Error("Pulumi.yaml: no config section");
    }
    return new Map([[readmePath, readme], [projectPath, `${project.slice(0, configStart + 1)}${pulumiConfig()}\n`]]);
}

if (require.main === module) {
    const write = process.argv.includes("--write");
    let stale = 0;
    for (const [file, content] of renderDocs()) {
        if (fs.readFileSync(file, "utf8") === content) {
            continue;
        }
        if (write) {
            fs.writeFileSync(file, content);
            console.log(`wrote ${path.relative(root, file)}`);
        } else {
            stale += 1;
            console.error(`${path.relative(root, file)} is out of date; run: ${docsCommand}`);
        }
    }
    process.exit(stale > 0 ? 1 : 0);
}
