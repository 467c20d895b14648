/**
 * User data that would not bring up a cluster on EC2 must fail the local boot
 * too, promptly and with the reason, and leave nothing running. Most cases
 * edit the component's user data through the harness's `userDataTransform`
 * seam; one plays a wrong row in the OS table through `componentPatch`.
 */
import { expect } from "chai";
import * as path from "path";
import { IgnitionConfig } from "../lib/ignition";
import { LocalClusterOptions, startLocalCluster } from "../local/cluster";
import { leftoversOf } from "./helpers/leftovers";
import { startHookTimeoutMs } from "./helpers/local-cluster";

/** Applies `edit` to the parsed Ignition config and serialises it again. */
function editConfig(edit: (config: IgnitionConfig & { systemd: { units: any[] } }) => void): (userData: string) => string {
    return (userData) => {
        const config = JSON.parse(userData);
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
async function bootFailure(options: Partial<LocalClusterOptions>): Promise<Error> {
    try {
        const cluster = await startLocalCluster({ size: 3, ...options });
        await cluster.stop();
    } catch (error) {
        return error as Error;
    }
    throw new Error("the local boot succeeded");
}

describe("local boot of broken user data", function () {
    this.timeout(startHookTimeoutMs());

    it("fails with etcd's own error when the unit names a variable the metadata file does not define", async () => {
        const error = await bootFailure({ userDataTransform: editUnit(/AFTERBURN_AWS_IPV4_LOCAL/g, "AFTERBURN_AWS_IPV4_PRIVATE") });
        expect(error.message).to.match(/etcd3-cluster-\d etcd-member\.service: \/usr\/local\/bin\/etcd exited with code 1/);
        expect(error.message).to.include("unexpected empty host (http://:2380)");
    });

    it("fails, as on EC2, when the OS table names a variable Afterburn does not write: the metadata file's names are Afterburn's, not the table's", async () => {
        const patch = path.join(__dirname, "helpers", "patch-os-variable.ts");
        // Patched here too: a harness that took the names from lib/os.ts would write the wrong one and boot.
        const { undo, wrongVariable } = require(patch) as typeof import("./helpers/patch-os-variable");
        try {
            const error = await bootFailure({ componentPatch: patch });
            expect(error.message).to.include("unexpected empty host (http://:2380)");
            expect(error.message).to.not.include(wrongVariable);
        } finally {
            undo();
            delete require.cache[require.resolve(patch)];
        }
    });

    it("fails, as on AWS, when the target groups health-check a path etcd does not serve: no target ever becomes healthy", async () => {
        const error = await bootFailure({ componentPatch: path.join(__dirname, "helpers", "patch-health-check-path.ts") });
        expect(error.message).to.include("targets of healthy members are still DOWN").and.include("checks HTTP GET /healthz expecting 200");
    });

    it("refuses a wildcard in an advertised URL, which on EC2 hands peers and clients an address that is nobody's", async () => {
        const error = await bootFailure({ userDataTransform: editUnit("--advertise-client-urls=http://${AFTERBURN_AWS_IPV4_LOCAL}:2379", "--advertise-client-urls=http://0.0.0.0:2379") });
        expect(error.message).to.include("--advertise-client-urls=http://0.0.0.0:2379").and.include("advertises a wildcard address");
    });

    it("fails with ignition-validate's message when the validator rejects the config", async () => {
        const error = await bootFailure({ userDataTransform: editConfig((config) => (config.storage.directories[0].path = "var/lib/etcd")) });
        expect(error.message).to.include("ignition-validate rejected");
        expect(error.message).to.include("$.storage.directories.0.path");
        expect(error.message).to.include("path not absolute");
    });

    it("fails when the units are not enabled, since nothing would start them at boot", async () => {
        // The promote unit, enabled, pulls etcd's unit in by Requires=: neither may be enabled for nothing to start it.
        const error = await bootFailure({ userDataTransform: editConfig((config) => config.systemd.units.forEach((unit) => delete unit.enabled)) });
        expect(error.message).to.include("etcd-member.service is not enabled");
    });

    it("fails when the unit requires a unit the host does not provide", async () => {
        const error = await bootFailure({ userDataTransform: editUnit("Requires=afterburn.service", "Requires=afterburn.service cloud-magic.service") });
        expect(error.message).to.include("Requires=cloud-magic.service").and.include("not found");
    });

    it("fails when the units read the metadata file without being ordered after the unit that writes it", async () => {
        // The promote unit reads the file too, ordered after etcd's unit: the ordering goes from every unit.
        const unordered = editConfig((config) => config.systemd.units.forEach((unit) => (unit.contents = unit.contents.replace("After=afterburn.service ", "After="))));
        const error = await bootFailure({ userDataTransform: unordered });
        expect(error.message).to.include("Failed to load environment files: /run/metadata/afterburn does not exist");
        expect(error.message).to.include("without Requires= and After=afterburn.service");
    });

    it("never starts etcd when a oneshot it Requires= and is After= fails, as systemd would not", async () => {
        const failingJoin = editConfig((config) => {
            config.systemd.units.push({
                name: "etcd-join.service",
                contents: "[Unit]\nDescription=join\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/usr/bin/false\n",
            });
            config.systemd.units[0].dropins = [{ name: "10-join.conf", contents: "[Unit]\nRequires=etcd-join.service\nAfter=etcd-join.service\n" }];
        });
        // The oneshot's own failure is tolerated, so the start reports what became of etcd.
        const error = await bootFailure({ userDataTransform: failingJoin, toleratedBootFailures: 1 });
        expect(error.message).to.include("Dependency failed for etcd-member.service: it requires etcd-join.service, which failed");
    });

    it("leaves no process, directory or subnet reservation behind when the boot fails", async () => {
        const lines: string[] = [];
        await bootFailure({ userDataTransform: editUnit(/AFTERBURN_AWS_IPV4_LOCAL/g, "UNDEFINED_VARIABLE"), log: (line) => lines.push(line) });
        expect(leftoversOf(lines)).to.deep.equal([]);
    });
});
