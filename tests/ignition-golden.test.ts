/**
 * Golden user data: the exact Ignition config each kind of member boots with,
 * committed under tests/golden/ so that any change to it shows up in review as
 * a diff of readable files. Each case has its own directory:
 *
 *   user-data.json       the config the user data carries, pretty-printed (EC2 gets it
 *                        compact, or gzipped inside a one-line config when it is over 16 KB)
 *   <unit name>          each systemd unit's text, as Ignition writes it
 *   files/<path>         each file's decoded contents, at its path on the node
 *
 * Any drift fails; when the change is intended, rewrite the files with
 * `UPDATE_GOLDEN=1 npx mocha tests/ignition-golden.test.ts` and review the diff.
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ec2UserDataLimitBytes, EtcdNodeIgnitionOptions, IgnitionConfig, renderUserData } from "../lib/ignition";
import { compressedConfigContents, decodeInlineContents } from "../local/ignition-contents";

const updateGoldenCommand = "UPDATE_GOLDEN=1 npx mocha tests/ignition-golden.test.ts";
const goldenDir = path.join(__dirname, "golden");
/** Files in tests/golden that are not rendered (the directory's own notes). */
const notGolden = new Set(["README.md"]);

const discoveryUrl = "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e";
const sshKeys = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example",
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGyAlUxQDd1rVN3tgn0OR5b1dnVBruYzhPcb+SxuRyBPRuumFYJ3itSGxDpPO63VZrqAejMjcEKn8k8ioUCpldU= ops@example",
];

/** A 3-member cluster's members by their slots' addresses, as the component gives them. */
const members = [
    { name: "etcd3-cluster-0", ip: "10.99.1.10" }, { name: "etcd3-cluster-1", ip: "10.99.2.10" }, { name: "etcd3-cluster-2", ip: "10.99.3.10" },
];
/** A static cluster's token, as the component makes it from the guard's id. */
const clusterToken = "etcd3-cluster-5f0c6a52-3d1e-4c1b-9a0e-2a4f1c3b7d99";

/**
 * What the component gives its first member with every argument at its
 * default: the fields of `memberIgnitionOptions` (lib/plan.ts), written out
 * here rather than imported, so the golden pins the builder's output alone.
 */
function firstMember(overrides: Partial<EtcdNodeIgnitionOptions>): EtcdNodeIgnitionOptions {
    return {
        memberName: "etcd3-cluster-0",
        discoveryUrl,
        members,
        dataVolumeId: "vol-0123456789abcdef0",
        enableV2Api: true,
        etcdVersion: "v3.5.33",
        os: "fedora-coreos",
        imageRepository: undefined,
        heartbeatIntervalMs: undefined,
        electionTimeoutMs: undefined,
        sshAuthorizedKeys: [],
        updateWindow: { startHourUtc: 2, lengthMinutes: 60 },
        quotaBackendMiB: 8192,
        snapshotCount: 10000,
        defragmentationTime: { hourUtc: 3, minute: 30 },
        ...overrides,
    };
}

