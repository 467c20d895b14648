/**
 * ClusterGuard as `pulumi preview`/`up` run it: serialized by the SDK, loaded
 * from its `__provider` input by Pulumi's own dynamic-provider host, called
 * over gRPC (see support/engine-provider.ts). Refusals are asserted whole, as
 * the engine would print them.
 */
import { expect } from "chai";
import { installMocks, settle } from "./support/pulumi-mocks";

installMocks();
import { ClusterGuard, ClusterGuardFacts } from "../lib/guard";
import {
    EngineProviderHost, EngineResource, makeProgramDirectory, Properties, registeredDynamicResource,
} from "./support/engine-provider";

let declaredCount = 0;
/** Declares a ClusterGuard in the mocked program and returns it as the engine received it. */
async function declare(facts: ClusterGuardFacts): Promise<EngineResource> {
    const name = `engine-guard-${++declaredCount}`;
    new ClusterGuard(name, facts);
    await settle();
    return registeredDynamicResource("etcd3-cluster:ClusterGuard", name);
}

/** The rejection's message (what the engine prints), or a failure if the call succeeded. */
async function failureOf(promise: Promise<unknown>): Promise<string> {
    const outcome = await promise.then(() => undefined, (error: Error) => error);
    expect(outcome, "the call succeeded").to.be.instanceOf(Error);
    return outcome!.message;
}

const noChange = { changes: false, replaces: [], deleteBeforeReplace: false };
const inPlace = { changes: true, replaces: [], deleteBeforeReplace: false };

const sizeRefusal = (from: number, to: number) => `clusterSize cannot change from ${from} to ${to} on a running cluster: ` +
    "its members would not learn of the change (that needs etcd's runtime reconfiguration). To build a new cluster of " +
    "the new size, run `pulumi destroy` first, or create a second Etcd3Cluster.";
const shrinkRefusal = (from: number, to: number) => `rootVolumeSizeGiB cannot change from ${from} to ${to} on a running ` +
    "cluster: an EBS volume can grow but never shrink, so AWS would refuse the change partway through updating the " +
    `members. Keep rootVolumeSizeGiB at ${from} or more (a larger size is applied in place). For smaller volumes, build ` +
    "a new cluster: run `pulumi destroy` first, or create a second Etcd3Cluster.";

describe("ClusterGuard as the engine runs it", function () {
    let program: ReturnType<typeof makeProgramDirectory>;
    let host: EngineProviderHost;
    let created: { id: string; outs: Properties };
    before(async function () {
        this.timeout(30_000);
        program = makeProgramDirectory();
        host = await EngineProviderHost.start(program.directory);
        created = await host.create(await declare({ clusterSize: 3, rootVolumeSizeGiB: 30 }));
    });
    after(async function () {
        this.timeout(15_000);
        await host?.stop();
        program?.remove();
    });

    it("keeps the guarded facts in state", () => {
        expect(created.id).to.match(/^[0-9a-f-]{36}$/);
        expect(created.outs).to.have.all.keys("__provider", "clusterSize", "rootVolumeSizeGiB");
        expect(created.outs).to.deep.include({ clusterSize: 3, rootVolumeSizeGiB: 30 });
    });

    it("reports no change when the facts stay", async () => {
        expect(await host.diff(await declare({ clusterSize: 3, rootVolumeSizeGiB: 30 }), created.id, created.outs)).to.deep.equal(noChange);
    });

    it("refuses a larger cluster, saying why and what to do instead", async () => {
        const resource = await declare({ clusterSize: 5, rootVolumeSizeGiB: 30 });
        expect(await failureOf(host.diff(resource, created.id, created.outs))).to.equal(sizeRefusal(3, 5));
    });

    it("refuses a smaller cluster too", async () => {
        const resource = await declare({ clusterSize: 1, rootVolumeSizeGiB: 30 });
        expect(await failureOf(host.diff(resource, created.id, created.outs))).to.equal(sizeRefusal(3, 1));
    });

    it("refuses smaller root volumes, naming the smallest size it accepts", async () => {
        const resource = await declare({ clusterSize: 3, rootVolumeSizeGiB: 20 });
        expect(await failureOf(host.diff(resource, created.id, created.outs))).to.equal(shrinkRefusal(30, 20));
    });

    it("lists every refused change at once", async () => {
        const resource = await declare({ clusterSize: 5, rootVolumeSizeGiB: 20 });
        expect(await failureOf(host.diff(resource, created.id, created.outs))).to.equal(`${sizeRefusal(3, 5)}\n${shrinkRefusal(30, 20)}`);
    });

    it("allows larger root volumes as an in-place update that records the new size", async () => {
        const resource = await declare({ clusterSize: 3, rootVolumeSizeGiB: 40 });
        expect(await host.diff(resource, created.id, created.outs)).to.deep.equal(inPlace);
        const outs = await host.update(resource, created.id, created.outs);
        expect(outs).to.deep.equal({ ...created.outs, rootVolumeSizeGiB: 40 });
        // The next preview compares with the recorded size: back to 30 is now a shrink.
        const back = await declare({ clusterSize: 3, rootVolumeSizeGiB: 30 });
        expect(await failureOf(host.diff(back, created.id, outs))).to.equal(shrinkRefusal(40, 30));
    });

    it("records a fact that older state lacks without refusing anything", async () => {
        const { rootVolumeSizeGiB: _absent, ...olderState } = created.outs;
        const resource = await declare({ clusterSize: 3, rootVolumeSizeGiB: 10 });
        expect(await host.diff(resource, created.id, olderState)).to.deep.equal(inPlace);
        expect(await host.update(resource, created.id, olderState)).to.deep.equal({ ...created.outs, rootVolumeSizeGiB: 10 });
    });
});
