/**
 * Member slots on the local cluster: each member's data lives on its slot's
 * volume (a loop device at the by-id path EC2 gives an EBS volume), which is
 * formatted once, outlives the instance, and without which etcd never starts
 * on the root disk; and a rolling replacement (drain, clean stop, a fresh root
 * from the user data, the same address and volume, back in service) keeps
 * every acknowledged write and every member id.
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { compressedConfig } from "../lib/ignition";
import { defaultReplaceTimeoutMs, LocalNode, ReplacementTimings, startLocalCluster } from "../local/cluster";
import { loopDevicesBackedUnder } from "../local/cluster-registry";
import type { RegisteredResource } from "../local/component-resources";
import { compressedConfigContents } from "../local/ignition-contents";
import { backingFileOf, ebsByIdPath, volumeAttachmentsOf, withSlotVolumeIds } from "../local/volumes";
import {
    clusterStopTimeoutMs, etcdctlTimeouts, getKeyWithQuorum, marginMs, memberIds, nodeStartMs, nodeStopMs, putKey, readBackMs, replaceNodeMs,
    requestTimeoutMs, startHookTimeoutMs, useLocalCluster, writerStopMs,
} from "./helpers/local-cluster";
import { fileSystemUuid } from "./helpers/node-root";
import { checkWrites, failuresByOutcome, isAcknowledged, PacedWriter, readDirectoryWithQuorum, writeCheckProblems, WriteRecord } from "./helpers/paced-writes";

const dataDirectory = "var/lib/etcd";
/** Bound on each findmnt, mount, umount or blkid run (blkid's in tests/helpers/node-root.ts). */
const toolMs = 10_000;
/** Worst case of `onRootDisk`: a mount and an unmount. */
const onRootDiskMs = 2 * toolMs;

/** `findmnt --target`: the file system `file` is on, as its source device and mount point. */
function fileSystemOf(file: string): { source: string; target: string } {
    const [source, target] = execFileSync("findmnt", ["--noheadings", "--output", "SOURCE,TARGET", "--target", file], { encoding: "utf8", timeout: toolMs })
        .trim().split(/\s+/);
    return { source, target };
}

/**
 * What the node's root disk itself holds at `relative`, beneath whatever is
 * mounted there: the root is bind-mounted without its submounts and read.
 */
function onRootDisk(node: LocalNode, relative: string): string[] {
    const peek = fs.mkdtempSync(path.join(path.dirname(node.root), "root-disk-"));
    execFileSync("mount", ["--bind", node.root, peek], { timeout: toolMs });
    try {
        const directory = path.join(peek, relative);
        return fs.existsSync(directory) ? fs.readdirSync(directory) : [];
    } finally {
        execFileSync("umount", [peek], { timeout: toolMs });
        fs.rmdirSync(peek);
    }
}

/** The mount units' story in the journal: every line that names the slot's device. */
function linesNaming(node: LocalNode, text: string): string[] {
    return node.journal().filter((line) => line.includes(text));
}

