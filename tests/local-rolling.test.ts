/**
 * A rolling replacement as `pulumi up` orders it, on the local cluster, by
 * the members' real health gates in Pulumi's provider host (the roll itself:
 * tests/helpers/gated-roll.ts, which `npm run bench` runs too).
 */
import { expect } from "chai";
import { expectedRollEvents, Roll, rollUnderWrites, startGateHost } from "./helpers/gated-roll";
import {
    etcdctlTimeouts, marginMs, memberIds, readBackMs, replaceNodeMs, requestTimeoutMs, useLocalCluster, writerStopMs,
} from "./helpers/local-cluster";
import { checkWrites, failuresByOutcome, isAcknowledged, readDirectoryWithQuorum, writeCheckProblems, WriteRecord } from "./helpers/paced-writes";
import { EngineProviderHost } from "./support/engine-provider";

/** The provider host's bound on its stop, and on its start: printing its port, or it is stopped (tests/support/engine-provider.ts's defaults). */
const gateHostStopMs = 5_000;
const gateHostStartMs = 20_000 + gateHostStopMs;
/** A gate's create: the engine's Check, then its Create, each one call to the host. */
const gateCreateCalls = 2;

describe("local cluster of 3: a roll ordered by the members' health gates, under a write every 50 ms", function () {
    // The longest test: the quorum read-back.
    this.timeout(readBackMs + marginMs);
    const cluster = useLocalCluster({ size: 3 });
    const gateTimeoutSeconds = 45;
    /** Each call to the host: a minute, above the gate's own bound, as the host's first call loads the gate's code, which a busy machine makes slow. */
    const gateCallMs = 60_000;
    const directory = `gated-roll-${process.pid}-${Date.now()}`;
    let gateHost: Awaited<ReturnType<typeof startGateHost>> | undefined;
    let roll: Roll;
    let records: WriteRecord[] = [];
    let idsBefore: Record<string, string> = {};
    let idsAfter: Record<string, string> = {};
    let callsDuringRoll: string[] = [];
    let rollMs = 0;

    before(async function () {
        // The host's start, the member ids before and after, every gate's create, the replacements (each bounds its two gate
        // calls), a second of writes either side, the last writes.
        this.timeout(gateHostStartMs + 2 * etcdctlTimeouts.processMs + 3 * gateCreateCalls * gateCallMs + 3 * replaceNodeMs() + 2 * 1000 +
            writerStopMs + marginMs);
        gateHost = await startGateHost(gateCallMs);
        idsBefore = await memberIds(cluster());
        const result = await rollUnderWrites(cluster(), gateHost.host, { etcdVersion: "3.5.32", directory, intervalMs: 50, gateTimeoutSeconds });
        ({ roll, records, deregistered: callsDuringRoll } = result);
        rollMs = result.rollEndMs - result.rollStartMs;
        idsAfter = await memberIds(cluster());
    });

    after(async function () {
        this.timeout(gateHostStopMs + marginMs);
        if (records.length > 0) {
            process.stdout.write(`      gated roll of 3 members: ${rollMs} ms; ${records.filter((r) => !isAcknowledged(r)).length} of ${records.length} ` +
                `writes failed through the load balancer ${JSON.stringify(failuresByOutcome(records))}\n`);
        }
        await gateHost?.stop();
    });

    it("stops a member only once it is drained and the others are up, and goes on only once all three are up again", () => {
        const names = cluster().nodes.map((node) => node.name);
        expect(roll.events).to.deep.equal(expectedRollEvents(names));
        const allUp = Object.fromEntries(names.map((name) => [name, "UP"]));
        expect(roll.seen).to.deep.equal(Object.fromEntries(names.flatMap((name) => [
            // haproxy shows a draining server as DRAIN, its health checks still running.
            [`${name} before the stop`, { ...allUp, [name]: "DRAIN" }],
            [`${name} after the start`, allUp],
        ])));
    });

    it("deregisters each member from the ALB's target group through the ELB API before it stops, in member order", () => {
        expect(callsDuringRoll).to.deep.equal(cluster().healthGates.map((gate) => String(gate.inputs.instanceId)));
    });

    it("gives every member a new instance booted from the new user data, with its member id", () => {
        expect(cluster().nodes.map((node) => node.generation)).to.deep.equal([1, 1, 1]);
        expect(idsAfter).to.deep.equal(idsBefore);
    });

    it("reads back every acknowledged write (quorum read)", async () => {
        const check = checkWrites(records, await readDirectoryWithQuorum(cluster().clusterUrl, directory));
        expect(check.acknowledged, "acknowledged writes").to.be.greaterThan(0);
        expect(writeCheckProblems(check)).to.deep.equal([]);
    });

    it("sends no request through the load balancer to a member that is not serving", () => {
        // haproxy's own answers (502, 503, 504) and lost connections would be requests sent to a member that could not
        // serve them; etcd's own 500 (a proposal dropped by a stopping leader's hand-over) can happen on EC2 too.
        const atTheLoadBalancer = Object.entries(failuresByOutcome(records)).filter(([outcome]) => outcome !== "500");
        expect(Object.fromEntries(atTheLoadBalancer)).to.deep.equal({});
    });
});

