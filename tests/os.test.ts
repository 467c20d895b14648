/**
 * lib/os.ts: the table of what differs between the operating systems, and
 * the update-window files it writes.
 */
import { expect } from "chai";
import { operatingSystems, supportedOperatingSystems } from "../lib/os";

/** A row with its one function replaced by where it writes, so the rest compares as data. */
const dataOf = (os: keyof typeof operatingSystems) => {
    const { updateWindowFile, ...rest } = operatingSystems[os];
    return { ...rest, updateWindowFilePath: updateWindowFile.path };
};

describe("the operating-system table (lib/os.ts)", () => {
    it("lists Fedora CoreOS first, then Flatcar", () => {
        expect(supportedOperatingSystems).to.deep.equal(["fedora-coreos", "flatcar"]);
    });

    it("describes Fedora CoreOS: its AMIs, Afterburn, daemonless podman with SELinux relabelling, Zincati", () => {
        expect(dataOf("fedora-coreos")).to.deep.equal({
            amiOwner: "125523088429",
            amiNamePattern: "fedora-coreos-*.3.*",
            metadataUnit: "afterburn.service",
            metadataEnvironmentFile: "/run/metadata/afterburn",
            privateIpv4Variable: "AFTERBURN_AWS_IPV4_LOCAL",
            containerRuntime: "/usr/bin/podman",
            containerRuntimeUnits: [],
            volumeOptions: ":z",
            loginUser: "core",
            updateWindowFilePath: "/etc/zincati/config.d/55-etcd3-cluster-updates.toml",
        });
    });

    it("describes Flatcar: its AMIs, coreos-metadata, docker and its daemon, locksmithd", () => {
        expect(dataOf("flatcar")).to.deep.equal({
            amiOwner: "075585003325",
            amiNamePattern: "Flatcar-stable-*",
            metadataUnit: "coreos-metadata.service",
            metadataEnvironmentFile: "/run/metadata/flatcar",
            privateIpv4Variable: "COREOS_EC2_IPV4_LOCAL",
            containerRuntime: "/usr/bin/docker",
            containerRuntimeUnits: ["docker.service"],
            volumeOptions: "",
            loginUser: "core",
            updateWindowFilePath: "/etc/flatcar/update.conf",
        });
    });

    it("gives Zincati a daily periodic window, with a single-digit hour padded", () => {
        expect(operatingSystems["fedora-coreos"].updateWindowFile.contents({ startHourUtc: 5, lengthMinutes: 90 })).to.equal([
            "[updates]",
            'strategy = "periodic"',
            "[[updates.periodic.window]]",
            'days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]',
            'start_time = "05:00"',
            "length_minutes = 90",
            "",
        ].join("\n"));
    });

    it("gives Zincati a two-digit hour as it is", () => {
        expect(operatingSystems["fedora-coreos"].updateWindowFile.contents({ startHourUtc: 23, lengthMinutes: 60 }))
            .to.contain('\nstart_time = "23:00"\n');
    });

    it("gives locksmithd a reboot window, with a single-digit hour padded", () => {
        expect(operatingSystems.flatcar.updateWindowFile.contents({ startHourUtc: 0, lengthMinutes: 45 }))
            .to.equal("REBOOT_STRATEGY=reboot\nLOCKSMITHD_REBOOT_WINDOW_START=00:00\nLOCKSMITHD_REBOOT_WINDOW_LENGTH=45m\n");
    });
});
