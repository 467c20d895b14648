/**
 * The member health gate's provider (lib/rolling.ts) run in this process on a
 * fake clock, with the real AWS SDK client pointed at the loopback ELB API
 * stand-in (local/elb-api.ts) or, for answers the stand-in never gives, at a
 * canned API: the deadline, the polls and the minimum drain are seen to the
 * millisecond, and the client's fallbacks (a target group already gone, a
 * field left out of an answer) are reached. tests/rolling.test.ts runs the
 * provider as the engine does, serialized, on the system's clock.
 */
import { expect } from "chai";
import { MemberHealthGateInputs, memberHealthGateProviderOn } from "../lib/rolling";
import { ElbApiStandIn, startElbApi } from "../local/elb-api";
import { CannedQueryApi, startCannedQueryApi } from "./support/canned-query-api";
import { failureOf } from "./support/engine-provider";
import { FakeClock } from "./support/fake-clock";
import { TargetTable } from "./support/target-table";
import { standInProfile, useStandInAwsEnvironment } from "./support/stand-in-aws-environment";

const group = "arn:aws:elasticloadbalancing:eu-west-2:123456789012:targetgroup/etcd3-alb-tg/1234567890abcdef";
const nlbGroup = "arn:aws:elasticloadbalancing:eu-west-2:123456789012:targetgroup/etcd3-nlb-tg/1234567890abcdef";
const goneGroup = "arn:aws:elasticloadbalancing:eu-west-2:123456789012:targetgroup/gone/1234567890abcdef";
const giveUpAdvice = "The roll stops here; the members after this one were not touched. Look at the member (journalctl -u " +
    "etcd-member.service on its instance), then run `pulumi up` again. rollingHealthTimeoutMinutes sets this bound; 0 turns the gate off.";

/** An ELB API answer, as the API words it. */
const elbAnswer = (action: string, result: string) => ({
    status: 200,
    body: `<${action}Response xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><${action}Result>${result}</${action}Result>` +
        `<ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ResponseMetadata></${action}Response>`,
});
/** The API's refusal of a caller without the permission for `action`. */
const accessDenied = (action: string) => ({
    status: 403,
    body: "<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><Error><Type>Sender</Type><Code>AccessDenied</Code>" +
        `<Message>User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: elasticloadbalancing:${action}</Message></Error>` +
        "<RequestId>00000000-0000-4000-8000-000000000000</RequestId></ErrorResponse>",
});
/** A DescribeTargetHealth member, each part as given (left out when undefined). */
const member = (id: string | undefined, state: string | undefined) => "<member>" +
    (id === undefined ? "" : `<Target><Id>${id}</Id><Port>2379</Port></Target>`) + "<HealthCheckPort>2379</HealthCheckPort>" +
    (state === undefined ? "" : `<TargetHealth><State>${state}</State></TargetHealth>`) + "</member>";
const described = (...members: string[]) => elbAnswer("DescribeTargetHealth", `<TargetHealthDescriptions>${members.join("")}</TargetHealthDescriptions>`);

