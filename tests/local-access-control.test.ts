/**
 * etcd's access control (`rootPassword`) on a cluster booted on this machine
 * from the component's user data: the members' own unit turns it on once the
 * cluster has formed, with the password it reads from the S3 stand-in (signed
 * requests, the role's policy, the object's KMS key checked); clients through
 * the ALB stand-in and etcdctl at `clientEndpoints` are refused without a
 * token and served with one; the load balancers' health checks keep working;
 * the members' own tools (the bootstrap, the snapshots, the defragmentation)
 * run as root; and the password is nowhere on a node but in memory.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import {
    accessControlSettingsPath, accessControlUnitName, rootPasswordKey, tokenKeyDirectory, tokenKeyFiles, tokenSigningKeyKey,
} from "../lib/access-control";
import { defragmentServiceName } from "../lib/maintenance";
import { snapshotServiceName } from "../lib/snapshots";
import type { LocalCluster, LocalNode } from "../local/cluster";
import { defaultUnitStartWaitMs, rootToken } from "../local/cluster";
import { waitUntil } from "../local/processes";
import {
    etcdctl, etcdctlTimeouts, hostEtcdctl, loseDataAndReboot, loseDataAndRebootMs, marginMs, members, nodeStartMs, nodeStopMs, reachingMembers,
    useLocalCluster, waitUntilMs,
} from "./helpers/local-cluster";

const run = promisify(execFile);

/** Quotes, a backslash, a dollar and spaces: every character the members' scripts must carry through unharmed. */
const rootPassword = String.raw`correct "horse" $battery\staple`;

/** A file of a node's, by its path on the node. */
const onNode = (node: LocalNode, nodePath: string) => path.join(node.root, nodePath.slice(1));

/** One call to the v3 JSON gateway at `baseUrl`, with `token` as etcd's Authorization header if given. */
async function gateway(baseUrl: string, call: string, body: object, token?: string): Promise<{ status: number; body: any }> {
    const response = await fetch(`${baseUrl}/v3/${call}`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: token === undefined ? {} : { authorization: token },
        signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: await response.json() };
}
const base64 = (text: string) => Buffer.from(text).toString("base64");

/** The secrets bucket, as Ignition wrote it into a member's access control settings. */
const secretsBucketOf = (cluster: LocalCluster) =>
    /^SECRETS_BUCKET=(.+)$/m.exec(fs.readFileSync(onNode(cluster.nodes[0], accessControlSettingsPath), "utf8"))![1];

/** Every regular file under `directory`, recursively (symbolic links not followed). */
function filesUnder(directory: string): string[] {
    return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(directory, entry.name);
        return entry.isDirectory() ? filesUnder(full) : entry.isFile() ? [full] : [];
    });
}

/** Bound on one shell command of a test here (`changeRootPassword`, a line of the README's session). */
const commandMs = 15_000;

/** `etcdctl user passwd root` as the README has a user rotate the password: the new one on etcdctl's standard input, twice. */
async function changeRootPassword(cluster: LocalCluster, from: string, to: string): Promise<void> {
    const script = 'printf \'%s\\n%s\\n\' "$NEW" "$NEW" | "$ETCDCTL" --endpoints="$ENDPOINTS" --cacert="$CA" --user=root --password="$OLD" user passwd root';
    await run("bash", ["-c", script], {
        env: { PATH: process.env.PATH, ETCDCTL_API: "3", ETCDCTL: hostEtcdctl(), ENDPOINTS: cluster.clientEndpoints.join(","), CA: cluster.memberCaFile!, OLD: from, NEW: to },
        timeout: commandMs,
    });
}

