/**
 * A rolling replacement as `pulumi up` orders it, on the local cluster: each
 * member's health gate (lib/rolling.ts), as the component registered it, runs
 * serialized in Pulumi's own dynamic-provider host and talks to the target
 * groups with the real AWS SDK through the loopback ELB API stand-in, which
 * haproxy's state answers for (local/target-groups.ts). The engine's order is
 * played: for each member, the old gate's delete (the others healthy, then
 * deregister and drain), the instance's replacement, the new gate's create
 * (the new instance and the others healthy), and only then the next member.
 */
import { expect } from "chai";
import { LocalCluster, ReplacementTimings } from "../local/cluster";
import { ElbApiStandIn } from "../local/elb-api";
import { memberIds, useLocalCluster } from "./helpers/local-cluster";
import { checkWrites, failuresByOutcome, isAcknowledged, PacedWriter, readDirectoryWithQuorum, writeCheckProblems, WriteRecord } from "./helpers/paced-writes";
import { EngineProviderHost, makeProgramDirectory, Properties } from "./support/engine-provider";

/** Credentials the SDK signs with; the stand-in refuses an unsigned request, as AWS does. */
const fakeCredentials = { AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

/**
 * haproxy's states without the count of checks under way (`UP 1/2`: up, one
 * failed check short of down), which a target group does not show either: a
 * target stays healthy until its unhealthy threshold is reached.
 */
const withoutCheckCounts = (states: Record<string, string>) =>
    Object.fromEntries(Object.entries(states).map(([name, state]) => [name, state.split(" ")[0]]));

/** The engine's side of a roll: the gates as the component registered them, pointed at the stand-in, and their state. */
class Roll {
    readonly states: Properties[] = [];
    /** What happened, in order: `<member> <step>`. */
    readonly events: string[] = [];
    /** haproxy's view of the ALB's targets the moment each gate let the roll go on: `<member> <step>` → states. */
    readonly seen: Record<string, Record<string, string>> = {};

    constructor(private readonly host: EngineProviderHost, private readonly cluster: LocalCluster, private readonly api: ElbApiStandIn,
        private readonly timeoutSeconds: number) {}

    /** Gate `index` as the engine gets it: the component's inputs, with the test seams (endpoint, poll interval) and a local bound. */
    gate(index: number) {
        const blueprint = this.cluster.healthGates[index];
        return {
            urn: `urn:pulumi:local::etcd3-cluster::pulumi-nodejs:dynamic/etcd3-cluster:MemberHealthGate::${blueprint.resourceName}`,
            inputs: { ...blueprint.inputs, endpoint: this.api.endpoint, pollIntervalMs: 100, timeoutSeconds: this.timeoutSeconds },
        };
    }

    /** The first `pulumi up`: every gate created. */
    async createAll(): Promise<void> {
        for (const index of this.cluster.nodes.keys()) {
            this.states[index] = (await this.host.create(this.gate(index))).outs;
        }
    }

    /** Replaces member `index` between its gate's delete and create, as a delete-before-replace of its instance does. */
    replace(index: number, etcdVersion: string): Promise<ReplacementTimings> {
        const name = this.cluster.nodes[index].name;
        return this.cluster.replaceNode(index, {
            args: { etcdVersion },
            healthGate: {
                beforeStop: async () => {
                    this.events.push(`${name} gate delete`);
                    await this.host.delete(this.gate(index), "gate", this.states[index]);
                    this.seen[`${name} before the stop`] = withoutCheckCounts(await this.cluster.targetStates());
                    this.events.push(`${name} stopped`);
                },
                afterStart: async () => {
                    this.events.push(`${name} gate create`);
                    this.states[index] = (await this.host.create(this.gate(index))).outs;
                    this.seen[`${name} after the start`] = withoutCheckCounts(await this.cluster.targetStates());
                    this.events.push(`${name} healthy`);
                },
            },
        });
    }
}

describe("local cluster of 3: a roll ordered by the members' health gates, under a write every 50 ms", function () {
    this.timeout(60_000);
    const cluster = useLocalCluster({ size: 3 });
    const directory = `gated-roll-${process.pid}-${Date.now()}`;
    let program: ReturnType<typeof makeProgramDirectory>;
    let host: EngineProviderHost;
    let roll: Roll;
    let records: WriteRecord[] = [];
    let idsBefore: Record<string, string> = {};
    let idsAfter: Record<string, string> = {};
    let callsDuringRoll: string[] = [];
    let rollMs = 0;

    before(async function () {
        this.timeout(180_000);
        program = makeProgramDirectory({ packages: ["@aws-sdk/client-elastic-load-balancing-v2"] });
        host = await EngineProviderHost.start(program.directory, { callMs: 60_000 }, { PATH: process.env.PATH, ...fakeCredentials });
        const api = await cluster().startElbApi();
        roll = new Roll(host, cluster(), api, 45);
        await roll.createAll();
        idsBefore = await memberIds(cluster());
        const writer = new PacedWriter({ baseUrl: cluster().clusterUrl, directory, intervalMs: 50, maxDurationMs: 150_000 });
        writer.start();
        const firstCall = api.calls.length;
        try {
            await new Promise((resolve) => setTimeout(resolve, 1000));
            const started = Date.now();
            for (const index of cluster().nodes.keys()) {
                await roll.replace(index, "3.5.32");
            }
            rollMs = Date.now() - started;
            await new Promise((resolve) => setTimeout(resolve, 1000));
        } finally {
            records = await writer.stop();
        }
        callsDuringRoll = api.calls.slice(firstCall).filter((call) => call.action === "DeregisterTargets").map((call) => call.targetIds.join(","));
        idsAfter = await memberIds(cluster());
    });

    after(async function () {
        this.timeout(20_000);
        if (records.length > 0) {
            process.stdout.write(`      gated roll of 3 members: ${rollMs} ms; ${records.filter((r) => !isAcknowledged(r)).length} of ${records.length} ` +
                `writes failed through the load balancer ${JSON.stringify(failuresByOutcome(records))}\n`);
        }
        await host?.stop();
        program?.remove();
    });

    it("stops a member only once it is drained and the others are up, and goes on only once all three are up again", () => {
        const names = cluster().nodes.map((node) => node.name);
        expect(roll.events).to.deep.equal(names.flatMap((name) => [`${name} gate delete`, `${name} stopped`, `${name} gate create`, `${name} healthy`]));
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
    this.timeout(60_000);
    const cluster = useLocalCluster({ size: 3, toleratedBootFailures: 10 });
    let program: ReturnType<typeof makeProgramDirectory>;
    let host: EngineProviderHost;
    let roll: Roll;
    let failure: Error | undefined;

    before(async function () {
        this.timeout(120_000);
        program = makeProgramDirectory({ packages: ["@aws-sdk/client-elastic-load-balancing-v2"] });
        host = await EngineProviderHost.start(program.directory, { callMs: 60_000 }, { PATH: process.env.PATH, ...fakeCredentials });
        roll = new Roll(host, cluster(), await cluster().startElbApi(), 4);
        await roll.createAll();
        // Member 0's new instance never gets its volume: etcd cannot start, the member never becomes healthy.
        const name = cluster().nodes[0].name;
        failure = await cluster().replaceNode(0, {
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
        this.timeout(20_000);
        await host?.stop();
        program?.remove();
    });

    it("fails at that member's gate, naming it and what the target group says", () => {
        const instanceId = String(cluster().healthGates[0].inputs.instanceId);
        expect(failure?.message).to.match(new RegExp(`^${cluster().nodes[0].name}: gave up after 4 s waiting for ${instanceId} to be healthy behind the ` +
            `load balancer: ${instanceId} is not healthy yet: ${instanceId} unhealthy \\(Target\\.FailedHealthChecks \\(haproxy: DOWN`));
    });

    it("leaves the other members untouched and serving, with the quorum", async () => {
        expect(cluster().nodes.map((node) => node.generation)).to.deep.equal([1, 0, 0]);
        expect(cluster().nodes.slice(1).map((node) => node.running)).to.deep.equal([true, true]);
        const answer = await fetch(`${cluster().clusterUrl}/v2/keys/after-failed-roll`, { method: "PUT", body: new URLSearchParams({ value: "kept" }) });
        expect(answer.status).to.equal(201);
    });
});
