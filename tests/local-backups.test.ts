/**
 * Snapshots to S3 on a local cluster booted from the component's user data
 * with `backups`: real etcd, the members' own timer, service and script, the
 * role's credentials from each node's instance metadata stand-in, and the S3
 * stand-in over TLS checking the signature and the role's policy as the
 * component registered it. Only the leader uploads; an unchanged revision is
 * skipped; the object is a whole snapshot of the revision its name says.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { snapshotCalendarEvent, snapshotServiceName, snapshotTimerName } from "../lib/snapshots";
import type { LocalNode } from "../local/cluster";
import type { S3ApiStandIn } from "../local/s3-api";
import { backupBucketOf, etcdctl, hostEtcdctl, useLocalCluster, v3Put } from "./helpers/local-cluster";
import { eventually, nodeClockReaching } from "./helpers/node-root";
import { useTemporaryDirectory } from "./support/temporary-directory";

const run = promisify(execFile);
const etcdutl = () => path.join(path.dirname(hostEtcdctl()), "etcdutl");
const objectName = /^etcd3-cluster\/etcd-snapshot-rev-(\d{20})-(\d{8}T\d{6}Z)\.db$/;

/** Seconds from the cluster's start until the nodes' clock reaches the quarter hour the snapshot timers fire at. */
const firstSnapshotAfterSeconds = 45;
/** A quarter hour on the nodes' clock. */
const firesAtNodeMs = Date.UTC(2026, 0, 15, 4, 15);

describe("local cluster of 3 with backups: snapshots to the S3 stand-in", function () {
    this.timeout(180_000);
    const cluster = useLocalCluster({ size: 3, bootstrap: "static", backups: true, clock: nodeClockReaching(firesAtNodeMs, firstSnapshotAfterSeconds) });
    let s3: S3ApiStandIn;
    let bucket: string;
    let leader: LocalNode;
    let followers: LocalNode[];
    let firstRevision: number;
    const workDir = useTemporaryDirectory("etcd3-backups-test-");

    /** The cluster's current revision and its leader, as the members report them. */
    async function clusterStatus(): Promise<{ revision: number; leader: LocalNode }> {
        const { nodes } = cluster();
        const statuses = await Promise.all(nodes.map((node) => etcdctl([node.clientUrl], ["endpoint", "status", "-w", "json"])));
        const memberIds = statuses.map((status) => /"member_id":(\d+)/.exec(status)![1]);
        const leaderId = /"leader":(\d+)/.exec(statuses[0])![1];
        return { revision: Math.max(...statuses.map((status) => Number(/"revision":(\d+)/.exec(status)![1]))), leader: nodes[memberIds.indexOf(leaderId)] };
    }

    /** `systemctl start etcd-member-snapshot.service` on each node, in member order: each start job's outcome. */
    const snapshotOn = (nodes: LocalNode[]) => nodes.reduce<Promise<string[]>>(
        async (outcomes, node) => [...await outcomes, await node.startUnit(snapshotServiceName)], Promise.resolve([]));

    const snapshots = () => [...s3.objects(bucket).keys()].sort();

    before(async () => {
        s3 = (await cluster().s3Api())!;
        bucket = backupBucketOf(cluster());
        for (let index = 0; index < 10; index++) {
            expect((await v3Put(cluster().clusterUrl, `backup/${index}`, Buffer.from(`value ${index}`))).status).to.equal(200);
        }
        ({ revision: firstRevision, leader } = await clusterStatus());
        followers = cluster().nodes.filter((node) => node !== leader);
    });

    const snapshotTimer = (node: LocalNode) => node.timers().find((candidate) => candidate.name === snapshotTimerName)!;

    it("fires every member's timer at the quarter hour: one snapshot lands, from the leader only, named by the revision the cluster is at", async () => {
        expect(snapshotCalendarEvent(15)).to.equal("*-*-* *:00/15:00 UTC");
        await eventually(() => cluster().nodes.every((node) => snapshotTimer(node).lastTriggerMs !== undefined &&
            ["inactive", "failed"].includes(node.unit(snapshotServiceName).activeState)), (firstSnapshotAfterSeconds + 30) * 1000,
        "every member's snapshot service to have run from its timer");
        for (const node of cluster().nodes) {
            const timer = snapshotTimer(node);
            expect([timer.unit, timer.nextElapseMs], node.name).to.deep.equal([snapshotServiceName, firesAtNodeMs + 15 * 60_000]);
            expect(timer.lastTriggerMs! - firesAtNodeMs, `${node.name}: how late it fired, ms`).to.be.within(0, 2000);
            expect(node.unit(snapshotServiceName).result, node.unitOutput(snapshotServiceName)).to.equal("success");
        }
        const keys = snapshots();
        expect(keys).to.have.length(1);
        const [, revision] = objectName.exec(keys[0])!;
        expect(Number(revision)).to.equal(firstRevision);
        const size = s3.objects(bucket).get(keys[0])!.body.length;
        expect(leader.unitOutput(snapshotServiceName)).to.contain(`snapshot: uploaded revision ${firstRevision} of the cluster (${size} bytes) ` +
            `to s3://${bucket}/${keys[0]}\n`);
        for (const follower of followers) {
            expect(follower.unitOutput(snapshotServiceName), follower.name)
                .to.equal(`snapshot: skipped: ${follower.name} does not lead the cluster; the leader takes the snapshots\n`);
        }
    });

    it("checked the bucket before and the object after the upload, with the leader's role only", () => {
        expect(s3.requests.map((request) => [request.operation, request.status])).to.deep.equal([
            ["ListObjectsV2", 200], ["PutObject", 200], ["ListObjectsV2", 200],
        ]);
    });

    it("stored a whole snapshot of that revision, with every key written, that etcdutl restores", async () => {
        const [key] = snapshots();
        const file = path.join(workDir(), "first.db");
        fs.writeFileSync(file, s3.objects(bucket).get(key)!.body);
        const status = JSON.parse((await run(etcdutl(), ["snapshot", "status", "-w", "json", file], { timeout: 30_000 })).stdout);
        expect(status.revision).to.equal(firstRevision);
        // The restore checks the snapshot's own integrity hash before it writes anything.
        await run(etcdutl(), ["snapshot", "restore", file, "--data-dir", path.join(workDir(), "restored"), "--name", "restored",
            "--initial-cluster", "restored=http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380"], { timeout: 30_000 });
        expect(fs.existsSync(path.join(workDir(), "restored", "member", "snap", "db"))).to.equal(true);
    });

    it("takes nothing when nothing was written since: the leader finds the revision in the bucket", async () => {
        const before = s3.requests.length;
        expect(await snapshotOn([leader])).to.deep.equal(["done"]);
        expect(leader.unitOutput(snapshotServiceName))
            .to.contain(`snapshot: skipped: s3://${bucket}/etcd3-cluster/ has a snapshot of revision ${firstRevision} already\n`);
        expect(s3.requests.slice(before).map((request) => request.operation)).to.deep.equal(["ListObjectsV2"]);
        expect(snapshots()).to.have.length(1);
    });

    it("uploads a new object after a write, which sorts after the first", async () => {
        expect((await v3Put(cluster().clusterUrl, "backup/later", Buffer.from("later"))).status).to.equal(200);
        const { revision } = await clusterStatus();
        expect(await snapshotOn([leader])).to.deep.equal(["done"]);
        const keys = snapshots();
        expect(keys.map((key) => Number(objectName.exec(key)![1]))).to.deep.equal([firstRevision, revision]);
    });
});
