/**
 * lib/data-volume.ts and its place in the Ignition config: the units that put
 * etcd's data on the member's slot volume, compared whole, and etcd's order on
 * them. tests/local-slots.test.ts boots them on loop devices.
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    dataFilesystemUnitName, dataMountUnitName, dataResizeUnitName, dataVolumePart, isVolumeId, pathUnitName, volumeDevicePath,
} from "../lib/data-volume";
import { buildIgnitionConfig, EtcdNodeIgnitionOptions, etcdUnitName } from "../lib/ignition";

const volumeId = "vol-0123456789abcdef0";
const device = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0";
const deviceUnit = "dev-disk-by\\x2did-nvme\\x2dAmazon_Elastic_Block_Store_vol0123456789abcdef0.device";
const options: EtcdNodeIgnitionOptions = {
    memberName: "etcd3-cluster-0",
    discoveryUrl: "https://discovery.etcd.io/0123456789abcdef0123456789abcdef",
    etcdVersion: "v3.5.33",
};

describe("the data volume's units (lib/data-volume.ts)", () => {
    it("finds the volume by the link udev makes from its NVMe serial, the volume id without its dash", () => {
        expect(volumeDevicePath(volumeId)).to.equal(device);
    });

    it("names a path's unit as systemd-escape --path does", () => {
        for (const file of [device, "/var/lib/etcd", "/srv/a.b/-x/", "/.hidden/x y"]) {
            const expected = execFileSync("systemd-escape", ["--path", `--suffix=device`, file], { encoding: "utf8" }).trim();
            expect(pathUnitName(file, "device"), file).to.equal(expected);
        }
        expect(pathUnitName("/var/lib/etcd", "mount")).to.equal(dataMountUnitName);
    });

    it("accepts EBS volume ids of 17 and of 8 hex digits, nothing else", () => {
        expect(["vol-0123456789abcdef0", "vol-01234567"].filter(isVolumeId)).to.have.length(2);
        expect(["vol-0123456789ABCDEF0", "vol-0123456789abcdef", "vol0123456789abcdef0", "", undefined, 7, "vol-0123456789abcdef0 "]
            .filter(isVolumeId)).to.deep.equal([]);
    });

    it("makes a file system only on a blank volume, with systemd-makefs, after the device appears and before the mount", () => {
        expect(dataVolumePart(volumeId).units[0]).to.deep.equal({
            name: dataFilesystemUnitName,
            enabled: false,
            contents: [
                "[Unit]",
                "Description=File system on etcd's data volume vol-0123456789abcdef0, made only if the volume is blank",
                "Documentation=man:systemd-makefs@.service(8)",
                "DefaultDependencies=no",
                `BindsTo=${deviceUnit}`,
                `After=${deviceUnit}`,
                "Before=var-lib-etcd.mount",
                "",
                "[Service]",
                "Type=oneshot",
                "RemainAfterExit=yes",
                `ExecStart=/usr/lib/systemd/systemd-makefs ext4 ${device}`,
                "",
            ].join("\n"),
        });
    });

    it("mounts the volume at /var/lib/etcd once checked and grown, outside local-fs.target (nofail), not enabled", () => {
        expect(dataVolumePart(volumeId).units[2]).to.deep.equal({
            name: "var-lib-etcd.mount",
            enabled: false,
            contents: [
                "[Unit]",
                "Description=etcd's data volume vol-0123456789abcdef0",
                "Requires=etcd-data-resize.service",
                "After=etcd-data-resize.service",
                "",
                "[Mount]",
                `What=${device}`,
                "Where=/var/lib/etcd",
                "Type=ext4",
                "Options=nofail,noatime",
                "",
            ].join("\n"),
        });
    });

    it("checks the file system and grows it to the volume's size before the mount, at every boot", () => {
        expect(dataVolumePart(volumeId).units[1]).to.deep.equal({
            name: dataResizeUnitName,
            enabled: false,
            contents: [
                "[Unit]",
                "Description=Check the file system on etcd's data volume vol-0123456789abcdef0 and grow it to the volume's size",
                "DefaultDependencies=no",
                `BindsTo=${deviceUnit}`,
                "Requires=etcd-data-filesystem.service",
                `After=${deviceUnit} etcd-data-filesystem.service`,
                "Before=var-lib-etcd.mount",
                "",
                "[Service]",
                "Type=oneshot",
                "RemainAfterExit=yes",
                `ExecStart=-/usr/sbin/e2fsck -f -p ${device}`,
                `ExecStart=/usr/sbin/resize2fs ${device}`,
                "",
            ].join("\n"),
        });
    });

    describe("in the Ignition config", () => {
        it("orders etcd on the mount of its data directory, so neither etcd nor its start's decision ever reads the root disk", () => {
            const etcd = buildIgnitionConfig({ ...options, dataVolumeId: volumeId }).systemd.units.find((unit) => unit.name === etcdUnitName)!;
            expect(etcd.contents.split("\n[Service]")[0].split("\n").filter((line) => line.startsWith("RequiresMountsFor=")))
                .to.deep.equal(["RequiresMountsFor=/var/lib/etcd"]);
        });

        it("writes the volume's units without `enabled`, so Ignition neither enables nor disables them", () => {
            const units = buildIgnitionConfig({ ...options, dataVolumeId: volumeId }).systemd.units;
            expect(units.map((unit) => [unit.name, unit.enabled])).to.deep.equal([
                [etcdUnitName, true], ["etcd-member-promote.service", true], ["etcd-member-leave.service", true],
                [dataFilesystemUnitName, undefined], [dataResizeUnitName, undefined], [dataMountUnitName, undefined],
            ]);
            expect(units.slice(3).every((unit) => !("enabled" in unit))).to.equal(true);
        });

        it("leaves the data on the root disk, with no volume units, when no volume is given", () => {
            const config = buildIgnitionConfig(options);
            expect(config.systemd.units.map((unit) => unit.name)).to.deep.equal([etcdUnitName, "etcd-member-promote.service", "etcd-member-leave.service"]);
            expect(config.systemd.units.map((unit) => unit.contents.includes("RequiresMountsFor"))).to.deep.equal([false, false, false]);
        });

        it("refuses a data volume id that is not an EBS volume id, naming the option", () => {
            expect(() => buildIgnitionConfig({ ...options, dataVolumeId: "/dev/nvme1n1" })).to.throw(
                'cannot build the Ignition config for etcd member "etcd3-cluster-0":\n' +
                '  - dataVolumeId "/dev/nvme1n1": use an EBS volume id like vol-0123456789abcdef0');
        });

        it("produces a config ignition-validate accepts", () => {
            const directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-data-volume-"));
            try {
                const file = path.join(directory, "config.ign");
                fs.writeFileSync(file, JSON.stringify(buildIgnitionConfig({ ...options, dataVolumeId: volumeId })));
                expect(execFileSync("ignition-validate", [file], { encoding: "utf8" }).trim()).to.equal("");
            } finally {
                fs.rmSync(directory, { recursive: true, force: true });
            }
        });
    });
});
