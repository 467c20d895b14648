/**
 * User data that would not bring up a cluster on EC2 must fail the local boot
 * too, promptly and with the reason, and leave nothing running. Each case
 * edits the component's user data through the harness's `userDataTransform`
 * seam.
 */
import { expect } from "chai";
import * as fs from "fs";
import { IgnitionConfig } from "../lib/ignition";
import { listStates } from "../local/cluster-registry";
import { startLocalCluster } from "../local/cluster";

/** Applies `edit` to the parsed Ignition config and serialises it again. */
function editConfig(edit: (config: IgnitionConfig) => void): (userData: string) => string {
    return (userData) => {
        const config = JSON.parse(userData) as IgnitionConfig;
        edit(config);
        return JSON.stringify(config);
    };
}

/** Replaces text inside the etcd unit's contents. */
function editUnit(from: string | RegExp, to: string): (userData: string) => string {
    return editConfig((config) => {
        const unit = config.systemd.units[0];
        unit.contents = unit.contents.replace(from, to);
    });
}

/** Boots a 3-member cluster from transformed user data and resolves to the error it fails with. */
async function bootFailure(userDataTransform: (userData: string) => string, log?: (line: string) => void): Promise<Error> {
    try {
        const cluster = await startLocalCluster({ size: 3, userDataTransform, log });
        await cluster.stop();
    } catch (error) {
        return error as Error;
    }
    throw new Error("the local boot succeeded");
}

/** Command lines of every live process on the machine. */
function commandLines(): string[] {
    return fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).flatMap((pid) => {
        try {
            return [fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ")];
        } catch {
            return [];
        }
    });
}

describe("local boot of broken user data", function () {
    this.timeout(30_000);

    it("fails with etcd's own error when the unit names a variable the metadata file does not define", async () => {
        const error = await bootFailure(editUnit(/AFTERBURN_AWS_IPV4_LOCAL/g, "AFTERBURN_AWS_IPV4_PRIVATE"));
        expect(error.message).to.match(/etcd3-cluster-\d \(\/usr\/local\/bin\/etcd\) exited with code 1/);
        expect(error.message).to.include("unexpected empty host (http://:2380)");
    });

    it("fails with ignition-validate's message when the validator rejects the config", async () => {
        const error = await bootFailure(editConfig((config) => (config.storage.directories[0].path = "var/lib/etcd")));
        expect(error.message).to.include("ignition-validate rejected");
        expect(error.message).to.include("$.storage.directories.0.path");
        expect(error.message).to.include("path not absolute");
    });

    it("fails when the unit is not enabled, since nothing would start it at boot", async () => {
        const error = await bootFailure(editConfig((config) => (config.systemd.units[0].enabled = false)));
        expect(error.message).to.include("etcd-member.service is not enabled");
    });

    it("fails when the unit requires a unit the host does not provide", async () => {
        const error = await bootFailure(editUnit("Requires=afterburn.service", "Requires=afterburn.service cloud-magic.service"));
        expect(error.message).to.include("Requires=cloud-magic.service");
    });

    it("fails when the unit reads the metadata file without being ordered after the unit that writes it", async () => {
        const error = await bootFailure(editUnit("After=afterburn.service ", "After="));
        expect(error.message).to.include("without Requires= and After=afterburn.service");
    });

    it("leaves no process, directory or subnet reservation behind when the boot fails", async () => {
        const lines: string[] = [];
        await bootFailure(editUnit(/AFTERBURN_AWS_IPV4_LOCAL/g, "UNDEFINED_VARIABLE"), (line) => lines.push(line));
        const [, subnet, workDir] = /loopback subnet 127\.0\.(\d+)\.0\/24, files in (\S+)/.exec(lines.join("\n")) ?? [];
        expect(workDir, "the boot logged its subnet and directory").to.be.a("string");
        expect(fs.existsSync(workDir)).to.equal(false);
        expect(listStates().map((state) => state.subnet)).to.not.include(Number(subnet));
        expect(commandLines().filter((line) => line.includes(workDir) || line.includes(`127.0.${subnet}.`))).to.deep.equal([]);
    });
});
