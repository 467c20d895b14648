/**
 * lib/etcd.ts: a roll that skips a minor release (3.5 → 3.7, now that both
 * ends are supported branches) is refused as such, naming the steps etcd
 * takes one at a time, before any step of a single minor upgrade is judged.
 */
import { expect } from "chai";
import { etcdUpgradeProblem } from "../lib/etcd";

const skipRefusal = "etcdVersion cannot go from v3.5.33 to v3.7.1 in one roll: etcd upgrades one minor release at a time (3.5 → 3.6, 3.6 → 3.7).";

describe("etcd upgrades that skip a minor release (lib/etcd.ts)", () => {
    it("refuses 3.5 → 3.7 in one roll, listing every minor upgrade etcd can roll through", () => {
        expect(etcdUpgradeProblem({ etcdVersion: "v3.5.33", enableV2Api: false }, { etcdVersion: "v3.7.1", enableV2Api: false })).to.equal(skipRefusal);
    });

    it("refuses 3.5 → 3.7 as a skip even from a patch too old for 3.6 with the v2 API on, not as steps to take first", () => {
        expect(etcdUpgradeProblem({ etcdVersion: "v3.5.20", enableV2Api: true }, { etcdVersion: "v3.7.1", enableV2Api: false }))
            .to.equal(skipRefusal.replace("v3.5.33", "v3.5.20"));
    });
});
