/**
 * Peer and client TLS in the resource graph (lib/tls.ts, lib/backup.ts,
 * lib/loadbalancer.ts, Pulumi mocks): the peer CA, the secrets bucket and its
 * KMS key read whole, the members' least-privilege policy, what each member is
 * told, no key material in any member's user data, and with client TLS the
 * target groups and the CA as an output.
 */
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { expect } from "chai";
import { installMocks, resourcesOf, uniqueName, valueOf } from "./support/pulumi-mocks";

installMocks();
import { Etcd3Cluster, Etcd3ClusterArgumentError } from "../lib";
import { bootstrapSettingsPath } from "../lib/bootstrap";
import { memberCertificateSettingsPath } from "../lib/member-certificate";
import { caExpiryWarning } from "../lib/tls";
import {
    buildWithSecrets as build, caCertificatePem, caPrivateKeyPem, everythingIn, fileIn, INSTANCE, inputsOf, keyArn, ROLE_POLICY, secretsBucket, unitIn,
} from "./support/secrets-graph";

describe("peer TLS in the resource graph (lib/tls.ts, Pulumi mocks)", () => {
    describe("with peerTls", () => {
        let built: Awaited<ReturnType<typeof build>>;
        before(async () => {
            built = await build({ peerTls: true, bootstrap: "static", tags: { team: "db" } });
        });

        it("creates the peer CA: an ECDSA P-256 key and a self-signed CA certificate for signing, valid 10 years, its key passed as a secret", () => {
            const { name } = built;
            expect(inputsOf(name, "tls:index/privateKey:PrivateKey")).to.deep.equal([
                { name: `${name}-peer-ca`, inputs: { algorithm: "ECDSA", ecdsaCurve: "P256" } },
            ]);
            expect(inputsOf(name, "tls:index/selfSignedCert:SelfSignedCert")).to.deep.equal([{
                name: `${name}-peer-ca`,
                inputs: {
                    // A secret in the stack's state, as the TLS provider's SDK marks it.
                    privateKeyPem: { [specialSigKey]: specialSecretSig, value: caPrivateKeyPem },
                    subject: { commonName: `${name} etcd peer CA`, organization: "etcd3-cluster" },
                    validityPeriodHours: 87600,
                    isCaCertificate: true,
                    allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
                },
            }]);
        });

        it("keeps the CA in a bucket of its own: encrypted by default with a rotated KMS key, closed to the public, TLS only", () => {
            const { name } = built;
            const tags = { team: "db", ecosystem: "etcd3-cluster", Name: `${name}-secrets` };
            const bucketId = `${name}-secrets-id`;
            const bucketArn = `arn:aws:s3:::${secretsBucket(name)}`;
            expect(inputsOf(name, "aws:kms/key:Key")).to.deep.equal([{
                name: `${name}-secrets`,
                inputs: { description: `${name}: encrypts the etcd members' secrets in S3`, enableKeyRotation: true, tags },
            }]);
            expect(inputsOf(name, "aws:s3/bucket:Bucket")).to.deep.equal([
                { name: `${name}-secrets`, inputs: { bucketPrefix: `${name}-secrets-`, forceDestroy: true, tags } },
            ]);
            expect(inputsOf(name, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")).to.deep.equal([{
                name: `${name}-secrets-public-access`,
                inputs: { bucket: bucketId, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            }]);
            expect(inputsOf(name, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")).to.deep.equal([{
                name: `${name}-secrets-encryption`,
                inputs: { bucket: bucketId, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn(name) }, bucketKeyEnabled: true }] },
            }]);
            const [policy] = inputsOf(name, "aws:s3/bucketPolicy:BucketPolicy");
            expect(policy.name).to.equal(`${name}-secrets-tls-only`);
            expect(JSON.parse(policy.inputs.policy)).to.deep.equal({
                Version: "2012-10-17",
                Statement: [{
                    Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucketArn, `${bucketArn}/*`],
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                }],
            });
        });

        it("stores the CA's certificate and key under tls/, each encrypted with the cluster's key, the key as a secret, neither tagged", () => {
            const { name } = built;
            const object = (objectName: string, key: string, content: unknown) => ({
                name: objectName,
                inputs: {
                    bucket: `${name}-secrets-id`, key, content, contentType: "application/x-pem-file", serverSideEncryption: "aws:kms",
                    kmsKeyId: keyArn(name), bucketKeyEnabled: true,
                },
            });
            // Registered as their contents resolve: in either order.
            expect(inputsOf(name, "aws:s3/bucketObjectv2:BucketObjectv2").sort((a, b) => a.name.localeCompare(b.name))).to.deep.equal([
                object(`${name}-peer-ca-certificate`, "tls/peer-ca.crt", caCertificatePem),
                object(`${name}-peer-ca-key`, "tls/peer-ca.key", { [specialSigKey]: specialSecretSig, value: caPrivateKeyPem }),
            ]);
        });

        it("makes the CA, the bucket, its settings, the key and the objects children of the component, the CA and the objects after the guard", () => {
            const { name, everyChild } = built;
            // The SDK's own options aside: `aliases` (the S3 types' former V2 tokens), and the secret outputs it names for the certificate.
            const made = everyChild.filter((child) => /^(tls:|aws:kms\/|aws:s3\/)/.test(child.type))
                .map(({ name: child, type, options: { aliases: _aliases, additionalSecretOutputs: _secrets, ...options } }) => [child, type, options])
                .sort(([a, typeA], [b, typeB]) => `${a} ${typeA}`.localeCompare(`${b} ${typeB}`));
            const child = { parent: name };
            // What the members read changes only after the guard: a change it refuses stops before them.
            const guarded = { parent: name, dependsOn: [`${name}-guard`] };
            expect(made).to.deep.equal([
                [`${name}-peer-ca`, "tls:index/privateKey:PrivateKey", guarded],
                [`${name}-peer-ca`, "tls:index/selfSignedCert:SelfSignedCert", guarded],
                [`${name}-peer-ca-certificate`, "aws:s3/bucketObjectv2:BucketObjectv2", guarded],
                [`${name}-peer-ca-key`, "aws:s3/bucketObjectv2:BucketObjectv2", guarded],
                [`${name}-secrets`, "aws:kms/key:Key", child],
                [`${name}-secrets`, "aws:s3/bucket:Bucket", child],
                [`${name}-secrets-encryption`, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", child],
                [`${name}-secrets-public-access`, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", child],
                [`${name}-secrets-tls-only`, "aws:s3/bucketPolicy:BucketPolicy", child],
            ]);
        });

        it("lets the members read tls/ and decrypt it only through S3 in the bucket's region, and nothing else", () => {
            const { name } = built;
            const [policy] = inputsOf(name, ROLE_POLICY);
            expect(JSON.parse(policy.inputs.policy)).to.deep.equal({
                Version: "2012-10-17",
                Statement: [
                    { Sid: "GetSecrets", Effect: "Allow", Action: "s3:GetObject", Resource: [`arn:aws:s3:::${secretsBucket(name)}/tls/*`] },
                    {
                        Sid: "DecryptSecrets", Effect: "Allow", Action: "kms:Decrypt", Resource: keyArn(name),
                        Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-2.amazonaws.com" } },
                    },
                ],
            });
            expect(inputsOf(name, "aws:iam/role:Role")[0].inputs.description).to.equal(`etcd members of ${name}: read their secrets under tls/`);
        });

        it("creates every member after its role's policy and the CA's objects, which its first boot reads", () => {
            const { name, children } = built;
            for (const index of [0, 1, 2]) {
                expect(children.get(`${name}-${index}`)!.options.dependsOn, `member ${index}`)
                    .to.include.members([`${name}-member-s3`, `${name}-peer-ca-certificate`, `${name}-peer-ca-key`]);
            }
        });

        it("tells each member the secrets bucket and its region, and names https:// peer URLs", async () => {
            const { name, cluster } = built;
            for (const instance of resourcesOf(name, INSTANCE)) {
                const settings = fileIn(instance.inputs.userData, memberCertificateSettingsPath);
                expect(settings).to.contain(`TLS_BUCKET=${secretsBucket(name)}\nTLS_REGION=eu-west-2\n`);
            }
            const peerUrls = await valueOf(cluster.peerUrls);
            expect(peerUrls).to.have.length(3);
            peerUrls.forEach((url) => expect(url).to.match(/^https:\/\/[\d.]+:2380$/));
        });

        it("puts no key material in any member's user data: not the CA's key, not its certificate", () => {
            const { name } = built;
            const instances = resourcesOf(name, INSTANCE);
            expect(instances).to.have.length(3);
            for (const instance of instances) {
                const everything = everythingIn(instance.inputs.userData);
                expect(everything).to.contain("etcd-member-certificate");
                expect(everything).to.not.contain("THE-CA-PRIVATE-KEY").and.to.not.contain("THE-CA-CERTIFICATE").and.to.not.contain("PRIVATE KEY-----");
            }
        });
    });

    describe("with clientTls (and the gRPC NLB)", () => {
        const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
        /** etcd's /health as the target groups check it, over TLS. */
        const httpsHealthCheck = {
            enabled: true, protocol: "HTTPS", port: "traffic-port", path: "/health?exclude=NOSPACE", matcher: "200",
            interval: 5, timeout: 3, healthyThreshold: 2, unhealthyThreshold: 2,
        };
        let built: Awaited<ReturnType<typeof build>>;
        before(async () => {
            built = await build({ peerTls: true, clientTls: true, grpcLoadBalancer: true });
        });
        const targetGroup = (kind: string) => resourcesOf(built.name, TARGET_GROUP).find((group) => group.name === `${built.name}-${kind}-tg`)!.inputs;

        it("gives the ALB's target group HTTPS 2379 and an HTTPS health check", () => {
            expect(targetGroup("alb")).to.deep.equal({
                vpcId: `vpc-${built.name}-vpc`, targetType: "instance", protocol: "HTTPS", port: 2379, deregistrationDelay: 10,
                healthCheck: httpsHealthCheck, tags: { ecosystem: "etcd3-cluster", Name: "etcd3-cluster-alb-tg" },
            });
        });

        it("keeps the NLB's target group TCP 2379, passing TLS through, with an HTTPS health check", () => {
            expect(targetGroup("nlb")).to.deep.equal({
                vpcId: `vpc-${built.name}-vpc`, targetType: "instance", protocol: "TCP", port: 2379, deregistrationDelay: 10,
                preserveClientIp: "false", healthCheck: httpsHealthCheck, tags: { ecosystem: "etcd3-cluster", Name: "etcd3-cluster-nlb-tg" },
            });
        });

        it("names https:// client endpoints and gives the CA's certificate as caCertificate", async () => {
            const endpoints = await valueOf(built.cluster.clientEndpoints);
            expect(endpoints).to.have.length(3);
            endpoints.forEach((url) => expect(url).to.match(/^https:\/\/[\d.]+:2379$/));
            expect(await valueOf(built.cluster.caCertificate)).to.equal(caCertificatePem);
        });

        it("has each member serve and ask the client port over TLS, its certificate naming the NLB's DNS name", async () => {
            const nlbDnsName = await valueOf(built.cluster.grpcEndpoint).then((endpoint) => endpoint!.replace(/:2379$/, ""));
            for (const instance of resourcesOf(built.name, INSTANCE)) {
                const userData = instance.inputs.userData;
                expect(fileIn(userData, memberCertificateSettingsPath)).to.contain(`\nCERTIFICATE_DNS_NAMES=${nlbDnsName}\n`);
                expect(unitIn(userData, "etcd-member.service")).to.contain("--listen-client-urls=https://0.0.0.0:2379").and.contain("--advertise-client-urls=https://${");
                expect(fileIn(userData, bootstrapSettingsPath)).to.contain("\nCLIENT_URL_SCHEME=https\n");
            }
        });

        it("refuses clientTls without peerTls, naming both, before creating anything", () => {
            const name = uniqueName();
            expect(() => new Etcd3Cluster(name, { discoveryLogFile: false, clientTls: true })).to.throw(Etcd3ClusterArgumentError,
                "clientTls: the members serve their client port with the certificates peerTls issues them; turn peerTls on too, or leave clientTls out");
            expect(resourcesOf(name, INSTANCE)).to.deep.equal([]);
        });
    });

    it("names no DNS name in the members' certificates with clientTls and no gRPC NLB", async () => {
        const { name } = await build({ peerTls: true, clientTls: true });
        expect(resourcesOf(name, "aws:lb/targetGroup:TargetGroup").map((group) => [group.inputs.protocol, group.inputs.healthCheck.protocol]))
            .to.deep.equal([["HTTPS", "HTTPS"]]);
        for (const instance of resourcesOf(name, INSTANCE)) {
            expect(fileIn(instance.inputs.userData, memberCertificateSettingsPath)).to.contain("\nCERTIFICATE_DNS_NAMES=\n");
        }
    });

    it("gives the CA's certificate as caCertificate with peerTls alone, and keeps the members' client port plain HTTP", async () => {
        const { name, cluster } = await build({ peerTls: true });
        expect(await valueOf(cluster.caCertificate)).to.equal(caCertificatePem);
        expect((await valueOf(cluster.clientEndpoints)).every((url) => url.startsWith("http://"))).to.equal(true);
        expect(resourcesOf(name, "aws:lb/targetGroup:TargetGroup").map((group) => [group.inputs.protocol, group.inputs.healthCheck.protocol]))
            .to.deep.equal([["HTTP", "HTTP"]]);
        for (const instance of resourcesOf(name, INSTANCE)) {
            expect(fileIn(instance.inputs.userData, memberCertificateSettingsPath)).to.contain("\nCERTIFICATE_DNS_NAMES=\n");
        }
    });

    it("creates no CA, secrets bucket, key or role without peerTls, and keeps http:// peer URLs", async () => {
        const { name, cluster } = await build({});
        for (const type of ["tls:index/privateKey:PrivateKey", "aws:kms/key:Key", "aws:s3/bucket:Bucket", "aws:s3/bucketObjectv2:BucketObjectv2", ROLE_POLICY]) {
            expect(resourcesOf(name, type), type).to.deep.equal([]);
        }
        expect((await valueOf(cluster.peerUrls)).every((url) => url.startsWith("http://"))).to.equal(true);
        expect(await valueOf(cluster.caCertificate)).to.equal(undefined);
    });

    it("gives the members one role for backups and peer TLS: both sets of statements in its one policy", async () => {
        const { name } = await build({ peerTls: true, backups: true });
        const [policy] = inputsOf(name, ROLE_POLICY);
        expect(JSON.parse(policy.inputs.policy).Statement.map((statement: { Sid: string }) => statement.Sid))
            .to.deep.equal(["PutSnapshots", "ListSnapshots", "GetSecrets", "DecryptSecrets"]);
    });
});

