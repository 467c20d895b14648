/**
 * ClusterFounding's provider called directly (lib/founding.ts); the engine's
 * view of it is in founding-engine.test.ts.
 */
import { expect } from "chai";
import { clusterFoundingProvider } from "../lib/founding";

describe("ClusterFounding's provider (lib/founding.ts)", () => {
    it("records the size it is created with, and nothing else, under a random UUID", async () => {
        const created = await clusterFoundingProvider.create({ clusterSize: 5, extra: "dropped" });
        expect(created.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(created.outs).to.deep.equal({ clusterSize: 5 });
    });

    it("reports no change and replaces nothing whatever the size becomes", async () => {
        expect(await clusterFoundingProvider.diff!("id", { clusterSize: 3 }, { clusterSize: 7 })).to.deep.equal({ changes: false, replaces: [] });
    });
});
