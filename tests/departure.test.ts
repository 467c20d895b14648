/**
 * The member departure (lib/departure.ts): its verdicts, pure, and the
 * departure as `pulumi up` runs it: serialized by the SDK, loaded by Pulumi's
 * own dynamic-provider host, calling the EC2 API with the real AWS SDK, here
 * pointed at the loopback stand-in of local/ec2-api.ts.
 */
import { expect } from "chai";
import { installMocks } from "./support/pulumi-mocks";

installMocks();
import { leaveTagKey } from "../lib/bootstrap";
import { departureVerdict, MemberDeparture, MemberDepartureInputs } from "../lib/departure";
import { Ec2ApiStandIn, Ec2Instance, Ec2InstancesModel, Ec2InstanceState, startEc2Api } from "../local/ec2-api";
import {
    credentiallessEnvironment, dynamicResourceDeclarer, exampleAwsCredentials, failureOf, hostEnvironment, useEngineProviderHost, withEngineProviderHost,
} from "./support/engine-provider";

describe("the member departure's verdicts (lib/departure.ts)", () => {
    it("is done once the instance has stopped after running with the tag: the member left and powered off", () => {
        expect(departureVerdict("stopped", true)).to.deep.equal({ kind: "done", why: "the member left the cluster and powered off" });
    });

    it("starts a stopped instance that has not run since it was tagged: only a running member can read its tag and leave", () => {
        expect(departureVerdict("stopped", false)).to.deep.equal({ kind: "start" });
    });

    it("waits while the instance runs or is on its way, saying so", () => {
        expect((["pending", "running", "stopping"] as const).map((state) => departureVerdict(state, true))).to.deep.equal([
            { kind: "wait", why: "the instance is pending: its member has not left yet" },
            { kind: "wait", why: "the instance is running: its member has not left yet" },
            { kind: "wait", why: "the instance is stopping" },
        ]);
    });

    it("is done with an instance that is gone or going, which can no longer leave", () => {
        expect((["terminated", "shutting-down", "absent"] as const).map((state) => departureVerdict(state, false)).map((verdict) => verdict.kind))
            .to.deep.equal(["done", "done", "done"]);
        expect(departureVerdict("absent", false)).to.deep.equal({
            kind: "done", why: "the instance is absent: it can no longer leave, and its member, if still listed, is down",
        });
    });
});

/**
 * Instances as a table the test drives: a tagged instance that runs "leaves"
 * (stops) after `leaveAfterMs`, as a member's leave unit and SuccessAction do;
 * a started one runs after `bootMs`.
 */
class InstanceTable implements Ec2InstancesModel {
    readonly instances = new Map<string, Ec2Instance>();
    leaveAfterMs: number | undefined = 200;
    bootMs = 100;
    /** How many looks after a start still see the instance stopped, as EC2's eventually consistent reads can. */
    staleReadsAfterStart = 0;
    private staleReads = 0;

    set(instanceId: string, state: Ec2InstanceState): void {
        this.instances.set(instanceId, { state, tags: { Name: instanceId }, metadataTags: true });
    }

    async describe(instanceId: string): Promise<Ec2Instance | undefined> {
        const instance = this.instances.get(instanceId);
        if (instance && this.staleReads > 0) {
            this.staleReads--;
            return { ...instance, state: "stopped" };
        }
        return instance;
    }

    async createTags(instanceId: string, tags: Record<string, string>): Promise<boolean> {
        const instance = this.instances.get(instanceId);
        if (!instance) {
            return false;
        }
        Object.assign(instance.tags, tags);
        if (instance.state === "running") {
            this.leaveLater(instance);
        }
        return true;
    }

    async start(instanceId: string): Promise<boolean> {
        const instance = this.instances.get(instanceId);
        if (!instance) {
            return false;
        }
        instance.state = "pending";
        this.staleReads = this.staleReadsAfterStart;
        setTimeout(() => {
            instance.state = "running";
            if (instance.tags[leaveTagKey]) {
                this.leaveLater(instance);
            }
        }, this.bootMs);
        return true;
    }

