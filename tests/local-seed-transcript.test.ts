/**
 * The seed's curl session, replayed through the load balancer of a cluster
 * booted on this machine from the component's own user data: formed through
 * the discovery service (3 and 5 members), and from the slots' static member
 * list with no discovery service running (`bootstrap: "static"`).
 */
import { expect } from "chai";
import type { BootstrapMethod } from "../lib/bootstrap";
import { readState } from "../local/cluster-registry";
import {
    Answer, curl, findLeader, findLeaderMs, getKeyWithQuorum, marginMs, putKey, requestBudget, requestTimeoutMs, useLocalCluster,
} from "./helpers/local-cluster";

const planets = "earth jupiter mars";
const galaxies = "milky way / Orion";
const morePlanets = "mercury/venus/saturn/jupiter/earth";
/** Requests per member in the /v2/stats/leader loop ("keep clicking refresh"). */
const refreshesPerMember = 12;
/** Rounds of the /v2/stats/leader loop run before an election in each of them fails the test. */
const maxRounds = 3;
/** Bound on each round's requests as a whole (at most 60, each taking milliseconds): their own bounds would add up to ten minutes. */
const refreshLoopMs = 30_000;

/** etcd answers this cluster version until its leader has decided one from its members' versions. */
const undecidedClusterVersion = "3.0.0";
/** Bound on waiting for the decision: etcd's leader checks its members' versions every 4 s, and at once when one publishes. */
const clusterVersionDecisionTimeoutMs = 15_000;

/** Worst case of `versionOnceClusterVersionDecided`: its wait, then one more pause and request. */
const versionWaitMs = clusterVersionDecisionTimeoutMs + 250 + requestTimeoutMs;