describe("local harness: slot volumes from the registered resources", () => {
    const instance = (name: string) => ({ type: "aws:ec2/instance:Instance", name, id: `${name}-id`, inputs: { userData: "{}" }, state: {} });
    const volume = (name: string, id: string): RegisteredResource => ({ type: "aws:ebs/volume:Volume", name, id, inputs: {}, state: {} });
    const attachment = (name: string, volumeId: string, instanceId: string, deviceName = "/dev/sdf"): RegisteredResource =>
        ({ type: "aws:ec2/volumeAttachment:VolumeAttachment", name, id: `${name}-id`, inputs: { volumeId, instanceId, deviceName }, state: {} });
    const instances = [{ resourceName: "c-0", id: "c-0-id", privateIp: "10.99.1.10", userData: "{}", metadataTags: true }, { resourceName: "c-1", id: "c-1-id", privateIp: "10.99.1.11", userData: "{}", metadataTags: true }];

    it("names each volume by the link EC2's udev rules make on a Nitro instance: the id without its dash", () => {
        expect(ebsByIdPath("vol-0123456789abcdef0")).to.equal("/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0");
    });

    it("gives each instance the volumes attached to its id, and none to an instance without an attachment", () => {
        const resources = [
            instance("c-0"), instance("c-1"),
            volume("c-0-data", "vol-00000000000000000"), volume("c-1-data", "vol-11111111111111111"),
            attachment("c-1-data", "vol-11111111111111111", "c-1-id"),
        ];
        const perInstance = volumeAttachmentsOf(resources, instances);
        expect(perInstance[0]).to.deep.equal([]);
        expect(perInstance[1].map((a) => [a.volumeId, a.nodePath, a.deviceName])).to.deep.equal([
            ["vol-11111111111111111", "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol11111111111111111", "/dev/sdf"],
        ]);
    });

    it("refuses an attachment of a volume the component does not register", () => {
        const resources = [instance("c-0"), attachment("c-0-data", "vol-00000000000000000", "c-0-id")];
        expect(() => volumeAttachmentsOf(resources, instances)).to.throw(/volumeId "vol-00000000000000000" is not a volume the component registers/);
    });

    it("refuses one volume attached to two instances, which EBS does not do", () => {
        const resources = [
            instance("c-0"), instance("c-1"), volume("shared", "vol-00000000000000000"),
            attachment("a", "vol-00000000000000000", "c-0-id"), attachment("b", "vol-00000000000000000", "c-1-id"),
        ];
        expect(() => volumeAttachmentsOf(resources, instances)).to.throw(/attached by both a and b/);
    });

    describe("puts the slot's volume ids in user data another construction rendered, in both forms the units use", () => {
        const rendered = [{ resourceName: "x", volumeResourceName: "x", volumeId: "vol-aaaaaaaaaaaaaaaaa", deviceName: "/dev/sdf", instance: 0, nodePath: "" }];
        const slot = [{ ...rendered[0], volumeId: "vol-bbbbbbbbbbbbbbbbb" }];
        /** A config with a mount unit naming volume `id` in its name and contents, as the data volume's units do. */
        const configNaming = (id: string) => JSON.stringify({ ignition: { version: "3.3.0" }, systemd: { units: [{
            name: `dev-disk-by\\x2did-nvme\\x2dAmazon_Elastic_Block_Store_${id.replace("-", "")}.device`,
            contents: `What=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${id.replace("-", "")} # ${id}`,
        }] } });

        it("in a config sent as it is", () => {
            expect(withSlotVolumeIds(configNaming("vol-aaaaaaaaaaaaaaaaa"), rendered, slot)).to.equal(configNaming("vol-bbbbbbbbbbbbbbbbb"));
        });

        it("inside a compressed config, where any peerTls member's user data names them", () => {
            const replaced = withSlotVolumeIds(compressedConfig(configNaming("vol-aaaaaaaaaaaaaaaaa")), rendered, slot);
            expect(compressedConfigContents(replaced)).to.equal(configNaming("vol-bbbbbbbbbbbbbbbbb"));
        });
    });
});

describe("local cluster of 3: each member's data on its slot volume", function () {
    // The longest test but the reboot's: a findmnt and onRootDisk per member.
    this.timeout(3 * (toolMs + onRootDiskMs) + marginMs);
    const cluster = useLocalCluster({ size: 3 });

    it("attaches one loop device per member at its by-id path, each a volume of its own", () => {
        const volumes = cluster().nodes.map((node) => node.volumes);
        expect(volumes.map((list) => list.length)).to.deep.equal([1, 1, 1]);
        for (const [volume] of volumes) {
            expect(volume.nodePath).to.equal(ebsByIdPath(volume.volumeId));
            expect(backingFileOf(volume.hostDevice)).to.equal(volume.backingFile);
        }
        expect(new Set(volumes.map(([volume]) => volume.hostDevice)).size).to.equal(3);
    });

    it("keeps etcd's member directory on the volume's file system, mounted at /var/lib/etcd, and nothing on the root disk beneath it", () => {
        for (const node of cluster().nodes) {
            const member = path.join(node.root, dataDirectory, "member");
            expect(fs.existsSync(member), `${member} exists`).to.equal(true);
            expect(fileSystemOf(member), node.name).to.deep.equal({ source: node.volumes[0].hostDevice, target: path.join(node.root, dataDirectory) });
            expect(onRootDisk(node, dataDirectory), `${node.name}'s root disk at /${dataDirectory}`).to.deep.equal([]);
        }
    });

    it("formats a blank volume once: a second boot of the same node keeps its file system, its data and its member id", async function () {
        // Two blkid runs, two member lists, a write and a read, the stop and the start.
        this.timeout(2 * toolMs + 2 * etcdctlTimeouts.processMs + 2 * requestTimeoutMs + nodeStopMs + nodeStartMs() + marginMs);
        const node = cluster().nodes[1];
        const device = node.volumes[0].hostDevice;
        const uuid = fileSystemUuid(device);
        expect(uuid, "a file system on the volume").to.be.a("string");
        const idsBefore = await memberIds(cluster());
        expect((await putKey(cluster().clusterUrl, "slot-kept", "on the volume")).status).to.equal(201);
        await cluster().stopNode(1);
        // Unmounted with the shutdown: the root disk's own directory is what is left, and it is empty.
        expect(fs.readdirSync(path.join(node.root, dataDirectory))).to.deep.equal([]);
        await cluster().startNode(1);
        expect(fileSystemUuid(device)).to.equal(uuid);
        expect(linesNaming(node, "etcd-data-filesystem.service: ExecStart: code=exited, status=0"), "makefs ran at the second boot").to.have.length(1);
        expect(await memberIds(cluster())).to.deep.equal(idsBefore);
        const answer = await getKeyWithQuorum(node.clientUrl, "slot-kept");
        expect(answer.body.node?.value).to.equal("on the volume");
    });
});

