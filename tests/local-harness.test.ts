/**
 * The harness itself: clusters that must coexist, the OS table driving the
 * boot rather than Fedora CoreOS names written into the harness, starts that
 * are interrupted or run out of time and leave nothing behind, and the parts
 * where the local cluster must be no kinder than EC2: Restart= played with the
 * unit's own RestartSec, a container's filesystem lost with it, and load
 * balancers built from the resources the component registers.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { LocalCluster, replaceGraceMs, startLocalCluster } from "../local/cluster";
import { leftoversOf } from "./helpers/leftovers";
import {
    clusterStartTimeoutMs, clusterStopTimeoutMs, curl, marginMs, memberList, nodeStartMs, nodeStopMs, putKey, replaceNodeMs, requestTimeoutMs,
    startHookTimeoutMs, useLocalCluster, waitForTargetMs,
} from "./helpers/local-cluster";

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
        expect(cluster().nodes[0].unit("docker.service").activeState).to.equal("active");
        expect((await curl(`${cluster().clusterUrl}/health`)).body.health).to.equal("true");
    });
});

describe("local harness: a start that is interrupted or runs out of time", function () {
    // Each start here is cut short; its teardown is bounded by the harness.
    this.timeout(startHookTimeoutMs());

    /** The phases of a start, by the first log line of each (or of what follows it). */
    const phases = ["files in", "component:", "loopback subnet", "discovery:", "ignition: etcd3-cluster-0", "boot:", "etcd:"];

    for (const phase of phases) {
        it(`stops everything it started when aborted at "${phase}"`, async () => {
            const abort = new AbortController();
            const lines: string[] = [];
            const start = startLocalCluster({
                size: 3,
                grpcLoadBalancer: true,
                abortSignal: abort.signal,
                log: (line) => {
                    lines.push(line);
                    if (line.startsWith(phase)) {
                        abort.abort();
                    }
                },
            });
            const error = await start.then(async (cluster) => {
                await cluster.stop();
                return undefined;
            }, (failure: Error) => failure);
            expect(error?.message, `the start was not aborted at ${phase}`).to.match(/^the start was interrupted/);
            expect(leftoversOf(lines)).to.deep.equal([]);
        });
    }

    it("fails with its deadline, and stops everything, when the start runs out of startTimeoutMs", async () => {
        const lines: string[] = [];
        // Long enough to get processes running, far too short for 5 members and a load balancer.
        const error = await startLocalCluster({ size: 5, startTimeoutMs: 1500, log: (line) => lines.push(line) })
            .then(async (cluster) => {
                await cluster.stop();
                return undefined;
            }, (failure: Error) => failure);
        expect(error?.message).to.match(/the start ran out of its 1500 ms/);
        expect(leftoversOf(lines)).to.deep.equal([]);
    });
});

