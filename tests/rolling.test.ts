/**
 * The member health gate (lib/rolling.ts): its verdicts, pure, and the gate
 * as `pulumi up` runs it: serialized by the SDK, loaded by Pulumi's own
 * dynamic-provider host, calling the ELB API with the real AWS SDK, here
 * pointed at the loopback stand-in of local/elb-api.ts.
 */
import { expect } from "chai";
import { installMocks } from "./support/pulumi-mocks";

installMocks();
import { MemberHealthGate, MemberHealthGateInputs, TargetState, verdictAfterDeregistration, verdictAfterStart, verdictBeforeStop } from "../lib/rolling";
import { ElbApiStandIn, startElbApi } from "../local/elb-api";
import { TargetTable } from "./support/target-table";
import {
    credentiallessEnvironment, dynamicResourceDeclarer, exampleAwsCredentials, failureOf, hostEnvironment, Properties, useEngineProviderHost,
    withEngineProviderHost,
} from "./support/engine-provider";

const group = "arn:aws:elasticloadbalancing:eu-west-2:123456789012:targetgroup/etcd3-alb-tg/1234567890abcdef";
const nlbGroup = "arn:aws:elasticloadbalancing:eu-west-2:123456789012:targetgroup/etcd3-nlb-tg/1234567890abcdef";
const states = (entries: [string, string][], targetGroupArn = group): TargetState[] =>
    entries.map(([id, state]) => ({ targetGroupArn, id, state }));

describe("the member health gate's verdicts (lib/rolling.ts)", () => {
    describe("after a member's instance starts", () => {
        it("goes once the member and every other member are healthy", () => {
            expect(verdictAfterStart(states([["i-0", "healthy"], ["i-1", "healthy"], ["i-2", "healthy"]]), "i-1")).to.deep.equal({ kind: "go" });
        });

        it("waits while the member itself is not healthy yet, saying so", () => {
            expect(verdictAfterStart(states([["i-0", "healthy"], ["i-1", "initial"], ["i-2", "healthy"]]), "i-1"))
                .to.deep.equal({ kind: "wait", why: "i-1 is not healthy yet: i-1 initial" });
        });

        it("waits while the member is not registered yet", () => {
            expect(verdictAfterStart(states([["i-0", "healthy"], ["i-2", "healthy"]]), "i-1"))
                .to.deep.equal({ kind: "wait", why: "i-1 is not healthy yet: no targets" });
        });

        it("waits while another member is unhealthy, naming it", () => {
            const seen = [...states([["i-0", "unhealthy"], ["i-1", "healthy"], ["i-2", "healthy"]])];
            seen[0].reason = "Target.FailedHealthChecks";
            expect(verdictAfterStart(seen, "i-1"))
                .to.deep.equal({ kind: "wait", why: "other members are not healthy: i-0 unhealthy (Target.FailedHealthChecks)" });
        });

        it("waits until the member is healthy in every target group, the NLB's too", () => {
            const seen = [...states([["i-0", "healthy"], ["i-1", "healthy"]]), ...states([["i-0", "healthy"], ["i-1", "initial"]], nlbGroup)];
            expect(verdictAfterStart(seen, "i-1")).to.deep.equal({ kind: "wait", why: "i-1 is not healthy yet: i-1 healthy, i-1 initial" });
        });

        it("does not wait on a new cluster, where no target is healthy yet", () => {
            expect(verdictAfterStart(states([["i-0", "initial"], ["i-1", "unhealthy"]]), "i-1")).to.deep.equal({ kind: "new-cluster" });
        });
    });

    describe("before a member's instance stops", () => {
        it("goes when every other member is healthy", () => {
            expect(verdictBeforeStop(states([["i-0", "healthy"], ["i-1", "unhealthy"], ["i-2", "healthy"]]), "i-1")).to.deep.equal({ kind: "go" });
        });

        it("waits while another member is not healthy: a stop now could cost quorum", () => {
            expect(verdictBeforeStop(states([["i-0", "healthy"], ["i-1", "healthy"], ["i-2", "draining"]]), "i-1"))
                .to.deep.equal({ kind: "wait", why: "stopping i-1 now could cost the cluster its quorum: i-2 draining" });
        });

        it("goes when no other member is healthy: there is no quorum left to keep", () => {
            expect(verdictBeforeStop(states([["i-0", "unhealthy"], ["i-1", "healthy"]]), "i-1")).to.deep.equal({ kind: "go" });
        });
    });

    describe("after deregistration", () => {
        it("waits while the member drains, and goes once it is unused or gone", () => {
            expect(verdictAfterDeregistration(states([["i-0", "healthy"], ["i-1", "draining"]]), "i-1"))
                .to.deep.equal({ kind: "wait", why: "i-1 is still draining: i-1 draining" });
            expect(verdictAfterDeregistration(states([["i-0", "healthy"], ["i-1", "unused"]]), "i-1")).to.deep.equal({ kind: "go" });
            expect(verdictAfterDeregistration(states([["i-0", "healthy"]]), "i-1")).to.deep.equal({ kind: "go" });
        });
    });
});

