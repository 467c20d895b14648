/**
 * The Ignition builder's refusals of options a caller past the type checker
 * could pass (lib/ignition.ts), each as the whole error the caller reads, and
 * EC2's user-data limit at its exact edge.
 */
import { expect } from "chai";
import { buildIgnitionConfig, ec2UserDataLimitBytes, EtcdNodeIgnitionOptions, renderUserData } from "../lib/ignition";
import { ignitionFailure } from "./support/ignition-failure";

const base: EtcdNodeIgnitionOptions = { memberName: "kv-0", etcdVersion: "v3.5.33", discoveryUrl: "https://discovery.etcd.io/0123456789abcdef0123456789abcdef" };

/** The builder's error for `base` with `changes`, or "" when it builds. */
const failure = (changes: Record<string, unknown>) => ignitionFailure({ ...base, ...changes } as EtcdNodeIgnitionOptions);

const refusal = (...problems: string[]) => `cannot build the Ignition config for etcd member "kv-0":\n  - ${problems.join("\n  - ")}`;

describe("the Ignition builder's refusals of options (lib/ignition.ts)", () => {
    it("refuses an update window that is not an object, null included", () => {
        expect([failure({ updateWindow: "02:00" }), failure({ updateWindow: null })]).to.deep.equal([
            refusal('updateWindow "02:00": use { startHourUtc, lengthMinutes }, or leave it out for the OS\'s own update policy'),
            refusal("updateWindow null: use { startHourUtc, lengthMinutes }, or leave it out for the OS's own update policy"),
        ]);
    });

    it("refuses an SSH key that is only blanks, or not a string, with its message rather than a TypeError", () => {
        const oneLine = 'use one OpenSSH public key on one line ("ssh-ed25519 AAAA... comment")';
        expect(failure({ sshAuthorizedKeys: ["   ", 42] })).to.equal(refusal(`sshAuthorizedKeys[0]: ${oneLine}`, `sshAuthorizedKeys[1]: ${oneLine}`));
    });

    it("refuses a discovery URL or image repository that is not a string, with its message rather than a TypeError", () => {
        expect([failure({ discoveryUrl: 12345 }), failure({ imageRepository: 42 })]).to.deep.equal([
            refusal("discoveryUrl 12345: use the URL a discovery service returned: http(s), a host, an optional port and path, then a 32-hex-digit " +
                "token, e.g. https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e"),
            refusal("imageRepository 42: use a registry host (its port, if any, 1–65535) and a path without a tag, e.g. quay.io/coreos/etcd"),
        ]);
    });

    it("checks the member list given with a discovery URL too", () => {
        expect(failure({ members: [{ name: "kv-0", ip: "nope" }] })).to.equal(refusal('members[0].ip "nope": use the slot\'s private IPv4 address, e.g. 10.99.1.10'));
    });

    it("refuses a v2 API switch that is not a boolean, and the v2 API on a branch without one", () => {
        expect([failure({ enableV2Api: "yes" }), failure({ enableV2Api: true, etcdVersion: "v3.6.14" })]).to.deep.equal([
            refusal('enableV2Api "yes": use true or false'),
            refusal("enableV2Api: etcd 3.6 has no v2 API"),
        ]);
    });

    it("lists every problem, one a line", () => {
        expect(failure({ enableV2Api: "yes", imageRepository: 42 })).to.equal(refusal(
            "imageRepository 42: use a registry host (its port, if any, 1–65535) and a path without a tag, e.g. quay.io/coreos/etcd", 'enableV2Api "yes": use true or false'));
    });
});

describe("EC2's user-data limit (lib/ignition.ts)", () => {
    /** The member with one SSH key whose comment is `length` characters long: its user data grows a byte a character. */
    const withComment = (length: number): EtcdNodeIgnitionOptions => ({
        ...base,
        sshAuthorizedKeys: [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ${"c".repeat(length)}`],
    });

    it("sends a config of exactly the limit as it is, and one a byte longer compressed", () => {
        const shortest = Buffer.byteLength(renderUserData(withComment(1)), "utf8");
        const exact = withComment(1 + ec2UserDataLimitBytes - shortest);
        expect(Buffer.byteLength(renderUserData(exact), "utf8")).to.equal(ec2UserDataLimitBytes);
        expect(renderUserData(exact)).to.equal(JSON.stringify(buildIgnitionConfig(exact)));
        const longer = withComment(2 + ec2UserDataLimitBytes - shortest);
        expect(Buffer.byteLength(JSON.stringify(buildIgnitionConfig(longer)), "utf8")).to.equal(ec2UserDataLimitBytes + 1);
        expect(JSON.parse(renderUserData(longer)).ignition.config.replace.compression).to.equal("gzip");
    });
});