describe("the peer CA's expiry (lib/tls.ts)", () => {
    const end = "2036-11-26T12:00:00Z";
    const daysBefore = (days: number) => Date.parse(end) - days * 86_400_000;

    it("warns from a year before the CA expires, naming the date, the days left and what to do", () => {
        expect(caExpiryWarning(end, daysBefore(364.5))).to.equal("the cluster's peer CA expires on 2036-11-26T12:00:00Z, in 364 days, and the " +
            "component does not renew it by itself; before then, rotate it to a new CA with peerCaRotation (the README's \"Rotating the peer CA\")");
        expect(caExpiryWarning(end, daysBefore(0.5))).to.contain("in 0 days");
    });

    it("says nothing while a year or more is left", () => {
        expect(caExpiryWarning(end, daysBefore(365))).to.equal(undefined);
        expect(caExpiryWarning(end, daysBefore(3650))).to.equal(undefined);
    });

    it("says the CA has expired, from the moment it has", () => {
        const expired = "the cluster's peer CA expired on 2036-11-26T12:00:00Z: the members refuse each other's certificates from now on, " +
            "too late to rotate it; build a new cluster and move the data to it (backups and restoreFrom)";
        expect(caExpiryWarning(end, Date.parse(end))).to.equal(expired);
        expect(caExpiryWarning(end, daysBefore(-30))).to.equal(expired);
    });

    it("says nothing when the end is not known (a preview before the CA exists) or cannot be read", () => {
        expect(caExpiryWarning(undefined, daysBefore(10))).to.equal(undefined);
        expect(caExpiryWarning("", daysBefore(10))).to.equal(undefined);
        expect(caExpiryWarning("not a date", daysBefore(10))).to.equal(undefined);
    });
});
