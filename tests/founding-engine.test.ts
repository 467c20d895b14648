/**
 * ClusterFounding as `pulumi preview`/`up` run it: serialized by the SDK,
 * loaded from its `__provider` input by Pulumi's own dynamic-provider host,
 * called over gRPC (see support/engine-provider.ts).
 */
import { expect } from "chai";
import { installMocks } from "./support/pulumi-mocks";

installMocks();
import { ClusterFounding } from "../lib/founding";
import { dynamicResourceDeclarer, useEngineProviderHost } from "./support/engine-provider";

/** Declares a ClusterFounding in the mocked program and returns it as the engine received it. */
const declare = dynamicResourceDeclarer("etcd3-cluster:ClusterFounding", "engine-founding",
    (name, clusterSize: number) => new ClusterFounding(name, { clusterSize }));

describe("ClusterFounding as the engine runs it", function () {
    const engine = useEngineProviderHost();

    it("records the size the cluster is created with", async () => {
        const created = await engine.host.create(await declare(3));
        expect(created.id).to.match(/^[0-9a-f-]{36}$/);
        expect(created.outs).to.have.all.keys("__provider", "clusterSize");
        expect(created.outs.clusterSize).to.equal(3);
    });

    it("reports no change when the cluster grows, so the engine keeps the recorded size, at preview too", async () => {
        const created = await engine.host.create(await declare(3));
        expect(await engine.host.diff(await declare(7), created.id, created.outs)).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
    });
});
