/**
 * The token signing key rotated (`tokenSigningKeyGeneration`) on a cluster
 * booted on this machine with access control, as `pulumi up` takes it: the
 * new key written to the S3 stand-in first, then every member replaced, one
 * at a time, with the new user data; each member's own script reads the key
 * when etcd starts. A client writes through the load balancer during the
 * roll the way etcd's own clients behave: a request refused for its token
 * (`invalid auth token`, a token the member's key did not sign) makes it
 * authenticate again and retry once. Through the load balancer the new token
 * may come from a member with the other key, so some writes fail even then:
 * what that costs is measured, and every acknowledged write is read back.
 */
import { expect } from "chai";
import { createPublicKey, sign } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { accessControlSettingsPath, tokenKeyFiles, tokenSigningKeyKey } from "../lib/access-control";
import type { LocalCluster, LocalNode } from "../local/cluster";
import { rootToken } from "../local/cluster";
import { probe } from "../local/http";
import { probeOverrunMs, rollTimeoutMs, useLocalCluster } from "./helpers/local-cluster";

const rootPassword = "correct horse battery staple";
const base64 = (text: string) => Buffer.from(text).toString("base64");

/** A file of a node's, by its path on the node. */
const onNode = (node: LocalNode, nodePath: string) => path.join(node.root, nodePath.slice(1));

/** One call to the v3 JSON gateway at `baseUrl` with `token`, trusting the members' CA. */
async function gateway(cluster: LocalCluster, baseUrl: string, call: string, body: object, token: string): Promise<{ status: number; body: string }> {
    const answer = await probe(`${baseUrl}/v3/${call}`, {
        method: "POST", body: JSON.stringify(body), headers: { authorization: token }, caFile: cluster.memberCaFile,
    });
    return answer ?? { status: 0, body: "no answer" };
}

/** The token key in the secrets bucket of the S3 stand-in, PEM. */
async function storedTokenKey(cluster: LocalCluster): Promise<string> {
    const bucket = /^SECRETS_BUCKET=(.+)$/m.exec(fs.readFileSync(onNode(cluster.nodes[0], accessControlSettingsPath), "utf8"))![1];
    return (await cluster.s3Api())!.objects(bucket).get(tokenSigningKeyKey)!.body.toString("utf8");
}

/** A key's public half, PEM. */
const publicKeyOf = (pem: string) => createPublicKey(pem).export({ type: "spki", format: "pem" }).toString();

/**
 * `token`'s claims (user, auth revision) signed again with `keyPem`, valid
 * five minutes from now: a token the member holding that key would issue.
 */
function resigned(token: string, keyPem: string): string {
    const base64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");
    const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
    const unsigned = `${base64url(JSON.stringify({ alg: "ES256", typ: "JWT" }))}.${base64url(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + 300 }))}`;
    return `${unsigned}.${base64url(sign("sha256", Buffer.from(unsigned), { key: keyPem, dsaEncoding: "ieee-p1363" }))}`;
}

/** The public key each member checks tokens with, as its memory-backed file holds it. */
const memberTokenPublicKeys = (cluster: LocalCluster) => cluster.nodes.map((node) => publicKeyOf(fs.readFileSync(onNode(node, tokenKeyFiles.publicKey), "utf8")));

/** How the client's writes went during the roll. */
interface RollingClientTally {
    /** Writes answered 200 at the first try. */
    firstTry: number;
    /** Writes refused for their token, then answered 200 after authenticating again. */
    afterNewToken: number;
    /** Writes not answered 200 even after a new token, by status and message. */
    failed: string[];
    /** The keys of the writes acknowledged, with their values. */
    acknowledged: Map<string, string>;
}

