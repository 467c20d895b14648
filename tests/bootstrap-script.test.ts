/**
 * The bootstrap script's decisions, branch by branch: the real script run by
 * bash with a scripted etcdctl that answers as a cluster in each situation
 * would and records every call. tests/local-lost-data.test.ts proves the same
 * script against real etcd; here each row of the README's table, and the
 * cases a live cluster rarely shows (a slow founding member, a change under
 * way), are pinned down exactly.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { bootstrapFlagsVariable, bootstrapRetry, leaveWatchIntervalSeconds, memberBootstrapScript } from "../lib/bootstrap";
import { memberCertificatePart } from "../lib/member-certificate";

const run = promisify(execFile);

/** How the scripted cluster answers. */
interface Cluster {
    /** Client URLs that answer a quorum read. */
    answering: string[];
    /** `member list -w simple` lines. */
    members: string[];
    /** Whether `member promote` succeeds. */
    promotes?: boolean;
    /** What this member's own `endpoint status` says it is; nothing when its etcd does not answer. */
    status?: "learner" | "voter";
    /** Peer URLs whose `GET /members` answers (a member that runs, quorum or not), and what it answers. */
    peersAnswering?: string[];
    peerView?: string;
    /** Whether this member's own `endpoint status` says it leads. */
    leads?: boolean;
    /** The value of the instance's leave tag, as the instance metadata service serves it; none: no such tag. */
    leaveTag?: string;
}

const founding = "kv-0=http://10.0.0.1:2380,kv-1=http://10.0.0.2:2380,kv-2=http://10.0.0.3:2380";
const formFlags = `--initial-cluster=${founding} --initial-cluster-state=new --initial-cluster-token=kv-1234`;

/** etcdctl as a shell script: answers from files the test writes, and logs each call's arguments after the timeouts. */
const fakeEtcdctl = `#!/bin/bash
here=\${0%/*}
args=()
for arg in "$@"; do
    case $arg in --dial-timeout=*|--command-timeout=*) ;; *) args+=("$arg") ;; esac
done
echo "\${args[*]}" >> "$here/calls"
endpoint=\${args[0]#--endpoints=}
case "\${args[1]} \${args[2]:-}" in
    "get "*) grep -qxF "$endpoint" "$here/answering" ;;
    "member list") cat "$here/members" ;;
    "member remove") echo "Member \${args[3]} removed from cluster 1234" ;;
    "member add") printf 'Member 77 added to cluster 1234\\n\\nETCD_NAME="%s"\\nETCD_INITIAL_CLUSTER="kv-1=http://10.0.0.2:2380,kv-2=http://10.0.0.3:2380,%s=%s"\\nETCD_INITIAL_CLUSTER_STATE="existing"\\n' "\${args[3]}" "\${args[3]}" "\${args[4]#--peer-urls=}" ;;
    "member promote") [[ -e $here/promotes ]] ;;
    "move-leader "*) echo "Leadership transferred from 1 to \${args[2]}" ;;
    "endpoint status") [[ -e $here/status ]] && printf '"MemberID" : 1\n"Leader" : %s\n"IsLearner" : %s\n' "$([[ -e $here/leads ]] && echo 1 || echo 2)" "$(cat "$here/status")" ;;
    *) echo "unexpected etcdctl call: \${args[*]}" >&2; exit 2 ;;
esac
`;

/** What the member's settings give curl for a peer's port with peer TLS. */
const { peerCurlOptions } = memberCertificatePart({ bucket: "kv-secrets", region: "eu-west-2" },
    { memberName: "kv-0", metadataEnvironmentFile: "/run/metadata/afterburn", privateIpVariable: "AFTERBURN_AWS_IPV4_LOCAL" });

/**
 * curl as a shell script; each call logged. \`GET <peer URL>/members\` of a member in peers-answering answers with
 * peer-view; the instance metadata service hands out a token for an IMDSv2 PUT and, with it, serves the leave tag.
 */
