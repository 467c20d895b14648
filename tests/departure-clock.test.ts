/**
 * The member departure's provider (lib/departure.ts) run in this process on a
 * fake clock, with the real AWS SDK client pointed at the loopback EC2 API
 * stand-in (local/ec2-api.ts) or, for an answer the stand-in never gives, at a
 * canned API: the deadline and the polls are seen to the millisecond, and the
 * instance's states are played look by look. tests/departure.test.ts runs the
 * provider as the engine does, serialized, on the system's clock.
 */
import { expect } from "chai";
import { leaveTagKey } from "../lib/bootstrap";
import { MemberDepartureInputs, memberDepartureProviderOn } from "../lib/departure";
import { Ec2ApiStandIn, Ec2Instance, Ec2InstancesModel, Ec2InstanceState, startEc2Api } from "../local/ec2-api";
import { CannedQueryApi, startCannedQueryApi } from "./support/canned-query-api";
import { failureOf } from "./support/engine-provider";
import { FakeClock } from "./support/fake-clock";
import { standInProfile, useStandInAwsEnvironment } from "./support/stand-in-aws-environment";

const instanceId = "i-0a1b2c3d4e5f60004";
const giveUpAdvice = "Nothing after this member was removed. Look at its leave unit (journalctl -u etcd-member-leave.service on the " +
    "instance; it waits while the other members have no quorum or another membership change is under way), then run `pulumi up` again. " +
    "memberDepartureTimeoutMinutes sets this bound; 0 turns the departures off.";
const credentialChain = "(the departure uses the AWS SDK's credential chain, region eu-west-2)";

/**
 * Instances as a table, on the test's clock: a test says what a tag and a
 * start do to the instance, and what happens to it later (`becomes`).
 */
class ClockedInstances implements Ec2InstancesModel {
    readonly instances = new Map<string, Ec2Instance>();
    clock = new FakeClock();
    /** What a tag does to the instance: by default nothing (its member never leaves). */
    whenTagged: (instance: Ec2Instance) => void = () => undefined;
    /** What a start does: by default the instance is pending (and stays so). */
    whenStarted: (instance: Ec2Instance) => void = (instance) => { instance.state = "pending"; };
    /** Tags or starts refused, as for an instance EC2 no longer knows. */
    refuseTags = false;
    refuseStarts = false;

    set(id: string, state: Ec2InstanceState): void {
        this.instances.set(id, { state, tags: { Name: id }, metadataTags: true });
    }

    /** A change that makes the instance `state` after `ms` of the clock. */
    becomes(state: Ec2InstanceState, ms: number): (instance: Ec2Instance) => void {
        return (instance) => this.clock.after(ms, () => { instance.state = state; });
    }

    async describe(id: string): Promise<Ec2Instance | undefined> {
        return this.instances.get(id);
    }

    async createTags(id: string, tags: Record<string, string>): Promise<boolean> {
        const instance = this.instances.get(id);
        if (!instance || this.refuseTags) {
            return false;
        }
        Object.assign(instance.tags, tags);
        this.whenTagged(instance);
        return true;
    }

    async start(id: string): Promise<boolean> {
        const instance = this.instances.get(id);
        if (!instance || this.refuseStarts) {
            return false;
        }
        this.whenStarted(instance);
        return true;
    }
}

