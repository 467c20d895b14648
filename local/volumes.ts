/**
 * The member slots' EBS volumes, each played by a loop device of the test
 * host. Which volume is attached to which instance comes from what the
 * component registers (`aws.ebs.Volume` and the `aws.ec2.VolumeAttachment`
 * naming an instance), never from a table: an attachment lib/ forgets is a
 * volume the local node does not get either.
 *
 * A volume belongs to its slot, not to a node: it is made once per cluster
 * (a sparse file in the cluster's directory and the loop device on it) and
 * handed to every instance that takes the slot, the first and each
 * replacement, at the path EC2's udev rules give it on a Nitro instance
 * (`/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol…`).
 *
 * Teardown unmounts whatever is mounted from each loop device, detaches it and
 * removes its file. A device is only ever detached when its backing file is
 * still the one made here, so a loop device the kernel has since handed to
 * someone else is never touched; and since the files live in the cluster's
 * directory, `removeWorkDir` (the cleanup of a killed run's or a kept
 * cluster's leftovers) finds and frees the same devices by their backing file.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { compressedConfig } from "../lib/ignition";
import type { InstanceBlueprint, RegisteredResource } from "./component-resources";
import { compressedConfigContents } from "./ignition-contents";
import { requireTool } from "./system-tools";

const run = promisify(execFile);

export const volumeResourceType = "aws:ebs/volume:Volume";
export const volumeAttachmentResourceType = "aws:ec2/volumeAttachment:VolumeAttachment";

/** Size of the sparse file playing each volume: big enough for a test's etcd data, nothing is written until used. */
export const defaultVolumeBytes = 1024 * 1024 * 1024;

/** Bound on each losetup, mount-table and umount command. */
const commandTimeoutMs = 30_000;

/** One volume attached to one of the component's instances, as registered. */
export interface VolumeAttachmentSpec {
    /** The attachment resource's name, e.g. `local-0-data`. */
    resourceName: string;
    /** The volume resource's name. */
    volumeResourceName: string;
    /** `vol-` and 17 hex digits (8 for volumes made before 2018), as EC2 (and the package's mocks) give it. */
    volumeId: string;
    /** The attachment's `deviceName` (`/dev/sdf`); on Nitro the node sees the volume by id instead. */
    deviceName: string;
    /** The instance it attaches to, by its index among the component's instances. */
    instance: number;
    /** Where the node finds it: the by-id link EC2's udev rules make from the volume id. */
    nodePath: string;
}

/** The by-id link a Nitro instance has for an EBS volume: the volume id without its dash, after the model name. */
export function ebsByIdPath(volumeId: string): string {
    const match = /^vol-([0-9a-f]{17}|[0-9a-f]{8})$/.exec(volumeId);
    if (!match) {
        throw new Error(`volume id ${JSON.stringify(volumeId)} is not an EBS volume id (vol- and 17 hex digits, or 8 for old volumes), from which EC2's udev rules name the device`);
    }
    return `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol${match[1]}`;
}

/**
 * The volume attachments of each instance (indexed like `instances`), checked
 * as EC2 would refuse them: the volume must be one the component registers,
 * the instance one of its instances, each volume attached once and each device
 * name used once per instance. No attachments gives empty lists.
 */