const fakeCurl = `#!/bin/bash
here=\${0%/*}/..
url=\${*: -1}
echo "curl $url" >> "$here/calls"
case $url in
    http://169.254.169.254/latest/api/token)
        [[ " $* " == *" -X PUT "* && " $* " == *"X-aws-ec2-metadata-token-ttl-seconds: 300"* ]] && echo token-1 ;;
    http://169.254.169.254/latest/meta-data/tags/instance/*)
        [[ " $* " == *"X-aws-ec2-metadata-token: token-1"* && -e $here/leave-tag && \${url##*/} == etcd3-cluster:leave ]] && cat "$here/leave-tag" ;;
    # A TLS peer port answers only a client that trusts the CA and shows the member's certificate.
    https://*) [[ " $* " == *" ${peerCurlOptions} "* ]] && grep -qxF "\${url%/members}" "$here/peers-answering" && cat "$here/peer-view" ;;
    *) grep -qxF "\${url%/members}" "$here/peers-answering" && cat "$here/peer-view" ;;
esac
`;

/**
 * Runs `etcd-member-bootstrap MODE 10.0.0.1` as member kv-0 against `cluster`
 * (with `peerTls`, peers talk TLS; with `clientTls`, the client URLs are https://); returns its output, exit code, flags file and calls.
 */
async function runScript(mode: "decide" | "promote" | "leave", cluster: Cluster,
    options: { dataPresent?: boolean; formFlags?: string; stopAtFirstSleep?: boolean; peerTls?: boolean; clientTls?: boolean } = {}) {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-bootstrap-script-"));
    try {
        const write = (name: string, text: string, mode = 0o644) => fs.writeFileSync(path.join(directory, name), text, { mode });
        write("script", memberBootstrapScript, 0o755);
        write("etcdctl", fakeEtcdctl, 0o755);
        write("answering", cluster.answering.map((url) => `${url}\n`).join(""));
        write("members", cluster.members.map((line) => `${line}\n`).join(""));
        write("calls", "");
        write("peers-answering", (cluster.peersAnswering ?? []).map((url) => `${url}\n`).join(""));
        write("peer-view", cluster.peerView ?? "[]");
        if (cluster.promotes) {
            write("promotes", "");
        }
        if (cluster.status) {
            write("status", cluster.status === "learner" ? "true" : "false");
        }
        if (cluster.leads) {
            write("leads", "");
        }
        if (cluster.leaveTag !== undefined) {
            write("leave-tag", cluster.leaveTag);
        }
        // The retries' sleeps take no time here: a sleep on PATH that returns at once.
        fs.mkdirSync(path.join(directory, "bin"));
        write("bin/curl", fakeCurl, 0o755);
        write("bin/sleep", options.stopAtFirstSleep ? "#!/bin/bash\necho \"slept $1\"\nexit 1\n" : "#!/bin/bash\n", 0o755);
        fs.mkdirSync(path.join(directory, "data", ...(options.dataPresent ? ["member"] : [])), { recursive: true });
        const env = {
            PATH: `${path.join(directory, "bin")}:/usr/bin:/bin`,
            MEMBER_NAME: "kv-0",
            MEMBER_CLIENT_URLS: ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((ip) => `${options.clientTls ? "https" : "http"}://${ip}:2379`).join(","),
            FORM_FLAGS: options.formFlags ?? formFlags,
            ETCDCTL: path.join(directory, "etcdctl"),
            ETCD_DATA_DIR: path.join(directory, "data"),
            ETCD_BOOTSTRAP_FILE: path.join(directory, "run", "bootstrap.env"),
            PEER_URL_SCHEME: options.peerTls ? "https" : "http",
            PEER_CURL_OPTIONS: options.peerTls ? peerCurlOptions : "",
            CLIENT_URL_SCHEME: options.clientTls ? "https" : "http",
        };
        const outcome = await run("bash", [path.join(directory, "script"), mode, "10.0.0.1"], { env, timeout: 60_000 })
            .then(({ stdout }) => ({ code: 0, stdout }), (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }));
        const flagsFile = path.join(directory, "run", "bootstrap.env");
        return {
            ...outcome,
            flags: fs.existsSync(flagsFile) ? fs.readFileSync(flagsFile, "utf8") : undefined,
            calls: fs.readFileSync(path.join(directory, "calls"), "utf8").trim().split("\n").filter((line) => line !== ""),
        };
    } finally {
        fs.rmSync(directory, { recursive: true, force: true });
    }
}

