/**
 * ClusterGuard as `pulumi preview`/`up` run it: serialized by the SDK, loaded
 * from its `__provider` input by Pulumi's own dynamic-provider host, called
 * over gRPC (see support/engine-provider.ts). Refusals are asserted whole, as
 * the engine would print them.
 */
import { expect } from "chai";
import { installMocks } from "./support/pulumi-mocks";

installMocks();
import { ClusterGuard, ClusterGuardFacts } from "../lib/guard";
import {
    accessControlRefusal, clientTlsRefusal, dataShrinkRefusal, downgradeRefusal, givenPeerCaRefusal, peerCaRefusal, peerCaWhy, peerTlsRefusal, preSlotRefusal,
    shrinkRefusal, v2OnRefusal,
} from "./support/guard-refusals";
import { dynamicResourceDeclarer, failureOf, Properties, useEngineProviderHost } from "./support/engine-provider";

/** Declares a ClusterGuard in the mocked program and returns it as the engine received it. */
const declare = dynamicResourceDeclarer("etcd3-cluster:ClusterGuard", "engine-guard", (name, facts: ClusterGuardFacts) => new ClusterGuard(name, facts));

const noChange = { changes: false, replaces: [], deleteBeforeReplace: false };
const inPlace = { changes: true, replaces: [], deleteBeforeReplace: false };

/** A running 3.5 cluster's facts, as the component resolves them by default, with `changes`. */
const facts = (changes: Partial<ClusterGuardFacts> = {}): ClusterGuardFacts => ({
    clusterSize: 3, rootVolumeSizeGiB: 30, dataVolumeSizeGiB: 20, dataVolumeKmsKey: "aws/ebs", etcdVersion: "v3.5.33", enableV2Api: true, bootstrap: "discovery", peerTls: false, clientTls: false, accessControl: false, peerCaGeneration: 0, peerCaRotation: "none", peerCaCertificate: "generated", ...changes,
});

