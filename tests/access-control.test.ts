/**
 * etcd's access control (`rootPassword`): the part a member's user data gets
 * (lib/access-control.ts, lib/ignition.ts), the password's checks, and under
 * Pulumi mocks the secrets in the bucket, the members' policy, the guard's
 * fact and no secret anywhere but in the password's own object. The script
 * runs for real in tests/local-access-control.test.ts; its text is in
 * tests/golden.
 */
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { expect } from "chai";
import { installMocks, registered, resourcesOf, uniqueName } from "./support/pulumi-mocks";

installMocks();
import { Etcd3Cluster, Etcd3ClusterArgs, Etcd3ClusterArgumentError } from "../lib";
import {
    AccessControlContext, accessControlPart, accessControlScript, accessControlSettingsPath, accessControlUnitName, rootPasswordProblem,
} from "../lib/access-control";
import { bootstrapSettingsPath } from "../lib/bootstrap";
import { buildIgnitionConfig, EtcdNodeIgnitionOptions } from "../lib/ignition";
import { snapshotSettingsPath } from "../lib/snapshots";
import { checkedSecret } from "../lib/tls";
import {
    buildWithSecrets, caPrivateKeyPem, everythingIn, fileIn, INSTANCE, inputsOf, keyArn, ROLE_POLICY, secretsBucket, tokenSigningKeyPem, tokenSigningKeyPemOf,
    unitIn,
} from "./support/secrets-graph";

const rootPassword = "correct horse battery staple";
const etcdctlRun = "/usr/bin/podman run --rm --net=host --pull=missing --env ETCDCTL_USER --env ETCDCTL_PASSWORD " +
    "--volume /run/etcd3-cluster/tls:/run/etcd3-cluster/tls:z gcr.io/etcd-development/etcd:v3.5.33 /usr/local/bin/etcdctl --cacert=/run/etcd3-cluster/tls/peer-ca.crt";