export function volumeAttachmentsOf(resources: RegisteredResource[], instances: InstanceBlueprint[]): VolumeAttachmentSpec[][] {
    const problems: string[] = [];
    const volumes = resources.filter((r) => r.type === volumeResourceType);
    const perInstance: VolumeAttachmentSpec[][] = instances.map(() => []);
    const attachedVolumes = new Map<string, string>();
    for (const attachment of resources.filter((r) => r.type === volumeAttachmentResourceType)) {
        const { volumeId, instanceId, deviceName } = attachment.inputs ?? {};
        const instance = instances.findIndex((candidate) => candidate.id === instanceId);
        const volume = volumes.find((candidate) => candidate.id === volumeId);
        if (instance < 0) {
            problems.push(`volume attachment ${attachment.name}: instanceId ${JSON.stringify(instanceId)} is not one of the component's instances`);
            continue;
        }
        if (!volume) {
            problems.push(`volume attachment ${attachment.name}: volumeId ${JSON.stringify(volumeId)} is not a volume the component registers`);
            continue;
        }
        if (typeof deviceName !== "string" || !deviceName.startsWith("/dev/")) {
            problems.push(`volume attachment ${attachment.name}: deviceName ${JSON.stringify(deviceName)} is not a device name such as /dev/sdf`);
            continue;
        }
        const earlier = attachedVolumes.get(volumeId);
        if (earlier !== undefined) {
            problems.push(`volume ${volumeId} is attached by both ${earlier} and ${attachment.name}: an EBS volume is attached to one instance at a time`);
            continue;
        }
        if (perInstance[instance].some((other) => other.deviceName === deviceName)) {
            problems.push(`volume attachment ${attachment.name}: instance ${instances[instance].resourceName} already has a volume at ${deviceName}`);
            continue;
        }
        let nodePath: string;
        try {
            nodePath = ebsByIdPath(volumeId);
        } catch (error) {
            problems.push(`volume attachment ${attachment.name}: ${(error as Error).message}`);
            continue;
        }
        attachedVolumes.set(volumeId, attachment.name);
        perInstance[instance].push({ resourceName: attachment.name, volumeResourceName: volume.name, volumeId, deviceName, instance, nodePath });
    }
    if (problems.length > 0) {
        throw new Error(`the component's volumes cannot be played locally:\n  - ${problems.join("\n  - ")}`);
    }
    return perInstance;
}

/**
 * User data rendered by another construction of the component, with the
 * slot's volume ids in place of that construction's. Under mocks every
 * construction makes new ids; in a stack an update keeps the slot's volume
 * (and its id), so an instance rolled out with changed arguments names the
 * same volume as before. Volumes are paired by the attachment's device name.
 */
export function withSlotVolumeIds(userData: string, rendered: VolumeAttachmentSpec[], slot: VolumeAttachmentSpec[]): string {
    // A compressed config names the volumes only inside it: units' names and contents alike.
    const compressed = compressedConfigContents(userData);
    if (compressed !== undefined) {
        return compressedConfig(withSlotVolumeIds(compressed, rendered, slot));
    }
    let result = userData;
    for (const attachment of rendered) {
        const kept = slot.find((candidate) => candidate.deviceName === attachment.deviceName);
        if (!kept) {
            throw new Error(`the component attaches ${attachment.volumeId} at ${attachment.deviceName}, where the member's slot has no volume: a new volume is not played by a replacement`);
        }
        if (kept.volumeId === attachment.volumeId) {
            continue;
        }
        const bare = (id: string) => id.replace("-", "");
        result = result.split(attachment.volumeId).join(kept.volumeId).split(bare(attachment.volumeId)).join(bare(kept.volumeId));
        if (result.includes(bare(attachment.volumeId).slice(3))) {
            throw new Error(`the user data names volume ${attachment.volumeId} in a form other than its id (encoded?), which the local harness cannot replace with the slot's ${kept.volumeId}`);
        }
    }
    return result;
}

/** A slot's volume on the test host. */
export interface LoopVolume {
    volumeId: string;
    /** The sparse file holding the volume's blocks. */
    backingFile: string;
    /** The loop device on it, e.g. `/dev/loop7`. */
    hostDevice: string;
}

/** The loop device's backing file as the kernel reports it, or undefined if it has none (detached). */
export function backingFileOf(hostDevice: string): string | undefined {
    const name = /^\/dev\/(loop\d+)$/.exec(hostDevice)?.[1];
    if (!name) {
        return undefined;
    }
    try {
        return fs.readFileSync(`/sys/block/${name}/loop/backing_file`, "utf8").trim();
    } catch {
        return undefined;
    }
}

