/**
 * What the local harness keeps across constructions of the component, as a
 * stack keeps it across updates (local/component-resources.ts): the values a
 * later construction made anew are replaced by the stack's, resource by
 * resource, matched by name less the component's own.
 */
import { expect } from "chai";
import { keptValuesOf, RegisteredResource, stackHas, withKeptValues } from "../local/component-resources";

const resource = (type: string, name: string, state: Record<string, unknown>): RegisteredResource => ({ type, name, inputs: {}, id: `${name}-id`, state });
const bucket = (component: string) => resource("aws:s3/bucket:Bucket", `${component}-secrets`,
    { bucket: `${component}-secrets-0001`, arn: `arn:aws:s3:::${component}-secrets-0001` });
const key = (component: string) => resource("aws:kms/key:Key", `${component}-secrets`, { arn: `arn:aws:kms:eu-west-2:123456789012:key/${component}` });
const caKey = (component: string, suffix: string, pem: string) => resource("tls:index/privateKey:PrivateKey", `${component}-peer-ca${suffix}`, { privateKeyPem: pem });
const caCertificate = (component: string, suffix: string, pem: string) =>
    resource("tls:index/selfSignedCert:SelfSignedCert", `${component}-peer-ca${suffix}`, { certPem: pem });

describe("local harness: what a stack keeps across updates", () => {
    const stack = [bucket("local"), key("local"), caKey("local", "", "KEY 0"), caCertificate("local", "", "CERT 0")];

    it("pairs each value a later construction made with the one the stack kept: bucket names and ARNs, KMS key ARNs, CA keys and certificates", () => {
        const later = [bucket("local2"), key("local2"), caKey("local2", "", "KEY 0 AGAIN"), caCertificate("local2", "", "CERT 0 AGAIN")];
        expect(keptValuesOf(later, stack)).to.deep.equal([
            ["local2-secrets-0001", "local-secrets-0001"],
            ["arn:aws:s3:::local2-secrets-0001", "arn:aws:s3:::local-secrets-0001"],
            ["arn:aws:kms:eu-west-2:123456789012:key/local2", "arn:aws:kms:eu-west-2:123456789012:key/local"],
            ["KEY 0 AGAIN", "KEY 0"],
            ["CERT 0 AGAIN", "CERT 0"],
        ]);
    });

    it("keeps what a resource the stack does not hold yet was made with: a new generation's CA is new in an update too", () => {
        expect(keptValuesOf([caKey("local3", "-1", "KEY 1"), caCertificate("local3", "-1", "CERT 1")], stack)).to.deep.equal([]);
        expect(stackHas(stack, caKey("local3", "-1", "KEY 1"))).to.equal(false);
        expect(stackHas(stack, caKey("local3", "", "KEY 0 AGAIN"))).to.equal(true);
    });

    it("puts the kept values in place of the made ones wherever they occur in a text", () => {
        const pairs = keptValuesOf([bucket("local2"), caCertificate("local2", "", "CERT 0 AGAIN")], stack);
        expect(withKeptValues("TLS_BUCKET=local2-secrets-0001\nCERT 0 AGAINCERT 1\n", pairs)).to.equal("TLS_BUCKET=local-secrets-0001\nCERT 0CERT 1\n");
    });
});
