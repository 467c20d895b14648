/**
 * Each way the README tells etcd v3 clients to reach the cluster, on a cluster
 * booted locally with the gRPC load balancer: etcdctl against the members'
 * own client URLs (`clientEndpoints`), etcdctl through the network load
 * balancer's stand-in (`grpcEndpoint`), and the v3 JSON gateway through the
 * application load balancer's (the cluster URL), and a gRPC client library
 * (the `etcd3` npm package) against the members and the network load balancer.
 */
import { expect } from "chai";
import { Etcd3 } from "etcd3";
import {
    Answer, curl, etcdctl, etcdctlTimeouts, findLeader, findLeaderMs, marginMs, nodeStopMs, requestTimeoutMs, useLocalCluster, waitForTargetMs,
} from "./helpers/local-cluster";

const size = 3;
/** gets through the network load balancer per member: each etcdctl run is a new connection, so a new pick. */
const getsPerMember = 2;

function base64(text: string): string {
    return Buffer.from(text).toString("base64");
}

function fromBase64(encoded: string): string {
    return Buffer.from(encoded, "base64").toString();
}

/**
 * The digits of every `"field":<number>` in etcdctl's JSON output. Member ids
 * are 64-bit, beyond what JSON.parse keeps exactly, so they are read as text.
 */
function numbersIn(json: string, field: string): string[] {
    return [...json.matchAll(new RegExp(`"${field}":(\\d+)`, "g"))].map((match) => match[1]);
}