describe("local cluster of 3: a member whose new instance never gets its volume", function () {
    this.timeout(60_000);
    const cluster = useLocalCluster({ size: 3 });
    let failure: Error | undefined;
    let nodePath = "";

    before(async function () {
        this.timeout(replaceNodeMs() + marginMs);
        nodePath = cluster().nodes[2].volumes[0]?.nodePath ?? "(the member had no volume to begin with)";
        failure = await cluster().replaceNode(2, { attachVolumes: false }).then(() => undefined, (error: Error) => error);
    });

    it("fails the replacement, naming the device it waited for", () => {
        expect(failure?.message).to.include(nodePath).and.include("is attached to the node");
    });

    it("keeps etcd down with a failed dependency, and the journal names the device", () => {
        const node = cluster().nodes[2];
        expect(node.unit()).to.deep.include({ activeState: "failed", result: "dependency", mainPid: undefined });
        expect(node.unit("var-lib-etcd.mount")).to.deep.include({ activeState: "failed", result: "dependency" });
        expect(linesNaming(node, nodePath), "journal lines naming the device").to.not.deep.equal([]);
    });

    it("never ran etcd on the new root disk", () => {
        const node = cluster().nodes[2];
        expect(linesNaming(node, "etcd-member.service: Started"), "etcd started").to.deep.equal([]);
        expect(fs.existsSync(path.join(node.root, dataDirectory, "member")), "a member directory on the root disk").to.equal(false);
    });
});

