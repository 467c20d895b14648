/**
 * What lib/cluster.ts itself decides while it wires the modules together: the
 * guard's inputs, the warnings (a cluster without redundancy, a certificate for no name), and alarms
 * only when asked for (Pulumi mocks).
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { calls, installMocks, playUserMocks, resourcesOf, settle, uniqueName } from "./support/pulumi-mocks";
import { warningsWhile } from "./support/warnings";

installMocks();
import { Etcd3Cluster, Etcd3ClusterArgs } from "../lib";
import { defaultEtcdVersion } from "../lib/etcd";
import { outputNames } from "../lib/outputs";

const GUARD = "pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

/** Builds a cluster and returns its name and the warnings Pulumi logged meanwhile. */
async function build(args: Etcd3ClusterArgs): Promise<{ name: string; warnings: string[] }> {
    const name = uniqueName();
    const warnings = await warningsWhile(async () => {
        new Etcd3Cluster(name, { discoveryLogFile: false, ...args });
        await settle();
    });
    return { name, warnings };
}

/** The guard's inputs, without the serialized provider every dynamic resource carries. */
function guardInputs(name: string): Record<string, unknown> {
    const [guard] = resourcesOf(name, GUARD);
    return Object.fromEntries(Object.entries(guard.inputs).filter(([key]) => key !== "__provider"));
}

describe("the component's own wiring (lib/cluster.ts, Pulumi mocks)", () => {
    it("gives the guard exactly what it guards, with AWS's own EBS key when no kmsKeyId is given", async () => {
        const { name } = await build({});
        expect(guardInputs(name)).to.deep.equal({
            clusterSize: 3, rootVolumeSizeGiB: 20, dataVolumeSizeGiB: 20, dataVolumeKmsKey: "aws/ebs",
            etcdVersion: defaultEtcdVersion, enableV2Api: true, bootstrap: "discovery", peerTls: false, clientTls: false, accessControl: false,
            peerCaGeneration: 0, peerCaRotation: "none", peerCaCertificate: "generated",
        });
    });

    it("gives the guard the data volume's own key when kmsKeyId is given", async () => {
        const kmsKeyId = "arn:aws:kms:eu-west-2:123456789012:key/0123abcd-4567-89ab-cdef-0123456789ab";
        const { name } = await build({ kmsKeyId, bootstrap: "static" });
        expect(guardInputs(name)).to.include({ dataVolumeKmsKey: kmsKeyId, bootstrap: "static" });
    });

    it("warns at every run once the peer CA has less than a year left, and says nothing of it before", async () => {
        const caEndingIn = (days: number) => async () => {
            playUserMocks({
                newResource: async ({ type, name, inputs }) => (type === "tls:index/selfSignedCert:SelfSignedCert"
                    ? { id: `${name}-id`, state: { ...inputs, validityEndTime: new Date(Date.now() + days * 86_400_000).toISOString() } } : undefined),
            });
            try {
                return (await build({ peerTls: true })).warnings.filter((warning) => warning.includes("peer CA"));
            } finally {
                playUserMocks(undefined);
            }
        };
        const [soon, later] = [await caEndingIn(100.5)(), await caEndingIn(400)()];
        expect(soon).to.have.length(1);
        expect(soon[0]).to.match(/^the cluster's peer CA expires on \S+, in 100 days, and the component does not renew it by itself; before then, rotate it to a new CA with peerCaRotation/);
        expect(later).to.deep.equal([]);
    });

    it("warns that a 1-member cluster has no redundancy, and says nothing of it for 3 members", async () => {
        const [single, three] = [await build({ clusterSize: 1 }), await build({ clusterSize: 3 })];
        expect(single.warnings.filter((w) => w.includes("redundancy"))).to.deep.equal([
            "a 1-member cluster has no redundancy: a change that replaces its instance (image, etcdVersion, instanceType, " +
            "any argument in the user data) stops the cluster until the new instance is up; its data is kept on the data volume",
        ]);
        expect(three.warnings.filter((w) => w.includes("redundancy"))).to.deep.equal([]);
    });

    it("warns that a certificate cannot cover the ALB's own name when certificateArn comes without dnsName, and only then", async () => {
        const certificateArn = "arn:aws:acm:eu-west-2:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab";
        const [bare, named, plain] = [
            await build({ certificateArn }),
            await build({ certificateArn, dnsName: "etcd.example.com", hostedZoneId: "Z0123456789" }),
            await build({}),
        ];
        expect(bare.warnings.filter((w) => w.includes("certificateArn"))).to.deep.equal([
            "certificateArn without dnsName: etcd3ClusterUrl names the ALB's own DNS name, which your certificate cannot cover, so TLS clients " +
            "will refuse it; give dnsName (and hostedZoneId), or point a name the certificate covers at loadBalancerDnsName",
        ]);
        expect([...named.warnings, ...plain.warnings].filter((w) => w.includes("certificateArn"))).to.deep.equal([]);
    });

    it("makes no alarm with alarms turned off, and the alarms without", async () => {
        const [off, on] = [await build({ alarms: false }), await build({})];
        expect(resourcesOf(off.name, ALARM)).to.deep.equal([]);
        expect(resourcesOf(on.name, ALARM)).to.not.deep.equal([]);
    });

    it("looks up its region through the component's own AWS provider", async () => {
        const name = uniqueName();
        const provider = new aws.Provider(`${name}-aws`, { region: "eu-west-2" });
        new Etcd3Cluster(name, { discoveryLogFile: false }, { providers: { aws: provider } });
        await settle();
        const lookups = calls.filter((call) => call.token === "aws:index/getRegion:getRegion" && call.provider?.includes(`${name}-aws`));
        expect(lookups.map((call) => call.inputs)).to.deep.equal([{}]);
    });

    it("registers every output under its name with the value the component exposes", async () => {
        const registrations: { resource: unknown; outputs: unknown }[] = [];
        const register = pulumi.ComponentResource.prototype["registerOutputs"];
        pulumi.ComponentResource.prototype["registerOutputs"] = function (this: pulumi.ComponentResource, outputs?: unknown) {
            registrations.push({ resource: this, outputs });
            return register.call(this, outputs as pulumi.Inputs);
        };
        let cluster: Etcd3Cluster;
        try {
            cluster = new Etcd3Cluster(uniqueName(), { discoveryLogFile: false });
        } finally {
            pulumi.ComponentResource.prototype["registerOutputs"] = register;
        }
        await settle();
        const own = registrations.filter((registration) => registration.resource === cluster);
        expect(own.map((registration) => registration.outputs)).to.deep.equal([
            Object.fromEntries(outputNames.map((output) => [output, cluster[output]])),
        ]);
    });
});