describe("local cluster of 3: a roll stopped by a member that does not come back", function () {
    // The longest test: one write.
    this.timeout(requestTimeoutMs + marginMs);
    const cluster = useLocalCluster({ size: 3, toleratedBootFailures: 10 });
    const gateTimeoutSeconds = 4;
    /** Each call to the host: a minute, as the host's first call loads the gate's code, which a busy machine makes slow. */
    const gateCallMs = 60_000;
    /**
     * Bound on the replacement: the gate fails it within seconds of the boot, so the default's room for a boot to
     * health and the health checks' rise is not needed; what comes before (the construction, the gate's delete, the
     * stop, Ignition) takes seconds.
     */
    const replaceTimeoutMs = 60_000;
    let gateHost: Awaited<ReturnType<typeof startGateHost>> | undefined;
    let host: EngineProviderHost;
    let roll: Roll;
    let failure: Error | undefined;

    before(async function () {
        // The host's start, every gate's create, the replacement (which bounds its two gate calls).
        this.timeout(gateHostStartMs + 3 * gateCreateCalls * gateCallMs + replaceNodeMs(replaceTimeoutMs) + marginMs);
        gateHost = await startGateHost(gateCallMs);
        host = gateHost.host;
        roll = new Roll(host, cluster(), await cluster().startElbApi(), gateTimeoutSeconds);
        await roll.createAll();
        // Member 0's new instance never gets its volume: etcd cannot start, the member never becomes healthy.
        const name = cluster().nodes[0].name;
        failure = await cluster().replaceNode(0, {
            timeoutMs: replaceTimeoutMs,
            attachVolumes: false,
            healthGate: {
                beforeStop: () => host.delete(roll.gate(0), "gate", roll.states[0]),
                afterStart: async () => {
                    roll.events.push(`${name} gate create`);
                    roll.states[0] = (await host.create(roll.gate(0))).outs;
                },
            },
        }).then(() => undefined, (error: Error) => error);
    });

    after(async function () {
        this.timeout(gateHostStopMs + marginMs);
        await gateHost?.stop();
    });

    it("fails at that member's gate, naming it and what the target group says", () => {
        const instanceId = String(cluster().healthGates[0].inputs.instanceId);
        expect(failure?.message).to.match(new RegExp(`^${cluster().nodes[0].name}: gave up after 4 s waiting for ${instanceId} to be healthy behind the ` +
            `load balancer: ${instanceId} is not healthy yet: ${instanceId} unhealthy \\(Target\\.FailedHealthChecks \\(haproxy: DOWN`));
    });

    it("leaves the other members untouched and serving, with the quorum", async () => {
        expect(cluster().nodes.map((node) => node.generation)).to.deep.equal([1, 0, 0]);
        expect(cluster().nodes.slice(1).map((node) => node.running)).to.deep.equal([true, true]);
        const answer = await fetch(`${cluster().clusterUrl}/v2/keys/after-failed-roll`, {
            method: "PUT", body: new URLSearchParams({ value: "kept" }), signal: AbortSignal.timeout(requestTimeoutMs),
        });
        expect(answer.status).to.equal(201);
    });
});
