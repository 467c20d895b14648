/**
 * lib/guard.ts in this process: the refusal rules and the provider's
 * create/diff/update called directly (tests/guard-engine.test.ts runs the same
 * provider serialized, in Pulumi's provider host).
 */
import { expect } from "chai";
import { installMocks, registered, settle } from "./support/pulumi-mocks";

installMocks();
import { ClusterGuard, ClusterGuardFacts, clusterGuardFactNames, clusterGuardProvider, clusterGuardRefusals, clusterGuardRules } from "../lib/guard";
import { accessControlRefusal, clientTlsRefusal, dataShrinkRefusal, downgradeRefusal, givenPeerCaRefusal, peerCaRefusal, peerCaWhy, peerTlsRefusal, preSlotRefusal, shrinkRefusal, v2OnRefusal } from "./support/guard-refusals";

/** A running 3.5 cluster's facts, as the component resolves them by default, with `changes`. */
const facts = (changes: Partial<ClusterGuardFacts> = {}): ClusterGuardFacts => ({
    clusterSize: 3, rootVolumeSizeGiB: 20, dataVolumeSizeGiB: 20, dataVolumeKmsKey: "aws/ebs", etcdVersion: "v3.5.33", enableV2Api: true, bootstrap: "discovery", peerTls: false, clientTls: false, accessControl: false, peerCaGeneration: 0, peerCaRotation: "none", peerCaCertificate: "generated", ...changes,
});