    private leaveLater(instance: Ec2Instance): void {
        if (this.leaveAfterMs !== undefined) {
            setTimeout(() => { instance.state = "stopped"; }, this.leaveAfterMs);
        }
    }
}

describe("the member departure as the engine runs it", function () {
    this.timeout(30_000);
    const engine = useEngineProviderHost({ packages: ["@aws-sdk/client-ec2"], environment: () => hostEnvironment(exampleAwsCredentials) });
    let api: Ec2ApiStandIn;
    const table = new InstanceTable();
    /** A departure declared in the mocked program, as the engine receives it, pointed at the stand-in. */
    const declare = dynamicResourceDeclarer("etcd3-cluster:MemberDeparture", "engine-departure",
        (name, inputs: Partial<MemberDepartureInputs> = {}) => new MemberDeparture(name, {
            memberName: "etcd3-cluster-4", instanceId: "i-0a1b2c3d4e5f60004", region: "eu-west-2",
            timeoutSeconds: 2, endpoint: api.endpoint, pollIntervalMs: 50, ...inputs,
        }));
    const callsSince = (start: number) => api.calls.slice(start).map((call) =>
        [call.action, ...call.instanceIds, ...Object.entries(call.tags ?? {}).map(([key, value]) => `${key}=${value}`)].join(" "));

    before(async () => {
        api = await startEc2Api(table);
    });
    after(async () => {
        await api?.stop();
    });
    beforeEach(() => {
        table.leaveAfterMs = 200;
        table.staleReadsAfterStart = 0;
        table.set("i-0a1b2c3d4e5f60004", "running");
    });

    it("does nothing when created or updated: a member that joins, or whose instance is replaced, stays", async () => {
        const resource = await declare();
        const start = api.calls.length;
        const created = await engine.host.create(resource);
        expect(await engine.host.diff(await declare({ instanceId: "i-0a1b2c3d4e5f60009" }), created.id, created.outs))
            .to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
        expect(callsSince(start)).to.deep.equal([]);
        expect(table.instances.get("i-0a1b2c3d4e5f60004")!.tags).to.deep.equal({ Name: "i-0a1b2c3d4e5f60004" });
    });

    it("sees no change when only its serialized provider differs, as after an upgrade of this package", async () => {
        const resource = await declare();
        const created = await engine.host.create(resource);
        expect(await engine.host.diff(resource, created.id, { ...created.outs, __provider: "exports.handler = () => undefined;" }))
            .to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
    });

    it("when deleted, tags the member's instance to leave with its name and returns once the instance has stopped", async () => {
        const resource = await declare();
        const start = api.calls.length;
        await engine.host.delete(resource, "departure-id", resource.inputs);
        expect(table.instances.get("i-0a1b2c3d4e5f60004")!.state).to.equal("stopped");
        const calls = callsSince(start);
        expect(calls.slice(0, 2)).to.deep.equal([
            "DescribeInstances i-0a1b2c3d4e5f60004", `CreateTags i-0a1b2c3d4e5f60004 ${leaveTagKey}=etcd3-cluster-4`,
        ]);
        expect(new Set(calls.slice(2))).to.deep.equal(new Set(["DescribeInstances i-0a1b2c3d4e5f60004"]));
    });

    it("starts a stopped instance after tagging it, and waits for it to run and stop again", async () => {
        table.set("i-0a1b2c3d4e5f60004", "stopped");
        const resource = await declare();
        const start = api.calls.length;
        await engine.host.delete(resource, "departure-id", resource.inputs);
        const calls = callsSince(start).filter((call) => !call.startsWith("DescribeInstances"));
        expect(calls).to.deep.equal([`CreateTags i-0a1b2c3d4e5f60004 ${leaveTagKey}=etcd3-cluster-4`, "StartInstances i-0a1b2c3d4e5f60004"]);
        expect(table.instances.get("i-0a1b2c3d4e5f60004")!.state).to.equal("stopped");
    });

    it("takes a stopped state read right after the start for what it is, not for a member that left: it waits to see the instance run", async () => {
        table.set("i-0a1b2c3d4e5f60004", "stopped");
        table.staleReadsAfterStart = 2;
        table.bootMs = 300;
        const resource = await declare();
        const start = api.calls.length;
        const started = Date.now();
        await engine.host.delete(resource, "departure-id", resource.inputs);
        table.bootMs = 100;
        // The boot and the leave (300 + 200 ms) are behind it: it returned on the real stop, not on a stale read.
        expect(Date.now() - started).to.be.at.least(450);
        expect(callsSince(start).filter((call) => call.startsWith("StartInstances")).length).to.be.at.least(2);
        expect(table.instances.get("i-0a1b2c3d4e5f60004")!.state).to.equal("stopped");
    });

    it("sleeps on the system's clock between two looks at the instance, pollIntervalMs each time", async () => {
        table.leaveAfterMs = 500;
        const resource = await declare({ pollIntervalMs: 100 });
        const start = api.calls.length;
        const started = Date.now();
        await engine.host.delete(resource, "departure-id", resource.inputs);
        const elapsedMs = Date.now() - started;
        // One look before the tag, then one every 100 ms at most: a wait that did not sleep would look hundreds of times.
        const looks = callsSince(start).filter((call) => call.startsWith("DescribeInstances")).length;
        expect(looks).to.be.within(2, Math.floor(elapsedMs / 100) + 2);
    });

    it("lets a terminated or unknown instance go without tagging it: it can no longer leave", async () => {
        table.set("i-0a1b2c3d4e5f60004", "terminated");
        for (const instanceId of ["i-0a1b2c3d4e5f60004", "i-0a1b2c3d4e5f600ff"]) {
            const resource = await declare({ instanceId });
            const start = api.calls.length;
            await engine.host.delete(resource, "departure-id", resource.inputs);
            expect(callsSince(start)).to.deep.equal([`DescribeInstances ${instanceId}`]);
        }
    });

    it("stops the shrink with a clear error when the member never leaves", async () => {
        table.leaveAfterMs = undefined;
        const resource = await declare({ timeoutSeconds: 1 });
        expect(await failureOf(engine.host.delete(resource, "departure-id", resource.inputs))).to.equal(
            "etcd3-cluster-4: gave up after 1 s waiting for the member to leave the cluster and power off i-0a1b2c3d4e5f60004: " +
            "the instance is running: its member has not left yet. Nothing after this member was removed. Look at its leave unit " +
            "(journalctl -u etcd-member-leave.service on the instance; it waits while the other members have no quorum or another " +
            "membership change is under way), then run `pulumi up` again. memberDepartureTimeoutMinutes sets this bound; 0 turns the departures off.");
    });

    it("makes no AWS call at all when turned off: the instance goes as it is", async () => {
        const resource = await declare({ timeoutSeconds: 0 });
        const start = api.calls.length;
        await engine.host.delete(resource, "departure-id", resource.inputs);
        expect(callsSince(start)).to.deep.equal([]);
        expect(table.instances.get("i-0a1b2c3d4e5f60004")!.tags).to.deep.equal({ Name: "i-0a1b2c3d4e5f60004" });
    });

    it("names the credentials it used when the API refuses them", async () => {
        const environment = credentiallessEnvironment(engine.programDirectory);
        await withEngineProviderHost({ programDirectory: engine.programDirectory, environment }, async (unsigned) => {
            const resource = await declare({ profile: undefined });
            const message = await failureOf(unsigned.delete(resource, "departure-id", resource.inputs));
            expect(message).to.match(/^etcd3-cluster-4: could not read the state of i-0a1b2c3d4e5f60004 \(the departure uses the AWS SDK's credential chain, region eu-west-2\): /);
        });
    });

    it("says which package is missing when the program's directory cannot resolve the AWS SDK", async () => {
        await withEngineProviderHost({ environment: hostEnvironment() }, async (bareHost) => {
            const resource = await declare();
            expect(await failureOf(bareHost.delete(resource, "departure-id", resource.inputs))).to.match(new RegExp("^etcd3-cluster-4: the member " +
                "departure needs @aws-sdk/client-ec2, a dependency of etcd3-cluster, resolvable from the program's directory " +
                "\\(npm installs it there; with pnpm or yarn PnP, add it to the program's own dependencies\\): Cannot find module"));
        });
    });
});