/** Case name → options. Names become directory names: keep them stable. */
const cases: Record<string, EtcdNodeIgnitionOptions> = {};
for (const osName of ["fedora-coreos", "flatcar"] as const) {
    const member = (overrides: Partial<EtcdNodeIgnitionOptions>) => firstMember({ os: osName, ...overrides });
    cases[`${osName}-etcd3.5`] = member({});
    cases[`${osName}-etcd3.6`] = member({ etcdVersion: "v3.6.14", enableV2Api: false });
    // A 3.5 member readied for the roll to 3.6.
    cases[`${osName}-etcd3.5-no-v2-api`] = member({ enableV2Api: false });
    cases[`${osName}-etcd3.5-ssh-keys`] = member({ sshAuthorizedKeys: sshKeys });
    cases[`${osName}-etcd3.5-timing`] = member({ heartbeatIntervalMs: 250, electionTimeoutMs: 2500 });
    // The third member's windows, three hours after the first's (memberUpdateWindow, memberDefragmentationTime).
    cases[`${osName}-etcd3.5-member-2`] = member({
        memberName: "etcd3-cluster-2", updateWindow: { startHourUtc: 8, lengthMinutes: 60 }, defragmentationTime: { hourUtc: 9, minute: 30 },
    });
    // The builder called directly with no maintenance settings: etcd's own quota and snapshot count, no defragmentation timer.
    cases[`${osName}-etcd3.5-no-maintenance`] = member({ quotaBackendMiB: undefined, snapshotCount: undefined, defragmentationTime: undefined });
    // The builder called directly with no window: the OS keeps its own update policy.
    cases[`${osName}-etcd3.5-no-update-window`] = member({ updateWindow: undefined });
    // The builder called directly without a volume: the data stays on the root disk.
    cases[`${osName}-etcd3.5-no-data-volume`] = member({ dataVolumeId: undefined });
    // The builder called directly without the members' slots: a member with empty data can only form the cluster.
    cases[`${osName}-etcd3.5-no-members`] = member({ members: undefined });
    // bootstrap: "static" on each branch: the slots' addresses and the cluster's token instead of a discovery URL.
    const staticMember = (overrides: Partial<EtcdNodeIgnitionOptions>) => member({ discoveryUrl: undefined, clusterToken, ...overrides });
    cases[`${osName}-etcd3.5-static`] = staticMember({});
    cases[`${osName}-etcd3.6-static`] = staticMember({ etcdVersion: "v3.6.14", enableV2Api: false });
    cases[`${osName}-etcd3.7-static`] = staticMember({ etcdVersion: "v3.7.1", enableV2Api: false });
    // backups: the snapshot timer, its script and settings (a created bucket's name, as AWS completes its prefix).
    cases[`${osName}-etcd3.5-backups`] = member({
        snapshots: { bucket: "etcd3-backups-20261126000000000000000001", region: "eu-west-2", prefix: "etcd3-cluster/", intervalMinutes: 15 },
    });
    // peerTls: a static cluster whose members issue their peer certificates from the CA in the secrets bucket, and renew them.
    cases[`${osName}-etcd3.5-peer-tls`] = staticMember({ peerTls: { bucket: "etcd3-secrets-20261126000000000000000001", region: "eu-west-2" } });
    // clientTls: the same certificate serves the client port too, naming the gRPC NLB; etcdctl verifies the members with the CA.
    cases[`${osName}-etcd3.5-client-tls`] = staticMember({
        peerTls: { bucket: "etcd3-secrets-20261126000000000000000001", region: "eu-west-2" },
        clientTls: { dnsNames: ["etcd3-cluster-nlb-0123456789abcdef.elb.eu-west-2.amazonaws.com"] },
    });
    // rootPassword: with both TLS flags, the members turn etcd's access control on, sign tokens with the bucket's key and run etcdctl as root.
    cases[`${osName}-etcd3.5-access-control`] = staticMember({
        peerTls: { bucket: "etcd3-secrets-20261126000000000000000001", region: "eu-west-2" },
        clientTls: { dnsNames: [] },
        accessControl: true,
        enableV2Api: false,
        snapshots: { bucket: "etcd3-backups-20261126000000000000000001", region: "eu-west-2", prefix: "etcd3-cluster/", intervalMinutes: 15 },
    });
    // restoreFrom: a static cluster whose forming members restore a snapshot first.
    cases[`${osName}-etcd3.5-restore`] = staticMember({
        restore: { bucket: "etcd3-backups-20261126000000000000000001", region: "eu-west-2", key: "etcd3-cluster/etcd-snapshot-rev-00000000000000001234-20261126T231500Z.db" },
    });
}

/** The config user data carries: itself, or the one it is replaced with when sent compressed. */
const carriedConfig = (userData: string) => compressedConfigContents(userData) ?? userData;

/** The golden files of one config: relative path → contents, the readable ones first so a drift shows their diff. */
function goldenFiles(config: IgnitionConfig): Map<string, string> {
    const files = new Map<string, string>();
    for (const unit of config.systemd.units) {
        files.set(unit.name, unit.contents);
    }
    for (const file of config.storage.files ?? []) {
        files.set(path.posix.join("files", file.path), decodeInlineContents(file.contents));
    }
    files.set("user-data.json", `${JSON.stringify(config, null, 2)}\n`);
    return files;
}

