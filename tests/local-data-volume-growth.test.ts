/**
 * A data volume that grew (a larger `dataVolumeSizeGiB`, which EBS applies in
 * place) gets a file system as large at the member's next boot: the user
 * data's resize unit runs the real resize2fs on the loop device that plays
 * the volume, grown the way EBS grows one under a running instance.
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { getKeyWithQuorum, marginMs, nodeStartMs, nodeStopMs, putKey, requestTimeoutMs, useLocalCluster } from "./helpers/local-cluster";

const mebibyte = 1024 * 1024;
/** Bound on each findmnt or losetup run. */
const toolMs = 10_000;

/** Size in bytes of the file system mounted at `mountPoint`, as the kernel reports it. */
function fileSystemBytes(mountPoint: string): number {
    return Number(execFileSync("findmnt", ["--noheadings", "--bytes", "--output", "SIZE", "--mountpoint", mountPoint], { encoding: "utf8", timeout: toolMs }).trim());
}

describe("local cluster of 1: a data volume grown in place", function () {
    this.timeout(60_000);
    const cluster = useLocalCluster({ size: 1, volumeBytes: 256 * mebibyte });
    let sizeBefore = 0;
    let sizeAfter = 0;

    before(async function () {
        // Three tool runs, a write, the node's stop and its start.
        this.timeout(3 * toolMs + requestTimeoutMs + nodeStopMs + nodeStartMs() + marginMs);
        const node = cluster().nodes[0];
        const mountPoint = path.join(node.root, "var/lib/etcd");
        sizeBefore = fileSystemBytes(mountPoint);
        await putKey(cluster().clusterUrl, "grown", "kept");
        await node.stop();
        // EBS grows the volume under the instance; the device reports its new size.
        const [volume] = node.volumes;
        fs.truncateSync(volume.backingFile, 512 * mebibyte);
        execFileSync("losetup", ["--set-capacity", volume.hostDevice], { timeout: toolMs });
        await node.start();
        sizeAfter = fileSystemBytes(mountPoint);
    });

    it("starts from a file system as large as the volume it was made on", () => {
        expect(sizeBefore).to.be.within(200 * mebibyte, 256 * mebibyte);
    });

    it("grows the file system to the volume's new size at the next boot, before etcd starts", () => {
        expect(sizeAfter).to.be.within(450 * mebibyte, 512 * mebibyte);
        const journal = cluster().nodes[0].journal();
        const grown = journal.findIndex((line) => line.startsWith("etcd-data-resize.service: ") && /Finished|exited|Started/.test(line));
        const etcdStarted = journal.findIndex((line) => line.startsWith("etcd-member.service: Started"));
        expect(grown, journal.join("\n")).to.be.at.least(0);
        expect(etcdStarted).to.be.greaterThan(grown);
    });

    it("keeps the member's data", async () => {
        // Straight from the member: the load balancer takes it back only after its health checks rise.
        expect((await getKeyWithQuorum(cluster().nodes[0].clientUrl, "grown")).body.node.value).to.equal("kept");
    });
});