const others = ["http://10.0.0.2:2379", "http://10.0.0.3:2379"];
const peers = ["http://10.0.0.2:2380", "http://10.0.0.3:2380"];
const member = (id: string, status: "started" | "unstarted", name: string, ip: string, learner = false) =>
    `${id}, ${status}, ${name}, http://${ip}:2380, ${status === "started" ? `http://${ip}:2379` : ""}, ${learner}`;
const otherTwo = [member("b2", "started", "kv-1", "10.0.0.2"), member("c3", "started", "kv-2", "10.0.0.3")];

describe("the bootstrap script's decisions (lib/bootstrap.ts)", function () {
    this.timeout(90_000);

    it("starts a member with data from its data alone, asking nobody", async () => {
        const result = await runScript("decide", { answering: others, members: otherTwo }, { dataPresent: true });
        expect(result).to.deep.include({ code: 0, flags: `${bootstrapFlagsVariable}=\n`, calls: [] });
        expect(result.stdout).to.match(/^decide: \S+\/data\/member holds this member's data: it starts as the member it was\ndecide: etcd starts with: its data alone\n$/);
    });

    it("forms the cluster when no other member answers a quorum read or lists it as started, after asking each other slot once", async () => {
        const result = await runScript("decide", { answering: [], members: [] });
        expect(result).to.deep.include({ code: 0, flags: `${bootstrapFlagsVariable}=${formFlags}\n` });
        // Asked all at once: in whatever order they answer.
        expect([...result.calls].sort()).to.deep.equal([
            ...others.map((url) => `--endpoints=${url} get --keys-only --limit=1 etcd3-cluster/bootstrap-probe`),
            ...peers.map((url) => `curl ${url}/members`),
        ].sort());
    });

    it("forms the cluster when the others answer only on their own and list it without client URLs: they are forming it", async () => {
        const peerView = JSON.stringify([
            { id: 1, peerURLs: ["http://10.0.0.1:2380"] },
            { id: 2, peerURLs: ["http://10.0.0.2:2380"], name: "kv-1", clientURLs: ["http://10.0.0.2:2379"] },
            { id: 3, peerURLs: ["http://10.0.0.3:2380"] },
        ]);
        const result = await runScript("decide", { answering: [], members: [], peersAnswering: peers, peerView });
        expect(result).to.deep.include({ code: 0, flags: `${bootstrapFlagsVariable}=${formFlags}\n` });
    });

    it("waits, saying why, when the cluster lost its quorum: another member answers on its own and lists this member as started", async () => {
        const peerView = JSON.stringify([
            { id: 1, peerURLs: ["http://10.0.0.1:2380"], name: "kv-0", clientURLs: ["http://10.0.0.1:2379"] },
            { id: 3, peerURLs: ["http://10.0.0.3:2380"], name: "kv-2", clientURLs: ["http://10.0.0.3:2379"] },
        ]);
        const result = await runScript("decide", { answering: [], members: [], peersAnswering: [peers[1]], peerView });
        expect(result).to.deep.include({ code: 1, flags: undefined });
        expect(result.calls.filter((call) => / member (add|remove)/.test(call))).to.deep.equal([]);
        expect(result.stdout).to.match(new RegExp("^decide: no data, and no other member answers a quorum read, but http://10\\.0\\.0\\.3:2379 lists this " +
            "slot's member as started: the cluster formed before and has lost its quorum; kv-0 waits for it to return rather than form another\n", "m"))
            .and.contain(`decide: giving up after ${bootstrapRetry.decide.attempts} attempts\n`);
    });

    it("asks the others' peer ports over TLS with the member's certificate, and knows its slot by its https:// peer URL, when peers talk TLS", async () => {
        const peerView = JSON.stringify([
            { id: 1, peerURLs: ["https://10.0.0.1:2380"], name: "kv-0", clientURLs: ["http://10.0.0.1:2379"] },
            { id: 3, peerURLs: ["https://10.0.0.3:2380"], name: "kv-2", clientURLs: ["http://10.0.0.3:2379"] },
        ]);
        const tlsPeers = peers.map((url) => url.replace("http://", "https://"));
        const result = await runScript("decide", { answering: [], members: [], peersAnswering: [tlsPeers[1]], peerView }, { peerTls: true });
        expect(result).to.deep.include({ code: 1, flags: undefined });
        expect(result.calls).to.include(`curl ${tlsPeers[1]}/members`);
        expect(result.stdout).to.contain("but http://10.0.0.3:2379 lists this slot's member as started: the cluster formed before and has lost its quorum");
    });

    it("adds itself with its https:// peer URL when peers talk TLS", async () => {
        const result = await runScript("decide", { answering: [others[0]], members: otherTwo }, { formFlags: "", peerTls: true });
        expect(result).to.deep.include({ code: 0 });
        expect(result.calls.filter((call) => call.includes(" member add "))).to.deep.equal([
            `--endpoints=${others[0]} member add kv-0 --peer-urls=https://10.0.0.1:2380 --learner`,
        ]);
    });

    describe("with client TLS", () => {
        const tls = { peerTls: true, clientTls: true };
        const https = (url: string) => url.replace("http://", "https://");
        const tlsMember = (id: string, name: string, ip: string) => `${id}, started, ${name}, https://${ip}:2380, https://${ip}:2379, false`;

        it("asks only the other slots' https:// client URLs, never its own", async () => {
            const result = await runScript("decide", { answering: [], members: [] }, { ...tls, formFlags: "" });
            expect(result.calls.filter((call) => call.includes(" get ")).map((call) => call.split(" ")[0]).sort())
                .to.deep.equal(others.map((url) => `--endpoints=${https(url)}`).flatMap((call) => Array(bootstrapRetry.decide.attempts).fill(call)).sort());
        });

        it("reads a peer's member list at the peer port of the host in its https:// client URL", async () => {
            const peerView = JSON.stringify([{ id: 1, peerURLs: ["https://10.0.0.1:2380"], name: "kv-0", clientURLs: ["https://10.0.0.1:2379"] }]);
            const tlsPeers = peers.map(https);
            const result = await runScript("decide", { answering: [], members: [], peersAnswering: [tlsPeers[1]], peerView }, tls);
            expect(result.calls).to.include(`curl ${tlsPeers[1]}/members`);
            expect(result.stdout).to.contain(`but ${https(others[1])} lists this slot's member as started`);
        });

        it("asks its own etcd at its https:// client URL whether it is a voting member", async () => {
            const result = await runScript("promote", { answering: [], members: [], status: "voter" }, tls);
            expect(result.calls).to.deep.equal(["--endpoints=https://10.0.0.1:2379 endpoint status -w fields"]);
            expect(result.stdout).to.equal("promote: kv-0 is a voting member\n");
        });

        it("promotes itself through another member's https:// client URL", async () => {
            const members = [`a1, started, kv-0, https://10.0.0.1:2380, https://10.0.0.1:2379, true`,
                tlsMember("b2", "kv-1", "10.0.0.2"), tlsMember("c3", "kv-2", "10.0.0.3")];
            const result = await runScript("promote", { answering: [https(others[0])], members, promotes: true, status: "learner" }, tls);
            expect(result).to.deep.include({ code: 0 });
            expect(result.calls.slice(-1)).to.deep.equal([`--endpoints=${https(others[0])} member promote a1`]);
        });

        it("asks its own etcd at its https:// client URL before it leaves", async () => {
            const members = [tlsMember("a1", "kv-0", "10.0.0.1"), tlsMember("b2", "kv-1", "10.0.0.2"), tlsMember("c3", "kv-2", "10.0.0.3")];
            const result = await runScript("leave", { answering: [https(others[0])], members, status: "voter", leads: true, leaveTag: "kv-0" }, tls);
            expect(result.calls.filter((call) => /move-leader|endpoint status/.test(call))).to.deep.equal([
                "--endpoints=https://10.0.0.1:2379 endpoint status -w fields",
                "--endpoints=https://10.0.0.1:2379 move-leader b2",
            ]);
        });
    });

    it("never forms a cluster as a member added when the cluster grew: it waits for the cluster, and gives up after the bounded retries", async () => {
        const result = await runScript("decide", { answering: [], members: [] }, { formFlags: "" });
        expect(result).to.deep.include({ code: 1, flags: undefined });
        // Each attempt asks each other slot for a quorum read and, on its peer port, for its own member list.
        expect(result.calls).to.have.length(2 * others.length * bootstrapRetry.decide.attempts);
        expect(result.stdout).to.contain(`decide: no data, and no other member answers a quorum read (${others.join(" ")}): kv-0 joined the cluster ` +
            "after it formed and never forms one; it waits until the cluster answers\n").and.contain(`decide: giving up after ${bootstrapRetry.decide.attempts} attempts\n`);
    });

    it("joins as a member added when the cluster grew once the cluster answers", async () => {
        const result = await runScript("decide", { answering: [others[0]], members: otherTwo }, { formFlags: "" });
        expect(result).to.deep.include({ code: 0 });
        expect(result.calls.filter((call) => call.includes(" member "))).to.deep.equal([
            `--endpoints=${others[0]} member list -w simple`,
            `--endpoints=${others[0]} member add kv-0 --peer-urls=http://10.0.0.1:2380 --learner`,
        ]);
    });

    it("removes its stale member, then adds itself as a learner, and joins with the cluster's list", async () => {
        const result = await runScript("decide", { answering: [others[1]], members: [member("a1", "started", "kv-0", "10.0.0.1"), ...otherTwo] });
        expect(result.calls.slice(2)).to.deep.equal([
            `--endpoints=${others[1]} member list -w simple`,
            `--endpoints=${others[1]} member remove a1`,
            `--endpoints=${others[1]} member add kv-0 --peer-urls=http://10.0.0.1:2380 --learner`,
        ]);
        expect(result).to.deep.include({
            code: 0,
            flags: `${bootstrapFlagsVariable}=--initial-cluster=kv-1=http://10.0.0.2:2380,kv-2=http://10.0.0.3:2380,kv-0=http://10.0.0.1:2380 --initial-cluster-state=existing\n`,
        });
    });

    it("only adds itself when no member has its slot's peer URL (a new slot, or a removal done before)", async () => {
        const result = await runScript("decide", { answering: [others[0]], members: otherTwo });
        expect(result.calls.filter((call) => call.includes(" member "))).to.deep.equal([
            `--endpoints=${others[0]} member list -w simple`,
            `--endpoints=${others[0]} member add kv-0 --peer-urls=http://10.0.0.1:2380 --learner`,
        ]);
    });

    it("starts as its never-started member, with every member listed (a slow founding member, or a learner added before a reboot)", async () => {
        const members = [member("a1", "unstarted", "", "10.0.0.1"), member("b2", "started", "kv-1", "10.0.0.2"), member("c3", "unstarted", "", "10.0.0.3")];
        const result = await runScript("decide", { answering: [others[0]], members });
        expect(result.calls.filter((call) => / member (add|remove)/.test(call))).to.deep.equal([]);
        expect(result.flags).to.equal(
            `${bootstrapFlagsVariable}=--initial-cluster=kv-0=http://10.0.0.1:2380,kv-1=http://10.0.0.2:2380,=http://10.0.0.3:2380 --initial-cluster-state=existing\n`);
    });

    it("starts as its never-started founding member of a static list, which etcdctl shows named and 'started' but without client URLs", async () => {
        const members = ["a1, started, kv-0, http://10.0.0.1:2380, , false", ...otherTwo];
        const result = await runScript("decide", { answering: [others[0]], members });
        expect(result.calls.filter((call) => / member (add|remove)/.test(call))).to.deep.equal([]);
        expect(result.flags).to.equal(
            `${bootstrapFlagsVariable}=--initial-cluster=kv-0=http://10.0.0.1:2380,kv-1=http://10.0.0.2:2380,kv-2=http://10.0.0.3:2380 --initial-cluster-state=existing\n`);
        expect(result.stdout).to.contain("decide: member a1 at http://10.0.0.1:2380 is in the cluster and never started (learner: false): kv-0 starts as it\n");
    });

    it("waits while another member is a learner, and gives up after the bounded retries without changing anything", async () => {
        const result = await runScript("decide", { answering: others, members: [member("b2", "started", "kv-1", "10.0.0.2"), member("c3", "started", "kv-2", "10.0.0.3", true)] });
        expect(result.code).to.equal(1);
        expect(result.flags).to.equal(undefined);
        expect(result.calls.filter((call) => / member (add|remove)/.test(call))).to.deep.equal([]);
        expect(result.calls.filter((call) => call.endsWith("member list -w simple"))).to.have.length(bootstrapRetry.decide.attempts);
        expect(result.stdout).to.contain("decide: another membership change is under way (kv-2 still a learner): one change at a time\n")
            .and.contain(`decide: giving up after ${bootstrapRetry.decide.attempts} attempts\n`);
    });

    it("promotes itself when the cluster lists it as a learner", async () => {
        const members = [member("a1", "started", "kv-0", "10.0.0.1", true), ...otherTwo];
        const result = await runScript("promote", { answering: [others[0]], members, promotes: true, status: "learner" });
        expect(result.code).to.equal(0);
        expect(result.calls.slice(-1)).to.deep.equal([`--endpoints=${others[0]} member promote a1`]);
        expect(result.stdout).to.contain("promote: promoted learner a1 to a voting member\n");
    });

    it("tries the promotion again every 2 s while the learner catches up", async () => {
        const members = [member("a1", "started", "kv-0", "10.0.0.1", true), ...otherTwo];
        const result = await runScript("promote", { answering: [others[0]], members, status: "learner" }, { stopAtFirstSleep: true });
        expect(result.stdout).to.equal("promote: learner a1 has not caught up with the leader yet\n" +
            `promote: trying again in 2 s (attempt 1 of ${bootstrapRetry.promote.attempts})\nslept 2\n`);
    });

    it("does nothing to a voting member, asking only itself: no quorum needed while the cluster forms", async () => {
        const result = await runScript("promote", { answering: [], members: [], status: "voter" });
        expect(result.calls).to.deep.equal(["--endpoints=http://10.0.0.1:2379 endpoint status -w fields"]);
        expect(result.stdout).to.equal("promote: kv-0 is a voting member\n");
    });

    it("asks the cluster when its own etcd does not answer yet, and finds it a voting member there", async () => {
        const result = await runScript("promote", { answering: others, members: [member("a1", "started", "kv-0", "10.0.0.1"), ...otherTwo] });
        expect(result.calls.filter((call) => call.includes("promote"))).to.deep.equal([]);
        expect(result.stdout).to.equal("promote: member a1 is a voting member\n");
    });

    describe("leaving, once the instance is tagged to leave", () => {
        const imdsCalls = ["curl http://169.254.169.254/latest/api/token", "curl http://169.254.169.254/latest/meta-data/tags/instance/etcd3-cluster:leave"];
        const withMe = [member("a1", "started", "kv-0", "10.0.0.1"), ...otherTwo];

        it("watches its instance's tags quietly, through IMDSv2, and touches nothing while it has no leave tag", async () => {
            const result = await runScript("leave", { answering: [others[0]], members: withMe, status: "voter" }, { stopAtFirstSleep: true });
            expect(result.stdout).to.equal(`slept ${leaveWatchIntervalSeconds}\n`);
            expect(result.calls).to.deep.equal(imdsCalls);
        });

        it("ignores a leave tag that names another member", async () => {
            const result = await runScript("leave", { answering: [others[0]], members: withMe, status: "voter", leaveTag: "kv-1" }, { stopAtFirstSleep: true });
            expect(result.calls).to.deep.equal(imdsCalls);
        });

        it("removes its member through another member once tagged with its name, and ends", async () => {
            const result = await runScript("leave", { answering: [others[0]], members: withMe, status: "voter", leaveTag: "kv-0" });
            expect(result.code).to.equal(0);
            expect(result.calls.filter((call) => !call.startsWith("curl") && !call.includes(" get "))).to.deep.equal([
                `--endpoints=${others[0]} member list -w simple`,
                "--endpoints=http://10.0.0.1:2379 endpoint status -w fields",
                `--endpoints=${others[0]} member remove a1`,
            ]);
            expect(result.stdout).to.equal("leave: this instance is tagged etcd3-cluster:leave=kv-0: kv-0 leaves the cluster\n" +
                "leave: removed member a1 (kv-0 at http://10.0.0.1:2380) from the cluster\n");
        });

        it("hands leadership to another voting member before it removes itself when it leads", async () => {
            const members = [member("a1", "started", "kv-0", "10.0.0.1"), member("b2", "started", "kv-1", "10.0.0.2", true), member("c3", "started", "kv-2", "10.0.0.3")];
            const result = await runScript("leave", { answering: [others[0]], members, status: "voter", leads: true, leaveTag: "kv-0" }, { stopAtFirstSleep: true });
            // A learner is a change under way: nothing is moved or removed until it is done.
            expect(result.calls.filter((call) => /move-leader|member remove/.test(call))).to.deep.equal([]);
            const ready = await runScript("leave", { answering: [others[0]], members: withMe, status: "voter", leads: true, leaveTag: "kv-0" });
            expect(ready.calls.filter((call) => /move-leader|member remove/.test(call))).to.deep.equal([
                "--endpoints=http://10.0.0.1:2379 move-leader b2",
                `--endpoints=${others[0]} member remove a1`,
            ]);
            expect(ready.stdout).to.contain("leave: handed leadership to member b2\nleave: removed member a1");
        });

        it("is done when no member has its peer URL any more (a removal done before a reboot)", async () => {
            const result = await runScript("leave", { answering: [others[0]], members: otherTwo, status: "voter", leaveTag: "kv-0" });
            expect(result.code).to.equal(0);
            expect(result.calls.filter((call) => call.includes("member remove"))).to.deep.equal([]);
            expect(result.stdout).to.contain("leave: no member has this slot's peer URL http://10.0.0.1:2380: kv-0 has left the cluster\n");
        });

        it("is done as the cluster's last member, which no other member can outlive (a destroy)", async () => {
            const result = await runScript("leave", { answering: [], members: [member("a1", "started", "kv-0", "10.0.0.1")], status: "voter", leaveTag: "kv-0" });
            expect(result.code).to.equal(0);
            expect(result.calls.filter((call) => call.includes("member "))).to.deep.equal(["--endpoints=http://10.0.0.1:2379 member list -w simple"]);
            expect(result.stdout).to.contain("leave: kv-0 is the cluster's last member: there is no cluster to leave\n");
        });

        it("waits, saying why, while no other member answers a quorum read, and removes nothing", async () => {
            const result = await runScript("leave", { answering: [], members: withMe, status: "voter", leaveTag: "kv-0" }, { stopAtFirstSleep: true });
            expect(result.calls.filter((call) => /member (remove|add)|move-leader/.test(call))).to.deep.equal([]);
            expect(result.stdout).to.contain("leave: no other member answers a quorum read: the cluster cannot take a membership change now\n" +
                `leave: trying again in ${bootstrapRetry.leave.intervalSeconds} s (attempt 1 of ${bootstrapRetry.leave.attempts})\n`);
        });
    });

    it("refuses a mode it does not know", async () => {
        const result = await runScript("join" as never, { answering: others, members: otherTwo });
        expect(result.code).to.equal(2);
        expect(result.calls).to.deep.equal([]);
    });
});
