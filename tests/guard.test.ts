/**
 * lib/guard.ts in this process: the refusal rules and the provider's
 * create/diff/update called directly (tests/guard-engine.test.ts runs the same
 * provider serialized, in Pulumi's provider host).
 */
import { expect } from "chai";
import { installMocks, registered, settle } from "./support/pulumi-mocks";

installMocks();
import { ClusterGuard, clusterGuardProvider, clusterGuardRefusals, clusterGuardRules } from "../lib/guard";

const sizeRefusal = (from: number, to: number) => `clusterSize cannot change from ${from} to ${to} on a running cluster: ` +
    "its members would not learn of the change (that needs etcd's runtime reconfiguration). To build a new cluster of " +
    "the new size, run `pulumi destroy` first, or create a second Etcd3Cluster.";
const shrinkRefusal = (from: number, to: number) => `rootVolumeSizeGiB cannot change from ${from} to ${to} on a running ` +
    "cluster: an EBS volume can grow but never shrink, so AWS would refuse the change partway through updating the " +
    `members. Keep rootVolumeSizeGiB at ${from} or more (a larger size is applied in place). For smaller volumes, build ` +
    "a new cluster: run `pulumi destroy` first, or create a second Etcd3Cluster.";

/** The error `promise` rejects with, or a failure if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
    const outcome = await promise.then(() => undefined, (error: Error) => error);
    expect(outcome, "the call succeeded").to.be.instanceOf(Error);
    return outcome!;
}

describe("ClusterGuard's rules and provider (lib/guard.ts)", () => {
    it("guards the cluster size and the root volume size, in that order", () => {
        expect(clusterGuardRules.map((rule) => rule.argument)).to.deep.equal(["clusterSize", "rootVolumeSizeGiB"]);
    });

    describe("clusterGuardRefusals", () => {
        it("refuses nothing when the facts stay", () => {
            expect(clusterGuardRefusals({ clusterSize: 3, rootVolumeSizeGiB: 20 }, { clusterSize: 3, rootVolumeSizeGiB: 20 })).to.deep.equal([]);
        });

        it("refuses a larger cluster", () => {
            expect(clusterGuardRefusals({ clusterSize: 3, rootVolumeSizeGiB: 20 }, { clusterSize: 5, rootVolumeSizeGiB: 20 }))
                .to.deep.equal([sizeRefusal(3, 5)]);
        });

        it("refuses a smaller cluster", () => {
            expect(clusterGuardRefusals({ clusterSize: 5, rootVolumeSizeGiB: 20 }, { clusterSize: 3, rootVolumeSizeGiB: 20 }))
                .to.deep.equal([sizeRefusal(5, 3)]);
        });

        it("refuses a root volume one GiB smaller", () => {
            expect(clusterGuardRefusals({ clusterSize: 3, rootVolumeSizeGiB: 20 }, { clusterSize: 3, rootVolumeSizeGiB: 19 }))
                .to.deep.equal([shrinkRefusal(20, 19)]);
        });

        it("allows a root volume one GiB larger", () => {
            expect(clusterGuardRefusals({ clusterSize: 3, rootVolumeSizeGiB: 20 }, { clusterSize: 3, rootVolumeSizeGiB: 21 })).to.deep.equal([]);
        });

        it("lists both refusals, size first", () => {
            expect(clusterGuardRefusals({ clusterSize: 3, rootVolumeSizeGiB: 30 }, { clusterSize: 1, rootVolumeSizeGiB: 10 }))
                .to.deep.equal([sizeRefusal(3, 1), shrinkRefusal(30, 10)]);
        });

        it("checks no fact that the state lacks", () => {
            expect(clusterGuardRefusals({}, { clusterSize: 7, rootVolumeSizeGiB: 10 })).to.deep.equal([]);
        });

        it("checks the facts the state has when it lacks others", () => {
            expect(clusterGuardRefusals({ rootVolumeSizeGiB: 30 }, { clusterSize: 7, rootVolumeSizeGiB: 10 }))
                .to.deep.equal([shrinkRefusal(30, 10)]);
        });
    });

    describe("the provider, called directly", () => {
        it("creates state holding only the guarded facts, under a random UUID", async () => {
            const created = await clusterGuardProvider.create({ clusterSize: 3, rootVolumeSizeGiB: 20, extra: "dropped" });
            expect(created.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
            expect(created.outs).to.deep.equal({ clusterSize: 3, rootVolumeSizeGiB: 20 });
        });

        it("gives each guard its own id", async () => {
            const facts = { clusterSize: 3, rootVolumeSizeGiB: 20 };
            const [first, second] = await Promise.all([clusterGuardProvider.create(facts), clusterGuardProvider.create(facts)]);
            expect(first.id).to.not.equal(second.id);
        });

        it("reports no change, and replaces nothing, when the facts stay", async () => {
            expect(await clusterGuardProvider.diff!("id", { clusterSize: 3, rootVolumeSizeGiB: 20 }, { clusterSize: 3, rootVolumeSizeGiB: 20 }))
                .to.deep.equal({ changes: false, replaces: [] });
        });

        it("reports a larger root volume as an in-place change", async () => {
            expect(await clusterGuardProvider.diff!("id", { clusterSize: 3, rootVolumeSizeGiB: 20 }, { clusterSize: 3, rootVolumeSizeGiB: 40 }))
                .to.deep.equal({ changes: true, replaces: [] });
        });

        it("reports a fact missing from older state as a change that records it", async () => {
            expect(await clusterGuardProvider.diff!("id", { clusterSize: 3 }, { clusterSize: 3, rootVolumeSizeGiB: 20 }))
                .to.deep.equal({ changes: true, replaces: [] });
        });

        it("fails the diff with every refusal, one a line, in a plain Error", async () => {
            const error = await rejectionOf(clusterGuardProvider.diff!("id", { clusterSize: 3, rootVolumeSizeGiB: 30 }, { clusterSize: 5, rootVolumeSizeGiB: 20 }));
            expect([error.constructor, error.message]).to.deep.equal([Error, `${sizeRefusal(3, 5)}\n${shrinkRefusal(30, 20)}`]);
        });

        it("updates state to the new guarded facts only", async () => {
            expect(await clusterGuardProvider.update!("id", { clusterSize: 3, rootVolumeSizeGiB: 20 }, { clusterSize: 3, rootVolumeSizeGiB: 40, extra: 1 } as never))
                .to.deep.equal({ outs: { clusterSize: 3, rootVolumeSizeGiB: 40 } });
        });
    });

    it("registers as etcd3-cluster:ClusterGuard with the guarded facts alone as inputs", async () => {
        new ClusterGuard("guard-unit-1", { clusterSize: 5, rootVolumeSizeGiB: 30, extra: true } as never);
        await settle();
        const [resource] = registered.filter((r) => r.name === "guard-unit-1");
        const { __provider, ...inputs } = resource.inputs;
        expect({ type: resource.type, inputs, provider: typeof __provider })
            .to.deep.equal({ type: "pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard", inputs: { clusterSize: 5, rootVolumeSizeGiB: 30 }, provider: "string" });
    });
});
