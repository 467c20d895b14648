/**
 * lib/image.ts in this process: the ImageChoice provider's create, diff and
 * update called directly, their answers compared whole. tests/image.test.ts
 * runs the same provider serialized, in Pulumi's provider host, as `pulumi up`
 * does; a mutation run cannot see what code that child process reaches.
 */
import { expect } from "chai";
import { installMocks } from "./support/pulumi-mocks";

installMocks();
import { ImageChoiceInputs, imageChoiceProvider, ImageChoiceState } from "../lib/image";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const fedora: ImageChoiceInputs = { os: "fedora-coreos", architecture: "x86_64", latestImageId: "ami-00000000000000001" };
const kept: ImageChoiceState = { ...fedora, imageId: "ami-00000000000000001" };
const newerRelease: ImageChoiceInputs = { ...fedora, latestImageId: "ami-00000000000000002" };

describe("the ImageChoice provider, called directly (lib/image.ts)", () => {
    it("creates a choice of the latest image under a fresh UUID, its state the inputs plus that image", async () => {
        const created = await imageChoiceProvider.create(fedora);
        expect(created).to.deep.equal({ id: created.id, outs: kept });
        expect(created.id).to.match(uuid);
    });

    it("reports no change and no replacement when only a newer release appears", async () => {
        expect(await imageChoiceProvider.diff!("choice", kept, newerRelease)).to.deep.equal({ changes: false, replaces: [] });
    });

    it("reports another architecture or OS as a change in place, replacing nothing", async () => {
        const diffs = await Promise.all([{ ...newerRelease, architecture: "arm64" }, { ...newerRelease, os: "flatcar" }]
            .map((news) => imageChoiceProvider.diff!("choice", kept, news)));
        expect(diffs).to.deep.equal([{ changes: true, replaces: [] }, { changes: true, replaces: [] }]);
    });

    it("updates to the new inputs and the latest image they name", async () => {
        const arm: ImageChoiceInputs = { ...newerRelease, architecture: "arm64", latestImageId: "ami-0000000000000000a" };
        expect(await imageChoiceProvider.update!("choice", kept, arm)).to.deep.equal({ outs: { ...arm, imageId: "ami-0000000000000000a" } });
    });
});
