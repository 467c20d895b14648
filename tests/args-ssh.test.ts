/**
 * SSH access (lib/args.ts): open only when both the keys and the CIDRs that
 * may connect are given; whole problem lines as the user reads them.
 */
import { expect } from "chai";
import { problemsOf } from "./support/argument-problems";
import { resolveArgs } from "../lib/args";

const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";

describe("SSH arguments (lib/args.ts)", () => {
    it("keeps port 22 closed and installs no key by default", () => {
        const resolved = resolveArgs("etcd3", {});
        expect([resolved.sshAuthorizedKeys, resolved.sshCidrs]).to.deep.equal([[], []]);
    });

    it("opens port 22 to exactly the sshCidrs given with the keys", () => {
        expect(resolveArgs("etcd3", { sshAuthorizedKeys: [key], sshCidrs: ["10.99.0.0/16", "192.0.2.1/32"] }).sshCidrs)
            .to.deep.equal(["10.99.0.0/16", "192.0.2.1/32"]);
    });

    it("refuses keys without the CIDRs that may connect, saying what to give", () => {
        expect(problemsOf({ sshAuthorizedKeys: [key] })).to.deep.equal([
            "sshAuthorizedKeys: SSH opens only to the CIDRs sshCidrs names, and none is given (keys alone opened port 22 to the VPC's CIDR " +
            "before 0.1.0); give sshCidrs, e.g. pulumi config set --path 'sshCidrs[0]' <the VPC's CIDR or a bastion's /32>, or leave the keys out",
        ]);
        expect(problemsOf({ sshAuthorizedKeys: [key], sshCidrs: [] })).to.have.length(1);
    });

    it("refuses CIDRs without keys: nobody could log in", () => {
        expect(problemsOf({ sshCidrs: ["10.99.0.0/16"] })).to.deep.equal([
            "sshCidrs: with no sshAuthorizedKeys no one can log in, so port 22 stays closed; give the keys too, or leave sshCidrs out",
        ]);
    });

    it("refuses a CIDR that is no network address, and a repeated one", () => {
        expect(problemsOf({ sshAuthorizedKeys: [key], sshCidrs: ["10.99.0.1/16", "192.0.2.1/32", "192.0.2.1/32"] })).to.deep.equal([
            "sshCidrs[0] \"10.99.0.1/16\": use an IPv4 network address with its prefix, e.g. 203.0.113.0/24",
            "sshCidrs: 192.0.2.1/32 given more than once; give each CIDR once",
        ]);
    });
});