describe("local cluster of 3 with rootPassword: etcd's access control", function () {
    // The longest of the other tests: four shell commands, or three etcdctl runs.
    this.timeout(4 * commandMs + marginMs);
    const cluster = useLocalCluster({ size: 3, bootstrap: "static", peerTls: true, clientTls: true, backups: true, rootPassword });
    const withoutCredentials = () => [`--cacert=${cluster().memberCaFile}`];

    it("refuses a write through the ALB without a token, and takes one with root's token from /v3/auth/authenticate", async () => {
        const { clusterUrl } = cluster();
        const put = { key: base64("access/written"), value: base64("with a token") };
        expect(await gateway(clusterUrl, "kv/put", put)).to.deep.equal({ status: 400, body: { code: 3, message: "etcdserver: user name is empty" } });
        const token = await rootToken(clusterUrl, rootPassword);
        expect((await gateway(clusterUrl, "kv/put", put, token)).status).to.equal(200);
        const read = await gateway(clusterUrl, "kv/range", { key: base64("access/written") }, token);
        expect(Buffer.from(read.body.kvs[0].value, "base64").toString()).to.equal("with a token");
    });

    it("takes a token from one member at every other: the members sign and check tokens with one key", async () => {
        const { nodes } = cluster();
        const token = await rootToken(nodes[0].clientUrl, rootPassword, cluster().memberCaFile);
        expect(token.split(".").length, "a JWT: header, claims, signature").to.equal(3);
        expect(JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString())).to.deep.equal({ alg: "ES256", typ: "JWT" });
        for (const node of nodes.slice(1)) {
            const answer = await run("curl", ["-sS", "--max-time", "5", "--cacert", cluster().memberCaFile!, "-H", `Authorization: ${token}`,
                "--data-binary", JSON.stringify({ key: base64("access/written") }), `${node.clientUrl}/v3/kv/range`], { timeout: 10_000 });
            expect(JSON.parse(answer.stdout).kvs, node.name).to.have.length(1);
        }
    });

    it("refuses etcdctl at clientEndpoints without credentials and with a wrong password, and serves root", async () => {
        const { clientEndpoints } = cluster();
        const refusal = (args: string[]) => etcdctl(clientEndpoints, args).then(() => "served", (error: Error) => error.message);
        expect(await refusal([...withoutCredentials(), "put", "access/etcdctl", "x"])).to.contain("etcdserver: user name is empty");
        expect(await refusal([...withoutCredentials(), "--user=root", "--password=not the password", "get", "access/written"]))
            .to.contain("etcdserver: authentication failed, invalid user ID or password");
        expect(await etcdctl(clientEndpoints, [...reachingMembers(cluster()), "put", "access/etcdctl", "as root"])).to.equal("OK\n");
    });

    it("keeps the load balancer's health checks answering: every target UP and /health through the ALB without credentials", async () => {
        const { clusterUrl, nodes } = cluster();
        expect(await cluster().targetStates()).to.deep.equal(Object.fromEntries(nodes.map((node) => [node.name, "UP"])));
        const health = await fetch(`${clusterUrl}/health`, { signal: AbortSignal.timeout(5_000) });
        expect({ status: health.status, body: await health.json() }).to.deep.equal({ status: 200, body: { health: "true", reason: "" } });
    });

    it("was turned on by the members' own unit: root with the role root, and each member's unit saying so", async () => {
        const { clientEndpoints, nodes } = cluster();
        expect(await etcdctl(clientEndpoints, [...reachingMembers(cluster()), "auth", "status"])).to.match(/^Authentication Status: true\n/);
        expect(await etcdctl(clientEndpoints, [...reachingMembers(cluster()), "user", "get", "root"])).to.equal("User: root\nRoles: root\n");
        const outputs = nodes.map((node) => node.unitOutput(accessControlUnitName));
        const turnedOn = outputs.filter((output) => output.includes("access control: turned on"));
        expect(turnedOn, outputs.join("\n---\n")).to.have.length.at.least(1);
        // It names the users and roles the cluster had as it turned on: only root, made by the members.
        expect(turnedOn[0], turnedOn[0]).to.match(/access control: turned on: the user root has the role root and the password from s3:\/\/[^;]+; users: root; roles besides root's own: none\n/);
        nodes.forEach((node) => expect(node.unit(accessControlUnitName).activeState, node.name).to.equal("active"));
    });

    it("runs the members' own etcdctl as root: the defragmentation checks every member, and the leader uploads a snapshot", async function () {
        // Three defragmentations one after another, an etcdctl run, the snapshots at once.
        this.timeout(3 * defaultUnitStartWaitMs + etcdctlTimeouts.processMs + defaultUnitStartWaitMs + marginMs);
        for (const node of cluster().nodes) {
            expect(await node.startUnit(defragmentServiceName), `${node.name}: ${node.unitOutput(defragmentServiceName)}`).to.equal("done");
            expect(node.unitOutput(defragmentServiceName), node.name).to.not.contain("not every member is healthy");
        }
        // A revision no snapshot has yet.
        await etcdctl(cluster().clientEndpoints, [...reachingMembers(cluster()), "put", "access/snapshot", "new revision"]);
        const outcomes = await Promise.all(cluster().nodes.map((node) => node.startUnit(snapshotServiceName)));
        const outputs = cluster().nodes.map((node) => node.unitOutput(snapshotServiceName)).join("\n---\n");
        expect(outcomes, outputs).to.deep.equal(["done", "done", "done"]);
        expect(outputs).to.match(/snapshot: uploaded/);
    });

    it("holds the token signing key in memory-backed /run only, readable by root alone, and the password nowhere on a node", async () => {
        const api = await cluster().s3Api()!;
        const signingKey = api.objects(secretsBucketOf(cluster())).get(tokenSigningKeyKey)!.body.toString();
        for (const node of cluster().nodes) {
            const key = onNode(node, tokenKeyFiles.privateKey);
            expect(fs.readFileSync(key, "utf8"), node.name).to.equal(signingKey);
            expect((fs.statSync(key).mode & 0o777).toString(8), node.name).to.equal("600");
            const holding = filesUnder(node.root).filter((file) => fs.readFileSync(file).includes(rootPassword));
            expect(holding, `${node.name}: files holding root's password`).to.deep.equal([]);
            const keyHolders = filesUnder(node.root).filter((file) => fs.readFileSync(file).includes(signingKey.split("\n")[1]));
            expect(keyHolders.map((file) => `/${path.relative(node.root, file)}`), node.name).to.deep.equal([tokenKeyFiles.privateKey]);
            expect(node.journal().join("\n"), `${node.name}'s journal`).to.not.contain(rootPassword);
            expect(node.userData).to.not.contain("root-password\"").and.to.not.contain(rootPassword);
        }
        expect(tokenKeyDirectory.startsWith("/run/")).to.equal(true);
    });

    it("rejoins a member whose data is gone: its start decision asks the others as root", async function () {
        const node = cluster().nodes[2];
        const rejoin = { peerScheme: "https", timeoutMs: 120_000 } as const;
        // The member lists before and after, the rejoin, the read from the member.
        this.timeout(2 * etcdctlTimeouts.processMs + loseDataAndRebootMs(node, rejoin) + etcdctlTimeouts.processMs + marginMs);
        const before = await members(cluster());
        await loseDataAndReboot(cluster(), 2, rejoin);
        const after = await members(cluster());
        expect(after.map((member) => member.peerUrl)).to.deep.equal(before.map((member) => member.peerUrl));
        expect(node.unitOutput("etcd-member.service")).to.match(new RegExp(`decide: adding ${node.name} at https://[\\d.]+:2380 as a learner`));
        const caughtUp = await etcdctl([node.clientUrl], [...reachingMembers(cluster()), "get", "access/etcdctl", "--print-value-only"]);
        expect(caughtUp.trim()).to.equal("as root");
    });

    it("runs the README's access-control session as written: a token for root, a write and a read with it, a write without refused", async () => {
        const block = /<!-- transcript: access-control -->\n```sh\n([\s\S]*?)```/.exec(fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8"));
        expect(block, "README.md's block marked <!-- transcript: access-control -->").to.not.equal(null);
        const lines = block![1].trim().split("\n");
        // The two lines that read the stack (its URL and config) are the ones the test plays itself, through the environment.
        expect(lines.slice(0, 2)).to.deep.equal(["URL=$(pulumi stack output etcd3ClusterUrl)", "PASSWORD=$(pulumi config get rootPassword)"]);
        const prelude = lines.slice(2).filter((line) => !line.startsWith("curl ")).join("\n");
        const answers: any[] = [];
        for (const command of lines.filter((line) => line.startsWith("curl "))) {
            const { stdout } = await run("bash", ["-c", `set -euo pipefail\n${prelude}\n${command}`], {
                env: { PATH: process.env.PATH, URL: cluster().clusterUrl, PASSWORD: rootPassword }, timeout: commandMs,
            });
            answers.push(JSON.parse(stdout));
        }
        expect(answers).to.have.length(4);
        const [put, range, refused, health] = answers;
        expect(Number(put.header.revision)).to.be.greaterThan(0);
        expect(range.kvs.map((kv: any) => Buffer.from(kv.value, "base64").toString())).to.deep.equal(["earth jupiter mars"]);
        expect(refused).to.deep.equal({ code: 3, message: "etcdserver: user name is empty" });
        expect(health).to.deep.equal({ health: "true", reason: "" });
    });

    it("gives a root made with another password while access control was off the bucket's before turning it on again", async function () {
        const unitWaitMs = 60_000;
        // Three etcdctl runs and a password change, the reboot, the wait for the unit.
        this.timeout(3 * etcdctlTimeouts.processMs + commandMs + nodeStopMs + nodeStartMs() + waitUntilMs(unitWaitMs, 0, 500) + marginMs);
        const node = cluster().nodes[1];
        const as = (password: string) => [...withoutCredentials(), "--user=root", `--password=${password}`];
        await etcdctl(cluster().clientEndpoints, [...as(rootPassword), "auth", "disable"]);
        // As a restored snapshot's root would be: there, with a password the bucket does not have.
        await changeRootPassword(cluster(), rootPassword, "a snapshot's old password");
        await node.stop();
        await node.start();
        await waitUntil(async () => node.unit(accessControlUnitName).activeState === "active", {
            description: `${node.name}'s ${accessControlUnitName} after its reboot`, timeoutMs: unitWaitMs, intervalMs: 500,
        });
        expect(await etcdctl(cluster().clientEndpoints, [...as(rootPassword), "auth", "status"])).to.match(/^Authentication Status: true\n/);
        const refused = await etcdctl(cluster().clientEndpoints, [...as("a snapshot's old password"), "auth", "status"]).then(() => "served", (e: Error) => e.message);
        expect(refused).to.contain("authentication failed");
    });

    it("follows a rotated password: etcdctl user passwd root, then the new secret in the bucket, and the members' etcdctl reads it", async function () {
        // Two password changes and two snapshots.
        this.timeout(2 * commandMs + 2 * defaultUnitStartWaitMs + marginMs);
        const node = cluster().nodes[0];
        const rotated = `${rootPassword} rotated`;
        const api = await cluster().s3Api()!;
        const bucket = secretsBucketOf(cluster());
        const stored = api.objects(bucket).get(rootPasswordKey)!;
        const storePassword = (password: string) =>
            api.putObject(bucket, rootPasswordKey, password, { contentType: stored.contentType, encryption: stored.encryption });
        try {
            await changeRootPassword(cluster(), rootPassword, rotated);
            // Between the two steps the members' etcdctl is refused: the snapshot's first call fails, and says why.
            expect(await node.startUnit(snapshotServiceName)).to.equal("failed");
            expect(node.unitOutput(snapshotServiceName).trim().split("\n").pop()).to.contain("authentication failed, invalid user ID or password");
            storePassword(rotated);
            expect(await node.startUnit(snapshotServiceName), node.unitOutput(snapshotServiceName)).to.equal("done");
        } finally {
            await changeRootPassword(cluster(), rotated, rootPassword).catch(() => undefined);
            storePassword(rootPassword);
        }
    });
});
