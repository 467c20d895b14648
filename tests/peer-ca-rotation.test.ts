/**
 * The peer CA's rotation in the resource graph (lib/tls.ts, lib/args.ts,
 * lib/member-certificate.ts, Pulumi mocks): at each step, which CAs exist,
 * what the members trust and sign with in the secrets bucket, what
 * `caCertificate` gives clients, the settings line that rolls the members,
 * and what the guard is told. The members' side runs for real in
 * tests/local-peer-ca-rotation.test.ts.
 */
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { expect } from "chai";
import { installMocks, resourcesOf, uniqueName, valueOf } from "./support/pulumi-mocks";

installMocks();
import { Etcd3Cluster, Etcd3ClusterArgs, Etcd3ClusterArgumentError } from "../lib";
import { memberCertificateSettingsPath } from "../lib/member-certificate";
import { buildWithSecrets as build, fileIn, INSTANCE, inputsOf, peerCaPems, secretsBucket } from "./support/secrets-graph";

const GUARD = "pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard";
const secret = (value: string) => ({ [specialSigKey]: specialSecretSig, value });

/** What a step leaves in the graph, read whole: the CAs by name and subject, the two objects' contents, the output, each member's settings. */
async function stepOf(args: Etcd3ClusterArgs) {
    const { name, cluster } = await build({ peerTls: true, clusterSize: 3, ...args });
    const objects = Object.fromEntries(inputsOf(name, "aws:s3/bucketObjectv2:BucketObjectv2").map((object) => [object.inputs.key, object.inputs.content]));
    return {
        name,
        keys: inputsOf(name, "tls:index/privateKey:PrivateKey").map((key) => key.name),
        certificates: inputsOf(name, "tls:index/selfSignedCert:SelfSignedCert").map((certificate) => [certificate.name, certificate.inputs.subject.commonName]),
        trusted: objects["tls/peer-ca.crt"],
        signingKey: objects["tls/peer-ca.key"],
        caCertificate: await valueOf(cluster.caCertificate),
        settings: resourcesOf(name, INSTANCE).map((instance) => fileIn(instance.inputs.userData, memberCertificateSettingsPath)),
        guard: (({ peerCaGeneration, peerCaRotation }) => ({ peerCaGeneration, peerCaRotation }))(resourcesOf(name, GUARD)[0].inputs),
    };
}

/** A member's certificate settings, whole, with the lines a step adds. */
const settingsWith = (name: string, member: number, lines: string[]) => [
    `MEMBER_NAME=etcd3-cluster-${member}`, `TLS_BUCKET=${secretsBucket(name)}`, "TLS_REGION=eu-west-2", "CERTIFICATE_DAYS=90", "RENEWAL_DAYS=30",
    "CERTIFICATE_DNS_NAMES=", ...lines, "",
].join("\n");
const [ca1, ca2] = [1, 2].map(peerCaPems);

describe("the peer CA's rotation in the resource graph (lib/tls.ts, Pulumi mocks)", () => {
    /**
     * What a step leaves, whole: the CAs of `made` generations (resource names and subjects), the bucket trusting
     * `trusted` in that order and signing with the first, clients given the same bundle, every member's settings
     * with `lines`, and the guard told the step.
     */
    const expected = (name: string, made: number[], trusted: number[], lines: string[], guard: object) => {
        const caName = (generation: number) => (generation === 0 ? `${name}-peer-ca` : `${name}-peer-ca-${generation}`);
        const bundle = trusted.map((generation) => peerCaPems(generation).certificate).join("");
        return {
            name,
            keys: made.map(caName),
            certificates: made.map((generation) => [caName(generation), `${name} etcd peer CA${generation === 0 ? "" : ` ${generation}`}`]),
            trusted: bundle,
            signingKey: secret(peerCaPems(trusted[0]).key),
            caCertificate: bundle,
            settings: [0, 1, 2].map((member) => settingsWith(name, member, lines)),
            guard,
        };
    };
    const steps: Array<[string, Etcd3ClusterArgs, number[], number[], string[], object]> = [
        ["keeps one CA, generation 0's, trusted and signing, and adds no settings line, without a rotation",
            {}, [0], [0], [], { peerCaGeneration: 0, peerCaRotation: "none" }],
        ["\"trust-next\": creates generation 1's CA, has the members trust both and still sign with generation 0's, and gives clients both",
            { peerCaRotation: "trust-next" }, [0, 1], [0, 1], ["PEER_CA_ROTATION=trust-next"], { peerCaGeneration: 0, peerCaRotation: "trust-next" }],
        ["\"sign-with-next\": has the members sign with generation 1's CA, first in what they trust, still trusting generation 0's",
            { peerCaRotation: "sign-with-next" }, [0, 1], [1, 0], ["PEER_CA_ROTATION=sign-with-next"], { peerCaGeneration: 0, peerCaRotation: "sign-with-next" }],
        ["generation 1: keeps only its CA, under the name the rotation created it with, so that finishing deletes generation 0's alone",
            { peerCaGeneration: 1 }, [1], [1], ["PEER_CA_GENERATION=1"], { peerCaGeneration: 1, peerCaRotation: "none" }],
    ];
    for (const [title, args, made, trusted, lines, guard] of steps) {
        it(title, async () => {
            const step = await stepOf(args);
            expect(step).to.deep.equal(expected(step.name, made, trusted, lines, guard));
        });
    }

    it("a second rotation trusts generations 1 and 2, and names both in the settings", async () => {
        const step = await stepOf({ peerCaGeneration: 1, peerCaRotation: "trust-next" });
        expect([step.keys, step.trusted, step.signingKey, step.settings[0]]).to.deep.equal([
            [`${step.name}-peer-ca-1`, `${step.name}-peer-ca-2`], ca1.certificate + ca2.certificate, secret(ca1.key),
            settingsWith(step.name, 0, ["PEER_CA_GENERATION=1", "PEER_CA_ROTATION=trust-next"]),
        ]);
    });

    describe("refuses, naming the argument and what it takes, before creating anything", () => {
        const refuse = (args: Etcd3ClusterArgs, message: string) => {
            const name = uniqueName();
            expect(() => new Etcd3Cluster(name, { discoveryLogFile: false, ...args })).to.throw(Etcd3ClusterArgumentError, message);
            expect(resourcesOf(name, INSTANCE)).to.deep.equal([]);
        };

        it("a rotation step it does not know", () => {
            refuse({ peerTls: true, peerCaRotation: "sign" as never }, "peerCaRotation \"sign\": use \"trust-next\" or \"sign-with-next\", or leave it out");
        });

        it("a generation that is not a whole number from 0", () => {
            refuse({ peerTls: true, peerCaGeneration: -1 }, "peerCaGeneration -1: use a whole number from 0");
            refuse({ peerTls: true, peerCaGeneration: 1.5 }, "peerCaGeneration 1.5: use a whole number from 0");
        });

        it("either without peerTls, whose CA they are", () => {
            refuse({ peerCaRotation: "trust-next" }, "peerCaRotation: the peer CA is peerTls's, and peerTls is off; leave it out, or turn peerTls on");
            refuse({ peerCaGeneration: 1 }, "peerCaGeneration: the peer CA is peerTls's, and peerTls is off; leave it out, or turn peerTls on");
        });

        it("but not generation 0 without peerTls: the default, which Pulumi.yaml hands every stack", () => {
            expect(() => new Etcd3Cluster(uniqueName(), { discoveryLogFile: false, peerCaGeneration: 0 })).to.not.throw();
        });

    });
});
