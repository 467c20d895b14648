/**
 * The record of the peer CA step every member has rolled to
 * (lib/peer-ca-record.ts): its refusal of a step taken before the one before
 * it reached every member, as the engine runs it (serialized, in Pulumi's
 * provider host), its place in the graph after every member's health gate,
 * and the warning every run gives while a rotation is under way.
 */
import { expect } from "chai";
import { installMocks, playUserMocks, resourcesOf, settle, uniqueName } from "./support/pulumi-mocks";

installMocks();
import { Etcd3Cluster, Etcd3ClusterArgs } from "../lib";
import { PeerCaRecord, peerCaRecordProvider, PeerCaStep, peerCaRotationWarning, unfinishedStepRefusal } from "../lib/peer-ca-record";
import { buildWithSecrets } from "./support/secrets-graph";
import { warningsWhile } from "./support/warnings";
import { dynamicResourceDeclarer, failureOf, useEngineProviderHost } from "./support/engine-provider";

const RECORD = "pulumi-nodejs:dynamic/etcd3-cluster:PeerCaRecord";
const step = (peerCaGeneration: number, peerCaRotation: PeerCaStep["peerCaRotation"]): PeerCaStep => ({ peerCaGeneration, peerCaRotation });

/** The refusal of going to `next` while every member has rolled only to `rolled`, `unfinished` the step in between. */
const refusal = (next: string, rolled: string, unfinished: string) => `the peer CA cannot go to ${next} yet: every member has rolled only to ${rolled}, ` +
    `so the step after it, ${unfinished}, has not reached them all (its \`pulumi up\` stopped partway, or ran with --target), and the members it ` +
    "has not reached refuse what the step asked for now would have them present. " +
    `Run \`pulumi up\` with ${unfinished} again until it finishes, then take the next step.`;