/** GET /version, again every 250 ms while the cluster version is still undecided, as it is for a moment after the cluster forms. */
async function versionOnceClusterVersionDecided(url: string): Promise<Answer> {
    const deadline = Date.now() + clusterVersionDecisionTimeoutMs;
    for (;;) {
        const answer = await curl(`${url}/version`);
        if (answer.body?.etcdcluster !== undecidedClusterVersion || Date.now() > deadline) {
            return answer;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
}

const cases: { size: number; bootstrap: BootstrapMethod }[] = [
    { size: 3, bootstrap: "discovery" }, { size: 5, bootstrap: "discovery" }, { size: 3, bootstrap: "static" },
];

for (const { size, bootstrap } of cases) {
    describe(`local cluster of ${size} formed by ${bootstrap} bootstrap: the seed's curl session through the load balancer`, function () {
        // Most tests here: four requests, or the wait for the cluster version.
        this.timeout(Math.max(4 * requestTimeoutMs, versionWaitMs) + marginMs);
        const cluster = useLocalCluster({ size, bootstrap });

        it("answers /health with health true", async () => {
            const answer = await curl(`${cluster().clusterUrl}/health`);
            expect(answer.status).to.equal(200);
            expect(answer.body.health).to.equal("true");
        });

        it("answers /version with an etcd 3.5 server and, once the leader has decided it, a 3.5 cluster version", async () => {
            const answer = await versionOnceClusterVersionDecided(cluster().clusterUrl);
            expect(answer.status).to.equal(200);
            expect(answer.body.etcdserver).to.match(/^3\.5\./);
            expect(answer.body.etcdcluster).to.match(/^3\.5\./);
        });

        it("answers /health and /version on every member's own URL", async function () {
            this.timeout(2 * size * requestTimeoutMs + marginMs);
            for (const node of cluster().nodes) {
                expect((await curl(`${node.clientUrl}/health`)).body.health, node.name).to.equal("true");
                expect((await curl(`${node.clientUrl}/version`)).body.etcdserver, node.name).to.match(/^3\.5\./);
            }
        });

        it("acknowledges PUT /v2/keys/planets with action set and the value", async () => {
            const answer = await putKey(cluster().clusterUrl, "planets", planets);
            expect(answer.status).to.be.oneOf([200, 201]);
            expect(answer.body.action).to.equal("set");
            expect(answer.body.node).to.include({ key: "/planets", value: planets });
            expect(answer.body.node.createdIndex).to.equal(answer.body.node.modifiedIndex);
        });

        it("acknowledges PUT /v2/keys/galaxies with a value containing spaces and a slash", async () => {
            const answer = await putKey(cluster().clusterUrl, "galaxies", galaxies);
            expect(answer.body.action).to.equal("set");
            expect(answer.body.node).to.include({ key: "/galaxies", value: galaxies });
        });

        it("returns each key with action get and the indexes its PUT reported", async () => {
            const url = cluster().clusterUrl;
            for (const [key, value] of [["planets", planets], ["galaxies", galaxies]]) {
                const put = await putKey(url, key, value);
                const get = await getKeyWithQuorum(url, key);
                expect(get.status).to.equal(200);
                expect(get.body.action).to.equal("get");
                expect(get.body.node).to.deep.equal({
                    key: `/${key}`,
                    value,
                    modifiedIndex: put.body.node.modifiedIndex,
                    createdIndex: put.body.node.createdIndex,
                });
            }
        });

        it("returns the previous node when a PUT updates a key", async () => {
            const url = cluster().clusterUrl;
            const first = await putKey(url, "planets", planets);
            const update = await putKey(url, "planets", morePlanets);
            expect(update.body.action).to.equal("set");
            expect(update.body.node).to.include({ key: "/planets", value: morePlanets });
            expect(update.body.node.createdIndex).to.be.greaterThan(first.body.node.modifiedIndex);
            expect(update.body.prevNode).to.deep.equal(first.body.node);
        });

        it("returns the deleted node and its previous value on DELETE, after which the key is gone", async () => {
            const url = cluster().clusterUrl;
            const put = await putKey(url, "planets", morePlanets);
            const deletion = await curl(`${url}/v2/keys/planets`, { method: "DELETE" });
            expect(deletion.status).to.equal(200);
            expect(deletion.body.action).to.equal("delete");
            expect(deletion.body.node.key).to.equal("/planets");
            expect(deletion.body.node.createdIndex).to.equal(put.body.node.createdIndex);
            expect(deletion.body.node.modifiedIndex).to.be.greaterThan(put.body.node.modifiedIndex);
            expect(deletion.body.prevNode).to.deep.equal(put.body.node);
            const after = await getKeyWithQuorum(url, "planets");
            expect(after.status).to.equal(404);
            expect(after.body.errorCode).to.equal(100);
        });

        it(`answers /v2/stats/leader from the leader with ${size - 1} followers about 1/${size} of the time and "not current leader" otherwise`, async function () {
            // Each round: the leader found before and after the requests.
            this.timeout(maxRounds * (2 * findLeaderMs(size) + refreshLoopMs) + marginMs);
            // An election in the middle of the loop (a slow machine can miss a heartbeat) changes who answers 200:
            // such a round is run again, a bounded number of times, rather than failing or passing by luck.
            for (let round = 1; ; round++) {
                const leader = await findLeader(cluster());
                const total = refreshesPerMember * size;
                const answers: Answer[] = [];
                const within = requestBudget(refreshLoopMs, `round ${round}'s ${total} requests for /v2/stats/leader`);
                for (let i = 0; i < total; i++) {
                    answers.push(await within((timeoutMs) => curl(`${cluster().clusterUrl}/v2/stats/leader`, { timeoutMs })));
                }
                const fromLeader = answers.filter((answer) => answer.status === 200);
                const stable = fromLeader.every((answer) => answer.body.leader === leader.id) && (await findLeader(cluster())).id === leader.id;
                if (!stable && round < maxRounds) {
                    continue;
                }
                expect(stable, `the leader changed in each of ${maxRounds} rounds`).to.equal(true);
                for (const answer of answers) {
                    if (answer.status === 200) {
                        expect(Object.keys(answer.body.followers)).to.have.length(size - 1).and.not.include(leader.id);
                    } else {
                        expect(answer.status).to.equal(403);
                        expect(answer.body).to.deep.equal({ message: "not current leader" });
                    }
                }
                // Round robin over the members gives the leader 1/N of the requests; the bounds allow a skew of 2.
                expect(fromLeader.length).to.be.within(Math.floor(refreshesPerMember / 2), refreshesPerMember * 2);
                return;
            }
        });

        it("lists every member in /v2/members with its peer URL at its private IP", async () => {
            const answer = await curl(`${cluster().clusterUrl}/v2/members`);
            const listed = (answer.body.members as { name: string; peerURLs: string[] }[]).map((member) => `${member.name}=${member.peerURLs.join(",")}`);
            expect(listed.sort()).to.deep.equal(cluster().nodes.map((node) => `${node.name}=http://${node.ip}:2380`).sort());
        });

        if (bootstrap === "discovery") {
            it("lists every member under the discovery URL as name=peer URL at its private IP", async () => {
                const answer = await curl(cluster().discoveryUrl!);
                expect(answer.body.action).to.equal("get");
                const registered = (answer.body.node.nodes as { value: string }[]).map((entry) => entry.value).sort();
                expect(registered).to.deep.equal(cluster().nodes.map((node) => `${node.name}=http://${node.ip}:2380`).sort());
            });
        } else {
            it("formed with no discovery service running and no discovery URL to export", () => {
                const running = readState(cluster().subnet)!.processes.map((process) => process.name);
                expect(running.filter((name) => name.startsWith("discovery"))).to.deep.equal([]);
                expect(running.filter((name) => name.endsWith(" etcd-member.service")), running.join("; ")).to.have.length(size);
                expect(cluster().discoveryUrl).to.equal(undefined);
            });
        }
    });
}
