/**
 * Which image the members boot (lib/image.ts): a pinned amiId as given; the
 * looked-up latest image kept in state by the ImageChoice dynamic resource,
 * which `pulumi up` runs serialized in Pulumi's provider host, as here.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { calls, installMocks, resourcesOf, settle, uniqueName } from "./support/pulumi-mocks";

installMocks();
import { resolveArgs } from "../lib/args";
import { ImageChoice, imageChoiceChanges, memberImage } from "../lib/image";
import { EngineProviderHost, EngineResource, makeProgramDirectory, Properties, registeredDynamicResource } from "./support/engine-provider";
import { outputValue } from "../lib/testing";

const noChange = { changes: false, replaces: [], deleteBeforeReplace: false };
const inPlace = { changes: true, replaces: [], deleteBeforeReplace: false };
const CHOICE = "pulumi-nodejs:dynamic/etcd3-cluster:ImageChoice";

describe("the members' image (lib/image.ts)", () => {
    it("uses a pinned amiId as given, with no lookup and nothing kept in state", async () => {
        const name = uniqueName();
        const parent = new pulumi.ComponentResource("test:index:Parent", name);
        const before = calls.length;
        expect(memberImage(name, resolveArgs(name, { amiId: "ami-0fedcba9876543210" }), parent)).to.equal("ami-0fedcba9876543210");
        await settle();
        expect(calls.slice(before).filter((call) => call.token === "aws:ec2/getAmi:getAmi")).to.deep.equal([]);
        expect(resourcesOf(name, CHOICE)).to.deep.equal([]);
    });

    it("keeps the looked-up image for the OS and architecture in an ImageChoice", async () => {
        const name = uniqueName();
        const parent = new pulumi.ComponentResource("test:index:Parent", name);
        const image = memberImage(name, resolveArgs(name, { instanceType: "m7g.large", os: "flatcar" }), parent);
        await settle();
        expect(resourcesOf(name, CHOICE).map((r) => [r.name, r.inputs.os, r.inputs.architecture, r.inputs.latestImageId]))
            .to.deep.equal([[`${name}-image`, "flatcar", "arm64", "ami-0123456789abcdef0"]]);
        expect(await outputValue(image as pulumi.Output<string>)).to.equal("ami-0123456789abcdef0");
    });

    it("changes its choice only for another OS or architecture, never for a newer release", () => {
        const kept = { os: "fedora-coreos", architecture: "x86_64", latestImageId: "ami-00000000000000001" };
        expect(imageChoiceChanges(kept, { ...kept, latestImageId: "ami-00000000000000002" })).to.equal(false);
        expect(imageChoiceChanges(kept, { ...kept, architecture: "arm64" })).to.equal(true);
        expect(imageChoiceChanges(kept, { ...kept, os: "flatcar" })).to.equal(true);
    });

    describe("as the engine runs it", function () {
        let program: ReturnType<typeof makeProgramDirectory>;
        let host: EngineProviderHost;
        let count = 0;
        const declare = async (latestImageId: string, architecture = "x86_64"): Promise<EngineResource> => {
            const name = `engine-image-${++count}`;
            new ImageChoice(name, { os: "fedora-coreos", architecture, latestImageId });
            await settle();
            return registeredDynamicResource("etcd3-cluster:ImageChoice", name);
        };
        let created: { id: string; outs: Properties };
        before(async function () {
            this.timeout(30_000);
            program = makeProgramDirectory();
            host = await EngineProviderHost.start(program.directory);
            created = await host.create(await declare("ami-00000000000000001"));
        });
        after(async function () {
            this.timeout(15_000);
            await host?.stop();
            program?.remove();
        });

        it("chooses the latest image when created", () => {
            expect(created.outs).to.deep.include({ imageId: "ami-00000000000000001", latestImageId: "ami-00000000000000001" });
        });

        it("reports no change when a newer release appears, so the members keep their image", async () => {
            expect(await host.diff(await declare("ami-00000000000000002"), created.id, created.outs)).to.deep.equal(noChange);
        });

        it("takes the latest image when the architecture changes, as an in-place update", async () => {
            const resource = await declare("ami-0000000000000000a", "arm64");
            expect(await host.diff(resource, created.id, created.outs)).to.deep.equal(inPlace);
            const outs = await host.update(resource, created.id, created.outs);
            expect(outs).to.deep.include({ imageId: "ami-0000000000000000a", architecture: "arm64" });
        });
    });
});
