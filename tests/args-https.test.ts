/**
 * The HTTPS arguments (lib/args.ts): `certificateArn` and `sslPolicy`, their
 * defaults and refusals, whole problem lines as the user reads them.
 */
import { expect } from "chai";
import { problemsOf } from "./support/argument-problems";
import { resolveArgs } from "../lib/args";
import { sslPolicyTlsVersions } from "../lib/tls-policy";

const certificateArn = "arn:aws:acm:eu-west-2:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab";

describe("HTTPS arguments (lib/args.ts)", () => {
    it("has no HTTPS without a certificate, and the restricted TLS 1.3/1.2 policy with one", () => {
        expect([{}, { certificateArn }].map((args) => resolveArgs("etcd3", args).https)).to.deep.equal([
            undefined, { certificateArn, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06" },
        ]);
    });

    it("takes the certificates of every AWS partition", () => {
        const arns = [
            certificateArn, "arn:aws-cn:acm:cn-north-1:123456789012:certificate/abc-123", "arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/abc",
        ];
        expect(arns.map((arn) => resolveArgs("etcd3", { certificateArn: arn }).https?.certificateArn)).to.deep.equal(arns);
    });

    it("refuses a certificate that is not an ACM certificate ARN, or holds one inside other text", () => {
        const notCertificates = [
            "etcd.example.com", "arn:aws:iam::123456789012:server-certificate/etcd", "arn:aws:acm:eu-west-2:123456789012:certificate/",
            `cert ${certificateArn}`, `${certificateArn}/x`, "arn:aws:acm:eu-west-2:12345678901:certificate/abc",
        ];
        expect(notCertificates.map((value) => problemsOf({ certificateArn: value }))).to.deep.equal(notCertificates.map((value) => [
            `certificateArn "${value}": use an ACM certificate ARN such as arn:aws:acm:eu-west-2:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab`,
        ]));
    });

    it("takes every policy whose lowest version is TLS 1.2 or 1.3", () => {
        const policies = [
            "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
            "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", "ELBSecurityPolicy-FS-1-2-Res-2020-10", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
        ];
        expect(policies.map((sslPolicy) => resolveArgs("etcd3", { certificateArn, sslPolicy }).https?.sslPolicy)).to.deep.equal(policies);
    });

    it("refuses a policy that allows TLS 1.0 or 1.1, and a name that is no ELB policy", () => {
        const refused = [
            "ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS13-1-0-2021-06", "ELBSecurityPolicy-TLS13-1-1-2021-06", "ELBSecurityPolicy-FS-1-1-2019-08",
            "ELBSecurityPolicy-TLS-1-1-2017-01", "TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-2021-06 ", "ELBSecurityPolicy-TLS13-1-2",
        ];
        expect(refused.map((sslPolicy) => problemsOf({ certificateArn, sslPolicy }))).to.deep.equal(refused.map((value) => [
            `sslPolicy "${value}": use an ALB security policy whose lowest version is TLS 1.2 or 1.3, such as ` +
            "ELBSecurityPolicy-TLS13-1-2-Res-2021-06 or ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09 (TLS 1.0 and 1.1 are refused)",
        ]));
    });

    it("reads a policy's TLS versions from its name, and nothing from a name that is no ELB policy's", () => {
        const policies = [
            "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09", "ELBSecurityPolicy-TLS13-1-0-2021-06",
            "ELBSecurityPolicy-FS-1-2-Res-2020-10", "ELBSecurityPolicy-TLS-1-1-2017-01", "ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-FS-2018-06",
            "ELBSecurityPolicy-TLS13-1-4-2021-06", "ELBSecurityPolicy-TLS13-1-2", "elbsecuritypolicy-2016-08",
            "my-ELBSecurityPolicy-TLS13-1-2-2021-06", "x-ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-2016-08-x",
        ];
        expect(policies.map(sslPolicyTlsVersions)).to.deep.equal([
            { lowest: "1.2", highest: "1.3" }, { lowest: "1.3", highest: "1.3" }, { lowest: "1.0", highest: "1.3" },
            { lowest: "1.2", highest: "1.2" }, { lowest: "1.1", highest: "1.2" }, { lowest: "1.0", highest: "1.2" }, { lowest: "1.0", highest: "1.2" },
            undefined, undefined, undefined, undefined, undefined, undefined,
        ]);
    });

    it("refuses a policy without a certificate", () => {
        expect(problemsOf({ sslPolicy: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06" })).to.deep.equal([
            "sslPolicy: it sets the HTTPS listener's TLS versions and ciphers, and there is none without certificateArn; leave it out or give a certificate",
        ]);
    });
});
