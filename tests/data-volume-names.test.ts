/**
 * The names lib/data-volume.ts derives, at their edges: unit names of paths
 * systemd normalises or escapes (doubled slashes, the root, a control
 * character), and volume ids only when they are whole strings.
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import { isVolumeId, pathUnitName } from "../lib/data-volume";

describe("the data volume's names at their edges (lib/data-volume.ts)", () => {
    it("names the unit of a path with doubled, leading or trailing slashes, the root or a tab as systemd-escape --path does", () => {
        for (const file of ["//var/lib/etcd", "/srv/x//", "/srv//x", "/", "/a\tb"]) {
            const expected = execFileSync("systemd-escape", ["--path", "--suffix=mount", file], { encoding: "utf8" }).trim();
            expect(pathUnitName(file, "mount"), JSON.stringify(file)).to.equal(expected);
        }
    });

    it("takes a volume id only as the whole string, not inside a longer one or from an object that prints as one", () => {
        expect(["my-vol-0123456789abcdef0", { toString: () => "vol-0123456789abcdef0" }].filter(isVolumeId)).to.deep.equal([]);
    });
});