describe(`local cluster of ${size} with the gRPC load balancer: etcd v3 clients`, function () {
    // Most tests here: two etcdctl runs, or three requests.
    this.timeout(Math.max(2 * etcdctlTimeouts.processMs, 3 * requestTimeoutMs) + marginMs);
    const cluster = useLocalCluster({ size, grpcLoadBalancer: true });
    const members = () => cluster().clientEndpoints;
    const networkLoadBalancer = () => [cluster().grpcEndpoint!];

    /** `curl $URL/v3/kv/<call> -XPOST -d '<json>'`, exactly as the README writes it. */
    const gateway = (call: "put" | "range" | "deleterange", body: object): Promise<Answer> =>
        curl(`${cluster().clusterUrl}/v3/kv/${call}`, { data: JSON.stringify(body) });

    it("offers the network load balancer on port 2379 of the services address", () => {
        expect(cluster().grpcEndpoint).to.equal(`127.0.${cluster().subnet}.254:2379`);
    });

    describe("etcdctl against the members' client endpoints", () => {
        it("gets back the value it put", async () => {
            expect(await etcdctl(members(), ["put", "planets", "earth jupiter mars"])).to.equal("OK\n");
            expect(await etcdctl(members(), ["get", "planets", "--print-value-only"])).to.equal("earth jupiter mars\n");
        });

        it("lists the three members by name, each with its client endpoint", async () => {
            const list = JSON.parse(await etcdctl(members(), ["member", "list", "-w", "json"]));
            const listed = (list.members as { name: string; clientURLs: string[] }[])
                .map((member) => `${member.name} ${member.clientURLs.join(",")}`)
                .sort();
            expect(listed).to.deep.equal([
                `etcd3-cluster-0 ${members()[0]}`,
                `etcd3-cluster-1 ${members()[1]}`,
                `etcd3-cluster-2 ${members()[2]}`,
            ]);
        });

        it("finds every member of the cluster healthy", async () => {
            const health = JSON.parse(await etcdctl(members(), ["endpoint", "health", "--cluster", "-w", "json"])) as
                { endpoint: string; health: boolean }[];
            expect(health.map((endpoint) => endpoint.endpoint).sort()).to.deep.equal([...members()].sort());
            expect(health.every((endpoint) => endpoint.health), JSON.stringify(health)).to.equal(true);
        });
    });

    describe("etcdctl through the network load balancer", () => {
        it("gets back the value it put", async () => {
            expect(await etcdctl(networkLoadBalancer(), ["put", "galaxies", "milky way / Orion"])).to.equal("OK\n");
            expect(await etcdctl(networkLoadBalancer(), ["get", "galaxies", "--print-value-only"])).to.equal("milky way / Orion\n");
        });

        it("spreads repeated gets, one connection each, over every member", async function () {
            this.timeout((2 + getsPerMember * size) * etcdctlTimeouts.processMs + marginMs);
            await etcdctl(members(), ["put", "comets", "halley"]);
            const memberIds = numbersIn(await etcdctl(members(), ["member", "list", "-w", "json"]), "ID");
            const servedBy: string[] = [];
            for (let i = 0; i < getsPerMember * size; i++) {
                const answer = await etcdctl(networkLoadBalancer(), ["get", "comets", "-w", "json"]);
                expect(fromBase64(JSON.parse(answer).kvs[0].value)).to.equal("halley");
                servedBy.push(...numbersIn(answer, "member_id"));
            }
            expect([...new Set(servedBy)].sort()).to.deep.equal([...memberIds].sort());
        });
    });

    describe("a gRPC client library (the etcd3 npm package)", () => {
        /** A client for `hosts`, closed even when the test fails. */
        async function withClient<T>(hosts: string[], use: (client: Etcd3) => Promise<T>): Promise<T> {
            const client = new Etcd3({ hosts, dialTimeout: 2000 });
            try {
                return await use(client);
            } finally {
                client.close();
            }
        }

        it("gets back the value it put, balancing over the client endpoints itself", async () => {
            const value = await withClient(members(), async (client) => {
                await client.put("nebulae").value("crab orion");
                return client.get("nebulae").string();
            });
            expect(value).to.equal("crab orion");
        });

        it("reads through the network load balancer what etcdctl wrote through the members", async () => {
            await etcdctl(members(), ["put", "clusters", "pleiades hyades"]);
            const value = await withClient([`http://${cluster().grpcEndpoint}`], (client) => client.get("clusters").string());
            expect(value).to.equal("pleiades hyades");
        });
    });

    describe("the v3 JSON gateway through the application load balancer", () => {
        it("ranges back the base64 value of a key it put", async () => {
            expect((await gateway("put", { key: base64("moons"), value: base64("io europa") })).status).to.equal(200);
            const range = await gateway("range", { key: base64("moons") });
            expect(range.status).to.equal(200);
            expect(range.body.kvs.map((kv: { value: string }) => fromBase64(kv.value))).to.deep.equal(["io europa"]);
        });

        it("deletes a key with deleterange, after which range finds no kvs", async () => {
            await gateway("put", { key: base64("pluto"), value: base64("planet") });
            const deleted = await gateway("deleterange", { key: base64("pluto") });
            expect(deleted.status).to.equal(200);
            expect(deleted.body.deleted).to.equal("1");
            const range = await gateway("range", { key: base64("pluto") });
            expect(range.status).to.equal(200);
            expect(range.body).to.not.have.property("kvs");
        });

        it("reads a value etcdctl wrote through the members: one v3 store", async () => {
            await etcdctl(members(), ["put", "stars", "sirius vega"]);
            const range = await gateway("range", { key: base64("stars") });
            expect(fromBase64(range.body.kvs[0].value)).to.equal("sirius vega");
        });
    });

    // Last: the member stays stopped until the suite's teardown.
    describe("with a follower stopped and marked DOWN", () => {
        before(async function () {
            // Bounded steps: waiting out an election, the stop, the target wait.
            this.timeout(findLeaderMs(size) + nodeStopMs + waitForTargetMs() + marginMs);
            const leader = (await findLeader(cluster())).index;
            const follower = cluster().nodes[(leader + 1) % size];
            await follower.stop();
            await cluster().waitForTarget(follower.name, "DOWN");
        });

        it("keeps answering every etcdctl put and get through the network load balancer", async function () {
            this.timeout(2 * getsPerMember * size * etcdctlTimeouts.processMs + marginMs);
            for (let i = 0; i < getsPerMember * size; i++) {
                expect(await etcdctl(networkLoadBalancer(), ["put", `asteroid-${i}`, `ceres ${i}`])).to.equal("OK\n");
                expect(await etcdctl(networkLoadBalancer(), ["get", `asteroid-${i}`, "--print-value-only"])).to.equal(`ceres ${i}\n`);
            }
        });
    });
});