/** Every golden file that should exist: path relative to tests/golden → contents. */
function expectedGolden(): Map<string, string> {
    const all = new Map<string, string>();
    for (const [name, options] of Object.entries(cases)) {
        for (const [file, contents] of goldenFiles(JSON.parse(carriedConfig(renderUserData(options))))) {
            all.set(path.posix.join(name, file), contents);
        }
    }
    return all;
}

/** Every file under tests/golden, relative, in posix form. */
function filesOnDisk(dir = goldenDir, prefix = ""): string[] {
    if (!fs.existsSync(dir)) {
        return [];
    }
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const relative = path.posix.join(prefix, entry.name);
        return entry.isDirectory() ? filesOnDisk(path.join(dir, entry.name), relative) : [relative];
    });
}

/** Replaces every case directory with freshly rendered files; the directory's notes stay. */
function rewriteGolden(expected: Map<string, string>): void {
    fs.mkdirSync(goldenDir, { recursive: true });
    for (const entry of fs.readdirSync(goldenDir)) {
        if (!notGolden.has(entry)) {
            fs.rmSync(path.join(goldenDir, entry), { recursive: true, force: true });
        }
    }
    for (const [file, contents] of expected) {
        fs.mkdirSync(path.dirname(path.join(goldenDir, file)), { recursive: true });
        fs.writeFileSync(path.join(goldenDir, file), contents);
    }
}

function ignitionValidate(userData: string): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-golden-"));
    try {
        fs.writeFileSync(path.join(dir, "user-data.ign"), userData);
        execFileSync("ignition-validate", [path.join(dir, "user-data.ign")], { stdio: "pipe", timeout: 10_000 });
    } catch (error) {
        const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
        const output = `${stdout ?? ""}${stderr ?? ""}`.trim() || (error as Error).message;
        throw new Error(`ignition-validate rejected the golden user data: ${output.trim()}`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const readGolden = (file: string) => {
    const full = path.join(goldenDir, file);
    return fs.existsSync(full) ? fs.readFileSync(full, "utf8") : undefined;
};

describe("golden user data (tests/golden)", () => {
    const expected = expectedGolden();
    const drift = `the rendered user data differs from tests/golden; if the change is intended, run\n    ${updateGoldenCommand}\n  and review the diff`;

    before(() => {
        if (process.env.UPDATE_GOLDEN === "1") {
            rewriteGolden(expected);
            console.log(`    rewrote ${expected.size} files in ${path.relative(process.cwd(), goldenDir)} for ${Object.keys(cases).length} cases`);
        }
    });

    it("has a file for every rendered file and no file left from a case or file that is gone", () => {
        const onDisk = filesOnDisk().filter((file) => !notGolden.has(file)).sort();
        expect(onDisk, drift).to.deep.equal([...expected.keys()].sort());
    });

    for (const [name, options] of Object.entries(cases)) {
        describe(name, () => {
            it("renders exactly the golden files", () => {
                for (const [file, contents] of expected) {
                    if (file.startsWith(`${name}/`)) {
                        expect(readGolden(file), `tests/golden/${file}: ${drift}`).to.equal(contents);
                    }
                }
            });

            it("gives EC2 exactly the golden JSON, compacted, within the size limit", () => {
                const golden = readGolden(`${name}/user-data.json`);
                expect(golden, `tests/golden/${name}/user-data.json is missing: ${drift}`).to.be.a("string");
                const userData = renderUserData(options);
                expect(carriedConfig(userData), drift).to.equal(JSON.stringify(JSON.parse(golden!)));
                expect(Buffer.byteLength(userData)).to.be.at.most(ec2UserDataLimitBytes);
            });

            it("is accepted by ignition-validate", function () {
                this.timeout(20_000);
                const golden = readGolden(`${name}/user-data.json`);
                expect(golden, `tests/golden/${name}/user-data.json is missing: ${drift}`).to.be.a("string");
                ignitionValidate(JSON.stringify(JSON.parse(golden!)));
            });
        });
    }
});