describe("etcd's access control on a member (lib/access-control.ts)", () => {
    const context: AccessControlContext = {
        memberName: "kv-1", bucket: "kv-secrets-1", region: "eu-west-2", metadataEnvironmentFile: "/run/metadata/afterburn",
        clientUrl: "https://${AFTERBURN_AWS_IPV4_LOCAL}:2379", etcdctl: etcdctlRun, curlOptions: "--cacert /run/etcd3-cluster/tls/peer-ca.crt",
        tokenSigningKeyGeneration: 0,
    };
    const part = accessControlPart(context);
    const settingsWith = (lines: string[]) => [
        "SECRETS_BUCKET=kv-secrets-1", "SECRETS_REGION=eu-west-2", `ACCESS_CONTROL_ETCDCTL=${etcdctlRun}`,
        "CLIENT_CURL_OPTIONS=--cacert /run/etcd3-cluster/tls/peer-ca.crt", ...lines, "",
    ].join("\n");

    it("fetches the token key before etcd starts, gives etcd JWTs signed with it, and mounts its memory-backed directory", () => {
        expect(part.etcdServiceLines).to.deep.equal(["EnvironmentFile=/etc/etcd3-cluster/access-control.env"]);
        expect(part.etcdStartPre).to.deep.equal(["/bin/bash /opt/etcd3-cluster/etcd-member-access-control token-key"]);
        expect(part.etcdFlags).to.deep.equal([
            "--auth-token=jwt,pub-key=/run/etcd3-cluster/auth/token.pub,priv-key=/run/etcd3-cluster/auth/token.key,sign-method=ES256,ttl=5m",
        ]);
        expect(part.etcdVolumes).to.deep.equal(["/run/etcd3-cluster/auth"]);
    });

    it("runs every etcdctl of the members through as-root, with the bucket on its command line", () => {
        expect(part.etcdctlPrefix).to.equal("/usr/bin/env SECRETS_BUCKET=kv-secrets-1 SECRETS_REGION=eu-west-2 /bin/bash /opt/etcd3-cluster/etcd-member-access-control as-root ");
    });

    it("writes the script and its settings: the bucket, its region, etcdctl and curl's options for the member", () => {
        expect(part.files).to.deep.equal([
            { path: "/opt/etcd3-cluster/etcd-member-access-control", mode: 0o755, contents: accessControlScript },
            {
                path: accessControlSettingsPath,
                mode: 0o644,
                contents: settingsWith([]),
            },
        ]);
    });

    it("names the token signing key's generation in the settings once rotated, so that a new key rolls the members", () => {
        const rotated = accessControlPart({ ...context, tokenSigningKeyGeneration: 2 });
        expect(rotated.files.map((file) => file.contents)).to.deep.equal([accessControlScript, settingsWith(["TOKEN_SIGNING_KEY_GENERATION=2"])]);
    });

    it("turns access control on from an enabled oneshot after etcd and its promotion, retried while the cluster does not answer", () => {
        expect(part.units).to.deep.equal([{
            name: accessControlUnitName,
            enabled: true,
            contents: [
                "[Unit]",
                "Description=Turn on etcd's access control (the user root, its password from the secrets bucket) once member kv-1's cluster answers",
                "Wants=etcd-member.service",
                "After=etcd-member.service etcd-member-promote.service",
                "",
                "[Service]",
                "Type=oneshot",
                "RemainAfterExit=yes",
                "EnvironmentFile=/run/metadata/afterburn",
                "EnvironmentFile=/etc/etcd3-cluster/access-control.env",
                "ExecStart=/bin/bash /opt/etcd3-cluster/etcd-member-access-control turn-on https://${AFTERBURN_AWS_IPV4_LOCAL}:2379",
                "Restart=on-failure",
                "RestartSec=30s",
                "",
                "[Install]",
                "WantedBy=multi-user.target",
                "",
            ].join("\n"),
        }]);
    });

    describe("root's password", () => {
        it("takes 12 printable characters or more, any of them", () => {
            expect(rootPasswordProblem(String.raw`abc"def\g$h'`)).to.equal(undefined);
            expect(rootPasswordProblem("pässwörd-ünïcode")).to.equal(undefined);
        });

        it("refuses fewer than 12 characters, counting characters rather than bytes, and says how to make a good one", () => {
            expect(rootPasswordProblem("ü".repeat(11))).to.equal("rootPassword: use at least 12 characters (it has 11), " +
                "e.g. `pulumi config set --secret rootPassword \"$(openssl rand -base64 24)\"`");
        });

        it("refuses line breaks, tabs and other control characters, never showing the password", () => {
            for (const password of ["twelve chars\nmore", "twelve\tcharacters", "twelve characters\u007f", "\r twelve characters"]) {
                expect(rootPasswordProblem(password), JSON.stringify(password))
                    .to.equal("rootPassword: use printable characters only (no line breaks, tabs or other control characters)");
            }
        });

        it("refuses a value that is not a string", () => {
            expect(rootPasswordProblem(123456789012)).to.equal("rootPassword: use a string (a Pulumi secret), not number");
            expect(rootPasswordProblem(null)).to.equal("rootPassword: use a string (a Pulumi secret), not null");
        });

        it("checks an Output once it is known, and keeps a good one secret", async () => {
            const good = checkedSecret(pulumi.output(rootPassword), rootPasswordProblem);
            expect(await pulumi.isSecret(good)).to.equal(true);
            expect(await (good as unknown as { promise(): Promise<string> }).promise()).to.equal(rootPassword);
            const short = checkedSecret(pulumi.secret("short"), rootPasswordProblem);
            const failure = await (short as unknown as { promise(): Promise<string> }).promise().then(() => undefined, (error: Error) => error.message);
            expect(failure).to.equal("rootPassword: use at least 12 characters (it has 5), e.g. `pulumi config set --secret rootPassword \"$(openssl rand -base64 24)\"`");
        });
    });
});

