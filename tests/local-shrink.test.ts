/**
 * A cluster grows and shrinks on a live stack: a locally booted 3-member
 * cluster grows to 5 (as tests/local-grow.test.ts shows), then the component
 * is constructed again with `clusterSize: 3` as a stack created with 3 (the
 * staying members' user data must come out unchanged), and the two leaving
 * members go as `pulumi up` deletes them, highest slot first: each one's health gate and
 * then its departure run serialized in Pulumi's own dynamic-provider host,
 * calling the ELB and EC2 API stand-ins with the real AWS SDK. The departure
 * tags the instance; the member's leave unit reads the tag through its
 * instance metadata stand-in (IMDSv2), removes itself from etcd and powers the
 * node off (SuccessAction=poweroff), which the EC2 stand-in then reports as
 * stopped. A stream of writes runs through the load balancer throughout.
 */
import { expect } from "chai";
import { leaveTagKey } from "../lib/bootstrap";
import { defaultJoinTimeoutMs, LocalCluster, LocalNode } from "../local/cluster";
import { Ec2ApiStandIn } from "../local/ec2-api";
import { ElbApiStandIn } from "../local/elb-api";
import { fakeCredentials } from "./helpers/gated-roll";
import { waitUntil } from "../local/processes";
import {
    etcdctlTimeouts, growMs, marginMs, members, readBackMs, settledMembers, useLocalCluster, waitForTargetMs, waitUntilMs, writerStopMs,
} from "./helpers/local-cluster";
import { checkWrites, PacedWriter, readDirectoryWithQuorum, writeCheckProblems } from "./helpers/paced-writes";
import { EngineProviderHost, hostEnvironment, makeProgramDirectory } from "./support/engine-provider";

/** Each member etcd lists as [name, peer URL, voting and started], in slot order. */
async function memberTable(cluster: LocalCluster): Promise<[string, string, boolean][]> {
    return (await members(cluster)).map((member) => [member.name, member.peerUrl, member.started && !member.learner]);
}

/** The table the slots describe: every node voting under its own name at its own peer URL. */
const slotTable = (nodes: readonly LocalNode[]) => nodes.map((node): [string, string, boolean] => [node.name, `http://${node.ip}:2380`, true]);

/** The leaving members' gates' and departures' own bounds, as their `timeoutSeconds` seam sets them. */
const gateTimeoutSeconds = 60;
const departureTimeoutSeconds = 120;
/** Each call to the provider host: above a gate's delete (two waits) and a departure's own bound, as the engine waits on a provider. */
const hostCallMs = Math.max(2 * gateTimeoutSeconds, departureTimeoutSeconds) * 1000 + 2 * marginMs;
/** Bound on the shrink's construction of the component (its only bound of its own when the leaving members have gates): the harness's default. */
const shrinkConstructionMs = defaultJoinTimeoutMs;
/** Bound on the wait for a new member's promotion, polled with `settledMembers` (an etcdctl run). */
const promotionWaitMs = 30_000;
/** Worst case of each `afterMember`: the wait for the promotion, then a member table (an etcdctl run). */
const afterGrownMemberMs = waitUntilMs(promotionWaitMs, etcdctlTimeouts.processMs, 250) + etcdctlTimeouts.processMs;

