import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildIgnitionConfig, ec2UserDataLimitBytes, EtcdNodeIgnitionOptions, renderUserData } from "../lib/ignition";

const base: EtcdNodeIgnitionOptions = {
    memberName: "etcd3-cluster-1",
    discoveryUrl: "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e",
    etcdVersion: "v3.5.33",
};
const unitOf = (options: EtcdNodeIgnitionOptions) => {
    const [unit] = buildIgnitionConfig(options).systemd.units;
    return unit;
};
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

    it("joins through the discovery URL and exits rather than proxying when the token is full", () => {
        const words = execStartOf(base);
        expect(words).to.include(`--discovery=${base.discoveryUrl}`);
        expect(words).to.include("--discovery-fallback=exit");
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
        expect(contents).to.match(/^Requires=coreos-metadata\.service$/m);
        expect(contents).to.match(/^EnvironmentFile=\/run\/metadata\/flatcar$/m);
        expect(execStartOf(options)).to.include("--advertise-client-urls=http://${COREOS_EC2_IPV4_LOCAL}:2379");
        expect(execStartOf(options)[0]).to.equal("/usr/bin/docker");
    });

    it("gives SSH keys to the core user only when there are some", () => {
        expect(buildIgnitionConfig(base).passwd).to.equal(undefined);
        const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";
        expect(buildIgnitionConfig({ ...base, sshAuthorizedKeys: [key] }).passwd).to.deep.equal({ users: [{ name: "core", sshAuthorizedKeys: [key] }] });
    });

    it("writes no update policy unless a window is given", () => {
        expect(buildIgnitionConfig(base).storage.files).to.equal(undefined);
    });

    it("gives Zincati a periodic strategy with the member's daily window", () => {
        const [file] = buildIgnitionConfig({ ...base, updateWindow: { startHourUtc: 5, lengthMinutes: 60 } }).storage.files!;
        expect(file.path).to.equal("/etc/zincati/config.d/55-etcd3-cluster-updates.toml");
        const toml = decodeURIComponent(file.contents.source.replace(/^data:,/, ""));
        expect(toml).to.contain('strategy = "periodic"').and.contain('start_time = "05:00"').and.contain("length_minutes = 60");
    });

    it("gives Flatcar's locksmithd the member's reboot window from the OS table", () => {
        const [file] = buildIgnitionConfig({ ...base, os: "flatcar", updateWindow: { startHourUtc: 14, lengthMinutes: 60 } }).storage.files!;
        expect(file.path).to.equal("/etc/flatcar/update.conf");
        expect(decodeURIComponent(file.contents.source.replace(/^data:,/, "")))
            .to.equal("REBOOT_STRATEGY=reboot\nLOCKSMITHD_REBOOT_WINDOW_START=14:00\nLOCKSMITHD_REBOOT_WINDOW_LENGTH=60m\n");
    });

    it("rejects an unsupported etcd release", () => {
        expect(() => buildIgnitionConfig({ ...base, etcdVersion: "v3.7.1" })).to.throw('etcdVersion "v3.7.1"');
    });

    it("stays far below EC2's 16 KB user data limit", () => {
        expect(Buffer.byteLength(renderUserData(base))).to.be.lessThan(ec2UserDataLimitBytes / 4);
    });

    it("refuses user data over EC2's limit instead of letting the launch fail", () => {
        const keys = Array.from({ length: 40 }, () => `ssh-rsa ${"A".repeat(540)} ops@example`);
        expect(() => renderUserData({ ...base, sshAuthorizedKeys: keys })).to.throw(/bytes; EC2 accepts at most 16384/);
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
