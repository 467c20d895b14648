/**
 * `restoreFrom` on local clusters booted from the component's user data: a
 * cluster with backups uploads a snapshot to the S3 stand-in, is stopped for
 * good, and a new cluster whose members restore that object at first boot
 * serves every key it held, at revisions bumped past the old ones; the
 * README's restore runbook, run as written, confirms it.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { restoreRevisionBump } from "../lib/restore";
import { snapshotServiceName } from "../lib/snapshots";
import { defaultUnitStartWaitMs, LocalClusterOptions, startLocalCluster } from "../local/cluster";
import {
    backupBucketOf, etcdctl, hostEtcdctl, marginMs, readmeRunbook, requestBudget, requestTimeoutMs, startHookTimeoutMs, useLocalCluster, v3Get, v3Put,
} from "./helpers/local-cluster";

const run = promisify(execFile);
const keys = Array.from({ length: 20 }, (_, index) => `restore/${index}`);
/** Bound on writing or reading all the keys, each request taking milliseconds: their own bounds would add up to minutes. */
const keysLoopMs = 60_000;
/** Bound on a run of the README's restore runbook. */
const runbookMs = 60_000;

describe("a new local cluster of 3 restored from its predecessor's snapshot in S3 (restoreFrom)", function () {
    // The longest test: the reads of every key and a write, or a run of the runbook.
    this.timeout(Math.max(keysLoopMs + requestTimeoutMs, runbookMs) + marginMs);
    const bucket = "etcd3-old-backups";
    let snapshot: { key: string; revision: number };
    const options: LocalClusterOptions = { size: 3, bootstrap: "static" };

    before(async function () {
        // The old cluster's start and teardown, the writes, a snapshot on each member.
        this.timeout(startHookTimeoutMs() + keysLoopMs + 3 * defaultUnitStartWaitMs);
        const old = await startLocalCluster({ size: 3, bootstrap: "static", backups: true });
        try {
            const within = requestBudget(keysLoopMs, `writing ${keys.length} keys`);
            for (const key of keys) {
                expect((await within((timeoutMs) => v3Put(old.clusterUrl, key, Buffer.from(`value of ${key}`), timeoutMs))).status).to.equal(200);
            }
            for (const node of old.nodes) {
                expect(await node.startUnit(snapshotServiceName), node.name).to.equal("done");
            }
            const [[key, object]] = [...(await old.s3Api())!.objects(backupBucketOf(old))];
            snapshot = { key, revision: Number(/etcd-snapshot-rev-(\d{20})-/.exec(key)![1]) };
            Object.assign(options, { restoreFrom: `s3://${bucket}/${key}`, s3Objects: [{ bucket, key, body: object.body }] });
        } finally {
            await old.stop();
        }
    });
    const cluster = useLocalCluster(options);

    it("has each member restore the snapshot as it forms the new cluster, and say so in its journal", () => {
        for (const node of cluster().nodes) {
            expect(node.unitOutput("etcd-member.service"), node.name)
                .to.contain(`decide: ${node.name} forms it from the snapshot s3://${bucket}/${snapshot.key}\n`)
                .and.contain(`restore: restored ${node.name}'s data from s3://${bucket}/${snapshot.key}, revisions bumped by ${restoreRevisionBump}\n`);
        }
    });

    it("serves every key the old cluster held through the load balancer, and takes writes", async () => {
        const within = requestBudget(keysLoopMs, `reading ${keys.length} keys`);
        for (const key of keys) {
            expect((await within((timeoutMs) => v3Get(cluster().clusterUrl, key, timeoutMs)))?.toString(), key).to.equal(`value of ${key}`);
        }
        expect((await v3Put(cluster().clusterUrl, "restore/after", Buffer.from("new"))).status).to.equal(200);
    });

    it("is at revisions past the old cluster's by the bump, with three voting members", async () => {
        const status = await etcdctl(cluster().clientEndpoints, ["endpoint", "status", "-w", "json"]);
        const revisions = [...status.matchAll(/"revision":(\d+)/g)].map((match) => Number(match[1]));
        revisions.forEach((revision) => expect(revision).to.be.greaterThan(snapshot.revision + restoreRevisionBump));
        const members = JSON.parse(await etcdctl(cluster().clientEndpoints.slice(0, 1), ["member", "list", "-w", "json"])).members;
        expect(members.map((member: { name: string; isLearner?: boolean }) => [member.name, member.isLearner ?? false]).sort())
            .to.deep.equal(cluster().nodes.map((node) => [node.name, false]).sort());
    });

    it("passes the README's restore runbook, run as written", async () => {
        const { stdout } = await run("bash", ["-c", readmeRunbook("restore")], {
            env: {
                ...process.env, ENDPOINTS: cluster().clientEndpoints.join(","), SNAPSHOT_REVISION: String(snapshot.revision),
                PATH: `${path.dirname(hostEtcdctl())}:${process.env.PATH}`,
            },
            timeout: runbookMs,
        });
        expect(stdout).to.match(new RegExp(`restored from revision ${snapshot.revision}: the cluster is at revision \\d+\\n$`));
    });

    it("fails the README's runbook on a cluster that was not restored from that snapshot", async () => {
        const failure = await run("bash", ["-c", readmeRunbook("restore")], {
            env: {
                ...process.env, ENDPOINTS: cluster().clientEndpoints.join(","), SNAPSHOT_REVISION: String(10 * restoreRevisionBump),
                PATH: `${path.dirname(hostEtcdctl())}:${process.env.PATH}`,
            },
            timeout: runbookMs,
        }).then(() => undefined, (error: { stderr: string }) => error.stderr);
        expect(failure).to.contain("it was not restored from a snapshot of revision");
    });
});
