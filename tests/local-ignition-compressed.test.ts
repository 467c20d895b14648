/**
 * User data over EC2's limit goes out gzipped in a config that replaces
 * itself with it (lib/ignition.ts, `compressedConfig`). The real Ignition
 * must then write exactly what the config itself would, and the harness must
 * reach inside it as it reaches into any user data.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildIgnitionConfig, compressedConfig, EtcdNodeIgnitionOptions, withoutCommentLines } from "../lib/ignition";
import { applyIgnition } from "../local/ignition-apply";
import { placeholderDiscoveryUrl, withDiscoveryUrl } from "../local/component-resources";
import { compressedConfigContents } from "../local/ignition-contents";

const options: EtcdNodeIgnitionOptions = {
    memberName: "etcd3-cluster-1", discoveryUrl: placeholderDiscoveryUrl, etcdVersion: "v3.5.33", os: "fedora-coreos",
    dataVolumeId: "vol-0123456789abcdef0", updateWindow: { startHourUtc: 2, lengthMinutes: 60 },
};

/** A written file's text, without what differs between two applies of one config. */
function comparable(relative: string, text: string): string {
    // Ignition writes its preset lines in Go's map order, which differs from run to run.
    if (relative.includes("system-preset/")) return text.split("\n").sort().join("\n");
    // Its result file records the second it ran; two applies can straddle a second.
    if (relative === "etc/.ignition-result.json") return text.replace(/"provisioningDate": "[^"]*"/, `"provisioningDate": "…"`);
    return text;
}

/** Every path under `root` with its type, mode and contents (or link target). */
function treeOf(root: string): Record<string, string> {
    const tree: Record<string, string> = {};
    const walk = (directory: string) => {
        for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
            const full = path.join(directory, entry.name);
            const relative = path.relative(root, full);
            const mode = (fs.lstatSync(full).mode & 0o7777).toString(8);
            if (entry.isSymbolicLink()) {
                tree[relative] = `link -> ${fs.readlinkSync(full)}`;
            } else if (entry.isDirectory()) {
                tree[relative] = `directory ${mode}`;
                walk(full);
            } else {
                tree[relative] = `file ${mode}\n${comparable(relative, fs.readFileSync(full, "utf8"))}`;
            }
        }
    };
    walk(root);
    return tree;
}

describe("local harness: compressed user data", function () {
    this.timeout(60_000);
    let directory: string;
    beforeEach(() => (directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-compressed-"))));
    afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

    /** The root the real Ignition writes from `userData`. */
    async function applied(name: string, userData: string): Promise<Record<string, string>> {
        const nodeDir = path.join(directory, name);
        fs.mkdirSync(nodeDir);
        const userDataFile = path.join(nodeDir, "user-data.ign");
        fs.writeFileSync(userDataFile, userData);
        return treeOf(await applyIgnition({ userDataFile, nodeDir }));
    }

    it("makes the real Ignition write the same files, directories and units as the config itself", async () => {
        const config = JSON.stringify(buildIgnitionConfig(options));
        const plain = await applied("plain", config);
        expect(Object.keys(plain)).to.include("etc/systemd/system/etcd-member.service");
        expect(await applied("compressed", compressedConfig(config))).to.deep.equal(plain);
    });

    it("makes the real Ignition write the same files from the config with its files as text, the form compressed user data carries", async () => {
        const plain = await applied("plain", JSON.stringify(buildIgnitionConfig(options)));
        expect(await applied("text", compressedConfig(JSON.stringify(buildIgnitionConfig(options, "text"))))).to.deep.equal(plain);
    });

    it("makes the real Ignition write the same tree from the config without its scripts' comments, but for those lines", async () => {
        const plain = await applied("plain", JSON.stringify(buildIgnitionConfig(options)));
        const script = "opt/etcd3-cluster/etcd-member-bootstrap";
        const [mode, ...lines] = plain[script].split("\n");
        const expected = { ...plain, [script]: [mode, withoutCommentLines(lines.join("\n"))].join("\n") };
        expect(expected[script]).to.not.equal(plain[script]);
        expect(await applied("bare", compressedConfig(JSON.stringify(buildIgnitionConfig(options, "text-without-comments"))))).to.deep.equal(expected);
    });

    it("is rewritten by the harness inside the compression, as plain user data is", () => {
        const config = JSON.stringify(buildIgnitionConfig(options));
        const discoveryUrl = "http://127.0.0.1:8087/0123456789abcdef0123456789abcdef";
        expect(compressedConfigContents(withDiscoveryUrl(compressedConfig(config), discoveryUrl))).to.equal(withDiscoveryUrl(config, discoveryUrl));
    });
});