describe("ClusterGuard as the engine runs it", function () {
    const engine = useEngineProviderHost();
    let created: { id: string; outs: Properties };
    before(async () => {
        created = await engine.host.create(await declare(facts()));
    });

    it("keeps the guarded facts in state", () => {
        expect(created.id).to.match(/^[0-9a-f-]{36}$/);
        expect(created.outs).to.have.all.keys("__provider", "clusterSize", "rootVolumeSizeGiB", "dataVolumeSizeGiB", "dataVolumeKmsKey", "etcdVersion", "enableV2Api", "bootstrap",
            "peerTls", "clientTls", "accessControl", "peerCaGeneration", "peerCaRotation", "peerCaCertificate", "foundingClusterSize");
        expect(created.outs).to.deep.include({ ...facts(), foundingClusterSize: 3 });
    });

    it("reports no change when the facts stay", async () => {
        expect(await engine.host.diff(await declare(facts()), created.id, created.outs)).to.deep.equal(noChange);
    });

    it("allows a larger cluster as an in-place update that records the new size and keeps the founding one", async () => {
        const resource = await declare(facts({ clusterSize: 5 }));
        expect(await engine.host.diff(resource, created.id, created.outs)).to.deep.equal(inPlace);
        const outs = await engine.host.update(resource, created.id, created.outs);
        expect(outs).to.deep.equal({ ...created.outs, clusterSize: 5, foundingClusterSize: 3 });
    });

    it("allows a smaller cluster as an in-place update that keeps the founding size", async () => {
        const grown = await engine.host.update(await declare(facts({ clusterSize: 5 })), created.id, created.outs);
        const resource = await declare(facts());
        expect(await engine.host.diff(resource, created.id, grown)).to.deep.equal(inPlace);
        expect(await engine.host.update(resource, created.id, grown)).to.deep.equal({ ...created.outs, clusterSize: 3, foundingClusterSize: 3 });
    });

    it("refuses smaller root volumes, naming the smallest size it accepts", async () => {
        const resource = await declare(facts({ rootVolumeSizeGiB: 20 }));
        expect(await failureOf(engine.host.diff(resource, created.id, created.outs))).to.equal(shrinkRefusal(30, 20));
    });

    it("refuses smaller data volumes, naming the smallest size it accepts", async () => {
        const resource = await declare(facts({ dataVolumeSizeGiB: 19 }));
        expect(await failureOf(engine.host.diff(resource, created.id, created.outs))).to.equal(dataShrinkRefusal(20, 19));
    });

    it("lists every refused change at once", async () => {
        const resource = await declare(facts({ clusterSize: 1, rootVolumeSizeGiB: 20, dataVolumeSizeGiB: 10 }));
        expect(await failureOf(engine.host.diff(resource, created.id, created.outs)))
            .to.equal(`${shrinkRefusal(30, 20)}\n${dataShrinkRefusal(20, 10)}`);
    });

    it("allows larger root volumes as an in-place update that records the new size", async () => {
        const resource = await declare(facts({ rootVolumeSizeGiB: 40 }));
        expect(await engine.host.diff(resource, created.id, created.outs)).to.deep.equal(inPlace);
        const outs = await engine.host.update(resource, created.id, created.outs);
        expect(outs).to.deep.equal({ ...created.outs, rootVolumeSizeGiB: 40 });
        // The next preview compares with the recorded size: back to 30 is now a shrink.
        const back = await declare(facts({ rootVolumeSizeGiB: 30 }));
        expect(await failureOf(engine.host.diff(back, created.id, outs))).to.equal(shrinkRefusal(40, 30));
    });

    it("allows larger data volumes as an in-place update that records the new size", async () => {
        const resource = await declare(facts({ dataVolumeSizeGiB: 50 }));
        expect(await engine.host.diff(resource, created.id, created.outs)).to.deep.equal(inPlace);
        const outs = await engine.host.update(resource, created.id, created.outs);
        expect(outs).to.deep.equal({ ...created.outs, dataVolumeSizeGiB: 50 });
        const back = await declare(facts());
        expect(await failureOf(engine.host.diff(back, created.id, outs))).to.equal(dataShrinkRefusal(50, 20));
    });

    it("allows an etcd patch upgrade as an in-place update that records the new version", async () => {
        const resource = await declare(facts({ etcdVersion: "v3.5.34" }));
        expect(await engine.host.diff(resource, created.id, created.outs)).to.deep.equal(inPlace);
        const outs = await engine.host.update(resource, created.id, created.outs);
        expect(outs).to.deep.equal({ ...created.outs, etcdVersion: "v3.5.34" });
        // The next preview compares with the recorded version: the same program is no change.
        expect(await engine.host.diff(await declare(facts({ etcdVersion: "v3.5.34" })), created.id, outs)).to.deep.equal(noChange);
    });

    it("refuses 3.5 → 3.6 while the state says the v2 API is on, naming enableV2Api", async () => {
        const resource = await declare(facts({ etcdVersion: "v3.6.14", enableV2Api: false }));
        expect(await failureOf(engine.host.diff(resource, created.id, created.outs))).to.equal(v2OnRefusal);
    });

    it("allows 3.5 → 3.6 once an update has recorded the v2 API off", async () => {
        const v2Off = await declare(facts({ enableV2Api: false }));
        expect(await engine.host.diff(v2Off, created.id, created.outs)).to.deep.equal(inPlace);
        const outs = await engine.host.update(v2Off, created.id, created.outs);
        const on36 = await declare(facts({ etcdVersion: "v3.6.14", enableV2Api: false }));
        expect(await engine.host.diff(on36, created.id, outs)).to.deep.equal(inPlace);
    });

    it("refuses a 3.6 cluster's downgrade to 3.5", async () => {
        const on36 = await engine.host.create(await declare(facts({ etcdVersion: "v3.6.14", enableV2Api: false })));
        const resource = await declare(facts({ etcdVersion: "v3.5.33", enableV2Api: false }));
        expect(await failureOf(engine.host.diff(resource, on36.id, on36.outs))).to.equal(downgradeRefusal);
    });

    it("refuses a state made before member slots, whatever the program says", async () => {
        const { dataVolumeSizeGiB: _data, etcdVersion: _version, enableV2Api: _flag, bootstrap: _bootstrap, ...preSlotState } = created.outs;
        const resource = await declare(facts());
        expect(await failureOf(engine.host.diff(resource, created.id, preSlotState))).to.equal(preSlotRefusal);
    });

    it("records facts that older state lacks without refusing anything", async () => {
        const { etcdVersion: _version, enableV2Api: _flag, bootstrap: _bootstrap, ...olderState } = created.outs;
        const resource = await declare(facts({ etcdVersion: "v3.6.14", enableV2Api: false }));
        expect(await engine.host.diff(resource, created.id, olderState)).to.deep.equal(inPlace);
        expect(await engine.host.update(resource, created.id, olderState)).to.deep.equal({ ...created.outs, etcdVersion: "v3.6.14", enableV2Api: false });
    });

    it("takes a state from before peer TLS existed as plain HTTP between the members: refuses turning it on", async () => {
        const { peerTls: _absent, ...olderState } = created.outs;
        const resource = await declare(facts({ peerTls: true }));
        expect(await failureOf(engine.host.diff(resource, created.id, olderState))).to.equal(peerTlsRefusal(false, true));
    });

    it("takes a state from before client TLS existed as plain HTTP to the members: refuses turning it on", async () => {
        const { clientTls: _absent, ...olderState } = created.outs;
        const resource = await declare(facts({ clientTls: true }));
        expect(await failureOf(engine.host.diff(resource, created.id, olderState))).to.equal(clientTlsRefusal(false, true));
    });

    it("moves the peer CA a step at a time as in-place updates that record the step, and refuses a step skipped", async () => {
        const tls = { peerTls: true };
        const withTls = await engine.host.update(await declare(facts(tls)), created.id, created.outs);
        const trusting = await declare(facts({ ...tls, peerCaRotation: "trust-next" }));
        expect(await engine.host.diff(trusting, created.id, withTls)).to.deep.equal(inPlace);
        const trusted = await engine.host.update(trusting, created.id, withTls);
        expect(trusted).to.deep.equal({ ...withTls, peerCaRotation: "trust-next" });
        const finished = await declare(facts({ ...tls, peerCaGeneration: 1 }));
        expect(await failureOf(engine.host.diff(finished, created.id, trusted)))
            .to.equal(peerCaRefusal([0, "trust-next"], [1, "none"], peerCaWhy.skipped, [0, "sign-with-next"], [0, "none"]));
    });

    it("takes a state from before a CA could be given as the component's own: refuses giving one on the running cluster", async () => {
        const { peerCaCertificate: _absent, ...olderState } = await engine.host.update(await declare(facts({ peerTls: true })), created.id, created.outs);
        const resource = await declare(facts({ peerTls: true, peerCaCertificate: 'subject "CN=kv", public key SHA-256 0A:1B' }));
        expect(await failureOf(engine.host.diff(resource, created.id, olderState)))
            .to.equal(givenPeerCaRefusal("the component's own", 'the one given (subject "CN=kv", public key SHA-256 0A:1B)', true));
    });

    it("takes a state from before access control existed as without it: refuses adding rootPassword", async () => {
        const { accessControl: _absent, ...olderState } = created.outs;
        const resource = await declare(facts({ accessControl: true }));
        expect(await failureOf(engine.host.diff(resource, created.id, olderState))).to.equal(accessControlRefusal(false));
    });

    it("takes a state from before peer TLS existed as plain HTTP between the members: lets it stay off, recording it", async () => {
        const { peerTls: _absent, ...olderState } = created.outs;
        const resource = await declare(facts());
        expect(await engine.host.diff(resource, created.id, olderState)).to.deep.equal(inPlace);
        expect(await engine.host.update(resource, created.id, olderState)).to.deep.equal(created.outs);
    });
});