describe("a local cluster that grows from 3 to 5 members and shrinks back to 3 (bootstrap static)", function () {
    const cluster = useLocalCluster({ size: 3, bootstrap: "static" });
    let program: ReturnType<typeof makeProgramDirectory> | undefined;
    let host: EngineProviderHost | undefined;
    let elb: ElbApiStandIn;
    let ec2: Ec2ApiStandIn;
    let leaving: LocalNode[];
    /** The departures of the 5-member construction, in member order. */
    let departures: LocalCluster["departures"];
    const events: string[] = [];
    const afterEachMember: [string, string, boolean][][] = [];

    before(async function () {
        this.timeout(60_000);
        elb = await cluster().startElbApi();
        ec2 = await cluster().startEc2Api();
        program = makeProgramDirectory({ packages: ["@aws-sdk/client-elastic-load-balancing-v2", "@aws-sdk/client-ec2"] });
        // Each call bounded above the gate's and the departure's own bounds, as the engine waits on a provider.
        host = await EngineProviderHost.start(program.directory, { callMs: hostCallMs }, hostEnvironment(fakeCredentials));
    });
    after(async function () {
        this.timeout(30_000);
        await host?.stop();
        program?.remove();
    });

    /** A member's dynamic resource as the engine gets it: the component's inputs, with the test seams and a local bound. */
    const asEngineGetsIt = (type: "MemberHealthGate" | "MemberDeparture", blueprint: { resourceName: string; inputs: Record<string, unknown> },
        seams: Record<string, unknown>) => ({
        urn: `urn:pulumi:local::etcd3-cluster::pulumi-nodejs:dynamic/etcd3-cluster:${type}::${blueprint.resourceName}`,
        inputs: { ...blueprint.inputs, ...seams },
    });

    it("adds two members and removes them again, one at a time, highest slot first, each gone from etcd before its instance, losing no acknowledged write", async function () {
        // The grow; the shrink: its construction, then per member the gate's and the departure's calls and a member table; the last writes,
        // the waits for the staying members' targets at once, the quorum read-back.
        const shrinkMs = shrinkConstructionMs + 2 * (2 * hostCallMs + etcdctlTimeouts.processMs);
        this.timeout(growMs(2, { afterMemberMs: afterGrownMemberMs }) + shrinkMs + writerStopMs + waitForTargetMs() + readBackMs + marginMs);
        const writer = new PacedWriter({ baseUrl: cluster().clusterUrl, directory: "resize-stream", intervalMs: 100, maxDurationMs: 8 * 60_000 });
        writer.start();
        try {
            await cluster().grow(5, {
                afterMember: async () => {
                    await waitUntil(() => settledMembers(cluster()), { timeoutMs: promotionWaitMs, intervalMs: 250, description: "the new member to be promoted" });
                    afterEachMember.push(await memberTable(cluster()));
                },
            });
            leaving = cluster().nodes.slice(3);
            const gates = cluster().healthGates;
            departures = cluster().departures;
            await cluster().shrink(3, {
                healthGate: async (index) => {
                    events.push(`${cluster().nodes[index].name} gate delete`);
                    const gate = asEngineGetsIt("MemberHealthGate", gates[index], {
                        endpoint: elb.endpoint, pollIntervalMs: 100, timeoutSeconds: gateTimeoutSeconds,
                        minimumDrainSeconds: Number(gates[index].inputs.minimumDrainSeconds ?? 0) * cluster().healthCheckTimeScale,
                    });
                    await host!.delete(gate, "gate", gate.inputs);
                },
                departure: async (index) => {
                    events.push(`${cluster().nodes[index].name} departure delete`);
                    // The id EC2 gave the instance, where the mocks' stands in the component's inputs.
                    const departure = asEngineGetsIt("MemberDeparture", departures[index], {
                        instanceId: cluster().nodes[index].instanceId, endpoint: ec2.endpoint, pollIntervalMs: 200, timeoutSeconds: departureTimeoutSeconds,
                    });
                    await host!.delete(departure, "departure", departure.inputs);
                    events.push(`${cluster().nodes[index].name} stopped`);
                },
                afterMember: async () => {
                    afterEachMember.push(await memberTable(cluster()));
                },
            });
        } finally {
            await writer.stop();
        }
        expect(events).to.deep.equal(["etcd3-cluster-4", "etcd3-cluster-3"].flatMap((name) => [`${name} gate delete`, `${name} departure delete`, `${name} stopped`]));
        const sizes = [4, 5, 4, 3];
        expect(afterEachMember).to.deep.equal(sizes.map((size) => slotTable(cluster().nodes.concat(leaving).slice(0, size))));
        const records = writer.snapshot();
        // The read checks what was acknowledged, not the load balancer: it waits until the staying members are UP again
        // (a loaded machine can leave them without a leader for a check or two after the last member left).
        await Promise.all(cluster().nodes.map((node) => cluster().waitForTarget(node.name, "UP")));
        const check = checkWrites(records, await readDirectoryWithQuorum(cluster().clusterUrl, "resize-stream"));
        expect(writeCheckProblems(check)).to.deep.equal([]);
        expect(check.acknowledged).to.be.greaterThan(records.length / 2);
    });

    it("tagged each leaving instance, and only those, through the EC2 API", () => {
        const tagged = ec2.calls.filter((call) => call.action === "CreateTags").map((call) => [call.instanceIds, call.tags]);
        expect(tagged).to.deep.equal([1, 0].map((index) => [[leaving[index].instanceId], { [leaveTagKey]: leaving[index].name }]));
        expect(cluster().departures.map((departure) => departure.resourceName)).to.have.length(3);
    });

    it("had each leaving member remove itself and power off, as its leave unit's journal says", () => {
        for (const node of leaving) {
            const output = node.unitOutput("etcd-member-leave.service");
            expect(output, node.name).to.contain(`leave: this instance is tagged ${leaveTagKey}=${node.name}: ${node.name} leaves the cluster\n`)
                .and.match(new RegExp(`leave: removed member [0-9a-f]+ \\(${node.name} at http://${node.ip.replace(/\./g, "\\.")}:2380\\) from the cluster\n`));
            expect(node.running, node.name).to.equal(false);
            expect(node.journal().join("\n"), node.name).to.contain("SuccessAction=poweroff");
        }
    });

    it("keeps serving the staying members through the load balancer", async () => {
        const states = await cluster().targetStates();
        expect(Object.fromEntries(cluster().nodes.map((node) => [node.name, states[node.name]])))
            .to.deep.equal(Object.fromEntries(cluster().nodes.map((node) => [node.name, "UP"])));
    });
});
