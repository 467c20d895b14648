/**
 * The harness's reading of systemd units, checked against systemd's documented
 * behaviour, since the local boot is only as faithful as this reading.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    expandVariables, parseCommand, parseEnvironmentFile, parseUnitFile, splitWords, unitEnvironment, unitNames, unitValues,
} from "../local/systemd-unit";

describe("local harness: systemd unit reading", () => {
    it("joins a line ending in a backslash with the next, skipping comment lines in between", () => {
        const unit = parseUnitFile("[Service]\nExecStart=/bin/a \\\n  --one \\\n# a comment\n  --two\n");
        const values = unitValues(unit, "Service", "ExecStart");
        expect(values).to.have.length(1);
        expect(splitWords(values[0])).to.deep.equal(["/bin/a", "--one", "--two"]);
    });

    it("keeps every value of a repeated setting and resets the list on an empty assignment", () => {
        const unit = parseUnitFile("[Service]\nExecStartPre=/bin/a\nExecStartPre=\nExecStartPre=/bin/b\nExecStartPre=/bin/c\n");
        expect(unitValues(unit, "Service", "ExecStartPre")).to.deep.equal(["/bin/b", "/bin/c"]);
    });

    it("lists the unit names of space-separated dependency settings", () => {
        const unit = parseUnitFile("[Unit]\nAfter=a.service network-online.target\nAfter=b.service\n");
        expect(unitNames(unit, "After")).to.deep.equal(["a.service", "network-online.target", "b.service"]);
    });

    it("splits words on whitespace, grouping quoted text and honouring escapes", () => {
        expect(splitWords(`/bin/x "two words" 'single quoted' a\\ b "say \\"hi\\""`)).to.deep.equal([
            "/bin/x", "two words", "single quoted", "a b", 'say "hi"',
        ]);
    });

    it("expands ${VAR} inside a word without splitting its value", () => {
        expect(expandVariables(["--url=http://${IP}:2379"], { IP: "10.0.0.1 x" })).to.deep.equal(["--url=http://10.0.0.1 x:2379"]);
    });

    it("expands a word that is exactly $VAR into the value's words", () => {
        expect(expandVariables(["/bin/x", "$FLAGS", "end"], { FLAGS: "--a --b" })).to.deep.equal(["/bin/x", "--a", "--b", "end"]);
    });

    it("expands an undefined variable to nothing, as systemd does", () => {
        expect(expandVariables(["--url=http://${MISSING}:2379", "$MISSING"], {})).to.deep.equal(["--url=http://:2379"]);
    });

    it("turns $$ into a literal dollar", () => {
        expect(expandVariables(["price=$$5"], {})).to.deep.equal(["price=$5"]);
    });

    it("reads the - prefix of a command as ignore-failure", () => {
        expect(parseCommand("-/usr/bin/podman rm --force etcd-member", {})).to.deep.equal({
            argv: ["/usr/bin/podman", "rm", "--force", "etcd-member"],
            ignoreFailure: true,
        });
    });

    it("refuses command prefixes and specifiers it does not emulate", () => {
        expect(() => parseCommand("+/bin/x", {})).to.throw(/prefix "\+"/);
        expect(() => parseCommand("/bin/x %i", {})).to.throw(/specifiers/);
    });

    it("reads KEY=VALUE environment files with comments and quotes", () => {
        expect(parseEnvironmentFile("# afterburn\nAFTERBURN_AWS_IPV4_LOCAL=10.0.0.1\nQUOTED=\"a b\"\n\n")).to.deep.equal({
            AFTERBURN_AWS_IPV4_LOCAL: "10.0.0.1",
            QUOTED: "a b",
        });
    });

    describe("environment of a unit in a node root", () => {
        let root: string;
        beforeEach(() => {
            root = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-unit-test-"));
            fs.mkdirSync(path.join(root, "run", "metadata"), { recursive: true });
            fs.writeFileSync(path.join(root, "run", "metadata", "afterburn"), "IP=10.0.0.1\nZONE=a\n");
        });
        afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

        it("reads EnvironmentFile= inside the node root, then Environment= over it", () => {
            const unit = parseUnitFile('[Service]\nEnvironmentFile=/run/metadata/afterburn\nEnvironment="ZONE=b c" OTHER=1\n');
            expect(unitEnvironment(unit, root)).to.deep.equal({ IP: "10.0.0.1", ZONE: "b c", OTHER: "1" });
        });

        it("skips a missing EnvironmentFile= marked optional with -", () => {
            const unit = parseUnitFile("[Service]\nEnvironmentFile=-/etc/missing\nEnvironmentFile=/run/metadata/afterburn\n");
            expect(unitEnvironment(unit, root)).to.deep.equal({ IP: "10.0.0.1", ZONE: "a" });
        });

        it("fails on a missing required EnvironmentFile=, as systemd fails the start", () => {
            const unit = parseUnitFile("[Service]\nEnvironmentFile=/etc/missing\n");
            expect(() => unitEnvironment(unit, root)).to.throw(/Failed to load environment files: \/etc\/missing/);
        });
    });
});
