/**
 * The harness's play of a unit that runs a script with bash (local/node-shell.ts):
 * the script sees the node, not the test host, runs only programs the nodes
 * ship, reaches etcdctl only through the container runtime as on a node, and
 * its processes all end when its unit stops.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { startInstanceMetadataService } from "../local/instance-metadata-service";
import { nodeShellPrograms } from "../local/node-shell";
import { eventually, useTestNode } from "./helpers/node-root";

const image = "gcr.io/etcd-development/etcd:v3.5.33";

/** A oneshot that runs `/bin/bash /opt/test/script` with `args`. */
function scriptUnit(args = "", extra: string[] = []): string[] {
    return ["[Unit]", "[Service]", "Type=oneshot", "RemainAfterExit=yes", ...extra, `ExecStart=/bin/bash /opt/test/script ${args}`.trim(),
        "[Install]", "WantedBy=multi-user.target"];
}

describe("local harness: scripts run by bash in a node's unit", function () {
    this.timeout(30_000);
    const testNode = useTestNode();

    /** Writes the script as Ignition would, at /opt/test/script in the node root. */
    function script(lines: string[]): void {
        fs.mkdirSync(path.join(testNode().root, "opt/test"), { recursive: true });
        fs.writeFileSync(path.join(testNode().root, "opt/test/script"), `#!/bin/bash\n${lines.join("\n")}\n`, { mode: 0o755 });
    }

    const output = () => fs.readFileSync(path.join(testNode().directory, "logs", "script.service.log"), "utf8");

    it("reads and writes the node's /run and /var, and passes the unit's environment and arguments", async () => {
        fs.mkdirSync(path.join(testNode().root, "run"), { recursive: true });
        fs.writeFileSync(path.join(testNode().root, "var/lib/etcd/marker"), "on the node\n");
        script(['echo "$GREETING $1: $(cat /var/lib/etcd/marker)"', "mkdir -p /run/test", "echo written > /run/test/out"]);
        testNode().unit("script.service", scriptUnit("node-0", ['Environment="GREETING=hello from"']), true);
        const systemd = testNode().systemd();
        await systemd.boot();
        expect(systemd.status("script.service")).to.deep.include({ activeState: "active", result: "success" });
        expect(output()).to.equal("hello from node-0: on the node\n");
        expect(fs.readFileSync(path.join(testNode().root, "run/test/out"), "utf8")).to.equal("written\n");
        expect(fs.existsSync("/run/test/out")).to.equal(false);
    });

    it("finds only the programs the nodes ship: the test host's etcdctl is not there, as on a node", async () => {
        script(["etcdctl version"]);
        testNode().unit("script.service", scriptUnit(), true);
        const systemd = testNode().systemd();
        await systemd.boot();
        expect(systemd.status("script.service")).to.deep.include({ activeState: "failed", result: "exit-code" });
        expect(output()).to.match(/etcdctl: command not found/);
    });

    it("offers every listed program, and no other in /usr/bin", async () => {
        script(["cd /usr/bin", "echo *"]);
        testNode().unit("script.service", scriptUnit(), true);
        await testNode().systemd().boot();
        expect(output().trim().split(" ").sort()).to.deep.equal([...nodeShellPrograms, "docker", "podman"].sort());
    });

    it("runs etcdctl from the etcd image through the container runtime", async () => {
        script([`/usr/bin/podman run --rm --net=host --pull=missing ${image} /usr/local/bin/etcdctl version`]);
        testNode().unit("script.service", scriptUnit(), true);
        const systemd = testNode().systemd();
        await systemd.boot();
        expect(systemd.status("script.service").activeState).to.equal("active");
        expect(output()).to.match(/^etcdctl version: 3\.5\.\d+\nAPI version: 3\.5\n$/);
    });

    it("refuses a container option the runtime stand-in does not know, as the unit's own command line would be refused", async () => {
        script([`podman run --rm --privileged ${image} /usr/local/bin/etcdctl version`]);
        testNode().unit("script.service", scriptUnit(), true);
        const systemd = testNode().systemd();
        await systemd.boot();
        expect(systemd.status("script.service").activeState).to.equal("failed");
        expect(output()).to.include("container option --privileged is not emulated by the local harness");
    });

    describe("the instance metadata service", () => {
        it("reaches its instance's tags at http://169.254.169.254 through the node's stand-in", async () => {
            const service = await startInstanceMetadataService({ instanceId: "i-0123456789abcdef0", tags: async () => ({ "etcd3-cluster:leave": "etcd3-cluster-2" }) });
            try {
                testNode().host.instanceMetadataProxy = service.proxy;
                script([
                    'token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")',
                    'curl -sf -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/tags/instance/etcd3-cluster:leave',
                ]);
                testNode().unit("script.service", scriptUnit(), true);
                const systemd = testNode().systemd();
                await systemd.boot();
                expect(systemd.status("script.service").activeState).to.equal("active");
                expect(output()).to.equal("etcd3-cluster-2");
                expect(service.requests.map((request) => `${request.method} ${request.status}`)).to.deep.equal(["PUT 200", "GET 200"]);
            } finally {
                await service.stop();
            }
        });

        it("gives a script no proxy setting when its node has no metadata stand-in", async () => {
            // The names of the exported variables (bash's builtin: the nodes have no env program).
            script(["compgen -e"]);
            testNode().unit("script.service", scriptUnit(), true);
            await testNode().systemd().boot();
            expect(output()).to.match(/^PATH$/m);
            expect(output()).to.not.match(/^(http|https|all|no)_proxy$/im);
        });

        it("lets a proxy the unit sets itself win over the stand-in's, as the unit's curl would use it on the node", async () => {
            testNode().host.instanceMetadataProxy = "http://127.0.0.1:9";
            script(['echo "$http_proxy $no_proxy"']);
            testNode().unit("script.service", scriptUnit("", ['Environment="http_proxy=http://proxy.example.internal:3128"']), true);
            await testNode().systemd().boot();
            expect(output()).to.equal("http://proxy.example.internal:3128 127.0.0.0/8,localhost\n");
        });
    });

    it("ends every process the script started when its unit stops", async () => {
        // A duration no other test or script uses, so only this script's sleeps are counted.
        script(["( sleep 317; echo survived > /run/late ) &", "sleep 317"]);
        fs.mkdirSync(path.join(testNode().root, "run"), { recursive: true });
        testNode().unit("script.service", ["[Unit]", "[Service]", "ExecStart=/bin/bash /opt/test/script", "[Install]", "WantedBy=multi-user.target"], true);
        const systemd = testNode().systemd();
        await systemd.boot();
        expect(systemd.status("script.service").activeState).to.equal("active");
        const sleeping = () => fs.readdirSync("/proc").filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
            try {
                return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8") === "sleep\u0000317\u0000";
            } catch {
                return false;
            }
        });
        await eventually(() => sleeping().length === 2, 10_000, "the script and its child to sleep (two sleep 317)");
        await systemd.shutdown();
        expect(sleeping()).to.deep.equal([]);
    });
});
