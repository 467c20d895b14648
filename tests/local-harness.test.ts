/**
 * The harness itself: clusters that must coexist, and the OS table driving
 * the boot rather than Fedora CoreOS names written into the harness.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { LocalCluster, startLocalCluster } from "../local/cluster";
import { clusterStartTimeoutMs, clusterStopTimeoutMs, curl, putKey, useLocalCluster } from "./helpers/local-cluster";

describe("local harness: two clusters at once", function () {
    this.timeout(clusterStartTimeoutMs);
    let clusters: LocalCluster[] = [];

    before(async () => {
        const starts = await Promise.allSettled([startLocalCluster({ size: 1 }), startLocalCluster({ size: 1 })]);
        clusters = starts.flatMap((start) => (start.status === "fulfilled" ? [start.value] : []));
        const failure = starts.find((start): start is PromiseRejectedResult => start.status === "rejected");
        if (failure) {
            throw failure.reason;
        }
    });

    after(async function () {
        this.timeout(clusterStopTimeoutMs);
        await Promise.all(clusters.map((cluster) => cluster.stop()));
    });

    it("gives each cluster its own loopback subnet", () => {
        expect(clusters[0].subnet).to.not.equal(clusters[1].subnet);
    });

    it("keeps each cluster's data to itself", async () => {
        await putKey(clusters[0].clusterUrl, "owner", "first");
        await putKey(clusters[1].clusterUrl, "owner", "second");
        expect((await curl(`${clusters[0].clusterUrl}/v2/keys/owner?quorum=true`)).body.node.value).to.equal("first");
        expect((await curl(`${clusters[1].clusterUrl}/v2/keys/owner?quorum=true`)).body.node.value).to.equal("second");
    });
});

describe("local harness: a Flatcar cluster", function () {
    this.timeout(20_000);
    const cluster = useLocalCluster({ size: 1, os: "flatcar" });

    it("writes Flatcar's metadata file, with coreos-metadata's variable names", () => {
        const node = cluster().nodes[0];
        const metadata = fs.readFileSync(path.join(node.root, "run", "metadata", "flatcar"), "utf8");
        expect(metadata).to.include(`COREOS_EC2_IPV4_LOCAL=${node.ip}\n`);
        expect(fs.existsSync(path.join(node.root, "run", "metadata", "afterburn"))).to.equal(false);
    });

    it("boots from Flatcar's docker unit and answers through the load balancer", async () => {
        const unit = fs.readFileSync(path.join(cluster().nodes[0].root, "etc", "systemd", "system", "etcd-member.service"), "utf8");
        expect(unit).to.include("ExecStart=/usr/bin/docker run");
        expect((await curl(`${cluster().clusterUrl}/health`)).body.health).to.equal("true");
    });
});