/** The error `promise` rejects with, or a failure if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
    const outcome = await promise.then(() => undefined, (error: Error) => error);
    expect(outcome, "the call succeeded").to.be.instanceOf(Error);
    return outcome!;
}

describe("ClusterGuard's rules and provider (lib/guard.ts)", () => {
    it("keeps the cluster size, the root and data volume sizes, the data volumes' key, the etcd version, the v2 flag, the bootstrap method, peer TLS, client TLS, access control and the peer CA's generation, rotation step and certificate, in that order", () => {
        expect(clusterGuardFactNames).to.deep.equal([
            "clusterSize", "rootVolumeSizeGiB", "dataVolumeSizeGiB", "dataVolumeKmsKey", "etcdVersion", "enableV2Api", "bootstrap", "peerTls", "clientTls", "accessControl",
            "peerCaGeneration", "peerCaRotation", "peerCaCertificate",
        ]);
    });

    it("has a rule for the two volume sizes, the data volumes' key, the etcd version, the bootstrap method, peer TLS, client TLS, access control, the peer CA's rotation and its certificate, in that order", () => {
        expect(clusterGuardRules.map((rule) => rule.argument)).to.deep.equal([
            "rootVolumeSizeGiB", "dataVolumeSizeGiB", "dataVolumeKmsKey", "etcdVersion", "bootstrap", "peerTls", "clientTls", "accessControl", "peerCaGeneration",
            "peerCaCertificate",
        ]);
    });

    it("refuses a state for lacking the data volume size alone", () => {
        expect(clusterGuardRules.filter((rule) => rule.whenMissing !== undefined).map((rule) => rule.argument)).to.deep.equal(["dataVolumeSizeGiB"]);
    });

    describe("clusterGuardRefusals", () => {
        it("refuses another key for the data volumes, which would replace every one with a blank volume", () => {
            const key = "arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
            expect(clusterGuardRefusals(facts(), facts({ dataVolumeKmsKey: key }))).to.deep.equal([
                `kmsKeyId cannot change from aws/ebs to ${key} on a running cluster: EC2 cannot re-encrypt a volume, so every ` +
                "member's data volume would be replaced by a blank one, a cluster that cannot form again. Keep kmsKeyId as it is; " +
                "to move the data to another key, build a new cluster: run `pulumi destroy` first, or create a second Etcd3Cluster.",
            ]);
        });

        it("keeps the data volumes' key when it stays", () => {
            const key = "arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
            expect(clusterGuardRefusals(facts({ dataVolumeKmsKey: key }), facts({ dataVolumeKmsKey: key }))).to.deep.equal([]);
        });

        it("refuses turning peer TLS on, or off, on a running cluster: the members would stop understanding each other", () => {
            expect(clusterGuardRefusals(facts(), facts({ peerTls: true }))).to.deep.equal([peerTlsRefusal(false, true)]);
            expect(clusterGuardRefusals(facts({ peerTls: true }), facts())).to.deep.equal([peerTlsRefusal(true, false)]);
            expect(clusterGuardRefusals(facts({ peerTls: true }), facts({ peerTls: true }))).to.deep.equal([]);
        });

        it("takes a state from before peer TLS existed as plain HTTP between the members: refuses turning it on, lets it stay off", () => {
            const { peerTls: _absent, ...older } = facts();
            expect(clusterGuardRefusals(older, facts({ peerTls: true }))).to.deep.equal([peerTlsRefusal(false, true)]);
            expect(clusterGuardRefusals(older, facts())).to.deep.equal([]);
        });

        it("refuses turning client TLS on, or off, on a running cluster: the new target groups would find the old members unhealthy", () => {
            const tls = { peerTls: true };
            expect(clusterGuardRefusals(facts(tls), facts({ ...tls, clientTls: true }))).to.deep.equal([clientTlsRefusal(false, true)]);
            expect(clusterGuardRefusals(facts({ ...tls, clientTls: true }), facts(tls))).to.deep.equal([clientTlsRefusal(true, false)]);
            expect(clusterGuardRefusals(facts({ ...tls, clientTls: true }), facts({ ...tls, clientTls: true }))).to.deep.equal([]);
        });

        it("takes a state from before client TLS existed as plain HTTP to the members: refuses turning it on, lets it stay off", () => {
            const { clientTls: _absent, ...older } = facts({ peerTls: true });
            expect(clusterGuardRefusals(older, facts({ peerTls: true, clientTls: true }))).to.deep.equal([clientTlsRefusal(false, true)]);
            expect(clusterGuardRefusals(older, facts({ peerTls: true }))).to.deep.equal([]);
        });

        it("refuses adding or taking away rootPassword on a running cluster: members without the password could not change the membership", () => {
            const tls = { peerTls: true, clientTls: true };
            expect(clusterGuardRefusals(facts(tls), facts({ ...tls, accessControl: true }))).to.deep.equal([accessControlRefusal(false)]);
            expect(clusterGuardRefusals(facts({ ...tls, accessControl: true }), facts(tls))).to.deep.equal([accessControlRefusal(true)]);
            expect(clusterGuardRefusals(facts({ ...tls, accessControl: true }), facts({ ...tls, accessControl: true }))).to.deep.equal([]);
        });

        it("takes a state from before access control existed as without it: refuses adding it, lets it stay off", () => {
            const { accessControl: _absent, ...older } = facts({ peerTls: true, clientTls: true });
            expect(clusterGuardRefusals(older, facts({ peerTls: true, clientTls: true, accessControl: true }))).to.deep.equal([accessControlRefusal(false)]);
            expect(clusterGuardRefusals(older, facts({ peerTls: true, clientTls: true }))).to.deep.equal([]);
        });

        describe("the peer CA's rotation", () => {
            type Step = [number, "none" | "trust-next" | "sign-with-next"];
            const at = ([peerCaGeneration, peerCaRotation]: Step) => facts({ peerTls: true, peerCaGeneration, peerCaRotation });
            const move = (from: Step, to: Step) => clusterGuardRefusals(at(from), at(to));

            it("lets it go forward one step at a time, through two rotations", () => {
                const steps: Step[] = [[0, "none"], [0, "trust-next"], [0, "sign-with-next"], [1, "none"], [1, "trust-next"], [1, "sign-with-next"], [2, "none"]];
                expect(steps.slice(1).map((to, index) => move(steps[index], to))).to.deep.equal(steps.slice(1).map(() => []));
            });

            it("lets it go back a step while the rotation is under way: to trusting the next CA only, or to no rotation", () => {
                expect(move([0, "sign-with-next"], [0, "trust-next"])).to.deep.equal([]);
                expect(move([0, "trust-next"], [0, "none"])).to.deep.equal([]);
                expect(move([3, "trust-next"], [3, "none"])).to.deep.equal([]);
            });

            it("refuses signing with the next CA before every member trusts it", () => {
                expect(move([0, "none"], [0, "sign-with-next"])).to.deep.equal([
                    peerCaRefusal([0, "none"], [0, "sign-with-next"], peerCaWhy.skipped, [0, "trust-next"]),
                ]);
            });

            it("refuses a new generation except from signing with it", () => {
                expect(move([0, "none"], [1, "none"])).to.deep.equal([peerCaRefusal([0, "none"], [1, "none"], peerCaWhy.skipped, [0, "trust-next"])]);
                expect(move([0, "trust-next"], [1, "none"])).to.deep.equal([
                    peerCaRefusal([0, "trust-next"], [1, "none"], peerCaWhy.skipped, [0, "sign-with-next"], [0, "none"]),
                ]);
                expect(move([1, "none"], [2, "none"])).to.deep.equal([peerCaRefusal([1, "none"], [2, "none"], peerCaWhy.skipped, [1, "trust-next"])]);
            });

            it("refuses going back to a generation whose CA a finished rotation deleted", () => {
                expect(move([1, "none"], [0, "sign-with-next"])).to.deep.equal([
                    peerCaRefusal([1, "none"], [0, "sign-with-next"], peerCaWhy.finished(1), [1, "trust-next"]),
                ]);
                expect(move([2, "none"], [1, "none"])).to.deep.equal([peerCaRefusal([2, "none"], [1, "none"], peerCaWhy.finished(2), [2, "trust-next"])]);
            });

            it("refuses going back over a step: from signing with the next CA straight to no rotation", () => {
                expect(move([0, "sign-with-next"], [0, "none"])).to.deep.equal([
                    peerCaRefusal([0, "sign-with-next"], [0, "none"], peerCaWhy.backOver, [1, "none"], [0, "trust-next"]),
                ]);
            });

            it("takes a state from before rotation existed as generation 0 without a rotation: lets it start one, refuses a skipped step", () => {
                const { peerCaGeneration: _generation, peerCaRotation: _rotation, ...older } = facts({ peerTls: true });
                expect(clusterGuardRefusals(older, at([0, "trust-next"]))).to.deep.equal([]);
                expect(clusterGuardRefusals(older, at([0, "none"]))).to.deep.equal([]);
                expect(clusterGuardRefusals(older, at([0, "sign-with-next"]))).to.deep.equal([
                    peerCaRefusal([0, "none"], [0, "sign-with-next"], peerCaWhy.skipped, [0, "trust-next"]),
                ]);
            });
        });

        describe("a peer CA the user gives", () => {
            const [mine, next] = ['subject "CN=kv", public key SHA-256 0A:1B', 'subject "CN=kv", public key SHA-256 2C:3D'];
            const given = (peerCaCertificate: string) => facts({ peerTls: true, peerCaCertificate });

            it("refuses giving one on a cluster made with the component's own CA, another in its place, or going back to the component's own", () => {
                expect(clusterGuardRefusals(given("generated"), given(mine))).to.deep.equal([givenPeerCaRefusal("the component's own", `the one given (${mine})`, true)]);
                expect(clusterGuardRefusals(given(mine), given(next))).to.deep.equal([givenPeerCaRefusal(`the one given (${mine})`, `the one given (${next})`, false)]);
                expect(clusterGuardRefusals(given(mine), given("generated"))).to.deep.equal([givenPeerCaRefusal(`the one given (${mine})`, "the component's own", false)]);
            });

            it("keeps the same one, and the component's own", () => {
                expect(clusterGuardRefusals(given(mine), given(mine))).to.deep.equal([]);
                expect(clusterGuardRefusals(given("generated"), given("generated"))).to.deep.equal([]);
            });

            it("takes a state from before a CA could be given as the component's own: refuses giving one, lets it stay", () => {
                const { peerCaCertificate: _absent, ...older } = given("generated");
                expect(clusterGuardRefusals(older, given(mine))).to.have.length(1);
                expect(clusterGuardRefusals(older, given("generated"))).to.deep.equal([]);
            });
        });

        it("refuses nothing when the facts stay", () => {
            expect(clusterGuardRefusals(facts(), facts())).to.deep.equal([]);
        });

        it("allows a larger cluster", () => {
            expect(clusterGuardRefusals(facts({ clusterSize: 3 }), facts({ clusterSize: 5 }))).to.deep.equal([]);
        });

        it("allows a smaller cluster: its members leave etcd before their instances go", () => {
            expect(clusterGuardRefusals(facts({ clusterSize: 5 }), facts({ clusterSize: 3 }))).to.deep.equal([]);
        });

        it("refuses a root volume one GiB smaller", () => {
            expect(clusterGuardRefusals(facts({ rootVolumeSizeGiB: 20 }), facts({ rootVolumeSizeGiB: 19 }))).to.deep.equal([shrinkRefusal(20, 19)]);
        });

        it("allows a root volume one GiB larger", () => {
            expect(clusterGuardRefusals(facts({ rootVolumeSizeGiB: 20 }), facts({ rootVolumeSizeGiB: 21 }))).to.deep.equal([]);
        });

        it("refuses a data volume one GiB smaller", () => {
            expect(clusterGuardRefusals(facts({ dataVolumeSizeGiB: 50 }), facts({ dataVolumeSizeGiB: 49 }))).to.deep.equal([dataShrinkRefusal(50, 49)]);
        });

        it("allows a data volume one GiB larger", () => {
            expect(clusterGuardRefusals(facts({ dataVolumeSizeGiB: 50 }), facts({ dataVolumeSizeGiB: 51 }))).to.deep.equal([]);
        });

        it("allows an etcd patch upgrade", () => {
            expect(clusterGuardRefusals(facts({ etcdVersion: "v3.5.20" }), facts({ etcdVersion: "v3.5.33" }))).to.deep.equal([]);
        });

        it("refuses an etcd downgrade from 3.6 to 3.5", () => {
            expect(clusterGuardRefusals(facts({ etcdVersion: "v3.6.14", enableV2Api: false }), facts({ etcdVersion: "v3.5.33", enableV2Api: false })))
                .to.deep.equal([downgradeRefusal]);
        });

        it("refuses 3.5 → 3.6 while the state says the v2 API is on, even if the program turns it off", () => {
            expect(clusterGuardRefusals(facts({ enableV2Api: true }), facts({ etcdVersion: "v3.6.14", enableV2Api: false }))).to.deep.equal([v2OnRefusal]);
        });

        it("allows 3.5.33 → 3.6.14 when the state says the v2 API is off", () => {
            expect(clusterGuardRefusals(facts({ enableV2Api: false }), facts({ etcdVersion: "v3.6.14", enableV2Api: false }))).to.deep.equal([]);
        });

        it("counts a state without the v2 flag as having the v2 API on", () => {
            const { enableV2Api: _absent, ...stateWithoutFlag } = facts();
            expect(clusterGuardRefusals(stateWithoutFlag, facts({ etcdVersion: "v3.6.14", enableV2Api: false }))).to.deep.equal([v2OnRefusal]);
        });

        it("lists every refusal, in the rules' order", () => {
            expect(clusterGuardRefusals(
                facts({ clusterSize: 3, rootVolumeSizeGiB: 30, dataVolumeSizeGiB: 40, etcdVersion: "v3.6.14", enableV2Api: false }),
                facts({ clusterSize: 1, rootVolumeSizeGiB: 10, dataVolumeSizeGiB: 20, etcdVersion: "v3.5.33", enableV2Api: false }),
            )).to.deep.equal([shrinkRefusal(30, 10), dataShrinkRefusal(40, 20), downgradeRefusal]);
        });

        it("checks nothing when the state holds no facts at all", () => {
            expect(clusterGuardRefusals({}, facts({ clusterSize: 7, rootVolumeSizeGiB: 10, dataVolumeSizeGiB: 10 }))).to.deep.equal([]);
        });

        it("refuses a state made before member slots (no data volume size) with what to do instead", () => {
            expect(clusterGuardRefusals({ clusterSize: 3, rootVolumeSizeGiB: 20 }, facts())).to.deep.equal([preSlotRefusal]);
        });

        it("refuses a state holding any one fact but the data volume size as made before member slots", () => {
            expect(clusterGuardRefusals({ etcdVersion: "v3.5.33" }, facts())).to.deep.equal([preSlotRefusal]);
        });

        it("lists the pre-slot refusal after the refusals of facts the state has, in the rules' order", () => {
            expect(clusterGuardRefusals({ clusterSize: 3, rootVolumeSizeGiB: 20 }, facts({ rootVolumeSizeGiB: 10 })))
                .to.deep.equal([shrinkRefusal(20, 10), preSlotRefusal]);
        });

        it("checks the facts the state has when it lacks others that are not required", () => {
            expect(clusterGuardRefusals({ rootVolumeSizeGiB: 30, dataVolumeSizeGiB: 20 }, facts({ clusterSize: 7, rootVolumeSizeGiB: 10 })))
                .to.deep.equal([shrinkRefusal(30, 10)]);
        });

        it("records an etcd version the state lacks without judging the change", () => {
            const { etcdVersion: _absent, ...stateWithoutVersion } = facts({ etcdVersion: "v3.6.14" });
            expect(clusterGuardRefusals(stateWithoutVersion, facts({ etcdVersion: "v3.5.33" }))).to.deep.equal([]);
        });
    });

    describe("the provider, called directly", () => {
        it("creates state holding only the guarded facts, under a random UUID", async () => {
            const created = await clusterGuardProvider.create({ ...facts(), extra: "dropped" });
            expect(created.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
            expect(created.outs).to.deep.equal({
                clusterSize: 3, rootVolumeSizeGiB: 20, dataVolumeSizeGiB: 20, dataVolumeKmsKey: "aws/ebs", etcdVersion: "v3.5.33", enableV2Api: true, bootstrap: "discovery",
                peerTls: false, clientTls: false, accessControl: false, peerCaGeneration: 0, peerCaRotation: "none", peerCaCertificate: "generated", foundingClusterSize: 3,
            });
        });

        it("gives each guard its own id", async () => {
            const [first, second] = await Promise.all([clusterGuardProvider.create(facts()), clusterGuardProvider.create(facts())]);
            expect(first.id).to.not.equal(second.id);
        });

        it("reports no change, and replaces nothing, when the facts stay", async () => {
            expect(await clusterGuardProvider.diff!("id", facts(), facts())).to.deep.equal({ changes: false, replaces: [] });
        });

        it("reports a larger root volume as an in-place change", async () => {
            expect(await clusterGuardProvider.diff!("id", facts({ rootVolumeSizeGiB: 20 }), facts({ rootVolumeSizeGiB: 40 })))
                .to.deep.equal({ changes: true, replaces: [] });
        });

        it("reports a larger data volume as an in-place change", async () => {
            expect(await clusterGuardProvider.diff!("id", facts({ dataVolumeSizeGiB: 20 }), facts({ dataVolumeSizeGiB: 40 })))
                .to.deep.equal({ changes: true, replaces: [] });
        });

        it("reports an etcd patch upgrade as an in-place change", async () => {
            expect(await clusterGuardProvider.diff!("id", facts({ etcdVersion: "v3.5.32" }), facts({ etcdVersion: "v3.5.33" })))
                .to.deep.equal({ changes: true, replaces: [] });
        });

        it("reports turning the v2 API off as an in-place change", async () => {
            expect(await clusterGuardProvider.diff!("id", facts({ enableV2Api: true }), facts({ enableV2Api: false })))
                .to.deep.equal({ changes: true, replaces: [] });
        });

        it("reports a fact missing from older state as a change that records it", async () => {
            const { etcdVersion: _version, enableV2Api: _flag, ...olderState } = facts();
            expect(await clusterGuardProvider.diff!("id", olderState, facts())).to.deep.equal({ changes: true, replaces: [] });
        });

        it("fails the diff with every refusal, one a line, in a plain Error", async () => {
            const olds = facts({ clusterSize: 3, rootVolumeSizeGiB: 30, dataVolumeSizeGiB: 40 });
            const news = facts({ clusterSize: 1, rootVolumeSizeGiB: 20, dataVolumeSizeGiB: 30 });
            const error = await rejectionOf(clusterGuardProvider.diff!("id", olds, news));
            expect([error.constructor, error.message])
                .to.deep.equal([Error, `${shrinkRefusal(30, 20)}\n${dataShrinkRefusal(40, 30)}`]);
        });

        it("fails the diff of a state made before member slots with the pre-slot refusal", async () => {
            const error = await rejectionOf(clusterGuardProvider.diff!("id", { clusterSize: 3, rootVolumeSizeGiB: 20 }, facts()));
            expect([error.constructor, error.message]).to.deep.equal([Error, preSlotRefusal]);
        });

        it("updates state to the new guarded facts only, keeping the founding size", async () => {
            expect(await clusterGuardProvider.update!("id", { ...facts({ clusterSize: 5 }), foundingClusterSize: 3 } as never,
                { ...facts({ clusterSize: 7, dataVolumeSizeGiB: 40, etcdVersion: "v3.5.34" }), extra: 1 } as never))
                .to.deep.equal({ outs: {
                    clusterSize: 7, rootVolumeSizeGiB: 20, dataVolumeSizeGiB: 40, dataVolumeKmsKey: "aws/ebs", etcdVersion: "v3.5.34", enableV2Api: true, bootstrap: "discovery",
                    peerTls: false, clientTls: false, accessControl: false, peerCaGeneration: 0, peerCaRotation: "none", peerCaCertificate: "generated", foundingClusterSize: 3,
                } });
        });

        it("takes the founding size from the size a state without one holds: an older version could not change it", async () => {
            expect((await clusterGuardProvider.update!("id", facts({ clusterSize: 3 }), facts({ clusterSize: 5 }))).outs)
                .to.deep.include({ clusterSize: 5, foundingClusterSize: 3 });
        });

        it("reports a larger cluster as an in-place change", async () => {
            expect(await clusterGuardProvider.diff!("id", facts({ clusterSize: 3 }), facts({ clusterSize: 5 }))).to.deep.equal({ changes: true, replaces: [] });
        });
    });

    it("registers as etcd3-cluster:ClusterGuard with the guarded facts alone as inputs", async () => {
        new ClusterGuard("guard-unit-1", { ...facts({ clusterSize: 5, rootVolumeSizeGiB: 30, enableV2Api: false }), extra: true } as never);
        await settle();
        const [resource] = registered.filter((r) => r.name === "guard-unit-1");
        const { __provider, ...inputs } = resource.inputs;
        expect({ type: resource.type, inputs, provider: typeof __provider }).to.deep.equal({
            type: "pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard",
            inputs: { clusterSize: 5, rootVolumeSizeGiB: 30, dataVolumeSizeGiB: 20, dataVolumeKmsKey: "aws/ebs", etcdVersion: "v3.5.33", enableV2Api: false, bootstrap: "discovery",
                peerTls: false, clientTls: false, accessControl: false, peerCaGeneration: 0, peerCaRotation: "none", peerCaCertificate: "generated" },
            provider: "string",
        });
    });
});
