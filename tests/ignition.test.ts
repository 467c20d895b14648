import { expect } from "chai";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { resolveArgs } from "../lib/args";
import { bootstrapSettingsPath } from "../lib/bootstrap";
import { snapshotSettingsPath } from "../lib/snapshots";
import {
    buildIgnitionConfig, compressedConfig, ec2UserDataLimitBytes, EtcdNodeIgnitionOptions, IgnitionConfig, renderUserData, withoutCommentLines,
} from "../lib/ignition";
import { decodeInlineContents } from "../local/ignition-contents";
import { OperatingSystem, operatingSystems } from "../lib/os";
import { memberIgnitionOptions, planMembers } from "../lib/plan";

const base: EtcdNodeIgnitionOptions = {
    memberName: "etcd3-cluster-1",
    discoveryUrl: "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e",
    etcdVersion: "v3.5.33",
};
const unitOf = (options: EtcdNodeIgnitionOptions) => {
    const [unit] = buildIgnitionConfig(options).systemd.units;
    return unit;
};
/** The text of the file at `filePath` in the config, or undefined if it writes none there. */
const fileOf = (options: EtcdNodeIgnitionOptions, filePath: string) => {
    const file = buildIgnitionConfig(options).storage.files?.find((candidate) => candidate.path === filePath);
    return file && decodeInlineContents(file.contents);
};
/** The unit names in every `key=` line of the etcd unit's [Unit] section, in order. */
const unitNamesOf = (options: EtcdNodeIgnitionOptions, key: string) =>
    [...unitOf(options).contents.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].flatMap((match) => match[1].split(/\s+/)).filter(Boolean);
/** The unit's ExecStart as the words systemd would run (continuations joined). */
const execStartOf = (options: EtcdNodeIgnitionOptions) =>
    /^ExecStart=(.*)$/m.exec(unitOf(options).contents.replace(/ \\\n\s*/g, " "))![1].split(/\s+/);

