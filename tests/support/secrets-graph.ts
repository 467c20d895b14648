/**
 * The component under Pulumi mocks with the TLS provider's resources given
 * recognisable key material, and readers for what each member is told: the
 * shared ground of the tests of the secrets bucket (tls.test.ts) and of
 * access control (access-control.test.ts).
 */
import { gunzipSync } from "zlib";
import { playUserMocks, recordChildOptions, resourcesOf, settle, uniqueName } from "./pulumi-mocks";
import { Etcd3Cluster, Etcd3ClusterArgs } from "../../lib";
import { decodeInlineContents, InlineContents } from "../../local/ignition-contents";

export const INSTANCE = "aws:ec2/instance:Instance";
export const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
/** The mocks' created secrets bucket: the prefix the component gives, then AWS's unique suffix. */
export const secretsBucket = (name: string) => `${name}-secrets-20261126000000000000000001`;
/** The mocks' account and region (lib/testing.ts). */
export const keyArn = (name: string) => `arn:aws:kms:eu-west-2:123456789012:key/${name}-secrets-id`;

/** Key material the TLS provider's resources get here, by what they are for, so that a leak into user data shows. */
export const caPrivateKeyPem = "-----BEGIN EC PRIVATE KEY-----\nTHE-CA-PRIVATE-KEY\n-----END EC PRIVATE KEY-----\n";
export const tokenSigningKeyPem = "-----BEGIN EC PRIVATE KEY-----\nTHE-TOKEN-SIGNING-KEY\n-----END EC PRIVATE KEY-----\n";
export const caCertificatePem = "-----BEGIN CERTIFICATE-----\nTHE-CA-CERTIFICATE\n-----END CERTIFICATE-----\n";
/** The key and certificate of the peer CA of `generation` (0: the constants above, made with the stack). */
export const peerCaPems = (generation: number) => (generation === 0 ? { key: caPrivateKeyPem, certificate: caCertificatePem } : {
    key: `-----BEGIN EC PRIVATE KEY-----\nTHE-CA-${generation}-PRIVATE-KEY\n-----END EC PRIVATE KEY-----\n`,
    certificate: `-----BEGIN CERTIFICATE-----\nTHE-CA-${generation}-CERTIFICATE\n-----END CERTIFICATE-----\n`,
});
/** The generation of the peer CA a TLS resource of the component is for, by its name (`<name>-peer-ca`, `<name>-peer-ca-<n>`). */
const peerCaGenerationOf = (resourceName: string) => Number(/-peer-ca-(\d+)$/.exec(resourceName)?.[1] ?? 0);
/** The token signing key of `generation` (0: the constant above, made with the stack). */
export const tokenSigningKeyPemOf = (generation: number) => (generation === 0 ? tokenSigningKeyPem
    : `-----BEGIN EC PRIVATE KEY-----\nTHE-TOKEN-SIGNING-KEY-${generation}\n-----END EC PRIVATE KEY-----\n`);
/** The generation of the token signing key a TLS resource of the component is, by its name; undefined for another key. */
const tokenSigningGenerationOf = (resourceName: string) => {
    const match = /-token-signing(?:-(\d+))?$/.exec(resourceName);
    return match ? Number(match[1] ?? 0) : undefined;
};

/** The component named uniquely, built under the mocks with `args`, and every child's options. Needs `installMocks()` first. */
export async function buildWithSecrets(args: Etcd3ClusterArgs) {
    const name = uniqueName();
    const recorder = recordChildOptions();
    playUserMocks({
        newResource: async ({ type, name: resourceName, inputs }) => {
            switch (type) {
                case "tls:index/privateKey:PrivateKey":
                    return {
                        id: `${resourceName}-id`,
                        state: {
                            ...inputs,
                            privateKeyPem: tokenSigningGenerationOf(resourceName) === undefined
                                ? peerCaPems(peerCaGenerationOf(resourceName)).key : tokenSigningKeyPemOf(tokenSigningGenerationOf(resourceName)!),
                        },
                    };
                case "tls:index/selfSignedCert:SelfSignedCert":
                    return { id: `${resourceName}-id`, state: { ...inputs, certPem: peerCaPems(peerCaGenerationOf(resourceName)).certificate } };
                default:
                    return undefined;
            }
        },
    });
    try {
        const cluster = new Etcd3Cluster(name, { discoveryLogFile: false, ...args }, { transformations: [recorder.transformation] });
        await settle();
        return { name, cluster, children: recorder.children, everyChild: recorder.everyChild };
    } finally {
        playUserMocks(undefined);
    }
}

/** The component's resources of `type`, by name and inputs. */
export const inputsOf = (name: string, type: string) => resourcesOf(name, type).map((resource) => ({ name: resource.name, inputs: resource.inputs }));

/** A member's Ignition config as the node reads it: its user data, unwrapped from the compressed form when sent so. */
export function configOf(userData: string): any {
    const config = JSON.parse(userData);
    const replaced: string | undefined = config.ignition.config?.replace?.source;
    return replaced ? JSON.parse(gunzipSync(Buffer.from(replaced.replace(/^data:;base64,/, ""), "base64")).toString("utf8")) : config;
}

/** The text of the file at `path` in a member's config (a failure if it has none). */
export function fileIn(userData: string, path: string): string {
    const files: { path: string; contents: InlineContents }[] = configOf(userData).storage.files ?? [];
    const file = files.find((candidate) => candidate.path === path);
    if (!file) {
        throw new Error(`the member's config has no file ${path}`);
    }
    return decodeInlineContents(file.contents);
}

/** The text of the unit `name` in a member's config (a failure if it has none). */
export function unitIn(userData: string, name: string): string {
    const unit = configOf(userData).systemd.units.find((candidate: { name: string }) => candidate.name === name);
    if (!unit) {
        throw new Error(`the member's config has no unit ${name}`);
    }
    return unit.contents;
}

/** Every file of a member's config with its text, and every unit's text. */
export function everythingIn(userData: string): string {
    const config = configOf(userData);
    const files: { path: string; contents: InlineContents }[] = config.storage.files ?? [];
    return [userData, ...files.map((file) => decodeInlineContents(file.contents)), ...config.systemd.units.map((unit: { contents: string }) => unit.contents)].join("\n");
}
