/**
 * How the harness turns the unit's podman/docker lines into host commands:
 * faithful where it maps, loud where it cannot, and never kinder than the
 * node: addresses are touched only where etcd listens, and a container's
 * filesystem outside its volumes is its own and goes with it.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ContainerStore, LocalCommand, mapContainerCommand, NodeContext } from "../local/container-runtime";
import { ProcessGroup } from "../local/processes";
import { useTestNode } from "./helpers/node-root";

const image = "gcr.io/etcd-development/etcd:v3.5.33";

type ProcessCommand = Extract<LocalCommand, { kind: "process" }>;

describe("local harness: container runtime stand-in", () => {
    let context: NodeContext;
    let directory: string;
    let processes: ProcessGroup;
    beforeEach(() => {
        directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-runtime-test-"));
        const root = path.join(directory, "root");
        fs.mkdirSync(path.join(root, "var", "lib", "etcd"), { recursive: true });
        processes = new ProcessGroup();
        context = {
            root,
            address: "127.0.9.1",
            etcd: { path: "/usr/local/bin/etcd", version: "3.5.30", branch: "3.5" },
            containers: new ContainerStore(path.join(directory, "containers")),
        };
    });
    afterEach(async () => {
        await processes.stopAll(2000);
        fs.rmSync(directory, { recursive: true, force: true });
    });

    const podman = (...args: string[]) => mapContainerCommand(["/usr/bin/podman", ...args], context);
    const run = (...args: string[]) => podman("run", "--name", "etcd-member", "--rm", "--net=host", ...args) as ProcessCommand;
    const volume = ["--volume", "/var/lib/etcd:/var/lib/etcd:z"];

    /** Runs a mapped command as the systemd stand-in does: prepare, spawn, report the exit as the runtime would. */
    async function execute(command: ProcessCommand) {
        command.prepare?.();
        const child = processes.start({ name: "test", command: command.command, args: command.args, env: command.env, cwd: command.cwd, logFile: path.join(directory, "out.log") });
        command.started?.(child);
        return { child, exit: child.exited.then((status) => command.exited?.(status) ?? status) };
    }

    it("runs the host's etcd for an etcd image's /usr/local/bin/etcd", () => {
        expect(run(image, "/usr/local/bin/etcd", "--name=etcd-1")).to.deep.include({ kind: "process", command: "/usr/local/bin/etcd", args: ["--name=etcd-1"], image });
    });

    it("runs the host's etcdctl and etcdutl for the image's", () => {
        expect(run(image, "/usr/local/bin/etcdctl", "version")).to.deep.include({ command: "/usr/local/bin/etcdctl" });
        expect(run(image, "/usr/local/bin/etcdutl", "version")).to.deep.include({ command: "/usr/local/bin/etcdutl" });
    });

    it("accepts a pull policy, since the host's etcd needs no pull, and refuses one podman does not know", () => {
        expect(run("--pull=missing", image, "/usr/local/bin/etcd")).to.deep.include({ kind: "process", image });
        expect(() => run("--pull=sometimes", image, "/usr/local/bin/etcd")).to.throw("--pull=sometimes");
    });

    it("gives etcd an empty environment, as a container run without --env has", () => {
        expect(run(image, "/usr/local/bin/etcd")).to.deep.include({ env: {} });
    });

    it("maps paths under a volume's container path to its host path inside the node root", () => {
        const local = run("--volume", "/var/lib/etcd:/data:z", image, "/usr/local/bin/etcd", "--data-dir=/data", "--wal-dir", "/data/wal");
        expect(local.args).to.deep.equal([`--data-dir=${context.root}/var/lib/etcd`, "--wal-dir", `${context.root}/var/lib/etcd/wal`]);
    });

    it("maps paths outside every volume into the container's own filesystem, not the node's", () => {
        const local = run(...volume, image, "/usr/local/bin/etcd", "--data-dir=/etcd-data");
        const value = local.args[0].slice("--data-dir=".length);
        expect(value.startsWith(context.root)).to.equal(false);
        expect(value.startsWith(context.containers.directory)).to.equal(true);
    });

    it("works in the image's working directory, /var/lib/etcd: in the volume when one is mounted there, else in the container", () => {
        expect(run(...volume, image, "/usr/local/bin/etcd").cwd).to.equal(path.join(context.root, "var/lib/etcd"));
        expect(run(image, "/usr/local/bin/etcd").cwd!.startsWith(context.containers.directory)).to.equal(true);
    });

    it("loses what a container wrote outside its volumes once it is removed, as --rm removes it", async () => {
        const local = run(...volume, image, "/usr/local/bin/etcd", "--name=m", "--data-dir=/etcd-data",
            "--listen-client-urls=http://127.0.9.1:0", "--advertise-client-urls=http://127.0.9.1:2379",
            "--listen-peer-urls=http://127.0.9.1:0", "--initial-advertise-peer-urls=http://127.0.9.1:2380", "--initial-cluster=m=http://127.0.9.1:2380");
        const dataDir = local.args[1].slice("--data-dir=".length);
        const { child, exit } = await execute(local);
        for (let i = 0; i < 100 && !fs.existsSync(path.join(dataDir, "member")); i++) {
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(fs.existsSync(path.join(dataDir, "member")), "etcd wrote its data dir").to.equal(true);
        await child.stop(5000);
        await exit;
        expect(fs.existsSync(dataDir)).to.equal(false);
        expect(context.containers.get("etcd-member")).to.equal(undefined);
    });

    it("reports a container killed by a signal as podman does: exit code 128 + the signal's number", async () => {
        const { child, exit } = await execute(run(image, "/usr/local/bin/etcd", "--name=m", "--data-dir=/d",
            "--listen-client-urls=http://127.0.9.1:0", "--advertise-client-urls=http://127.0.9.1:2379",
            "--listen-peer-urls=http://127.0.9.1:0", "--initial-advertise-peer-urls=http://127.0.9.1:2380", "--initial-cluster=m=http://127.0.9.1:2380"));
        await child.kill();
        expect(await exit).to.deep.include({ code: 137, signal: null });
    });

    describe("addresses", () => {
        it("maps a wildcard listen address, IPv4 or IPv6, to the node's own address and leaves the others alone", () => {
            const local = run(image, "/usr/local/bin/etcd", "--listen-client-urls=http://0.0.0.0:2379,http://10.0.0.1:2379", "--listen-peer-urls", "http://[::]:2380");
            expect(local.args).to.deep.equal(["--listen-client-urls=http://127.0.9.1:2379,http://10.0.0.1:2379", "--listen-peer-urls", "http://127.0.9.1:2380"]);
        });

        it("rewrites no address outside the --listen-* flags", () => {
            const args = ["--initial-cluster=m=http://0.0.0.0:2380", "--discovery=http://0.0.0.0:4001/abc"];
            expect(run(image, "/usr/local/bin/etcd", ...args).args).to.deep.equal(args);
        });

        it("refuses a wildcard in an advertised URL, which on EC2 would hand peers and clients nobody's address", () => {
            expect(() => run(image, "/usr/local/bin/etcd", "--advertise-client-urls=http://0.0.0.0:2379")).to.throw(/advertises a wildcard address/);
            expect(() => run(image, "/usr/local/bin/etcd", "--initial-advertise-peer-urls", "http://[::]:2380")).to.throw(/advertises a wildcard address/);
            expect(() => run(image, "/usr/local/bin/etcd", "-advertise-client-urls=http://10.0.0.1:2379,http://0.0.0.0:2379")).to.throw(/wildcard/);
        });
    });

    describe("peer client certificates on one loopback", () => {
        it("turns off only etcd's check of the address a peer connects from, for a member that asks its peers for certificates", () => {
            expect(run(image, "/usr/local/bin/etcd", "--name=etcd-1", "--peer-client-cert-auth=true").args)
                .to.deep.equal(["--name=etcd-1", "--peer-client-cert-auth=true", "--experimental-peer-skip-client-san-verification=true"]);
        });

        it("leaves a member that asks no peer for a certificate, and etcd's tools, as they are", () => {
            expect(run(image, "/usr/local/bin/etcd", "--name=etcd-1", "--peer-client-cert-auth=false").args).to.deep.equal(["--name=etcd-1", "--peer-client-cert-auth=false"]);
            expect(run(image, "/usr/local/bin/etcdctl", "--peer-client-cert-auth=true").args).to.deep.equal(["--peer-client-cert-auth=true"]);
        });
    });

    describe("volumes and options", () => {
        it("fails like podman when a volume's host path does not exist on the node, where docker creates it", () => {
            expect(() => run("-v", "/srv/missing:/data", image, "/usr/local/bin/etcd")).to.throw(/\/srv\/missing does not exist on the node/);
            mapContainerCommand(["/usr/bin/docker", "run", "--rm", "-v", "/srv/created:/data", image, "/usr/local/bin/etcd"], context);
            expect(fs.existsSync(path.join(context.root, "srv/created"))).to.equal(true);
        });

        it("refuses a read-only volume, which it cannot enforce", () => {
            expect(() => run("-v", "/var/lib/etcd:/data:ro", image, "/usr/local/bin/etcd")).to.throw(/volume option "ro"/);
        });

        it("refuses container options and networks it does not emulate", () => {
            expect(() => run("--detach", image, "/usr/local/bin/etcd")).to.throw(/option --detach is not emulated/);
            expect(() => mapContainerCommand(["/usr/bin/docker", "run", "--net=bridge", image, "/usr/local/bin/etcd"], context)).to.throw(/--net=host/);
        });

        it("refuses an image of another etcd branch than the host's", () => {
            expect(() => run("gcr.io/etcd-development/etcd:v3.6.14", "/usr/local/bin/etcd")).to.throw(/not an etcd 3\.5 release/);
        });
    });

    describe("environment options", () => {
        /** etcdctl asking the endpoints its environment names (ETCDCTL_ENDPOINTS), else its default 127.0.0.1:2379, for their health. */
        const health = `${image} /usr/local/bin/etcdctl --dial-timeout=1s --command-timeout=1s endpoint health`;
        /** An address nothing listens on: etcdctl reports it unhealthy at once, naming it. */
        const endpoint = "http://127.0.9.1:1";

        it("sets the value of --env NAME=value, -e NAME=value and --env=NAME=value as it is, and takes nothing from the caller for them", () => {
            const local = run("--env", "A=1", "-e", "B=two words", "--env=C=x=y", "-e", "D=", image, "/usr/local/bin/etcdctl", "version");
            expect(local.env).to.deep.equal({ A: "1", B: "two words", C: "x=y", D: "" });
            expect(local.fromCaller).to.deep.equal([]);
        });

        it("names the variables of --env NAME, -e NAME and --env=NAME for the caller to copy, with no value of the harness's own", () => {
            process.env.ETCD3_TEST_FROM_HARNESS = "harness";
            try {
                const local = run("--env", "ETCDCTL_USER", "-e", "ETCDCTL_PASSWORD", "--env=ETCD3_TEST_FROM_HARNESS", image, "/usr/local/bin/etcdctl", "version");
                expect(local.fromCaller).to.deep.equal(["ETCDCTL_USER", "ETCDCTL_PASSWORD", "ETCD3_TEST_FROM_HARNESS"]);
                expect(local.env).to.deep.equal({});
            } finally {
                delete process.env.ETCD3_TEST_FROM_HARNESS;
            }
        });

        it("runs the image's etcdctl with a literal -e value in its environment", async () => {
            const { exit } = await execute(run("-e", `ETCDCTL_ENDPOINTS=${endpoint}`, ...health.split(" ")));
            await exit;
            expect(fs.readFileSync(path.join(directory, "out.log"), "utf8")).to.include(`${endpoint} is unhealthy`);
        });

        it("refuses the other environment options, a prefix match and a name given twice", () => {
            expect(() => run("--env-file", "/etc/etcd.env", image, "/usr/local/bin/etcd")).to.throw(/option --env-file is not emulated/);
            expect(() => run("--env-host", image, "/usr/local/bin/etcd")).to.throw(/option --env-host is not emulated/);
            expect(() => run("--env", "ETCDCTL_*", image, "/usr/local/bin/etcd")).to.throw(/prefix/);
            expect(() => run("--env", "A=1", "-e", "A", image, "/usr/local/bin/etcd")).to.throw(/gives A twice/);
            expect(() => run("--env", "=1", image, "/usr/local/bin/etcd")).to.throw(/no variable name/);
        });

        it("shows no value of an environment option in its messages", () => {
            expect(() => run("-e", "ETCDCTL_PASSWORD=s3cret", "--env=ETCDCTL_USER=root:s3cret")).to.throw(/needs an image/)
                .and.satisfy((error: Error) => !error.message.includes("s3cret") && error.message.includes("ETCDCTL_PASSWORD="));
            expect(() => run("-eETCDCTL_PASSWORD=s3cret", image, "/usr/local/bin/etcd")).to.throw(/option -eETCDCTL_PASSWORD is not emulated/)
                .and.satisfy((error: Error) => !error.message.includes("s3cret"));
        });

        describe("taken from the caller's environment", function () {
            this.timeout(30_000);
            const testNode = useTestNode();
            const output = () => fs.readFileSync(path.join(testNode().directory, "logs", "script.service.log"), "utf8");

            /** A oneshot that runs `lines` as a script with bash, with `extra` in its [Service]. */
            async function boot(lines: string[], extra: string[] = []): Promise<void> {
                fs.mkdirSync(path.join(testNode().root, "opt/test"), { recursive: true });
                fs.writeFileSync(path.join(testNode().root, "opt/test/script"), `#!/bin/bash\n${lines.join("\n")}\n`, { mode: 0o755 });
                testNode().unit("script.service", ["[Unit]", "[Service]", "Type=oneshot", ...extra, "ExecStart=/bin/bash /opt/test/script",
                    "[Install]", "WantedBy=multi-user.target"], true);
                await testNode().systemd().boot();
            }

            it("gives the container a variable the script exported and passes with --env NAME", async () => {
                await boot([`export ETCDCTL_ENDPOINTS=${endpoint}`, `podman run --rm --net=host --pull=missing --env ETCDCTL_ENDPOINTS ${health}`]);
                expect(output()).to.include(`${endpoint} is unhealthy`);
            });

            it("gives the container no variable the script passes with -e NAME but does not have, even one the harness has", async () => {
                process.env.ETCDCTL_ENDPOINTS = endpoint;
                try {
                    await boot(["unset ETCDCTL_ENDPOINTS", `podman run --rm --net=host -e ETCDCTL_ENDPOINTS ${health}`]);
                } finally {
                    delete process.env.ETCDCTL_ENDPOINTS;
                }
                expect(output()).to.match(/^127\.0\.0\.1:2379 is /m).and.not.include(endpoint);
            });

            it("gives the container no variable the script exported but did not pass", async () => {
                await boot([`export ETCDCTL_ENDPOINTS=${endpoint}`, `podman run --rm --net=host ${health}`]);
                expect(output()).to.match(/^127\.0\.0\.1:2379 is /m).and.not.include(endpoint);
            });

            it("takes --env NAME of a runtime on a unit's own command line from the unit's environment", async () => {
                testNode().unit("script.service", ["[Unit]", "[Service]", "Type=oneshot", `Environment=ETCDCTL_ENDPOINTS=${endpoint}`,
                    `ExecStart=/usr/bin/podman run --rm --net=host --env ETCDCTL_ENDPOINTS ${health}`, "[Install]", "WantedBy=multi-user.target"], true);
                await testNode().systemd().boot();
                expect(output()).to.include(`${endpoint} is unhealthy`);
            });

            it("gives a container on a unit's own command line nothing of the unit's environment it does not pass", async () => {
                testNode().unit("script.service", ["[Unit]", "[Service]", "Type=oneshot", `Environment=ETCDCTL_ENDPOINTS=${endpoint}`,
                    `ExecStart=/usr/bin/podman run --rm --net=host ${health}`, "[Install]", "WantedBy=multi-user.target"], true);
                await testNode().systemd().boot();
                expect(output()).to.match(/^127\.0\.0\.1:2379 is /m).and.not.include(endpoint);
            });
        });
    });

    describe("containers by name", () => {
        it("refuses a second run --name while the first container exists, and runs again once it is removed", async () => {
            const first = podman("run", "--name", "etcd-member", "--net=host", image, "/usr/local/bin/etcd", "--version") as ProcessCommand;
            await (await execute(first)).exit;
            const second = podman("run", "--name", "etcd-member", "--net=host", image, "/usr/local/bin/etcd", "--version") as ProcessCommand;
            expect(() => second.prepare!()).to.throw(/name "etcd-member" is already in use/);
            const remove = podman("rm", "etcd-member");
            expect(remove.kind).to.equal("action");
            expect(await (remove as Extract<LocalCommand, { kind: "action" }>).run()).to.equal(undefined);
            expect(() => (podman("run", "--name", "etcd-member", "--net=host", image, "/usr/local/bin/etcd") as ProcessCommand).prepare!()).to.not.throw();
        });

        it("fails rm and stop of a missing container unless told to ignore it, as on a first boot", async () => {
            const outcome = (command: LocalCommand) => (command as Extract<LocalCommand, { kind: "action" }>).run();
            expect(await outcome(podman("rm", "--force", "etcd-member"))).to.equal(undefined);
            expect(await outcome(podman("rm", "etcd-member"))).to.deep.include({ code: 125 });
            expect(await outcome(podman("stop", "etcd-member"))).to.deep.include({ code: 125 });
            expect(await outcome(podman("stop", "--ignore", "etcd-member"))).to.equal(undefined);
            // docker's rm --force still fails on a missing container.
            expect(await outcome(mapContainerCommand(["/usr/bin/docker", "rm", "-f", "etcd-member"], context))).to.deep.include({ code: 125 });
            expect(await outcome(podman("pull", image))).to.equal(undefined);
        });

        it("stops a running container with SIGTERM, as podman stop does", async () => {
            const { exit } = await execute(run(image, "/usr/local/bin/etcd", "--name=m", "--data-dir=/d",
                "--listen-client-urls=http://127.0.9.1:0", "--advertise-client-urls=http://127.0.9.1:2379",
                "--listen-peer-urls=http://127.0.9.1:0", "--initial-advertise-peer-urls=http://127.0.9.1:2380", "--initial-cluster=m=http://127.0.9.1:2380"));
            expect(await (podman("stop", "etcd-member") as Extract<LocalCommand, { kind: "action" }>).run()).to.equal(undefined);
            // etcd re-raises SIGTERM once it has shut down: podman reports 128 + 15.
            expect(await exit).to.deep.include({ code: 143 });
        });
    });
});