function validate(userData: string): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-ign-"));
    try {
        fs.writeFileSync(path.join(dir, "config.ign"), userData);
        execFileSync("ignition-validate", [path.join(dir, "config.ign")], { stdio: "pipe" });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("Ignition builder", () => {
    it("writes Ignition spec 3.3.0", () => {
        expect(buildIgnitionConfig(base).ignition.version).to.equal("3.3.0");
    });

    it("enables an etcd-member.service unit", () => {
        expect(unitOf(base)).to.include({ name: "etcd-member.service", enabled: true });
        expect(unitOf(base).contents).to.contain("WantedBy=multi-user.target");
    });

    it("starts etcd after Afterburn and reads the private IP from its metadata file", () => {
        const contents = unitOf(base).contents;
        expect(contents).to.match(/^Requires=afterburn\.service$/m);
        expect(contents).to.match(/^After=afterburn\.service/m);
        expect(contents).to.match(/^EnvironmentFile=\/run\/metadata\/afterburn$/m);
    });

    it("advertises client and peer URLs on AFTERBURN_AWS_IPV4_LOCAL", () => {
        const words = execStartOf(base);
        expect(words).to.include("--advertise-client-urls=http://${AFTERBURN_AWS_IPV4_LOCAL}:2379");
        expect(words).to.include("--initial-advertise-peer-urls=http://${AFTERBURN_AWS_IPV4_LOCAL}:2380");
        expect(unitOf(base).contents).not.to.match(/AFTERBURN_AWS_IPV4\b(?!_LOCAL)/);
    });

    it("listens on 2379 and 2380 on every interface", () => {
        const words = execStartOf(base);
        expect(words).to.include("--listen-client-urls=http://0.0.0.0:2379");
        expect(words).to.include("--listen-peer-urls=http://0.0.0.0:2380");
    });

    it("runs the official etcd image with podman on the host network, data in /var/lib/etcd", () => {
        const words = execStartOf(base);
        expect(words.slice(0, 2)).to.deep.equal(["/usr/bin/podman", "run"]);
        expect(words).to.include("--net=host");
        expect(words.join(" ")).to.contain("--volume /var/lib/etcd:/var/lib/etcd:z");
        const image = words.indexOf("gcr.io/etcd-development/etcd:v3.5.33");
        expect(image).to.be.greaterThan(0);
        expect(words[image + 1]).to.equal("/usr/local/bin/etcd");
        expect(words).to.include("--data-dir=/var/lib/etcd");
        expect(buildIgnitionConfig(base).storage.directories).to.deep.include({ path: "/var/lib/etcd", mode: 0o700 });
    });

    it("forms through the discovery URL and exits rather than proxying when the token is full", () => {
        expect(fileOf(base, bootstrapSettingsPath)).to.contain(`\nFORM_FLAGS=--discovery=${base.discoveryUrl} --discovery-fallback=exit\n`);
    });

    it("decides how etcd starts as the first step of each start, and starts it with the flags decided", () => {
        const service = unitOf(base).contents.split("[Service]\n")[1].split("\n");
        expect(service.filter((line) => /^(EnvironmentFile|ExecStartPre|TimeoutStartSec)=/.test(line))).to.deep.equal([
            "EnvironmentFile=/run/metadata/afterburn",
            "EnvironmentFile=/etc/etcd3-cluster/member.env",
            "EnvironmentFile=-/run/etcd-member/bootstrap.env",
            "TimeoutStartSec=20min",
            "ExecStartPre=-/usr/bin/podman rm --force etcd-member",
            "ExecStartPre=/bin/bash /opt/etcd3-cluster/etcd-member-bootstrap decide ${AFTERBURN_AWS_IPV4_LOCAL}",
        ]);
        expect(execStartOf(base)).to.include("$ETCD_BOOTSTRAP_FLAGS");
    });

    it("gives the member its stable name", () => {
        expect(execStartOf(base)).to.include("--name=etcd3-cluster-1");
    });

    it("turns on the v2 API for etcd 3.5", () => {
        expect(execStartOf(base)).to.include("--enable-v2=true");
    });

    it("leaves out --enable-v2, which 3.6 no longer has", () => {
        const words = execStartOf({ ...base, etcdVersion: "v3.6.14" });
        expect(words).to.include("gcr.io/etcd-development/etcd:v3.6.14");
        expect(words.some((w) => w.startsWith("--enable-v2"))).to.equal(false);
    });

    it("pulls the image only when it is missing, so a reboot needs no registry", () => {
        expect(execStartOf(base)).to.include("--pull=missing");
        expect(unitOf(base).contents).not.to.match(/ pull /);
    });

    it("restarts etcd on failure", () => {
        expect(unitOf(base).contents).to.match(/^Restart=on-failure$/m);
    });

    it("passes heartbeat and election timing only when given", () => {
        expect(execStartOf(base).some((w) => w.startsWith("--heartbeat-interval"))).to.equal(false);
        const words = execStartOf({ ...base, heartbeatIntervalMs: 250, electionTimeoutMs: 2500 });
        expect(words).to.include.members(["--heartbeat-interval=250", "--election-timeout=2500"]);
    });

    it("uses Flatcar's metadata unit, variable and docker from the OS table", () => {
        const options = { ...base, os: "flatcar" as const };
        const contents = unitOf(options).contents;
        expect(contents).to.match(/^Requires=coreos-metadata\.service\b/m);
        expect(contents).to.match(/^EnvironmentFile=\/run\/metadata\/flatcar$/m);
        expect(execStartOf(options)).to.include("--advertise-client-urls=http://${COREOS_EC2_IPV4_LOCAL}:2379");
        expect(execStartOf(options)[0]).to.equal("/usr/bin/docker");
    });

    it("orders Flatcar's etcd on docker.service, so dockerd is up before it and stops after it at shutdown", () => {
        const names = (key: string) => unitNamesOf({ ...base, os: "flatcar" }, key);
        expect(names("Requires")).to.include("docker.service");
        expect(names("After")).to.include("docker.service");
    });

    it("orders Fedora CoreOS's etcd on no container service: podman has no daemon", () => {
        expect(unitNamesOf(base, "Requires")).to.deep.equal(["afterburn.service"]);
        expect(unitNamesOf(base, "After")).to.deep.equal(["afterburn.service", "network-online.target"]);
    });

    for (const [name, profile] of Object.entries(operatingSystems)) {
        it(`requires and orders after every service the ${name} row's container runtime needs`, () => {
            const options = { ...base, os: name as OperatingSystem };
            expect(unitNamesOf(options, "Requires")).to.include.members([...profile.containerRuntimeUnits]);
            expect(unitNamesOf(options, "After")).to.include.members([...profile.containerRuntimeUnits]);
        });
    }

    it("gives SSH keys to the core user only when there are some", () => {
        expect(buildIgnitionConfig(base).passwd).to.equal(undefined);
        const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";
        expect(buildIgnitionConfig({ ...base, sshAuthorizedKeys: [key] }).passwd).to.deep.equal({ users: [{ name: "core", sshAuthorizedKeys: [key] }] });
    });

    it("writes no update policy unless a window is given", () => {
        expect([fileOf(base, "/etc/zincati/config.d/55-etcd3-cluster-updates.toml"), fileOf({ ...base, os: "flatcar" }, "/etc/flatcar/update.conf")])
            .to.deep.equal([undefined, undefined]);
    });

    it("gives Zincati a periodic strategy with the member's daily window", () => {
        const toml = fileOf({ ...base, updateWindow: { startHourUtc: 5, lengthMinutes: 60 } }, "/etc/zincati/config.d/55-etcd3-cluster-updates.toml");
        expect(toml).to.contain('strategy = "periodic"').and.contain('start_time = "05:00"').and.contain("length_minutes = 60");
    });

    it("gives Flatcar's locksmithd the member's reboot window from the OS table", () => {
        expect(fileOf({ ...base, os: "flatcar", updateWindow: { startHourUtc: 14, lengthMinutes: 60 } }, "/etc/flatcar/update.conf"))
            .to.equal("REBOOT_STRATEGY=reboot\nLOCKSMITHD_REBOOT_WINDOW_START=14:00\nLOCKSMITHD_REBOOT_WINDOW_LENGTH=60m\n");
    });

    it("rejects an unsupported etcd release", () => {
        expect(() => buildIgnitionConfig({ ...base, etcdVersion: "v3.8.0" })).to.throw('etcdVersion "v3.8.0"');
    });

    describe("refuses options that would make a broken unit, naming the option and what is allowed", () => {
        /** Options as a JavaScript caller or a cast could pass them, past the type checker. */
        const loose = (overrides: Record<string, unknown>) => ({ ...base, ...overrides }) as unknown as EtcdNodeIgnitionOptions;
        const refuses = (overrides: Record<string, unknown>, ...fragments: string[]) => {
            for (const build of [buildIgnitionConfig, renderUserData]) {
                let message = "";
                try {
                    build(loose(overrides));
                } catch (error) {
                    message = (error as Error).message;
                }
                expect(message, `${build.name} of ${JSON.stringify(overrides)}`).to.not.equal("");
                fragments.forEach((fragment) => expect(message).to.include(fragment));
            }
        };

        it("a missing discoveryUrl, instead of writing --discovery=undefined", () => {
            refuses({ discoveryUrl: undefined }, "give discoveryUrl", "or clusterToken");
        });

        it("a discoveryUrl that is not a discovery service's URL and token", () => {
            refuses({ discoveryUrl: "https://discovery.etcd.io/new?size=3" }, 'discoveryUrl "https://discovery.etcd.io/new?size=3"', "32-hex-digit token");
            refuses({ discoveryUrl: "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e extra" }, "discoveryUrl");
            refuses({ discoveryUrl: "" }, 'discoveryUrl ""');
        });

        it("accepts a discovery URL on a private service with a port, as the local cluster uses", () => {
            expect(fileOf({ ...base, discoveryUrl: "http://127.0.7.100:8087/0123456789abcdef0123456789abcdef" }, bootstrapSettingsPath))
                .to.include("FORM_FLAGS=--discovery=http://127.0.7.100:8087/0123456789abcdef0123456789abcdef ");
        });

        it("a member name that is empty, missing or would be split or expanded by systemd", () => {
            for (const memberName of [undefined, "", "etcd 1", "etcd-$HOST", "etcd-%i", 'etcd-"1"', "etcd\n1", "etcd-1\n"]) {
                refuses({ memberName }, "memberName", "letters, digits");
            }
        });

        it("an etcd release that is missing, malformed or not a supported branch", () => {
            refuses({ etcdVersion: undefined }, "etcdVersion undefined", "3.5, 3.6, 3.7");
            refuses({ etcdVersion: "latest" }, 'etcdVersion "latest"', "3.5, 3.6, 3.7");
        });

        it("an os that is not a row of the OS table, even one named like an object property", () => {
            refuses({ os: "ubuntu" }, 'os "ubuntu"', "fedora-coreos, flatcar");
            refuses({ os: "constructor" }, 'os "constructor"');
        });

        it("an image repository that is not a plain repository name without a tag", () => {
            refuses({ imageRepository: "quay.io/coreos/etcd:v3.5.33" }, 'imageRepository "quay.io/coreos/etcd:v3.5.33"', "without a tag");
            refuses({ imageRepository: "quay.io/coreos/etcd --privileged" }, "imageRepository");
        });

        it("timing that is not a whole number of ms in etcd's range", () => {
            refuses({ heartbeatIntervalMs: 0 }, "heartbeatIntervalMs 0", "whole number of ms from 10 to 5000");
            refuses({ heartbeatIntervalMs: 150.5 }, "heartbeatIntervalMs 150.5");
            refuses({ heartbeatIntervalMs: Number.NaN }, "heartbeatIntervalMs NaN");
            refuses({ heartbeatIntervalMs: "250" }, 'heartbeatIntervalMs "250"');
            refuses({ electionTimeoutMs: 60000 }, "electionTimeoutMs 60000", "to 50000");
            refuses({ electionTimeoutMs: Number.POSITIVE_INFINITY }, "electionTimeoutMs Infinity");
        });

        it("an election timeout under 5 heartbeats, which etcd refuses at start, counting etcd's defaults for the one not given", () => {
            refuses({ heartbeatIntervalMs: 300, electionTimeoutMs: 1000 }, "electionTimeoutMs 1000", "5 × heartbeatIntervalMs (1500)");
            refuses({ heartbeatIntervalMs: 300 }, "electionTimeoutMs", "etcd's default of 1000", "1500");
            refuses({ electionTimeoutMs: 400 }, "electionTimeoutMs 400", "(500)");
            expect(execStartOf({ ...base, heartbeatIntervalMs: 200 })).to.include("--heartbeat-interval=200");
            expect(execStartOf({ ...base, electionTimeoutMs: 500 })).to.include("--election-timeout=500");
        });

        it("an update window that is not a whole hour of the day and a length within a day", () => {
            refuses({ updateWindow: { startHourUtc: 24, lengthMinutes: 60 } }, "updateWindow.startHourUtc 24", "0 to 23");
            refuses({ updateWindow: { startHourUtc: 1.5, lengthMinutes: 60 } }, "updateWindow.startHourUtc 1.5");
            refuses({ updateWindow: { startHourUtc: 2, lengthMinutes: 0 } }, "updateWindow.lengthMinutes 0", "1 to 1440");
            refuses({ updateWindow: { startHourUtc: 2 } }, "updateWindow.lengthMinutes undefined");
        });

        it("SSH keys that are not one non-empty line each", () => {
            refuses({ sshAuthorizedKeys: ["ssh-ed25519 AAAA ops@example\nssh-rsa BBBB other"] }, "sshAuthorizedKeys[0]", "one line");
            refuses({ sshAuthorizedKeys: ["ssh-ed25519 AAAA ops@example", " "] }, "sshAuthorizedKeys[1]");
            refuses({ sshAuthorizedKeys: "ssh-ed25519 AAAA ops@example" }, "sshAuthorizedKeys", "list");
        });

        it("lists every problem at once", () => {
            refuses({ discoveryUrl: undefined, memberName: "" }, "give discoveryUrl", 'memberName ""');
        });
    });

    it("sends every member of a default 7-member cluster with an SSH key its config uncompressed, as the component renders it", () => {
        const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";
        const args = resolveArgs("etcd3", { clusterSize: 7, sshAuthorizedKeys: [key], sshCidrs: ["10.99.0.0/16"] });
        const discoveryUrl = "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e";
        for (const member of planMembers(args)) {
            const options = memberIgnitionOptions(args, member, { discoveryUrl, dataVolumeId: "vol-0123456789abcdef0" });
            expect(renderUserData(options), member.name).to.equal(JSON.stringify(buildIgnitionConfig(options)));
        }
    });

    it("fits EC2's limit with every feature at its largest: 7 members, the longest names, backups to the longest bucket and prefix, peer and client TLS", () => {
        const members = Array.from({ length: 7 }, (_, index) => ({ name: `abcdefghijklmnop-${index}`, ip: `10.199.${100 + index % 3}.${100 + index}` }));
        const largest: EtcdNodeIgnitionOptions = {
            ...base, memberName: "abcdefghijklmnop-6", discoveryUrl: undefined, clusterToken: "abcdefghijklmnop-5f0c6a52-3d1e-4c1b-9a0e-2a4f1c3b7d99",
            members, dataVolumeId: "vol-0123456789abcdef0", imageRepository: "registry.example.com/mirror/etcd-development/etcd",
            heartbeatIntervalMs: 250, electionTimeoutMs: 2500, updateWindow: { startHourUtc: 20, lengthMinutes: 60 },
            quotaBackendMiB: 5120, snapshotCount: 100000, defragmentationTime: { hourUtc: 21, minute: 30 },
            sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example"],
            snapshots: { bucket: "a".repeat(63), region: "ap-southeast-2", prefix: `${"abcdefghi/".repeat(19)}abcdefghi/`, intervalMinutes: 15 },
            peerTls: { bucket: "b".repeat(63), region: "ap-southeast-2" },
            clientTls: { dnsNames: [`${"abcdefghijklmnop"}-nlb-0123456789abcdef.elb.ap-southeast-2.amazonaws.com`] },
        };
        expect(Buffer.byteLength(renderUserData(largest))).to.be.lessThan(ec2UserDataLimitBytes);
        validate(renderUserData(largest));
    });

    it("gives the snapshot unit etcdctl with its work directory, the TLS directory and the CA when the members serve TLS", () => {
        const config = buildIgnitionConfig({
            ...base, snapshots: { bucket: "etcd3-backups", region: "eu-west-2", prefix: "etcd3-cluster/", intervalMinutes: 15 },
            peerTls: { bucket: "etcd3-secrets", region: "eu-west-2" }, clientTls: { dnsNames: [] },
        });
        const settings = decodeInlineContents(config.storage.files!.find((file) => file.path === snapshotSettingsPath)!.contents);
        expect(settings.split("\n").filter((line) => line.startsWith("SNAPSHOT_ETCDCTL="))).to.deep.equal([
            "SNAPSHOT_ETCDCTL=/usr/bin/podman run --rm --net=host --pull=missing --volume /var/lib/etcd3-cluster-snapshot:/var/lib/etcd3-cluster-snapshot:z " +
            "--volume /run/etcd3-cluster/tls:/run/etcd3-cluster/tls:z gcr.io/etcd-development/etcd:v3.5.33 /usr/local/bin/etcdctl " +
            "--cacert=/run/etcd3-cluster/tls/peer-ca.crt",
        ]);
    });

    it("keeps a config that fits EC2's limit as it is", () => {
        expect(renderUserData(base)).to.equal(JSON.stringify(buildIgnitionConfig(base)));
    });

    describe("a config over EC2's limit", () => {
        // 40 keys of one repeated letter: 22 KB that gzip makes small.
        const overLimit: EtcdNodeIgnitionOptions = { ...base, sshAuthorizedKeys: Array.from({ length: 40 }, () => `ssh-rsa ${"A".repeat(540)} ops@example`) };

        it("is sent gzipped in a config that replaces itself with it, under the limit", () => {
            expect(Buffer.byteLength(JSON.stringify(buildIgnitionConfig(overLimit)))).to.be.greaterThan(ec2UserDataLimitBytes);
            const userData = renderUserData(overLimit);
            expect(Buffer.byteLength(userData)).to.be.at.most(ec2UserDataLimitBytes);
            const replace = JSON.parse(userData).ignition.config.replace;
            expect(JSON.parse(userData)).to.deep.equal({ ignition: { version: "3.3.0", config: { replace } } });
            expect(replace.compression).to.equal("gzip");
            expect(replace.source).to.match(/^data:;base64,/);
            expect(decodeInlineContents(replace)).to.equal(JSON.stringify(buildIgnitionConfig(overLimit, "text")));
        });

        it("carries its files inside the compression as text, each with the contents the uncompressed config gives it", () => {
            const inner = JSON.parse(decodeInlineContents(JSON.parse(renderUserData(overLimit)).ignition.config.replace)) as IgnitionConfig;
            const shortest = buildIgnitionConfig(overLimit);
            expect(shortest.storage.files!.some((file) => file.contents.compression === "gzip"), "the uncompressed config gzips its scripts").to.equal(true);
            expect(inner.storage.files!.map((file) => file.contents.source.slice(0, 6))).to.deep.equal(shortest.storage.files!.map(() => "data:,"));
            const decoded = (config: IgnitionConfig) => config.storage.files!.map((file) => ({ ...file, contents: decodeInlineContents(file.contents) }));
            expect(decoded(inner)).to.deep.equal(decoded(shortest));
            const withoutFiles = (config: IgnitionConfig) => ({ ...config, storage: { ...config.storage, files: undefined } });
            expect(withoutFiles(inner)).to.deep.equal(withoutFiles(shortest));
        });

        it("is sent compressed in a form ignition-validate accepts", () => {
            validate(renderUserData(overLimit));
        });

        /** `count` SSH keys that do not compress: each a different run of SHA-512 digests, 700 bytes of user data or so. */
        const incompressibleKeys = (count: number) => Array.from({ length: count }, (_, index) => `ssh-rsa ${Array.from({ length: 6 }, (_, part) =>
            createHash("sha512").update(`${index}-${part}`).digest("base64")).join("")} ops@example`);

        it("is sent compressed without its scripts' comment lines when only that fits, its units and other files as they are", () => {
            // 17 such keys: over the limit compressed with the comments (16,781 bytes when measured), under it without.
            const options = { ...base, sshAuthorizedKeys: incompressibleKeys(17) };
            const withComments = buildIgnitionConfig(options, "text");
            expect(Buffer.byteLength(compressedConfig(JSON.stringify(withComments)))).to.be.greaterThan(ec2UserDataLimitBytes);
            const userData = renderUserData(options);
            expect(Buffer.byteLength(userData)).to.be.at.most(ec2UserDataLimitBytes);
            const inner = JSON.parse(decodeInlineContents(JSON.parse(userData).ignition.config.replace)) as IgnitionConfig;
            const decoded = (config: IgnitionConfig) => config.storage.files!.map((file) => ({ ...file, contents: decodeInlineContents(file.contents) }));
            expect(decoded(inner)).to.deep.equal(decoded(withComments).map((file) => ({
                ...file, contents: file.contents.startsWith("#!") ? withoutCommentLines(file.contents) : file.contents,
            })));
            // Its files as text, like the compressed config's (text compresses best), not each compressed on its own.
            expect(inner.storage.files!.filter((file) => !file.contents.source.startsWith("data:,") || "compression" in file.contents).map((file) => file.path))
                .to.deep.equal([]);
            expect(decoded(inner).filter((file) => file.contents.startsWith("#!")).map((file) => file.path)).to.deep.equal(["/opt/etcd3-cluster/etcd-member-bootstrap"]);
            expect(decoded(inner).find((file) => file.path === "/opt/etcd3-cluster/etcd-member-bootstrap")!.contents).to.not.match(/^\s*#(?!!)/m);
            const withoutFiles = (config: IgnitionConfig) => ({ ...config, storage: { ...config.storage, files: undefined } });
            expect(withoutFiles(inner)).to.deep.equal(withoutFiles(withComments));
            validate(userData);
        });

        it("is refused, with its three sizes and what to do, when even compressed without the comments it is over the limit", () => {
            expect(() => renderUserData({ ...base, sshAuthorizedKeys: incompressibleKeys(40) })).to.throw(new RegExp(
                "^the Ignition config for etcd3-cluster-1 is \\d+ bytes, \\d+ compressed, \\d+ compressed without its scripts' comments; " +
                "EC2 accepts at most 16384: give fewer or shorter sshAuthorizedKeys \\(an ed25519 key is the shortest\\), or leave out a feature$"));
        });
    });

    describe("the scripts without their comment lines (withoutCommentLines)", () => {
        it("keeps the #! line and every line with a command, a comment after a command or a # inside a word", () => {
            expect(withoutCommentLines([
                "#!/bin/bash", "# what it does", "set -eu", "    # indented", "echo \"#1\" # after a command", "\t#tab", "x=a#b", "",
            ].join("\n"))).to.equal(["#!/bin/bash", "set -eu", "echo \"#1\" # after a command", "x=a#b", ""].join("\n"));
        });

        it("leaves bash's own reading of every script the component ships unchanged (no comment line inside a string or here-document)", () => {
            // bash prints a function's body as it parsed it, without comments: wrapping a script in one shows what bash runs.
            const parsed = (script: string) => execFileSync("bash", ["-c", 'eval "f() {\n$1\n}" && declare -f f', "parsed", script], { encoding: "utf8" });
            const goldenDirectory = path.join(__dirname, "golden");
            const scripts = new Map<string, string>();
            for (const golden of fs.readdirSync(goldenDirectory)) {
                const scriptDirectory = path.join(goldenDirectory, golden, "files", "opt", "etcd3-cluster");
                for (const name of fs.existsSync(scriptDirectory) ? fs.readdirSync(scriptDirectory) : []) {
                    scripts.set(fs.readFileSync(path.join(scriptDirectory, name), "utf8"), `${golden}/${name}`);
                }
            }
            expect(new Set([...scripts.values()].map((where) => where.split("/")[1]))).to.deep.equal(new Set([
                "etcd-member-bootstrap", "etcd-member-defragment", "etcd-member-snapshot", "etcd-member-restore", "etcd-member-certificate",
                "etcd-member-access-control",
            ]));
            const changed = [...scripts].filter(([script]) => parsed(withoutCommentLines(script)) !== parsed(script)).map(([, where]) => where);
            expect(changed).to.deep.equal([]);
        });
    });

    for (const [label, options] of [
        ["Fedora CoreOS with etcd 3.5", base],
        ["Fedora CoreOS with etcd 3.6", { ...base, etcdVersion: "v3.6.14" }],
        ["Flatcar", { ...base, os: "flatcar" }],
        ["an update window", { ...base, updateWindow: { startHourUtc: 2, lengthMinutes: 60 } }],
        ["Flatcar with an update window", { ...base, os: "flatcar", updateWindow: { startHourUtc: 2, lengthMinutes: 60 } }],
    ] as [string, EtcdNodeIgnitionOptions][]) {
        it(`produces a config ignition-validate accepts for ${label}`, () => {
            validate(renderUserData(options));
        });
    }
});