describe("the member health gate's provider on a fake clock (lib/rolling.ts)", function () {
    const aws = useStandInAwsEnvironment();
    const table = new TargetTable(() => undefined, 0);
    let api: ElbApiStandIn;
    let clock: FakeClock;
    let gate: ReturnType<typeof memberHealthGateProviderOn>;
    const inputs = (overrides: Partial<MemberHealthGateInputs> = {}, endpoint = api.endpoint): MemberHealthGateInputs => ({
        memberName: "etcd3-cluster-1", instanceId: "i-1", targetGroupArns: [group], region: "eu-west-2",
        timeoutSeconds: 1, endpoint, pollIntervalMs: 300, ...overrides,
    });
    const looks = () => api.calls.filter((call) => call.action === "DescribeTargetHealth").length;

    before(async () => {
        api = await startElbApi(table);
    });
    after(async () => {
        await api?.stop();
    });
    beforeEach(() => {
        clock = new FakeClock();
        table.schedule = (ms, run) => clock.after(ms, run);
        table.drainMs = 0;
        table.groups.clear();
        api.calls.length = 0;
        gate = memberHealthGateProviderOn(clock);
    });

    it("records an update's new inputs as its outputs, asking the ELB API nothing and waiting for nothing", async () => {
        const news = inputs({ timeoutSeconds: 600, pollIntervalMs: 1000 });
        expect(await gate.update!("gate-id", inputs(), news)).to.deep.equal({ outs: news });
        expect({ calls: api.calls.length, sleeps: clock.sleeps }).to.deep.equal({ calls: 0, sleeps: [] });
    });

    describe("its waits", () => {
        it("sleeps pollIntervalMs between two looks, the last sleep cut to the time left before the deadline", async () => {
            table.set(group, [["i-0", "healthy"], ["i-1", "unhealthy"], ["i-2", "healthy"]]);
            await failureOf(gate.create!(inputs()));
            expect(clock.sleeps).to.deep.equal([300, 300, 300, 100]);
        });

        it("gives up on the look made at the deadline itself, not a poll later", async () => {
            table.set(group, [["i-0", "healthy"], ["i-1", "unhealthy"], ["i-2", "healthy"]]);
            const start = clock.now();
            const message = await failureOf(gate.create!(inputs({ pollIntervalMs: 250 })));
            expect({ looks: looks(), elapsedMs: clock.now() - start, message }).to.deep.equal({
                looks: 5, elapsedMs: 1000,
                message: `etcd3-cluster-1: gave up after 1 s waiting for i-1 to be healthy behind the load balancer: i-1 is not healthy yet: i-1 unhealthy. ${giveUpAdvice}`,
            });
        });

        it("looks every 5 s when no pollIntervalMs is given", async () => {
            table.set(group, [["i-0", "healthy"], ["i-1", "unhealthy"], ["i-2", "healthy"]]);
            await failureOf(gate.create!(inputs({ timeoutSeconds: 12, pollIntervalMs: undefined })));
            expect(clock.sleeps).to.deep.equal([5000, 5000, 2000]);
        });
    });

    describe("its drain", () => {
        it("gives up when the member is still draining at the deadline, saying so", async () => {
            table.set(group, [["i-0", "healthy"], ["i-1", "healthy"], ["i-2", "healthy"]]);
            table.drainMs = 5000;
            expect(await failureOf(gate.delete!("gate-id", inputs()))).to.equal("etcd3-cluster-1: gave up after 1 s waiting for i-1 to drain " +
                `from the load balancers: i-1 is still draining: i-1 draining. ${giveUpAdvice}`);
        });

        it("keeps a drained member for what is left of minimumDrainSeconds, counted from its deregistration", async () => {
            table.set(group, [["i-0", "healthy"], ["i-1", "healthy"], ["i-2", "healthy"]]);
            table.drainMs = 500;
            await gate.delete!("gate-id", inputs({ minimumDrainSeconds: 1 }));
            expect(clock.sleeps).to.deep.equal([300, 300, 400]);
        });

        it("does not sleep again when the drain itself lasted minimumDrainSeconds", async () => {
            table.set(group, [["i-0", "healthy"], ["i-1", "healthy"], ["i-2", "healthy"]]);
            table.drainMs = 1000;
            await gate.delete!("gate-id", inputs({ minimumDrainSeconds: 1, pollIntervalMs: 500 }));
            expect(clock.sleeps).to.deep.equal([500, 500]);
        });
    });

    describe("its ELB API client", () => {
        it("takes a target group already gone for an empty one when it looks", async () => {
            table.set(group, [["i-0", "healthy"], ["i-1", "healthy"], ["i-2", "healthy"]]);
            await gate.create!(inputs({ targetGroupArns: [goneGroup, group] }));
            expect(clock.sleeps).to.deep.equal([]);
        });

        it("lets the drain through when a target group is gone by the time it deregisters", async () => {
            table.set(group, [["i-0", "healthy"], ["i-1", "healthy"], ["i-2", "healthy"]]);
            await gate.delete!("gate-id", inputs({ targetGroupArns: [goneGroup, group] }));
            expect(table.groups.get(group)!.map((t) => t.id)).to.deep.equal(["i-0", "i-2"]);
        });

        describe("given answers the stand-in never gives", () => {
            let canned: CannedQueryApi | undefined;
            /** Starts the canned API, answering each DescribeTargetHealth with `describe`'s answer for its group. */
            const answering = async (describe: (arn: string) => { status: number; body: string },
                deregister = () => elbAnswer("DeregisterTargets", "")) => {
                canned = await startCannedQueryApi((form) =>
                    form.get("Action") === "DescribeTargetHealth" ? describe(form.get("TargetGroupArn")!) : deregister());
                return canned.endpoint;
            };
            afterEach(async () => {
                await canned?.stop();
                canned = undefined;
            });

            it("stops the roll when the API refuses to describe a target group, rather than taking the group for an empty one", async () => {
                const endpoint = await answering(() => accessDenied("DescribeTargetHealth"));
                expect(await failureOf(gate.create!(inputs({}, endpoint)))).to.equal("etcd3-cluster-1: could not read the target groups' health " +
                    "while waiting for i-1 to be healthy behind the load balancer (the gate uses the AWS SDK's credential chain, region eu-west-2): " +
                    "User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: elasticloadbalancing:DescribeTargetHealth");
            });

            it("stops the roll when the API refuses the deregistration", async () => {
                const endpoint = await answering(() => described(member("i-0", "healthy"), member("i-1", "healthy")), () => accessDenied("DeregisterTargets"));
                expect(await failureOf(gate.delete!("gate-id", inputs({}, endpoint)))).to.equal("etcd3-cluster-1: could not deregister i-1 from " +
                    "the load balancers: User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: elasticloadbalancing:DeregisterTargets");
            });

            it("names a target the answer gives without its id \"?\"", async () => {
                const endpoint = await answering(() => described(member(undefined, "unhealthy"), member("i-0", "healthy"), member("i-1", "healthy")));
                expect(await failureOf(gate.create!(inputs({}, endpoint)))).to.equal("etcd3-cluster-1: gave up after 1 s waiting for i-1 to be " +
                    `healthy behind the load balancer: other members are not healthy: ? unhealthy. ${giveUpAdvice}`);
            });

            it("takes a target the answer gives without its health for one in state unknown", async () => {
                const endpoint = await answering(() => described(member("i-0", "healthy"), member("i-1", "healthy"), member("i-2", undefined)));
                expect(await failureOf(gate.create!(inputs({}, endpoint)))).to.equal("etcd3-cluster-1: gave up after 1 s waiting for i-1 to be " +
                    `healthy behind the load balancer: other members are not healthy: i-2 unknown. ${giveUpAdvice}`);
            });

            it("takes an answer without target descriptions for an empty group", async () => {
                const endpoint = await answering((arn) => (arn === nlbGroup ? elbAnswer("DescribeTargetHealth", "")
                    : described(member("i-0", "healthy"), member("i-1", "healthy"))));
                await gate.create!(inputs({ targetGroupArns: [group, nlbGroup] }, endpoint));
                expect({ actions: canned!.actions, sleeps: clock.sleeps }).to.deep.equal({ actions: ["DescribeTargetHealth", "DescribeTargetHealth"], sleeps: [] });
            });
        });

        describe("its credentials", () => {
            it("reads them from the stack's AWS profile when one is given", async () => {
                table.set(group, [["i-0", "healthy"], ["i-1", "healthy"]]);
                await aws.withoutEnvironmentKeys(() => gate.create!(inputs({ profile: standInProfile })));
                expect(api.calls.map((call) => call.action)).to.deep.equal(["DescribeTargetHealth"]);
            });

            it("names the profile it used when the API cannot be called with it", async () => {
                const message = await aws.withoutEnvironmentKeys(() => failureOf(gate.create!(inputs({ profile: "etcd3-nowhere" }))));
                expect(message).to.match(/^etcd3-cluster-1: could not read the target groups' health while waiting for i-1 to be healthy behind the load balancer \(the gate uses the AWS SDK's credential chain with profile etcd3-nowhere, region eu-west-2\): /);
            });
        });
    });
});