describe("the peer CA step every member has rolled to (lib/peer-ca-record.ts)", () => {
    it("allows the same step, the step after the one every member has, and any step back", () => {
        expect([
            unfinishedStepRefusal(step(0, "none"), step(0, "none")),
            unfinishedStepRefusal(step(0, "none"), step(0, "trust-next")),
            unfinishedStepRefusal(step(0, "sign-with-next"), step(1, "none")),
            unfinishedStepRefusal(step(1, "none"), step(0, "sign-with-next")),
        ]).to.deep.equal([undefined, undefined, undefined, undefined]);
    });

    it("refuses a step two ahead of the one every member has, naming the unfinished step to run again", () => {
        expect(unfinishedStepRefusal(step(0, "none"), step(0, "sign-with-next"))).to.equal(refusal(
            "peerCaGeneration 0 with peerCaRotation \"sign-with-next\"", "peerCaGeneration 0 without peerCaRotation",
            "peerCaGeneration 0 with peerCaRotation \"trust-next\""));
        expect(unfinishedStepRefusal(step(0, "trust-next"), step(1, "none"))).to.equal(refusal(
            "peerCaGeneration 1 without peerCaRotation", "peerCaGeneration 0 with peerCaRotation \"trust-next\"",
            "peerCaGeneration 0 with peerCaRotation \"sign-with-next\""));
    });

    it("reports no change for the same step, and an in-place change for any other, even one only the generation tells apart", async () => {
        const diff = (olds: PeerCaStep, news: PeerCaStep) => peerCaRecordProvider.diff!("id", olds, news);
        expect([
            await diff(step(1, "trust-next"), step(1, "trust-next")),
            await diff(step(1, "none"), step(0, "none")),
            await diff(step(0, "none"), step(0, "trust-next")),
        ]).to.deep.equal([{ changes: false, replaces: [] }, { changes: true, replaces: [] }, { changes: true, replaces: [] }]);
    });

    describe("as the engine runs it", function () {
        const engine = useEngineProviderHost();
        const declare = dynamicResourceDeclarer("etcd3-cluster:PeerCaRecord", "engine-peer-ca-record", (name, at: PeerCaStep) => new PeerCaRecord(name, at));

        it("records a step once rolled, and refuses at the next preview a step taken while that one's roll has not finished", async () => {
            const created = await engine.host.create(await declare(step(0, "none")));
            expect(created.outs).to.deep.include(step(0, "none"));
            const trusting = await declare(step(0, "trust-next"));
            expect(await engine.host.diff(trusting, created.id, created.outs)).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
            // The roll to "trust-next" stopped partway: the record still holds the step before it.
            expect(await failureOf(engine.host.diff(await declare(step(0, "sign-with-next")), created.id, created.outs))).to.equal(refusal(
                "peerCaGeneration 0 with peerCaRotation \"sign-with-next\"", "peerCaGeneration 0 without peerCaRotation",
                "peerCaGeneration 0 with peerCaRotation \"trust-next\""));
            // Once a run of it finishes, the record holds it, and the next step goes.
            const rolled = await engine.host.update(trusting, created.id, created.outs);
            expect(rolled).to.deep.equal({ ...created.outs, ...step(0, "trust-next") });
            expect(await engine.host.diff(await declare(step(0, "sign-with-next")), created.id, rolled))
                .to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
        });
    });

    describe("in the component's graph (Pulumi mocks)", () => {
        it("comes after every member's health gate, holding the step the program asks for", async () => {
            const { name, everyChild } = await buildWithSecrets({ peerTls: true, peerCaRotation: "trust-next" });
            expect(resourcesOf(name, RECORD).map(({ inputs: { __provider: _provider, ...inputs } }) => inputs)).to.deep.equal([step(0, "trust-next")]);
            expect(everyChild.filter((child) => child.type === RECORD).map(({ name: child, options }) => [child, options])).to.deep.equal([
                [`${name}-peer-ca-rolled`, { parent: name, dependsOn: [0, 1, 2].map((index) => `${name}-${index}-health`) }],
            ]);
        });

        it("is not made without peerTls", async () => {
            const { name } = await buildWithSecrets({});
            expect(resourcesOf(name, RECORD)).to.deep.equal([]);
        });
    });

    describe("the CA expiry warning during a rotation", () => {
        /** The end, 100.5 days from now, of generation 0's CA in `expiryWarnings`' builds; generation 1's ends in ten years. */
        const firstCaEnd = new Date(Date.now() + 100.5 * 86_400_000).toISOString();
        const firstCaWarning = `the cluster's peer CA expires on ${firstCaEnd}, in 100 days, and the component does not renew it by itself; ` +
            "before then, rotate it to a new CA with peerCaRotation (the README's \"Rotating the peer CA\")";
        /** The peer CA warnings of a build where generation 0's CA ends at `firstCaEnd` and generation 1's in ten years. */
        const expiryWarnings = async (args: Etcd3ClusterArgs) => {
            playUserMocks({
                newResource: async ({ type, name, inputs }) => (type === "tls:index/selfSignedCert:SelfSignedCert" ? {
                    id: `${name}-id`,
                    state: { ...inputs, certPem: `CA ${name}`, validityEndTime: name.endsWith("-peer-ca") ? firstCaEnd : new Date(Date.now() + 3650 * 86_400_000).toISOString() },
                } : undefined),
            });
            try {
                const warnings = await warningsWhile(async () => {
                    new Etcd3Cluster(uniqueName(), { discoveryLogFile: false, peerTls: true, ...args });
                    await settle();
                });
                return warnings.filter((message) => message.startsWith("the cluster's peer CA"));
            } finally {
                playUserMocks(undefined);
            }
        };

        it("follows the CA that signs: the current one's end until the next one signs, then nothing while the next has years left", async () => {
            const [steady, trusting, signing] = [await expiryWarnings({}), await expiryWarnings({ peerCaRotation: "trust-next" }),
                await expiryWarnings({ peerCaRotation: "sign-with-next" })];
            expect({ steady, trusting, signing }).to.deep.equal({ steady: [firstCaWarning], trusting: [firstCaWarning], signing: [] });
        });
    });

    describe("the warning while a rotation is under way", () => {
        it("names the step and the next one, and says the old CA is still trusted", () => {
            expect(peerCaRotationWarning({ generation: 2, rotation: "sign-with-next" }, true)).to.equal("a rotation of the peer CA is under way, at " +
                "peerCaGeneration 2 with peerCaRotation \"sign-with-next\": until it finishes, the members still trust generation 2's CA. Once this " +
                "step's `pulumi up` has finished, take the next: peerCaGeneration 3 without peerCaRotation.");
            expect(peerCaRotationWarning({ generation: 0 }, true)).to.equal(undefined);
        });

        it("with clientTls, asks at \"trust-next\" for the clients to get the new caCertificate before the next step", () => {
            const trusting = "a rotation of the peer CA is under way, at peerCaGeneration 0 with peerCaRotation \"trust-next\": until it finishes, " +
                "the members still trust generation 0's CA. Once this step's `pulumi up` has finished, take the next: peerCaGeneration 0 with " +
                "peerCaRotation \"sign-with-next\".";
            expect([peerCaRotationWarning({ generation: 0, rotation: "trust-next" }, true), peerCaRotationWarning({ generation: 0, rotation: "trust-next" }, false)])
                .to.deep.equal([`${trusting} Before it, give the clients that verify the members the new caCertificate, which holds both CAs.`, trusting]);
        });

        it("is given at every run of the component during a rotation, for its clients' TLS", async () => {
            const warningsOf = async (clientTls: boolean) => {
                const warnings = await warningsWhile(() => buildWithSecrets({ peerTls: true, clientTls, peerCaGeneration: 1, peerCaRotation: "trust-next" }));
                return warnings.filter((message) => message.includes("peer CA"));
            };
            const trusting = "a rotation of the peer CA is under way, at peerCaGeneration 1 with peerCaRotation \"trust-next\": until it finishes, " +
                "the members still trust generation 1's CA. Once this step's `pulumi up` has finished, take the next: peerCaGeneration 1 with " +
                "peerCaRotation \"sign-with-next\".";
            expect({ plain: await warningsOf(false), clientTls: await warningsOf(true) }).to.deep.equal({
                plain: [trusting],
                clientTls: [`${trusting} Before it, give the clients that verify the members the new caCertificate, which holds both CAs.`],
            });
        });
    });
});