describe("access control in the Ignition config (lib/ignition.ts)", () => {
    const options: EtcdNodeIgnitionOptions = {
        memberName: "kv-0", clusterToken: "kv-token", members: [{ name: "kv-0", ip: "10.0.0.10" }], etcdVersion: "v3.5.33",
        peerTls: { bucket: "kv-secrets-1", region: "eu-west-2" }, clientTls: { dnsNames: [] }, accessControl: true,
    };
    const config = buildIgnitionConfig(options, "text");
    const file = (path: string) => decodeURIComponent(config.storage.files!.find((candidate) => candidate.path === path)!.contents.source.replace(/^data:,/, ""));
    const etcdUnit = config.systemd.units.find((unit) => unit.name === "etcd-member.service")!.contents;

    it("fetches the token key after the certificate and before the start decision, which already runs etcdctl as root", () => {
        expect(etcdUnit.split("\n").filter((line) => line.startsWith("ExecStartPre=/bin/bash")).map((line) => line.split(" ")[1])).to.deep.equal([
            "/opt/etcd3-cluster/etcd-member-certificate", "/opt/etcd3-cluster/etcd-member-access-control", "/opt/etcd3-cluster/etcd-member-bootstrap",
        ]);
    });

    it("gives the start decision, the promotion and the departure etcdctl as root", () => {
        expect(file(bootstrapSettingsPath)).to.contain("\nETCDCTL=/usr/bin/env SECRETS_BUCKET=kv-secrets-1 SECRETS_REGION=eu-west-2 " +
            `/bin/bash /opt/etcd3-cluster/etcd-member-access-control as-root ${etcdctlRun}\n`);
    });

    it("gives the snapshots' etcdctl as root, with their work directory mounted", () => {
        const withSnapshots = buildIgnitionConfig({ ...options, snapshots: { bucket: "kv-snapshots", region: "eu-west-2", prefix: "kv/", intervalMinutes: 15 } }, "text");
        const settings = decodeURIComponent(withSnapshots.storage.files!.find((candidate) => candidate.path === snapshotSettingsPath)!.contents.source.slice("data:,".length));
        expect(settings).to.contain("\nSNAPSHOT_ETCDCTL=/usr/bin/env SECRETS_BUCKET=kv-secrets-1 SECRETS_REGION=eu-west-2 /bin/bash /opt/etcd3-cluster/etcd-member-access-control as-root " +
            "/usr/bin/podman run --rm --net=host --pull=missing --env ETCDCTL_USER --env ETCDCTL_PASSWORD " +
            "--volume /var/lib/etcd3-cluster-snapshot:/var/lib/etcd3-cluster-snapshot:z --volume /run/etcd3-cluster/tls:/run/etcd3-cluster/tls:z " +
            "gcr.io/etcd-development/etcd:v3.5.33 /usr/local/bin/etcdctl --cacert=/run/etcd3-cluster/tls/peer-ca.crt\n");
    });

    it("leaves etcd 3.5's v2 API off, which v3's access control does not guard", () => {
        expect(etcdUnit).to.not.contain("--enable-v2");
        expect(buildIgnitionConfig({ ...options, accessControl: false }, "text").systemd.units.find((unit) => unit.name === "etcd-member.service")!.contents)
            .to.contain("--enable-v2=true");
    });

    it("refuses access control without client TLS, and with the v2 API", () => {
        expect(() => buildIgnitionConfig({ ...options, clientTls: undefined })).to.throw(
            "accessControl: root's password and the tokens it buys would cross the network in clear; give clientTls (and peerTls)");
        expect(() => buildIgnitionConfig({ ...options, enableV2Api: true })).to.throw(
            "enableV2Api: v3's access control does not guard the v2 API, so anyone could read and write /v2/keys; leave it out with accessControl");
        expect(() => buildIgnitionConfig({ ...options, accessControl: "yes" as never })).to.throw('accessControl "yes": use true or false');
    });

    it("refuses a token signing key generation without access control, or not a whole number from 0", () => {
        expect(() => buildIgnitionConfig({ ...options, accessControl: false, tokenSigningKeyGeneration: 1 })).to.throw(
            "tokenSigningKeyGeneration: the token signing key is access control's; give accessControl");
        expect(() => buildIgnitionConfig({ ...options, tokenSigningKeyGeneration: -2 })).to.throw("tokenSigningKeyGeneration -2: use a whole number from 0");
        expect(() => buildIgnitionConfig({ ...options, tokenSigningKeyGeneration: "1" as never })).to.throw("tokenSigningKeyGeneration \"1\": use a whole number from 0");
    });
});

