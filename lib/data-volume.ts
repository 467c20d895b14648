/**
 * The user-data part that puts etcd's data on the member's own EBS volume:
 * plain data in, units out, no Pulumi. On Nitro instances an EBS volume is an
 * NVMe device that udev links by its volume id, so the units name the volume
 * the member's slot holds, whichever instance it is attached to.
 *
 * - `etcd-data-filesystem.service` makes an ext4 file system with systemd's
 *   own `systemd-makefs`, which leaves a device that carries any signature
 *   alone: a blank volume is formatted once, a member's data never.
 * - `var-lib-etcd.mount` mounts it at the data directory. It is not part of
 *   `local-fs.target` (`nofail`): a missing volume must not drop the node to
 *   emergency mode, where nobody could log in to see why.
 * - `etcd-data-resize.service` checks the file system and grows it to the
 *   volume's size at every boot, before the mount (nothing to grow unless
 *   `dataVolumeSizeGiB` grew). Offline, because an online grow needs a
 *   capability containers and some hosts lack; `resize2fs` refuses a file
 *   system the check left damaged, and the mount then fails rather than let
 *   etcd run on it.
 * - etcd's unit `RequiresMountsFor=` the data directory, so it never starts on
 *   the root disk: without the mount it fails with a dependency error.
 *
 * The device is waited for with systemd's default job timeout (90 s): the
 * volume is attached by a separate call once the instance exists, usually
 * within seconds of boot.
 */
import { shown } from "./etcd";

/** The data directory the volume is mounted at. */
export const etcdDataDirectory = "/var/lib/etcd";
export const dataFilesystemUnitName = "etcd-data-filesystem.service";
export const dataMountUnitName = "var-lib-etcd.mount";
export const dataResizeUnitName = "etcd-data-resize.service";
/** The file system made on a blank volume. */
export const dataFilesystemType = "ext4";

/** EBS volume ids: `vol-` and 17 hex digits (8 for volumes made before 2018). */
export const isVolumeId = (value: unknown): value is string => typeof value === "string" && /^vol-([0-9a-f]{8}|[0-9a-f]{17})$/.test(value);

/** The link udev makes for an EBS volume on a Nitro instance: the NVMe serial is the volume id without its dash. */
export function volumeDevicePath(volumeId: string): string {
    return `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volumeId.replace("-", "")}`;
}

/** systemd's name for the unit of a path (`systemd-escape --path`): `/` becomes `-`, other characters outside [A-Za-z0-9:_.] `\xNN`. */
export function pathUnitName(path: string, suffix: "device" | "mount"): string {
    const trimmed = path.replace(/^\/+|\/+$/g, "").replace(/\/+/g, "/");
    const escaped = [...trimmed].map((char, index) => {
        if (char === "/") {
            return "-";
        }
        return /[A-Za-z0-9:_]/.test(char) || (char === "." && index > 0) ? char : `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;
    }).join("");
    return `${escaped || "-"}.${suffix}`;
}

/** A unit of the user data. */
export interface UnitPart {
    name: string;
    /** Enabled units are started at boot through their [Install] section; the others only when something needs them. */
    enabled: boolean;
    contents: string;
}

/** What the data-volume feature adds to a member's user data. */
export interface DataVolumePart {
    units: UnitPart[];
    /** Lines for the `[Unit]` section of etcd's unit. */
    etcdUnitLines: string[];
}

/** Why `volumeId` cannot name a data volume, or nothing. */
export function dataVolumeIdProblems(volumeId: unknown): string[] {
    return volumeId === undefined || isVolumeId(volumeId) ? [] : [`dataVolumeId ${shown(volumeId)}: use an EBS volume id like vol-0123456789abcdef0`];
}

/**
 * A oneshot that works on the volume's device before it is mounted: bound to
 * the device, after it (and the unit it `requires`), before the mount. No default
 * dependencies: the mount it serves may be awaited by local-fs.target.
 */
function oneshotOnDevice(deviceUnit: string, unit: { description: string; documentation?: string; requires?: string; commands: string[] }): string {
    return [
        "[Unit]",
        `Description=${unit.description}`,
        ...unit.documentation ? [`Documentation=${unit.documentation}`] : [],
        "DefaultDependencies=no",
        `BindsTo=${deviceUnit}`,
        ...unit.requires ? [`Requires=${unit.requires}`] : [],
        `After=${[deviceUnit, ...unit.requires ? [unit.requires] : []].join(" ")}`,
        `Before=${dataMountUnitName}`,
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        ...unit.commands.map((command) => `ExecStart=${command}`),
        "",
    ].join("\n");
}

/** The units that format (if blank), check and grow, and mount volume `volumeId` at the data directory, and etcd's order on them. */
export function dataVolumePart(volumeId: string): DataVolumePart {
    const device = volumeDevicePath(volumeId);
    const deviceUnit = pathUnitName(device, "device");
    const filesystem = oneshotOnDevice(deviceUnit, {
        description: `File system on etcd's data volume ${volumeId}, made only if the volume is blank`,
        documentation: "man:systemd-makefs@.service(8)",
        commands: [`/usr/lib/systemd/systemd-makefs ${dataFilesystemType} ${device}`],
    });
    const resize = oneshotOnDevice(deviceUnit, {
        description: `Check the file system on etcd's data volume ${volumeId} and grow it to the volume's size`,
        requires: dataFilesystemUnitName,
        // `-`: e2fsck exits 1 after repairing; resize2fs refuses a file system it could not repair.
        commands: [`-/usr/sbin/e2fsck -f -p ${device}`, `/usr/sbin/resize2fs ${device}`],
    });
    const mount = [
        "[Unit]",
        `Description=etcd's data volume ${volumeId}`,
        `Requires=${dataResizeUnitName}`,
        `After=${dataResizeUnitName}`,
        "",
        "[Mount]",
        `What=${device}`,
        `Where=${etcdDataDirectory}`,
        `Type=${dataFilesystemType}`,
        "Options=nofail,noatime",
        "",
    ].join("\n");
    return {
        units: [
            { name: dataFilesystemUnitName, enabled: false, contents: filesystem },
            { name: dataResizeUnitName, enabled: false, contents: resize },
            { name: dataMountUnitName, enabled: false, contents: mount },
        ],
        etcdUnitLines: [`RequiresMountsFor=${etcdDataDirectory}`],
    };
}
