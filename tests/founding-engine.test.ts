/**
 * ClusterFounding as `pulumi preview`/`up` run it: serialized by the SDK,
 * loaded from its `__provider` input by Pulumi's own dynamic-provider host,
 * called over gRPC (see support/engine-provider.ts).
 */
import { expect } from "chai";
import { installMocks, settle } from "./support/pulumi-mocks";

installMocks();
import { ClusterFounding } from "../lib/founding";
import { EngineProviderHost, EngineResource, makeProgramDirectory, registeredDynamicResource } from "./support/engine-provider";

let declaredCount = 0;
/** Declares a ClusterFounding in the mocked program and returns it as the engine received it. */
async function declare(clusterSize: number): Promise<EngineResource> {
    const name = `engine-founding-${++declaredCount}`;
    new ClusterFounding(name, { clusterSize });
    await settle();
    return registeredDynamicResource("etcd3-cluster:ClusterFounding", name);
}

describe("ClusterFounding as the engine runs it", function () {
    let program: ReturnType<typeof makeProgramDirectory>;
    let host: EngineProviderHost;
    before(async function () {
        this.timeout(30_000);
        program = makeProgramDirectory();
        host = await EngineProviderHost.start(program.directory);
    });
    after(async function () {
        this.timeout(15_000);
        await host?.stop();
        program?.remove();
    });

    it("records the size the cluster is created with", async () => {
        const created = await host.create(await declare(3));
        expect(created.id).to.match(/^[0-9a-f-]{36}$/);
        expect(created.outs).to.have.all.keys("__provider", "clusterSize");
        expect(created.outs.clusterSize).to.equal(3);
    });

    it("reports no change when the cluster grows, so the engine keeps the recorded size, at preview too", async () => {
        const created = await host.create(await declare(3));
        expect(await host.diff(await declare(7), created.id, created.outs)).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
    });
});
