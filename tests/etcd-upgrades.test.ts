/**
 * lib/etcd.ts: which etcd release changes a running cluster can roll through
 * (`etcdUpgradeProblem`, the rule ClusterGuard applies to etcdVersion) and the
 * release order it rests on (`compareReleases`). Refusals are compared whole.
 */
import { expect } from "chai";
import { compareReleases, EtcdRelease, etcdUpgradeProblem, minorUpgrades, parseEtcdRelease } from "../lib/etcd";

/** A release `parseEtcdRelease` accepts. */
function release(version: string): EtcdRelease {
    const parsed = parseEtcdRelease(version);
    expect(parsed, `${version} parses`).to.not.equal(undefined);
    return parsed!;
}

describe("etcd release upgrades (lib/etcd.ts)", () => {
    it("parses a release's major, minor and patch as numbers to order it by", () => {
        expect(release("v3.5.10").numbers).to.deep.equal([3, 5, 10]);
    });

    describe("compareReleases", () => {
        it("puts an older patch first, comparing numbers rather than text (v3.5.9 before v3.5.10)", () => {
            expect(Math.sign(compareReleases(release("v3.5.9"), release("v3.5.10")))).to.equal(-1);
        });

        it("puts a newer patch last", () => {
            expect(Math.sign(compareReleases(release("v3.5.10"), release("v3.5.9")))).to.equal(1);
        });

        it("finds a release written with and without the v the same", () => {
            expect(compareReleases(release("3.6.14"), release("v3.6.14"))).to.equal(0);
        });

        it("orders by minor release before patch (v3.5.99 before v3.6.0)", () => {
            expect([Math.sign(compareReleases(release("v3.5.99"), release("v3.6.0"))), Math.sign(compareReleases(release("v3.6.0"), release("v3.5.99")))])
                .to.deep.equal([-1, 1]);
        });

        it("orders by major release before minor (3.9.9 before 4.0.0)", () => {
            const [older, newer]: EtcdRelease[] = [
                { tag: "v3.9.9", branch: "3.9", numbers: [3, 9, 9], servesV2Api: false, formsByV2Discovery: false },
                { tag: "v4.0.0", branch: "4.0", numbers: [4, 0, 0], servesV2Api: false, formsByV2Discovery: false },
            ];
            expect([Math.sign(compareReleases(older, newer)), Math.sign(compareReleases(newer, older))]).to.deep.equal([-1, 1]);
        });
    });

    it("rolls 3.5 to 3.6 only, and only from 3.5.32 on", () => {
        expect(minorUpgrades).to.deep.equal({ "3.5": { to: "3.6", fromPatch: 32 }, "3.6": { to: "3.7", fromPatch: 11 } });
    });

    describe("etcdUpgradeProblem", () => {
        it("allows the same release", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.5.33", enableV2Api: true }, { etcdVersion: "v3.5.33", enableV2Api: true })).to.equal(undefined);
        });

        it("allows a patch upgrade within 3.5, from a patch too old for 3.6 and with the v2 API on", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.5.20", enableV2Api: true }, { etcdVersion: "v3.5.33", enableV2Api: true })).to.equal(undefined);
        });

        it("allows a patch downgrade within 3.5", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.5.33", enableV2Api: true }, { etcdVersion: "v3.5.20", enableV2Api: true })).to.equal(undefined);
        });

        it("allows a patch upgrade within 3.6", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.6.1", enableV2Api: false }, { etcdVersion: "v3.6.14", enableV2Api: false })).to.equal(undefined);
        });

        it("allows a patch downgrade within 3.6", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.6.14", enableV2Api: false }, { etcdVersion: "v3.6.1", enableV2Api: false })).to.equal(undefined);
        });

        it("refuses 3.6 → 3.5, saying to stay on 3.6", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.6.14", enableV2Api: false }, { etcdVersion: "v3.5.33", enableV2Api: false })).to.equal(
                "etcdVersion cannot go down from v3.6.14 to v3.5.33: members of an older minor release cannot read the newer one's data, " +
                "and etcd's downgrade needs a cluster-wide downgrade job this component does not run. Keep etcdVersion at 3.6.x.");
        });

        it("refuses 3.6.0 → 3.5.99, a downgrade whose patch number is higher", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.6.0", enableV2Api: false }, { etcdVersion: "v3.5.99", enableV2Api: false })).to.equal(
                "etcdVersion cannot go down from v3.6.0 to v3.5.99: members of an older minor release cannot read the newer one's data, " +
                "and etcd's downgrade needs a cluster-wide downgrade job this component does not run. Keep etcdVersion at 3.6.x.");
        });

        it("refuses 3.5.31 → 3.6.14, naming 3.5.32 as the patch to roll to first", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.5.31", enableV2Api: false }, { etcdVersion: "v3.6.14", enableV2Api: false })).to.equal(
                "etcdVersion cannot go from v3.5.31 to v3.6.14 yet: roll to v3.5.32 or later first (etcd's upgrade guide names it as " +
                "the oldest 3.5 patch to upgrade from). Then set etcdVersion to v3.6.14 again.");
        });

        it("allows 3.5.32 → 3.6.0 with the v2 API off: the oldest patch the guide names is enough", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.5.32", enableV2Api: false }, { etcdVersion: "v3.6.0", enableV2Api: false })).to.equal(undefined);
        });

        it("refuses 3.5.33 → 3.6.14 while the v2 API is on, naming enableV2Api", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.5.33", enableV2Api: true }, { etcdVersion: "v3.6.14", enableV2Api: false })).to.equal(
                "etcdVersion cannot go from v3.5.33 to v3.6.14 yet: roll with enableV2Api: false first, after moving any data out of " +
                "the v2 key space (etcd 3.6 refuses to start on a v2 store holding data; `etcdutl check v2store` on a member's " +
                "snapshot tells). Then set etcdVersion to v3.6.14 again.");
        });

        it("allows 3.5.33 → 3.6.14 once the v2 API is off", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.5.33", enableV2Api: false }, { etcdVersion: "v3.6.14", enableV2Api: false })).to.equal(undefined);
        });

        it("judges the v2 API by the running release's flag, not the new one", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.5.33", enableV2Api: false }, { etcdVersion: "v3.6.14", enableV2Api: true })).to.equal(undefined);
        });

        it("lists both steps, the patch first, joined by \"; and \"", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.5.31", enableV2Api: true }, { etcdVersion: "v3.6.14", enableV2Api: false })).to.equal(
                "etcdVersion cannot go from v3.5.31 to v3.6.14 yet: roll to v3.5.32 or later first (etcd's upgrade guide names it as " +
                "the oldest 3.5 patch to upgrade from); and roll with enableV2Api: false first, after moving any data out of " +
                "the v2 key space (etcd 3.6 refuses to start on a v2 store holding data; `etcdutl check v2store` on a member's " +
                "snapshot tells). Then set etcdVersion to v3.6.14 again.");
        });

        it("names the releases as normalised tags when given without the v", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "3.5.31", enableV2Api: false }, { etcdVersion: " 3.6.14 ", enableV2Api: false })).to.equal(
                "etcdVersion cannot go from v3.5.31 to v3.6.14 yet: roll to v3.5.32 or later first (etcd's upgrade guide names it as " +
                "the oldest 3.5 patch to upgrade from). Then set etcdVersion to v3.6.14 again.");
        });

        it("judges nothing when the running version does not parse", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "latest", enableV2Api: true }, { etcdVersion: "v3.6.14", enableV2Api: false })).to.equal(undefined);
        });

        it("judges nothing when the new version does not parse", () => {
            expect(etcdUpgradeProblem({ etcdVersion: "v3.6.14", enableV2Api: false }, { etcdVersion: "v3.5", enableV2Api: false })).to.equal(undefined);
        });

        it("judges nothing when either version is on a branch the cluster cannot run (3.4, 3.8)", () => {
            expect([
                etcdUpgradeProblem({ etcdVersion: "v3.4.23", enableV2Api: true }, { etcdVersion: "v3.5.33", enableV2Api: true }),
                etcdUpgradeProblem({ etcdVersion: "v3.6.14", enableV2Api: false }, { etcdVersion: "v3.8.0", enableV2Api: false }),
            ]).to.deep.equal([undefined, undefined]);
        });
    });
});