describe("access control in the resource graph (lib/tls.ts, lib/backup.ts, Pulumi mocks)", () => {
    let built: Awaited<ReturnType<typeof buildWithSecrets>>;
    before(async () => {
        built = await buildWithSecrets({ peerTls: true, clientTls: true, rootPassword, bootstrap: "static" });
    });

    it("stores root's password and the token signing key under auth/, encrypted with the cluster's key, both as secrets", () => {
        const { name } = built;
        const object = (objectName: string, key: string, content: unknown, contentType: string) => ({
            name: objectName,
            inputs: { bucket: `${name}-secrets-id`, key, content, contentType, serverSideEncryption: "aws:kms", kmsKeyId: keyArn(name), bucketKeyEnabled: true },
        });
        const secret = (value: string) => ({ [specialSigKey]: specialSecretSig, value });
        expect(inputsOf(name, "aws:s3/bucketObjectv2:BucketObjectv2").filter((o) => !o.name.includes("peer-ca")).sort((a, b) => a.name.localeCompare(b.name))).to.deep.equal([
            object(`${name}-root-password`, "auth/root-password", secret(rootPassword), "text/plain"),
            object(`${name}-token-signing-key`, "auth/token-signing.key", secret(tokenSigningKeyPem), "application/x-pem-file"),
        ]);
        expect(inputsOf(name, "tls:index/privateKey:PrivateKey").sort((a, b) => a.name.localeCompare(b.name))).to.deep.equal([
            { name: `${name}-peer-ca`, inputs: { algorithm: "ECDSA", ecdsaCurve: "P256" } },
            { name: `${name}-token-signing`, inputs: { algorithm: "ECDSA", ecdsaCurve: "P256" } },
        ]);
    });

    it("lets the members read tls/ and auth/ and decrypt them only through S3, and nothing else", () => {
        const { name } = built;
        expect(JSON.parse(inputsOf(name, ROLE_POLICY)[0].inputs.policy)).to.deep.equal({
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "GetSecrets", Effect: "Allow", Action: "s3:GetObject",
                    Resource: [`arn:aws:s3:::${secretsBucket(name)}/tls/*`, `arn:aws:s3:::${secretsBucket(name)}/auth/*`],
                },
                {
                    Sid: "DecryptSecrets", Effect: "Allow", Action: "kms:Decrypt", Resource: keyArn(name),
                    Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-2.amazonaws.com" } },
                },
            ],
        });
        expect(inputsOf(name, "aws:iam/role:Role")[0].inputs.description).to.equal(`etcd members of ${name}: read their secrets under tls/, auth/`);
    });

    it("creates every member after the password and the token key are in the bucket", () => {
        for (const index of [0, 1, 2]) {
            expect(built.children.get(`${built.name}-${index}`)!.options.dependsOn, `member ${index}`)
                .to.include.members([`${built.name}-root-password`, `${built.name}-token-signing-key`]);
        }
    });

    it("tells each member the secrets bucket, and turns access control on in each", () => {
        for (const instance of resourcesOf(built.name, INSTANCE)) {
            expect(fileIn(instance.inputs.userData, accessControlSettingsPath)).to.match(new RegExp(`^SECRETS_BUCKET=${secretsBucket(built.name)}\nSECRETS_REGION=eu-west-2\n`));
            expect(unitIn(instance.inputs.userData, accessControlUnitName)).to.contain("turn-on https://${AFTERBURN_AWS_IPV4_LOCAL}:2379");
        }
    });

    it("puts neither the password nor a key in any member's user data", () => {
        const instances = resourcesOf(built.name, INSTANCE);
        expect(instances).to.have.length(3);
        for (const instance of instances) {
            const everything = everythingIn(instance.inputs.userData);
            expect(everything).to.contain("etcd-member-access-control");
            expect(everything).to.not.contain(rootPassword).and.to.not.contain("THE-TOKEN-SIGNING-KEY").and.to.not.contain("PRIVATE KEY-----");
        }
    });

    it("has the password in no input of any resource but its own object, where it is a secret: not the guard's, which keeps whether it is given", () => {
        const holding = registered.filter((resource) => resource.name.startsWith(built.name) && JSON.stringify(resource.inputs).includes(rootPassword));
        expect(holding.map((resource) => resource.name)).to.deep.equal([`${built.name}-root-password`]);
        expect(resourcesOf(built.name, "pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard")[0].inputs).to.deep.include({ accessControl: true });
        expect(JSON.stringify(inputsOf(built.name, "aws:s3/bucketObjectv2:BucketObjectv2"))).to.contain(caPrivateKeyPem.split("\n")[1]);
    });

    it("turns the v2 API off with it on etcd 3.5, and refuses it turned on", () => {
        for (const instance of resourcesOf(built.name, INSTANCE)) {
            expect(unitIn(instance.inputs.userData, "etcd-member.service")).to.not.contain("--enable-v2");
        }
        const name = uniqueName();
        const args = { discoveryLogFile: false as const, peerTls: true, clientTls: true, rootPassword, enableV2Api: true };
        expect(() => new Etcd3Cluster(name, args)).to.throw(Etcd3ClusterArgumentError,
            "enableV2Api: v3's access control (rootPassword) does not guard the v2 API, so anyone could read and write /v2/keys; leave enableV2Api out with rootPassword");
        expect(resourcesOf(name)).to.deep.equal([]);
    });

    it("refuses rootPassword with clientTls turned off, and a short one given as a string, before creating anything", () => {
        const name = uniqueName();
        expect(() => new Etcd3Cluster(name, { discoveryLogFile: false, clientTls: false, rootPassword: "short" })).to.throw(Etcd3ClusterArgumentError)
            .with.property("problems").that.deep.equals([
                "rootPassword: root's password, and the tokens it buys, would cross the network to the members in clear; turn clientTls (and peerTls) on too, or leave rootPassword out",
                "rootPassword: use at least 12 characters (it has 5), e.g. `pulumi config set --secret rootPassword \"$(openssl rand -base64 24)\"`",
            ]);
        expect(resourcesOf(name)).to.deep.equal([]);
    });

    it("refuses rootPassword on an internet-facing ALB without certificateArn, and takes it with one", () => {
        const args = { discoveryLogFile: false as const, peerTls: true, clientTls: true, rootPassword, internetFacing: true, allowedCidrs: ["203.0.113.0/24"] };
        const name = uniqueName();
        expect(() => new Etcd3Cluster(name, args)).to.throw(Etcd3ClusterArgumentError).with.property("problems").that.deep.equals([
            "rootPassword with internetFacing: clients would send root's password, and the tokens it buys, to the ALB over the internet in clear; " +
            "give certificateArn (HTTPS at the ALB), or keep the ALB internal",
        ]);
        expect(resourcesOf(name)).to.deep.equal([]);
        expect(() => new Etcd3Cluster(uniqueName(), { ...args, certificateArn: "arn:aws:acm:eu-west-2:123456789012:certificate/0123abcd", dnsName: "etcd.example.com", hostedZoneId: "Z1" }))
            .to.not.throw();
    });

    it("rotates the token signing key with tokenSigningKeyGeneration: a new key under a new name in the bucket's object, and every member's settings name it", async () => {
        const { name } = await buildWithSecrets({ peerTls: true, clientTls: true, rootPassword, bootstrap: "static", tokenSigningKeyGeneration: 2 });
        const secret = (value: string) => ({ [specialSigKey]: specialSecretSig, value });
        expect(inputsOf(name, "tls:index/privateKey:PrivateKey").map((key) => key.name).sort()).to.deep.equal([`${name}-peer-ca`, `${name}-token-signing-2`]);
        const tokenObject = inputsOf(name, "aws:s3/bucketObjectv2:BucketObjectv2").find((object) => object.inputs.key === "auth/token-signing.key")!;
        expect([tokenObject.name, tokenObject.inputs.content]).to.deep.equal([`${name}-token-signing-key`, secret(tokenSigningKeyPemOf(2))]);
        for (const instance of resourcesOf(name, INSTANCE)) {
            expect(fileIn(instance.inputs.userData, accessControlSettingsPath).split("\n").slice(-2)).to.deep.equal(["TOKEN_SIGNING_KEY_GENERATION=2", ""]);
        }
    });

    it("refuses tokenSigningKeyGeneration without rootPassword, or not a whole number from 0, before creating anything; takes its default without", () => {
        const refused = (args: Etcd3ClusterArgs) => {
            const name = uniqueName();
            let problems: string[] = [];
            try {
                new Etcd3Cluster(name, { discoveryLogFile: false, ...args });
            } catch (error) {
                problems = (error as Etcd3ClusterArgumentError).problems;
            }
            expect(resourcesOf(name)).to.deep.equal([]);
            return problems;
        };
        expect(refused({ tokenSigningKeyGeneration: 1 })).to.deep.equal([
            "tokenSigningKeyGeneration: the members sign clients' tokens only with access control, and rootPassword is not given; leave it out, or give rootPassword",
        ]);
        expect(refused({ rootPassword, tokenSigningKeyGeneration: -1 })).to.deep.equal(["tokenSigningKeyGeneration -1: use a whole number from 0"]);
        expect(refused({ rootPassword, tokenSigningKeyGeneration: 1.5 })).to.deep.equal(["tokenSigningKeyGeneration 1.5: use a whole number from 0"]);
        expect(() => new Etcd3Cluster(uniqueName(), { discoveryLogFile: false, tokenSigningKeyGeneration: 0 })).to.not.throw();
    });

    it("creates no access control secret and no auth/ access without rootPassword", async () => {
        const { name } = await buildWithSecrets({ peerTls: true, clientTls: true });
        expect(inputsOf(name, "aws:s3/bucketObjectv2:BucketObjectv2").map((object) => object.inputs.key).sort()).to.deep.equal(["tls/peer-ca.crt", "tls/peer-ca.key"]);
        expect(JSON.parse(inputsOf(name, ROLE_POLICY)[0].inputs.policy).Statement[0].Resource).to.deep.equal([`arn:aws:s3:::${secretsBucket(name)}/tls/*`]);
        for (const instance of resourcesOf(name, INSTANCE)) {
            expect(everythingIn(instance.inputs.userData)).to.not.contain("access-control").and.to.not.contain("ETCDCTL_PASSWORD");
        }
    });
});
