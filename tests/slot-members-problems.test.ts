/**
 * slotMembersProblems (lib/bootstrap.ts) on lists a caller past the type
 * checker could pass: holes, values of the wrong type, repeated names.
 */
import { expect } from "chai";
import { slotMembersProblems } from "../lib/bootstrap";

const nameRule = "use letters, digits, dots, underscores and hyphens";
const ipRule = "use the slot's private IPv4 address, e.g. 10.99.1.10";

describe("the member list's problems (lib/bootstrap.ts)", () => {
    it("names an empty entry's missing name and address instead of failing on it", () => {
        expect(slotMembersProblems([null, { name: "kv-0", ip: "10.0.0.1" }], "kv-0")).to.deep.equal([
            `members[0].name undefined: ${nameRule}`,
            `members[0].ip undefined: ${ipRule}`,
        ]);
    });

    it("refuses an address that only prints like one (a String object)", () => {
        expect(slotMembersProblems([{ name: "kv-0", ip: new String("10.0.0.1") }], "kv-0")).to.deep.equal([`members[0].ip 10.0.0.1: ${ipRule}`]);
    });

    it("lists each repeated name once, all in one problem", () => {
        const member = (name: string, last: number) => ({ name, ip: `10.0.0.${last}` });
        expect(slotMembersProblems([member("kv-0", 1), member("kv-1", 2), member("kv-0", 3), member("kv-1", 4), member("kv-1", 5)], "kv-0"))
            .to.deep.equal(['members: "kv-0", "kv-1" named more than once']);
    });
});