/** The mount points whose source is `hostDevice`, deepest first, from the kernel's table. */
export function mountPointsOf(hostDevice: string): string[] {
    let rdev: number;
    try {
        rdev = fs.statSync(hostDevice).rdev;
    } catch {
        return [];
    }
    const device = `${Math.floor(rdev / 256) & 0xfff}:${(rdev & 0xff) | ((Math.floor(rdev / 4096)) & 0xfff00)}`;
    const table = fs.readFileSync("/proc/self/mountinfo", "utf8");
    return table.split("\n").map((line) => line.split(" ")).filter((fields) => fields[2] === device)
        .map((fields) => fields[4].replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8))))
        .sort((a, b) => b.length - a.length);
}

/**
 * Every slot volume of one cluster. `create` makes a volume once (a second
 * call for the same id returns it); `release` unmounts, detaches and removes
 * them all, carrying on past a failure and reporting every one at the end.
 */
export class SlotVolumes {
    private readonly volumes = new Map<string, LoopVolume>();
    private readonly creating = new Map<string, Promise<LoopVolume>>();

    constructor(readonly directory: string, private readonly volumeBytes = defaultVolumeBytes) {}

    get(volumeId: string): LoopVolume | undefined {
        return this.volumes.get(volumeId);
    }

    list(): LoopVolume[] {
        return [...this.volumes.values()];
    }

    create(volumeId: string): Promise<LoopVolume> {
        const existing = this.creating.get(volumeId);
        if (existing) {
            return existing;
        }
        const made = this.make(volumeId);
        this.creating.set(volumeId, made);
        return made;
    }

    private async make(volumeId: string): Promise<LoopVolume> {
        ebsByIdPath(volumeId);
        fs.mkdirSync(this.directory, { recursive: true });
        const backingFile = path.join(this.directory, `${volumeId}.img`);
        // Sparse: blank, as a new EBS volume is, and taking no space until written.
        fs.writeFileSync(backingFile, "", { flag: "wx" });
        fs.truncateSync(backingFile, this.volumeBytes);
        const { stdout } = await run(requireTool("losetup"), ["--find", "--show", backingFile], { timeout: commandTimeoutMs });
        const hostDevice = stdout.trim();
        if (!/^\/dev\/loop\d+$/.test(hostDevice)) {
            throw new Error(`losetup --find --show ${backingFile} answered ${JSON.stringify(hostDevice)}, not a loop device`);
        }
        const volume = { volumeId, backingFile, hostDevice };
        this.volumes.set(volumeId, volume);
        return volume;
    }

    /**
     * Unmounts a volume wherever it is still mounted, as terminating the
     * instance it was attached to does; lazily, so nothing can keep it.
     */
    async forceUnmount(volumeId: string): Promise<string[]> {
        const volume = this.volumes.get(volumeId);
        if (!volume || backingFileOf(volume.hostDevice) !== volume.backingFile) {
            return [];
        }
        const points = mountPointsOf(volume.hostDevice);
        for (const point of points) {
            await run("umount", ["-l", point], { timeout: commandTimeoutMs });
        }
        return points;
    }

    /** Unmounts, detaches and removes every volume; throws once all were tried if any could not be. */
    async release(): Promise<void> {
        await Promise.allSettled(this.creating.values());
        const failures: string[] = [];
        for (const volume of this.list()) {
            try {
                // Only a device still backed by this volume's file is ours to unmount and detach.
                if (backingFileOf(volume.hostDevice) === volume.backingFile) {
                    await this.forceUnmount(volume.volumeId);
                    await run(requireTool("losetup"), ["-d", volume.hostDevice], { timeout: commandTimeoutMs });
                }
                fs.rmSync(volume.backingFile, { force: true });
                this.volumes.delete(volume.volumeId);
            } catch (error) {
                failures.push(`${volume.volumeId} (${volume.hostDevice}, ${volume.backingFile}): ${((error as { stderr?: string }).stderr || (error as Error).message).trim()}`);
            }
        }
        this.creating.clear();
        if (failures.length > 0) {
            throw new Error(`could not release every slot volume:\n  - ${failures.join("\n  - ")}`);
        }
    }
}