describe("the member health gate as the engine runs it", function () {
    const engine = useEngineProviderHost({ packages: ["@aws-sdk/client-elastic-load-balancing-v2"], environment: () => hostEnvironment(exampleAwsCredentials) });
    let api: ElbApiStandIn;
    const table = new TargetTable((ms, run) => setTimeout(run, ms), 300);
    /** A gate declared in the mocked program, as the engine receives it, pointed at the stand-in. */
    const declare = dynamicResourceDeclarer("etcd3-cluster:MemberHealthGate", "engine-gate",
        (name, inputs: Partial<MemberHealthGateInputs> = {}) => new MemberHealthGate(name, {
            memberName: "etcd3-cluster-1", instanceId: "i-1", targetGroupArns: [group], region: "eu-west-2",
            timeoutSeconds: 2, endpoint: api.endpoint, pollIntervalMs: 50, ...inputs,
        }));
    const callsSince = (start: number) => api.calls.slice(start).map((call) => `${call.action} ${call.targetIds.join(",")}`.trim());

    before(async () => {
        api = await startElbApi(table);
    });
    after(async () => {
        await api?.stop();
    });

    it("does not wait when created in a new cluster, where no member is healthy yet", async () => {
        table.set(group, [["i-0", "initial"], ["i-1", "initial"]]);
        const start = api.calls.length;
        const created = await engine.host.create(await declare());
        expect(created.outs).to.deep.include({ instanceId: "i-1", memberName: "etcd3-cluster-1" });
        expect(callsSince(start)).to.deep.equal(["DescribeTargetHealth"]);
    });

    it("waits, when created for a replacement, until the new instance is healthy", async () => {
        table.set(group, [["i-0", "healthy"], ["i-1", "initial"], ["i-2", "healthy"]]);
        const resource = await declare();
        setTimeout(() => table.setState(group, "i-1", "healthy"), 400);
        const started = Date.now();
        await engine.host.create(resource);
        expect(Date.now() - started).to.be.at.least(350);
    });

    it("stops the roll with a clear error when the new instance never becomes healthy", async () => {
        table.set(group, [["i-0", "healthy"], ["i-1", "unhealthy"], ["i-2", "healthy"]]);
        expect(await failureOf(engine.host.create(await declare({ timeoutSeconds: 1 })))).to.equal(
            "etcd3-cluster-1: gave up after 1 s waiting for i-1 to be healthy behind the load balancer: i-1 is not healthy yet: i-1 unhealthy. " +
            "The roll stops here; the members after this one were not touched. Look at the member (journalctl -u etcd-member.service on its " +
            "instance), then run `pulumi up` again. rollingHealthTimeoutMinutes sets this bound; 0 turns the gate off.");
    });

    it("before the instance stops, deregisters it from every target group and waits until it has drained", async () => {
        table.set(group, [["i-0", "healthy"], ["i-1", "healthy"], ["i-2", "healthy"]]);
        table.set(nlbGroup, [["i-0", "healthy"], ["i-1", "healthy"], ["i-2", "healthy"]]);
        const resource = await declare({ targetGroupArns: [group, nlbGroup] });
        const start = api.calls.length;
        const started = Date.now();
        await engine.host.delete(resource, "gate-id", resource.inputs);
        expect(Date.now() - started).to.be.at.least(table.drainMs - 50);
        expect(callsSince(start).filter((call) => call.startsWith("Deregister"))).to.deep.equal(["DeregisterTargets i-1", "DeregisterTargets i-1"]);
        expect(table.groups.get(group)!.map((t) => t.id)).to.deep.equal(["i-0", "i-2"]);
        expect(table.groups.get(nlbGroup)!.map((t) => t.id)).to.deep.equal(["i-0", "i-2"]);
    });

    it("keeps a drained member running for at least minimumDrainSeconds after its deregistration", async () => {
        table.set(group, [["i-0", "healthy"], ["i-1", "healthy"], ["i-2", "healthy"]]);
        table.drainMs = 0;
        const resource = await declare({ minimumDrainSeconds: 1 });
        const started = Date.now();
        await engine.host.delete(resource, "gate-id", resource.inputs);
        table.drainMs = 300;
        expect(Date.now() - started).to.be.at.least(1000);
    });

    it("refuses to stop a member while another is unhealthy, and deregisters nothing", async () => {
        table.set(group, [["i-0", "healthy"], ["i-1", "healthy"], ["i-2", "unhealthy"]]);
        const resource = await declare({ timeoutSeconds: 1 });
        const start = api.calls.length;
        expect(await failureOf(engine.host.delete(resource, "gate-id", resource.inputs))).to.equal(
            "etcd3-cluster-1: gave up after 1 s waiting for the other members to be healthy before stopping i-1: " +
            "stopping i-1 now could cost the cluster its quorum: i-2 unhealthy. The roll stops here; the members after this one were not touched. " +
            "Look at the member (journalctl -u etcd-member.service on its instance), then run `pulumi up` again. " +
            "rollingHealthTimeoutMinutes sets this bound; 0 turns the gate off.");
        expect(callsSince(start).filter((call) => call.startsWith("Deregister"))).to.deep.equal([]);
    });

    it("lets a destroy through when the target groups are already gone", async () => {
        const resource = await declare({ targetGroupArns: ["arn:aws:elasticloadbalancing:eu-west-2:123456789012:targetgroup/gone/1234567890abcdef"] });
        await engine.host.delete(resource, "gate-id", resource.inputs);
    });

    it("makes no AWS call at all when turned off", async () => {
        table.set(group, [["i-0", "healthy"], ["i-1", "unhealthy"], ["i-2", "unhealthy"]]);
        const resource = await declare({ timeoutSeconds: 0 });
        const start = api.calls.length;
        await engine.host.create(resource);
        await engine.host.delete(resource, "gate-id", resource.inputs);
        expect(callsSince(start)).to.deep.equal([]);
    });

    it("names the credentials it used when the API refuses them", async () => {
        const environment = credentiallessEnvironment(engine.programDirectory);
        await withEngineProviderHost({ programDirectory: engine.programDirectory, environment }, async (unsigned) => {
            const message = await failureOf(unsigned.create(await declare()));
            expect(message).to.match(/^etcd3-cluster-1: could not read the target groups' health while waiting for i-1 to be healthy behind the load balancer \(the gate uses the AWS SDK's credential chain, region eu-west-2\): /);
        });
    });

    it("says which package is missing when the program's directory cannot resolve the AWS SDK", async () => {
        await withEngineProviderHost({ environment: hostEnvironment() }, async (bareHost) => {
            expect(await failureOf(bareHost.create(await declare()))).to.match(new RegExp("^etcd3-cluster-1: the member health gate needs " +
                "@aws-sdk/client-elastic-load-balancing-v2, a dependency of etcd3-cluster, resolvable from the program's directory " +
                "\\(npm installs it there; with pnpm or yarn PnP, add it to the program's own dependencies\\): Cannot find module"));
        });
    });

    describe("its diff", () => {
        let olds: Properties;
        before(async () => {
            olds = (await declare()).inputs;
        });

        it("replaces the gate, deleting the old one first, when the member's instance is replaced", async () => {
            expect(await engine.host.diff(await declare({ instanceId: "i-9" }), "gate-id", olds))
                .to.deep.equal({ changes: true, replaces: ["instanceId"], deleteBeforeReplace: true });
        });

        it("updates in place when only the bound changes", async () => {
            expect(await engine.host.diff(await declare({ timeoutSeconds: 60 }), "gate-id", olds)).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
        });

        it("reports no change when nothing changes", async () => {
            expect(await engine.host.diff(await declare(), "gate-id", olds)).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
        });
    });
});