describe("local cluster of 3: every member replaced one at a time under a write every 50 ms, rolling out another etcd tag", function () {
    // The longest test: the quorum read-back, or onRootDisk for the three new roots.
    this.timeout(Math.max(readBackMs, 3 * onRootDiskMs) + marginMs);
    const cluster = useLocalCluster({ size: 3 });
    const rolledVersion = "3.5.32";
    const directory = `roll-${process.pid}-${Date.now()}`;
    let records: WriteRecord[] = [];
    let idsBefore: Record<string, string> = {};
    let idsAfter: Record<string, string> = {};
    const timings: ReplacementTimings[] = [];
    /** Each member's first instance's root, kept by the harness after the replacement. */
    const retiredRoots: string[] = [];
    let rollMs = 0;

    before(async function () {
        // The member ids before and after, three bounded replacements, the writes around them (a second either side), the last writes.
        this.timeout(2 * etcdctlTimeouts.processMs + 3 * replaceNodeMs() + 2 * 1000 + writerStopMs + marginMs);
        idsBefore = await memberIds(cluster());
        const writer = new PacedWriter({ baseUrl: cluster().clusterUrl, directory, intervalMs: 50, maxDurationMs: 3 * defaultReplaceTimeoutMs });
        writer.start();
        try {
            await new Promise((resolve) => setTimeout(resolve, 1000));
            const rollStarted = Date.now();
            for (const [index, node] of cluster().nodes.entries()) {
                retiredRoots.push(node.root);
                timings.push(await cluster().replaceNode(index, { args: { etcdVersion: rolledVersion } }));
            }
            rollMs = Date.now() - rollStarted;
            await new Promise((resolve) => setTimeout(resolve, 1000));
        } finally {
            records = await writer.stop();
        }
        idsAfter = await memberIds(cluster());
    });

    after(function () {
        if (records.length > 0) {
            process.stdout.write(`      roll of 3 members: ${rollMs} ms (each ${timings.map((t) => t.totalMs).join(", ")} ms); ` +
                `${records.filter((r) => !isAcknowledged(r)).length} of ${records.length} writes failed through the load balancer ` +
                `${JSON.stringify(failuresByOutcome(records))}\n`);
        }
    });

    it("gives every member a new instance booted from the new user data", () => {
        for (const node of cluster().nodes) {
            expect(node.generation, node.name).to.equal(1);
            const unit = fs.readFileSync(path.join(node.root, "etc/systemd/system/etcd-member.service"), "utf8");
            expect(unit, node.name).to.include(`etcd:v${rolledVersion}`);
        }
    });

    it("keeps every member id", () => {
        expect(Object.keys(idsAfter)).to.have.length(3);
        expect(idsAfter).to.deep.equal(idsBefore);
    });

    it("reads back every acknowledged write (quorum read)", async () => {
        const check = checkWrites(records, await readDirectoryWithQuorum(cluster().clusterUrl, directory));
        expect(check.acknowledged, "acknowledged writes").to.be.greaterThan(0);
        expect(writeCheckProblems(check)).to.deep.equal([]);
    });

    it("sends no request to a member that is not serving: each is drained before it stops, and back only once healthy", () => {
        // haproxy's own answers (502, 503, 504) and lost connections are requests sent to a member that could not serve
        // them; etcd's own 500 (a proposal dropped by the leader change a stopping leader makes) can happen on EC2 too.
        const atTheLoadBalancer = Object.entries(failuresByOutcome(records)).filter(([outcome]) => outcome !== "500");
        expect(Object.fromEntries(atTheLoadBalancer)).to.deep.equal({});
    });

    it("ran etcd on no member's root disk, old instance or new", () => {
        for (const root of retiredRoots) {
            expect(fs.readdirSync(path.join(root, dataDirectory)), `${root}/${dataDirectory}`).to.deep.equal([]);
        }
        for (const node of cluster().nodes) {
            expect(onRootDisk(node, dataDirectory), `${node.name}'s new root disk`).to.deep.equal([]);
        }
    });
});

describe("local harness: slot volumes at teardown", function () {
    this.timeout(startHookTimeoutMs() + clusterStopTimeoutMs);

    it("detaches every loop device and removes its file when the cluster stops", async () => {
        const cluster = await startLocalCluster({ size: 1 });
        const volumes = cluster.nodes.flatMap((node) => node.volumes);
        try {
            expect(volumes, "the member's volumes").to.have.length(1);
        } finally {
            await cluster.stop();
        }
        expect(loopDevicesBackedUnder(cluster.workDir)).to.deep.equal([]);
        expect(volumes.filter((volume) => backingFileOf(volume.hostDevice) === volume.backingFile)).to.deep.equal([]);
        expect(volumes.filter((volume) => fs.existsSync(volume.backingFile))).to.deep.equal([]);
    });

    it("detaches every loop device made before a start fails", async () => {
        const abort = new AbortController();
        const lines: string[] = [];
        const devices: string[] = [];
        const error = await startLocalCluster({
            size: 3,
            abortSignal: abort.signal,
            log: (line) => {
                lines.push(line);
                // Every volume is attached by now, and the boot is under way.
                if (line.startsWith("boot:")) {
                    devices.push(...loopDevicesBackedUnder(/files in (\S+)/.exec(lines.join("\n"))![1]));
                    abort.abort();
                }
            },
        }).then(async (cluster) => {
            await cluster.stop();
            return undefined;
        }, (failure: Error) => failure);
        expect(error?.message).to.match(/^the start was interrupted/);
        const workDir = /files in (\S+)/.exec(lines.join("\n"))![1];
        expect(devices.length, "loop devices while booting").to.be.at.least(3);
        expect(loopDevicesBackedUnder(workDir)).to.deep.equal([]);
        expect(fs.existsSync(workDir)).to.equal(false);
    });
});