describe("local cluster of 3 with rootPassword: the token signing key rotated, a roll at a time, under a write every 100 ms", function () {
    this.timeout(60_000);
    const cluster = useLocalCluster({ size: 3, bootstrap: "static", peerTls: true, clientTls: true, rootPassword });
    let oldKey = "";
    const tally: RollingClientTally = { firstTry: 0, afterNewToken: 0, failed: [], acknowledged: new Map() };

    before(async function () {
        // The roll, root's first token, and the client's last round: two writes and a token, each a probe (2 s at most).
        this.timeout(rollTimeoutMs(1, 3) + 4 * probeOverrunMs);
        const oldToken = await rootToken(cluster().clusterUrl, rootPassword);
        oldKey = await storedTokenKey(cluster());
        let rolling = true;
        const client = (async () => {
            let token = oldToken;
            for (let index = 0; rolling && index < 5_000; index++) {
                const put = { key: base64(`token-rotation/${index}`), value: base64(String(index)) };
                let answer = await gateway(cluster(), cluster().clusterUrl, "kv/put", put, token);
                if (answer.status === 200) {
                    tally.firstTry++;
                } else if (answer.body.includes("invalid auth token")) {
                    token = await rootToken(cluster().clusterUrl, rootPassword).catch(() => token);
                    answer = await gateway(cluster(), cluster().clusterUrl, "kv/put", put, token);
                    tally.afterNewToken += answer.status === 200 ? 1 : 0;
                }
                if (answer.status === 200) {
                    tally.acknowledged.set(`token-rotation/${index}`, String(index));
                } else {
                    tally.failed.push(`${answer.status} ${answer.body.trim()}`);
                }
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
        })();
        try {
            const args = { tokenSigningKeyGeneration: 1 };
            await cluster().updateObjects(args);
            for (const index of cluster().nodes.keys()) {
                await cluster().replaceNode(index, { args });
            }
        } finally {
            rolling = false;
            await client;
            const sent = tally.firstTry + tally.afterNewToken + tally.failed.length;
            process.stdout.write(`      token key rotation: of ${sent} writes, ${tally.firstTry} answered at once, ${tally.afterNewToken} after a new token, ` +
                `${tally.failed.length} failed ${JSON.stringify(tally.failed.slice(0, 5))}\n`);
        }
    });

    it("has every member check tokens with the new key from the bucket, no longer the old one", async () => {
        const stored = publicKeyOf(await storedTokenKey(cluster()));
        expect(stored).to.not.equal(publicKeyOf(oldKey));
        expect(memberTokenPublicKeys(cluster())).to.deep.equal([stored, stored, stored]);
    });

    it("refuses, at every member, a token the old key signed, and takes the same claims signed by the new key", async () => {
        const newToken = await rootToken(cluster().clusterUrl, rootPassword);
        // The same user, auth revision and lifetime: only the key differs, so only the key can be why one is refused.
        const [byOldKey, byNewKey] = [resigned(newToken, oldKey), resigned(newToken, await storedTokenKey(cluster()))];
        const read = { key: base64("token-rotation/0") };
        const statuses = await Promise.all(cluster().nodes.map(async (node) => [
            (await gateway(cluster(), node.clientUrl, "kv/range", read, byOldKey)).status,
            (await gateway(cluster(), node.clientUrl, "kv/range", read, byNewKey)).status,
            (await gateway(cluster(), node.clientUrl, "kv/range", read, newToken)).status,
        ]));
        expect(statuses).to.deep.equal([[401, 200, 200], [401, 200, 200], [401, 200, 200]]);
    });

    it("refuses writes during the roll for their token alone (one key signed it, another member checked it), and keeps every acknowledged one", async () => {
        expect(tally.firstTry, "writes answered at once").to.be.greaterThan(0);
        const refusedToken = "401 {\"code\":16, \"message\":\"etcdserver: invalid auth token\"}";
        expect(tally.failed.filter((failure) => failure !== refusedToken), "writes failed for another reason").to.deep.equal([]);
        const token = await rootToken(cluster().clusterUrl, rootPassword);
        const range = await gateway(cluster(), cluster().clusterUrl, "kv/range", { key: base64("token-rotation/"), range_end: base64("token-rotation0") }, token);
        const kept = new Map<string, string>((JSON.parse(range.body).kvs ?? []).map((kv: { key: string; value: string }) =>
            [Buffer.from(kv.key, "base64").toString(), Buffer.from(kv.value, "base64").toString()]));
        const lost = [...tally.acknowledged].filter(([key, value]) => kept.get(key) !== value).map(([key]) => key);
        expect(lost, "acknowledged writes not read back").to.deep.equal([]);
    });
});