describe("local harness: a member whose process dies while its instance runs", function () {
    const cluster = useLocalCluster({ size: 3 });

    it("is restarted by systemd after the unit's RestartSec, from its data dir, and rejoins as the same member", async function () {
        // The unit's RestartSec is 5 s; the member then rejoins and the health checks rise again.
        const downWaitMs = 10_000;
        const restartWaitMs = 20_000;
        const upWaitMs = 20_000;
        // The member lists, the waits for DOWN, for the restart and for UP.
        this.timeout(2 * requestTimeoutMs + waitForTargetMs(downWaitMs) + restartWaitMs + waitForTargetMs(upWaitMs) + marginMs);
        const node = cluster().nodes[1];
        const membersBefore = await memberList(cluster());
        const killedAt = Date.now();
        node.killMember("SIGKILL");
        await cluster().waitForTarget(node.name, "DOWN", downWaitMs);
        const deadline = Date.now() + restartWaitMs;
        while (!(node.unit().restarts === 1 && node.running) && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(node.unit()).to.deep.include({ activeState: "active", restarts: 1 });
        // RestartSec=5s, from the component's unit.
        expect(Date.now() - killedAt).to.be.at.least(5000);
        expect(node.journal().join("\n")).to.include("Main process exited, code=exited, status=137/FAILURE")
            .and.include("Scheduled restart job, restart counter is at 1.");
        await cluster().waitForTarget(node.name, "UP", upWaitMs);
        expect(await memberList(cluster())).to.deep.equal(membersBefore);
    });

    it("ends a replacement whose health gate never answers at its bound, the member left as it was", async function () {
        const replaceTimeoutMs = 1000;
        // The whole replacement, the component's construction included, ends replaceGraceMs after its bound.
        this.timeout(replaceNodeMs(replaceTimeoutMs) + marginMs);
        const node = cluster().nodes[2];
        const never = () => new Promise<void>(() => undefined);
        const failure = await cluster().replaceNode(2, { timeoutMs: replaceTimeoutMs, healthGate: { beforeStop: never, afterStart: never } })
            .then(() => "the replacement finished", (error: Error) => error.message);
        // The whole is bounded replaceGraceMs after timeoutMs (less the moment between the two readings of the clock).
        expect(failure).to.match(new RegExp(`^timed out after \\d+ ms waiting for the replacement of ${node.name}$`));
        expect(Number(/after (\d+) ms/.exec(failure)![1])).to.be.within(replaceTimeoutMs + replaceGraceMs - 50, replaceTimeoutMs + replaceGraceMs);
        expect({ generation: node.generation, running: node.running }).to.deep.equal({ generation: 0, running: true });
    });
});

describe("local harness: a container's own filesystem", function () {
    this.timeout(startHookTimeoutMs());
    // The unit keeps its data outside the volume: on EC2 the data goes with the container at every stop.
    const outside = "/var/lib/etcd-outside";
    const cluster = useLocalCluster({
        size: 1,
        userDataTransform: (userData) => userData.replace("--data-dir=/var/lib/etcd", `--data-dir=${outside}`),
    });

    it("loses what etcd wrote outside the mounted volume when the container goes, so the member cannot come back", async function () {
        this.timeout(requestTimeoutMs + nodeStopMs + nodeStartMs() + marginMs);
        const node = cluster().nodes[0];
        expect((await putKey(cluster().clusterUrl, "kept", "or not")).status).to.be.oneOf([200, 201]);
        await node.stop();
        // Neither the node's own filesystem nor any container holds the data once the --rm container is gone.
        expect(fs.existsSync(path.join(node.root, outside))).to.equal(false);
        const containers = path.join(path.dirname(node.root), "containers");
        expect(fs.existsSync(containers) ? fs.readdirSync(containers) : []).to.deep.equal([]);
        // A member with an empty data dir asks the discovery token again, and finds it full.
        const restart = await node.start().then(() => undefined, (error: Error) => error);
        expect(restart?.message).to.match(/etcd-member\.service: \/usr\/local\/bin\/etcd exited with code 1/);
    });
});

describe("local harness: load balancers from the registered resources", function () {
    this.timeout(startHookTimeoutMs());
    // Under mocks the target groups get another health check than lib/loadbalancer.ts's table says (see the patch).
    const patch = path.join(__dirname, "helpers", "patch-health-check.ts");
    const cluster = useLocalCluster({ size: 1, grpcLoadBalancer: true, componentPatch: patch, heartbeatIntervalMs: 50, electionTimeoutMs: 500 });

    it("plays the target groups' health check as registered, scaled, for the ALB and the NLB alike", () => {
        const config = cluster().loadBalancerConfig;
        // 10 s × 0.1 and a healthy threshold of 3, as registered; the table says 5 s and 2.
        const checks = config.split("\n").filter((line) => line.includes("default-server check"));
        expect(checks).to.deep.equal([
            "    default-server check inter 1000ms fall 2 rise 3",
            "    default-server check inter 1000ms fall 2 rise 3",
        ]);
        expect(config).to.include("option httpchk GET /health?exclude=NOSPACE\n").and.include("timeout check 300ms");
    });

    it("plays each listener's protocol and port, and the target group's targets", () => {
        const config = cluster().loadBalancerConfig;
        expect(config).to.match(/frontend alb-listener\n {4}mode http\n/);
        expect(config).to.match(/frontend nlb-listener\n {4}mode tcp\n {4}bind 127\.0\.\d+\.254:2379\n/);
        expect(config).to.include(`server etcd3-cluster-0 ${cluster().nodes[0].ip}:2379`);
    });

    it("boots the members with the raft timing given, through the component's arguments", () => {
        const userData = fs.readFileSync(path.join(path.dirname(cluster().nodes[0].root), "user-data.ign"), "utf8");
        expect(userData).to.include("--heartbeat-interval=50").and.include("--election-timeout=500");
    });
});