describe("the member departure's provider on a fake clock (lib/departure.ts)", function () {
    const aws = useStandInAwsEnvironment();
    const table = new ClockedInstances();
    let api: Ec2ApiStandIn;
    let clock: FakeClock;
    let departure: ReturnType<typeof memberDepartureProviderOn>;
    const inputs = (overrides: Partial<MemberDepartureInputs> = {}, endpoint = api.endpoint): MemberDepartureInputs => ({
        memberName: "etcd3-cluster-4", instanceId, region: "eu-west-2", timeoutSeconds: 1, endpoint, pollIntervalMs: 250, ...overrides,
    });
    const actions = () => api.calls.map((call) => call.action);
    const leave = (overrides: Partial<MemberDepartureInputs> = {}) => departure.delete!("departure-id", inputs(overrides));

    before(async () => {
        api = await startEc2Api(table);
    });
    after(async () => {
        await api?.stop();
    });
    beforeEach(() => {
        clock = new FakeClock();
        table.clock = clock;
        table.instances.clear();
        table.whenTagged = () => undefined;
        table.whenStarted = (instance) => { instance.state = "pending"; };
        table.refuseTags = false;
        table.refuseStarts = false;
        api.calls.length = 0;
        departure = memberDepartureProviderOn(clock);
    });

    it("records an update's new inputs as its outputs, asking EC2 nothing and waiting for nothing", async () => {
        const news = inputs({ timeoutSeconds: 900, pollIntervalMs: 1000 });
        expect(await departure.update!("departure-id", inputs(), news)).to.deep.equal({ outs: news });
        expect({ calls: actions(), sleeps: clock.sleeps }).to.deep.equal({ calls: [], sleeps: [] });
    });

    describe("its wait", () => {
        it("sleeps pollIntervalMs between two looks, the last sleep cut to the time left before the deadline", async () => {
            table.set(instanceId, "running");
            await failureOf(leave({ pollIntervalMs: 300 }));
            expect(clock.sleeps).to.deep.equal([300, 300, 300, 100]);
        });

        it("gives up on the look made at the deadline itself, not a poll later", async () => {
            table.set(instanceId, "running");
            const start = clock.now();
            const message = await failureOf(leave());
            expect({ looks: actions().filter((action) => action === "DescribeInstances").length, elapsedMs: clock.now() - start, message }).to.deep.equal({
                looks: 5, elapsedMs: 1000,
                message: `etcd3-cluster-4: gave up after 1 s waiting for the member to leave the cluster and power off ${instanceId}: ` +
                    `the instance is running: its member has not left yet. ${giveUpAdvice}`,
            });
        });

        it("looks every 5 s when no pollIntervalMs is given", async () => {
            table.set(instanceId, "running");
            await failureOf(leave({ timeoutSeconds: 12, pollIntervalMs: undefined }));
            expect(clock.sleeps).to.deep.equal([5000, 5000, 2000]);
        });
    });

    describe("the instance's states", () => {
        it("is done when an instance running when tagged is seen stopped next: its member left, and it is not started again", async () => {
            table.set(instanceId, "running");
            table.whenTagged = table.becomes("stopped", 100);
            await leave();
            expect(actions()).to.deep.equal(["DescribeInstances", "CreateTags", "DescribeInstances"]);
        });

        it("is done when an instance pending when tagged is seen stopped next: it booted with the tag and its member left", async () => {
            table.set(instanceId, "pending");
            table.whenTagged = table.becomes("stopped", 100);
            await leave();
            expect(actions()).to.deep.equal(["DescribeInstances", "CreateTags", "DescribeInstances"]);
        });

        it("starts an instance that was stopping when tagged once it has stopped: it never ran with the tag", async () => {
            table.set(instanceId, "stopping");
            table.whenTagged = table.becomes("stopped", 100);
            table.whenStarted = (instance) => {
                instance.state = "running";
                table.becomes("stopped", 300)(instance);
            };
            await leave();
            expect(actions()).to.deep.equal(["DescribeInstances", "CreateTags", "DescribeInstances", "StartInstances", "DescribeInstances", "DescribeInstances"]);
        });

        it("counts an instance seen pending after its start as one that ran with the tag: the stop seen next is its member leaving", async () => {
            table.set(instanceId, "stopped");
            table.whenStarted = (instance) => {
                instance.state = "pending";
                table.becomes("stopped", 300)(instance);
            };
            await leave();
            expect(actions()).to.deep.equal(["DescribeInstances", "CreateTags", "StartInstances", "DescribeInstances", "DescribeInstances"]);
        });

        it("counts an instance seen running after its start as one that ran with the tag: the stop seen next is its member leaving", async () => {
            table.set(instanceId, "stopped");
            table.whenStarted = (instance) => {
                instance.state = "running";
                table.becomes("stopped", 300)(instance);
            };
            await leave();
            expect(actions()).to.deep.equal(["DescribeInstances", "CreateTags", "StartInstances", "DescribeInstances", "DescribeInstances"]);
        });

        it("gives up saying so when a started instance is still described stopped at the deadline", async () => {
            table.set(instanceId, "stopped");
            table.whenStarted = () => undefined;
            expect(await failureOf(leave())).to.equal(`etcd3-cluster-4: gave up after 1 s waiting for the member to leave the cluster and power off ` +
                `${instanceId}: the instance was started and EC2 still describes it stopped. ${giveUpAdvice}`);
        });

        it("lets an instance EC2 no longer knows go without tagging it", async () => {
            await leave();
            expect(actions()).to.deep.equal(["DescribeInstances"]);
        });
    });

    describe("its EC2 API client", () => {
        it("stops the shrink when EC2 refuses to describe the instance, rather than taking it for gone", async () => {
            expect(await failureOf(leave({ instanceId: "i-gone" })))
                .to.equal(`etcd3-cluster-4: could not read the state of i-gone ${credentialChain}: Invalid id: "i-gone"`);
        });

        it("stops the shrink when EC2 refuses the tag", async () => {
            table.set(instanceId, "running");
            table.refuseTags = true;
            expect(await failureOf(leave()))
                .to.equal(`etcd3-cluster-4: could not tag ${instanceId} ${credentialChain}: The instance ID '${instanceId}' does not exist`);
        });

        it("stops the shrink when EC2 refuses to start the stopped instance", async () => {
            table.set(instanceId, "stopped");
            table.refuseStarts = true;
            expect(await failureOf(leave()))
                .to.equal(`etcd3-cluster-4: could not start ${instanceId} ${credentialChain}: The instance ID '${instanceId}' does not exist`);
        });

        it("tags the instance with the member's name under the leave tag", async () => {
            table.set(instanceId, "running");
            table.whenTagged = table.becomes("stopped", 100);
            await leave();
            expect(table.instances.get(instanceId)!.tags).to.deep.equal({ Name: instanceId, [leaveTagKey]: "etcd3-cluster-4" });
        });

        describe("given an answer the stand-in never gives", () => {
            let canned: CannedQueryApi | undefined;
            afterEach(async () => {
                await canned?.stop();
                canned = undefined;
            });

            it("takes an instance described without its state for one EC2 no longer knows", async () => {
                canned = await startCannedQueryApi(() => ({
                    status: 200,
                    body: "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>00000000-0000-4000-8000-000000000000</requestId>" +
                        `<reservationSet><item><reservationId>r-1</reservationId><instancesSet><item><instanceId>${instanceId}</instanceId></item></instancesSet></item>` +
                        "</reservationSet></DescribeInstancesResponse>",
                }));
                await departure.delete!("departure-id", inputs({}, canned.endpoint));
                expect(canned.actions).to.deep.equal(["DescribeInstances"]);
            });
        });

        describe("its credentials", () => {
            it("reads them from the stack's AWS profile when one is given", async () => {
                await aws.withoutEnvironmentKeys(() => leave({ profile: standInProfile }));
                expect(actions()).to.deep.equal(["DescribeInstances"]);
            });

            it("names the profile it used when the API cannot be called with it", async () => {
                const message = await aws.withoutEnvironmentKeys(() => failureOf(leave({ profile: "etcd3-nowhere" })));
                expect(message).to.match(new RegExp(`^etcd3-cluster-4: could not read the state of ${instanceId} \\(the departure uses the AWS SDK's ` +
                    "credential chain with profile etcd3-nowhere, region eu-west-2\\): "));
            });
        });
    });
});
