/**
 * The README's v3-gateway session (the seed's session for etcd 3.6 and 3.7, or
 * with `enableV2Api: false`), run as written, line by line, by bash and curl,
 * against the load balancer of a local cluster formed by static bootstrap
 * without the v2 API: the combination a 3.7 cluster has.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { curl, marginMs, useLocalCluster } from "./helpers/local-cluster";

const run = promisify(execFile);
/** Bound on each README line's run. */
const lineMs = 10_000;
const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");

/** The block after `<!-- transcript: v3-gateway -->`: the shell definitions every line needs, and the curl lines in order. */
function transcript(): { prelude: string; commands: string[] } {
    const match = /<!-- transcript: v3-gateway -->\n```sh\n([\s\S]*?)```/.exec(readme);
    if (!match) {
        throw new Error("README.md has no block marked <!-- transcript: v3-gateway -->");
    }
    const lines = match[1].trim().split("\n");
    // `URL=$(pulumi stack output …)` is the one line the test plays itself: it sets URL to the stand-in's URL.
    return {
        prelude: lines.filter((line) => !line.startsWith("curl ") && !line.startsWith("URL=")).join("\n"),
        commands: lines.filter((line) => line.startsWith("curl ")),
    };
}

const fromBase64 = (value: string) => Buffer.from(value, "base64").toString("utf8");
const base64 = (value: string) => Buffer.from(value).toString("base64");

describe("local cluster of 3, static bootstrap, no v2 API: the README's v3-gateway session through the load balancer", function () {
    // Most tests here: two lines.
    this.timeout(2 * lineMs + marginMs);
    const cluster = useLocalCluster({ size: 3, bootstrap: "static", enableV2Api: false });
    const { prelude, commands } = transcript();
    const answers: any[] = [];

    /** Runs README line `index` with bash, as a reader would paste it, and keeps its JSON answer. */
    async function line(index: number): Promise<any> {
        const { stdout } = await run("bash", ["-c", `set -eu\n${prelude}\n${commands[index]}`], {
            env: { ...process.env, URL: cluster().clusterUrl }, timeout: lineMs,
        });
        answers[index] = JSON.parse(stdout);
        return answers[index];
    }

    it("has the nine steps this test checks, in the README", () => {
        expect(commands).to.have.length(9);
    });

    it("serves no v2 API, so the session below is the v3 path", async () => {
        expect((await curl(`${cluster().clusterUrl}/v2/keys/planets`)).status).to.equal(404);
    });

    it("answers /health with health true", async () => {
        expect((await line(0)).health).to.equal("true");
    });

    it("answers /version with an etcd 3.5 server", async () => {
        expect((await line(1)).etcdserver).to.match(/^3\.5\./);
    });

    it("puts planets and galaxies, each at a new revision", async () => {
        const [planets, galaxies] = [await line(2), await line(3)];
        expect(Number(galaxies.header.revision)).to.equal(Number(planets.header.revision) + 1);
    });

    it("ranges back each value as base64, with the revisions its put reported", async () => {
        const [planets, galaxies] = [await line(4), await line(5)];
        expect(planets.kvs.map((kv: any) => [fromBase64(kv.key), fromBase64(kv.value), kv.mod_revision]))
            .to.deep.equal([["planets", "earth jupiter mars", answers[2].header.revision]]);
        expect(galaxies.kvs.map((kv: any) => [fromBase64(kv.key), fromBase64(kv.value), kv.mod_revision]))
            .to.deep.equal([["galaxies", "milky way / Orion", answers[3].header.revision]]);
    });

    it("answers an update with the previous key-value, as the seed's prevNode", async () => {
        const update = await line(6);
        expect(update.prev_kv).to.include({ key: base64("planets"), value: base64("earth jupiter mars"), mod_revision: answers[2].header.revision });
    });

    it("deletes the key, answering with the count and the value it held, after which range finds nothing", async () => {
        const deletion = await line(7);
        expect(deletion.deleted).to.equal("1");
        expect(deletion.prev_kvs.map((kv: any) => fromBase64(kv.value))).to.deep.equal(["mercury/venus/saturn/jupiter/earth"]);
        expect(await line(4)).to.not.have.property("kvs");
    });

    it("answers /v3/maintenance/status from every member with its own id and the one leader's", async function () {
        const requests = 9;
        this.timeout(requests * lineMs + marginMs);
        const seen = new Map<string, string>();
        for (let request = 0; request < requests; request++) {
            const status = await line(8);
            seen.set(status.header.member_id, status.leader);
        }
        expect(seen.size, "members that answered (round robin over 3)").to.equal(3);
        const leaders = new Set(seen.values());
        expect(leaders.size).to.equal(1);
        expect([...seen.keys()]).to.include([...leaders][0]);
    });
});
