/**
 * The harness's systemd, unit kind by unit kind: a unit that would not start
 * (or would not stay up) on EC2 must not start locally either, and one that
 * would must. Each case boots a node root written by hand, as Ignition would
 * write it.
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { NodeSystemd, NodeSystemdOptions, shallRestart } from "../local/systemd";
import { eventually, fileSystemUuid, isMountPoint, TestNode, useTestNode } from "./helpers/node-root";

const image = "gcr.io/etcd-development/etcd:v3.5.33";
/** The suite's timeout: room for a test's boots, shutdowns and waits, to which a test that prepares a volume adds its tools' bounds. */
const suiteTimeoutMs = 20_000;
/** Bound on mkfs.ext4, and on losetup (TestNode.loopDevice) and blkid (fileSystemUuid) in tests/helpers/node-root.ts. */
const mkfsMs = 30_000;
const losetupMs = 10_000;
const blkidMs = 10_000;
const install = ["[Install]", "WantedBy=multi-user.target"];

/** A long-running service (the harness knows `sleep`) with extra [Unit] and [Service] lines. */
function service(unitLines: string[], serviceLines: string[] = ["ExecStart=/usr/bin/sleep 60"]): string[] {
    return ["[Unit]", ...unitLines, "[Service]", ...serviceLines, ...install];
}

/** A oneshot running `command`. */
function oneshot(command: string, extra: string[] = [], unitLines: string[] = []): string[] {
    return ["[Unit]", ...unitLines, "[Service]", "Type=oneshot", `ExecStart=${command}`, ...extra, ...install];
}

describe("local harness: systemd", function () {
    this.timeout(suiteTimeoutMs);
    const testNode = useTestNode();
    let node: TestNode;
    beforeEach(() => (node = testNode()));
    const boots: NodeSystemd[] = [];
    afterEach(() => boots.splice(0).forEach((boot) => boot.halt()));

    /** A boot of the node with options its helper does not give; halted after the test. */
    function bootWith(options: Partial<NodeSystemdOptions>): NodeSystemd {
        const systemd = new NodeSystemd({
            node: "test-node", host: node.host, logDirectory: path.join(node.directory, "logs"), playedUnits: [], processes: node.processes, ...options,
        });
        boots.push(systemd);
        return systemd;
    }

    describe("what starts at boot, and in what order", () => {
        it("never starts a unit that Requires= and is After= a oneshot that fails", async () => {
            node.unit("prepare.service", oneshot("/usr/bin/false"), true)
                .unit("app.service", service(["Requires=prepare.service", "After=prepare.service"]), true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("prepare.service")).to.deep.include({ activeState: "failed", result: "exit-code" });
            expect(systemd.status("app.service")).to.deep.include({ activeState: "failed", result: "dependency", mainPid: undefined });
            expect(systemd.journal.join("\n")).to.include("Dependency failed for app.service: it requires prepare.service, which failed");
        });

        it("starts a unit after its oneshot once the oneshot succeeded, and keeps the oneshot active with RemainAfterExit", async () => {
            node.unit("prepare.service", oneshot("/usr/bin/sleep 0.3", ["RemainAfterExit=yes"]), true)
                .unit("app.service", service(["Requires=prepare.service", "After=prepare.service"]), true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("prepare.service")).to.deep.include({ activeState: "active", subState: "exited" });
            expect(systemd.status("app.service")).to.deep.include({ activeState: "active", subState: "running" });
            const journal = systemd.journal;
            expect(journal.findIndex((line) => line.startsWith("app.service: Started")))
                .to.be.greaterThan(journal.findIndex((line) => line.startsWith("prepare.service: ExecStart: code=exited, status=0")));
        });

        it("leaves a oneshot without RemainAfterExit inactive once it has run, and still starts what needs it", async () => {
            node.unit("prepare.service", oneshot("/usr/bin/true"), true)
                .unit("app.service", service(["Requires=prepare.service", "After=prepare.service"]), true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("prepare.service")).to.deep.include({ activeState: "inactive", result: "success" });
            expect(systemd.status("app.service").activeState).to.equal("active");
        });

        it("starts a unit that only Wants= a failing one", async () => {
            node.unit("optional.service", oneshot("/usr/bin/false"), true)
                .unit("app.service", service(["Wants=optional.service", "After=optional.service"]), true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("optional.service").activeState).to.equal("failed");
            expect(systemd.status("app.service").activeState).to.equal("active");
        });

        it("skips a oneshot whose ConditionPathExists= does not hold, without failing what needs it", async () => {
            node.unit("join.service", oneshot("/usr/bin/false", [], ["ConditionPathExists=!/var/lib/etcd/member"]), true)
                .unit("app.service", service(["Requires=join.service", "After=join.service"]), true);
            fs.mkdirSync(path.join(node.root, "var/lib/etcd/member"));
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("join.service")).to.deep.include({ activeState: "inactive", result: "success" });
            expect(systemd.status("app.service").activeState).to.equal("active");
        });

        it("starts a dependency that is not ordered before its dependent only after the dependent: EC2 gives no order either", async () => {
            // The unit reads the file the played unit writes, requiring it without After=. The writer's name sorts
            // first, so a harness that just went by name would start it first and pass.
            const writer = { name: "a-writer.service", writes: "/run/facts", start: () => fs.writeFileSync(path.join(node.root, "run/facts"), "IP=10.0.0.1\n") };
            node.unit("app.service", service(["Requires=a-writer.service"], ["EnvironmentFile=/run/facts", "ExecStart=/usr/bin/sleep 60"]), true);
            const systemd = node.systemd([writer]);
            await systemd.boot();
            expect(systemd.status("app.service").activeState).to.equal("failed");
            expect(systemd.status("app.service").failure).to.include("Failed to load environment files: /run/facts does not exist")
                .and.include("a-writer.service writes it; app.service reads it without Requires= and After=a-writer.service");
        });

        it("starts the same unit once it is ordered After= the unit that writes its environment", async () => {
            const writer = { name: "writer.service", writes: "/run/facts", start: () => fs.writeFileSync(path.join(node.root, "run/facts"), "IP=10.0.0.1\n") };
            node.unit("app.service", service(["Requires=writer.service", "After=writer.service"], ["EnvironmentFile=/run/facts", "ExecStart=/usr/bin/sleep 60"]), true);
            const systemd = node.systemd([writer]);
            await systemd.boot();
            expect(systemd.status("app.service").activeState).to.equal("active");
        });

        it("applies drop-ins over the unit, an empty assignment resetting a list as in systemd", async () => {
            node.unit("app.service", service([], ["ExecStart=/usr/bin/false"]), true)
                .dropIn("app.service", "10-fix.conf", ["[Service]", "ExecStart=", "ExecStart=/usr/bin/sleep 60"]);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("app.service").activeState).to.equal("active");
        });

        it("fails a unit that Requires= a unit nobody provides, naming it", async () => {
            node.unit("app.service", service(["Requires=cloud-magic.service", "After=cloud-magic.service"]), true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("app.service").activeState).to.equal("failed");
            expect(systemd.status("app.service").failure).to.include("Requires=cloud-magic.service").and.include("not found");
        });

        it("does not start a unit Ignition wrote but did not enable, and says why", async () => {
            node.unit("app.service", service([]));
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.inBoot("app.service")).to.equal(false);
            expect(systemd.whyNotStarted("app.service")).to.include("app.service is not enabled");
        });

        it("does not start an enabled unit whose [Install] names no target the boot reaches", async () => {
            node.unit("app.service", ["[Service]", "ExecStart=/usr/bin/sleep 60", "[Install]", "WantedBy=rescue.target"], true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.whyNotStarted("app.service")).to.include("names no target the boot reaches");
        });

        it("fails the boot on an ordering cycle, since systemd would drop one of its jobs", async () => {
            node.unit("a.service", service(["After=b.service"]), true)
                .unit("b.service", service(["After=c.service"]), true)
                .unit("c.service", service(["After=a.service"]), true);
            await node.systemd().boot().then(
                () => expect.fail("the boot succeeded"),
                (error: Error) => expect(error.message).to.match(/ordering cycle/),
            );
        });

        it("refuses a setting it does not play rather than ignore it", async () => {
            node.unit("app.service", service([], ["ExecStart=/usr/bin/sleep 60", "KillMode=process"]), true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("app.service").failure).to.include("KillMode= in [Service] is not played by the local harness");
        });

        it("refuses a program it does not know how to run on the node", async () => {
            node.unit("app.service", service([], ["ExecStart=/usr/bin/curl http://example.invalid"]), true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("app.service").failure).to.include("/usr/bin/curl is not a program the local harness knows");
        });

        it("refuses path units, which it does not play yet", async () => {
            node.unit("backup.path", ["[Path]", "PathChanged=/var/lib/etcd", "[Install]", "WantedBy=paths.target"], true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("backup.path").failure).to.include(".path units are not played by the local harness yet");
        });
    });

    describe("container runtimes' daemons", () => {
        /** A unit like the component's, run by `runtime`, with the given dependency lines. */
        const etcdUnit = (runtime: string, requires: string, after: string) => [
            "[Unit]", `Requires=${requires}`, `After=${after}`,
            "[Service]",
            `ExecStartPre=-${runtime} rm --force etcd-member`,
            `ExecStart=${runtime} run --name etcd-member --rm --net=host --volume /var/lib/etcd:/var/lib/etcd ${image} /usr/local/bin/etcd --version`,
            ...install,
        ];

        it("plays docker.service for a docker unit that requires and is ordered after it", async () => {
            node.unit("etcd-member.service", etcdUnit("/usr/bin/docker", "docker.service", "docker.service"), true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("docker.service").activeState).to.equal("active");
            expect(systemd.journal.join("\n")).to.include("/usr/local/bin/etcd for image");
        });

        it("refuses a docker unit not ordered on docker.service: dockerd could stop first at shutdown or an update reboot", async () => {
            node.unit("etcd-member.service", etcdUnit("/usr/bin/docker", "docker.service", "network-online.target"), true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("etcd-member.service").failure).to.include("runs docker without Requires= and After=docker.service");
        });

        it("plays no docker.service for a podman unit: one that requires it fails", async () => {
            node.unit("etcd-member.service", etcdUnit("/usr/bin/podman", "docker.service", "docker.service"), true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("etcd-member.service").failure).to.include("Requires=docker.service").and.include("not found");
        });
    });

    describe("Restart= and the start rate limit", () => {
        it("restarts a main process that exits with a failure after RestartSec, and gives up at StartLimitBurst", async () => {
            node.unit("app.service", service(["StartLimitIntervalSec=10s", "StartLimitBurst=3"],
                ["ExecStart=/usr/bin/false", "Restart=on-failure", "RestartSec=300ms"]), true);
            const systemd = node.systemd();
            const started = Date.now();
            await systemd.boot();
            await eventually(() => systemd.status("app.service").result === "start-limit-hit", 5_000, "the start limit");
            const status = systemd.status("app.service");
            expect(status).to.deep.include({ activeState: "failed", restarts: 3 });
            // Three restarts, each RestartSec after the previous failure.
            expect(Date.now() - started).to.be.at.least(900);
            expect(status.failure).to.include("Start request repeated too quickly (3 starts within 10 s)");
        });

        it("gives up at systemd's default limit of 5 starts in 10 s with the default RestartSec of 100 ms", async () => {
            node.unit("app.service", service([], ["ExecStart=/usr/bin/false", "Restart=on-failure"]), true);
            const systemd = node.systemd();
            await systemd.boot();
            await eventually(() => systemd.status("app.service").result === "start-limit-hit", 5_000, "the start limit");
            expect(systemd.status("app.service").restarts).to.equal(5);
        });

        it("restarts a main process killed by a signal, and runs it again", async () => {
            node.unit("app.service", service([], ["ExecStart=/usr/bin/sleep 60", "Restart=on-failure", "RestartSec=200ms"]), true);
            const systemd = node.systemd();
            await systemd.boot();
            const first = systemd.status("app.service").mainPid;
            systemd.kill("app.service", "SIGKILL");
            await eventually(() => systemd.status("app.service").restarts === 1 && systemd.status("app.service").mainPid !== undefined, 5_000, "a restart");
            expect(systemd.status("app.service").mainPid).to.not.equal(first);
            expect(systemd.journal.join("\n")).to.include("Main process exited, code=killed, status=SIGKILL");
        });

        it("does not restart a clean exit under Restart=on-failure", async () => {
            node.unit("app.service", service([], ["ExecStart=/usr/bin/true", "Restart=on-failure", "RestartSec=100ms"]), true);
            const systemd = node.systemd();
            await systemd.boot();
            await eventually(() => systemd.status("app.service").activeState === "inactive", 5_000, "the exit");
            await new Promise((resolve) => setTimeout(resolve, 300));
            expect(systemd.status("app.service")).to.deep.include({ activeState: "inactive", restarts: 0 });
        });

        it("does not restart a unit that was stopped", async () => {
            node.unit("app.service", service([], ["ExecStart=/usr/bin/sleep 60", "Restart=always", "RestartSec=100ms"]), true);
            const systemd = node.systemd();
            await systemd.boot();
            await systemd.shutdown();
            await new Promise((resolve) => setTimeout(resolve, 300));
            expect(systemd.status("app.service")).to.deep.include({ activeState: "inactive", restarts: 0, mainPid: undefined });
        });

        it("restarts as systemd.service(5)'s table says", () => {
            expect(shallRestart("on-failure", "exit-code")).to.equal(true);
            expect(shallRestart("on-failure", "signal")).to.equal(true);
            expect(shallRestart("on-failure", "resources")).to.equal(true);
            expect(shallRestart("on-failure", "success")).to.equal(false);
            expect(shallRestart("on-failure", "start-limit-hit")).to.equal(false);
            expect(shallRestart("on-abnormal", "exit-code")).to.equal(false);
            expect(shallRestart("on-abnormal", "signal")).to.equal(true);
            expect(shallRestart("on-abort", "timeout")).to.equal(false);
            expect(shallRestart("always", "success")).to.equal(true);
            expect(shallRestart("no", "exit-code")).to.equal(false);
        });
    });

    describe("halt (the harness's teardown, which stops the processes itself)", () => {
        /** Boots `unit` as app.service and halts the node while its `ExecStartPre=/usr/bin/sleep 0.4` runs; resolves once that has ended. */
        async function haltDuringStartPre(unit: string[]): Promise<NodeSystemd> {
            node.unit("app.service", unit, true);
            const systemd = node.systemd();
            void systemd.boot();
            await eventually(() => node.processes.records().length === 1, 5_000, "ExecStartPre to run");
            systemd.halt();
            await eventually(() => systemd.journal.some((line) => line.startsWith("app.service: ExecStartPre: code=exited")), 5_000, "ExecStartPre to end");
            await eventually(() => systemd.status("app.service").activeState !== "activating", 5_000, "the start to settle");
            return systemd;
        }

        it("starts no main process once halted, though the ExecStartPre= before it ends after the halt", async () => {
            const systemd = await haltDuringStartPre(service([], ["ExecStartPre=/usr/bin/sleep 0.4", "ExecStart=/usr/bin/sleep 60"]));
            expect(node.processes.records()).to.deep.equal([]);
            expect(systemd.status("app.service").mainPid).to.equal(undefined);
            expect(systemd.journal.join("\n")).to.include("ExecStart=/usr/bin/sleep 60: not started: the node is halted");
        });

        it("runs no further command of a oneshot once halted", async () => {
            const systemd = await haltDuringStartPre(oneshot("/usr/bin/sleep 60", ["ExecStartPre=/usr/bin/sleep 0.4"]));
            expect(node.processes.records()).to.deep.equal([]);
            expect(systemd.journal.join("\n")).to.include("not started: the node is halted");
        });
    });

    describe("SuccessAction=poweroff", () => {
        /** A boot of the node that counts its power-offs; `poweredOff` settles at the first, or fails after `timeoutMs`. */
        function poweringBoot(): { systemd: NodeSystemd; powerOffs: () => number; poweredOff: (timeoutMs?: number) => Promise<void> } {
            let count = 0;
            let reported: () => void = () => undefined;
            const reportedOnce = new Promise<void>((resolve) => (reported = resolve));
            const systemd = bootWith({
                onPowerOff: () => {
                    count += 1;
                    reported();
                },
            });
            const poweredOff = (timeoutMs = 5_000) => {
                let timer: NodeJS.Timeout | undefined;
                const late = new Promise<never>((_, reject) => {
                    timer = setTimeout(() => reject(new Error(`the node did not power off within ${timeoutMs} ms`)), timeoutMs);
                });
                return Promise.race([reportedOnce, late]).finally(() => clearTimeout(timer));
            };
            return { systemd, powerOffs: () => count, poweredOff };
        }

        /** A service that leaves: its main process runs `command`, and the node powers off once it has succeeded. */
        const leave = (serviceLines: string[], action = "poweroff") => service([`SuccessAction=${action}`], serviceLines);

        it("powers the node off when the service's main process exits cleanly: every unit stopped, then onPowerOff", async () => {
            node.unit("app.service", service([]), true).unit("leave.service", leave(["ExecStart=/usr/bin/sleep 0.3"]), true);
            const { systemd, poweredOff } = poweringBoot();
            await systemd.boot();
            expect(systemd.status("app.service").activeState).to.equal("active");
            await poweredOff();
            expect(systemd.status("app.service")).to.deep.include({ activeState: "inactive", mainPid: undefined });
            expect(systemd.status("leave.service")).to.deep.include({ activeState: "inactive", result: "success" });
            expect(systemd.journal).to.include("leave.service: Powering off: unit leave.service succeeded (SuccessAction=poweroff)");
            expect(systemd.journal).to.include("app.service: Stopped.");
        });

        it("restarts a failing run under Restart=on-failure without powering off, and powers off at the run that succeeds", async () => {
            fs.mkdirSync(path.join(node.root, "opt/test"), { recursive: true });
            // Fails the first time, succeeds the next: /run is the node's, empty at boot.
            fs.writeFileSync(path.join(node.root, "opt/test/leave"), "if [[ -e /run/tried ]]; then exit 0; fi\n: > /run/tried\nexit 1\n");
            node.unit("leave.service", leave(["ExecStart=/bin/bash /opt/test/leave", "Restart=on-failure", "RestartSec=200ms"]), true);
            const { systemd, powerOffs, poweredOff } = poweringBoot();
            await systemd.boot();
            await poweredOff();
            expect(systemd.status("leave.service")).to.deep.include({ activeState: "inactive", result: "success", restarts: 1 });
            expect(powerOffs()).to.equal(1);
            const journal = systemd.journal;
            expect(journal.findIndex((line) => line.startsWith("leave.service: Powering off")))
                .to.be.greaterThan(journal.indexOf("leave.service: Scheduled restart job, restart counter is at 1."));
        });

        it("powers off at a clean exit even under Restart=always, as systemd does: the unit passes through inactive before a restart", async () => {
            node.unit("leave.service", leave(["ExecStart=/usr/bin/sleep 0.3", "Restart=always", "RestartSec=100ms"]), true);
            const { systemd, poweredOff } = poweringBoot();
            await systemd.boot();
            await poweredOff();
            expect(systemd.status("leave.service")).to.deep.include({ activeState: "inactive", restarts: 0 });
        });

        it("does not power off when the service fails for good", async () => {
            node.unit("leave.service", leave(["ExecStart=/usr/bin/false"]), true);
            const { systemd, powerOffs } = poweringBoot();
            await systemd.boot();
            await eventually(() => systemd.status("leave.service").activeState === "failed", 5_000, "the failure");
            await new Promise((resolve) => setTimeout(resolve, 300));
            expect(powerOffs()).to.equal(0);
        });

        it("powers off once a oneshot without RemainAfterExit has run", async () => {
            node.unit("leave.service", oneshot("/usr/bin/true", [], ["SuccessAction=poweroff"]), true);
            const { systemd, poweredOff } = poweringBoot();
            await systemd.boot();
            await poweredOff();
        });

        it("powers off when the service is stopped outside a shutdown, as systemd does", async () => {
            node.unit("leave.service", leave(["ExecStart=/usr/bin/sleep 60"]), true);
            const { systemd, poweredOff } = poweringBoot();
            await systemd.boot();
            await systemd.stopUnit("leave.service");
            await poweredOff();
        });

        it("does not power off when the service stops in a shutdown", async () => {
            node.unit("leave.service", leave(["ExecStart=/usr/bin/sleep 60"]), true);
            const { systemd, powerOffs } = poweringBoot();
            await systemd.boot();
            await systemd.shutdown();
            expect(systemd.journal.filter((line) => line.includes("Powering off"))).to.deep.equal([]);
            expect(powerOffs()).to.equal(0);
        });

        it("keeps the node up after a clean exit with SuccessAction=none", async () => {
            node.unit("app.service", service([]), true).unit("leave.service", leave(["ExecStart=/usr/bin/true"], "none"), true);
            const { systemd, powerOffs } = poweringBoot();
            await systemd.boot();
            await eventually(() => systemd.status("leave.service").activeState === "inactive", 5_000, "the exit");
            await new Promise((resolve) => setTimeout(resolve, 300));
            expect(powerOffs()).to.equal(0);
            expect(systemd.status("app.service").activeState).to.equal("active");
        });

        it("lets a shutdown asked during the power-off wait for it, cutting none of its ExecStop= short", async () => {
            node.unit("app.service", service([], ["ExecStart=/usr/bin/sleep 60", "ExecStop=/usr/bin/sleep 0.5"]), true)
                .unit("leave.service", leave(["ExecStart=/usr/bin/sleep 0.3"]), true);
            const { systemd, powerOffs } = poweringBoot();
            await systemd.boot();
            await eventually(() => systemd.journal.some((line) => line.includes("Powering off")), 5_000, "the power-off");
            await systemd.shutdown();
            expect(powerOffs()).to.equal(1);
            expect(systemd.journal.filter((line) => line.startsWith("app.service: ExecStop:"))).to.deep.equal(["app.service: ExecStop: code=exited, status=0/SUCCESS"]);
        });

        it("refuses a SuccessAction= it does not play, by name", async () => {
            node.unit("leave.service", leave(["ExecStart=/usr/bin/true"], "reboot"), true);
            const { systemd } = poweringBoot();
            await systemd.boot();
            expect(systemd.status("leave.service").failure).to.equal("leave.service: SuccessAction=reboot is not played by the local harness (it plays none and poweroff)");
        });
    });

    describe("timers and later starts (systemctl start)", () => {
        /** The defragmentation time of the timers below, on the day the node's clock is set to. */
        const defragmentAt = Date.parse("2026-03-01T04:00:00Z");
        const nextDay = defragmentAt + 24 * 3_600_000;
        const defragmentService = (command = "/usr/bin/sleep 0.1") => ["[Unit]", "Description=defragment", "[Service]", "Type=oneshot", `ExecStart=${command}`];
        const defragmentTimer = (timerLines = ["OnCalendar=*-*-* 04:00 UTC"]) =>
            ["[Unit]", "Description=defragment daily", "[Timer]", ...timerLines, "[Install]", "WantedBy=timers.target"];

        /** A boot whose node clock reads `msBefore` ms before the defragmentation time, and runs on in real time. */
        function bootBefore(msBefore: number): { systemd: NodeSystemd; clock: () => number } {
            const offsetMs = defragmentAt - msBefore - Date.now();
            const clock = () => Date.now() + offsetMs;
            return { systemd: bootWith({ clock }), clock };
        }

        /** How many times the defragmentation service's ExecStart= has run to its end. */
        const runs = (systemd: NodeSystemd) => systemd.journal.filter((line) => line.startsWith("etcd-defragment.service: ExecStart: code=exited")).length;

        /** Waits until the node's clock reads `ms`. */
        const until = (clock: () => number, ms: number) => eventually(() => clock() >= ms, 5_000, `the node's clock to read ${new Date(ms).toISOString()}`);

        beforeEach(() => node.unit("etcd-defragment.service", defragmentService()));

        it("starts the oneshot of a timer wanted by timers.target at the calendar time by the node's clock, and not before", async () => {
            node.unit("etcd-defragment.timer", defragmentTimer(), true);
            const { systemd, clock } = bootBefore(1_500);
            await systemd.boot();
            expect(systemd.status("etcd-defragment.timer")).to.deep.include({ activeState: "active", subState: "waiting" });
            expect(systemd.timers()).to.deep.equal([{ name: "etcd-defragment.timer", unit: "etcd-defragment.service", nextElapseMs: defragmentAt, lastTriggerMs: undefined }]);
            await until(clock, defragmentAt - 200);
            expect(runs(systemd)).to.equal(0);
            await eventually(() => runs(systemd) === 1, 5_000, "the defragmentation's run");
            expect(systemd.timers()[0].lastTriggerMs).to.be.within(defragmentAt, defragmentAt + 1_000);
            expect(systemd.status("etcd-defragment.service")).to.deep.include({ activeState: "inactive", result: "success" });
        });

        it("waits for the next day's time once it has elapsed", async () => {
            node.unit("etcd-defragment.timer", defragmentTimer(), true);
            const { systemd } = bootBefore(1_000);
            await systemd.boot();
            await eventually(() => systemd.timers()[0].lastTriggerMs !== undefined, 5_000, "the elapse");
            expect(systemd.timers()[0].nextElapseMs).to.equal(nextDay);
            expect(systemd.status("etcd-defragment.timer")).to.deep.include({ activeState: "active", subState: "waiting" });
        });

        it("starts nothing new when its unit is still running at the next elapse", async () => {
            node.unit("etcd-defragment.service", defragmentService("/usr/bin/sleep 1.5"))
                .unit("etcd-defragment.timer", defragmentTimer(["OnCalendar=*-*-* 04:00:00 UTC", "OnCalendar=*-*-* 04:00:01 UTC"]), true);
            const { systemd, clock } = bootBefore(500);
            await systemd.boot();
            await until(clock, defragmentAt + 2_500);
            expect(systemd.journal.filter((line) => line === "etcd-defragment.timer: Triggering etcd-defragment.service")).to.have.length(2);
            expect(runs(systemd)).to.equal(1);
        });

        for (const stop of ["shutdown", "crash"] as const) {
            it(`fires no timer after a ${stop}`, async () => {
                node.unit("etcd-defragment.timer", defragmentTimer(), true);
                const { systemd, clock } = bootBefore(1_000);
                await systemd.boot();
                await systemd[stop]();
                expect(systemd.timers()[0].nextElapseMs).to.equal(undefined);
                await until(clock, defragmentAt + 500);
                expect(systemd.journal.filter((line) => line.includes("Triggering"))).to.deep.equal([]);
                expect(runs(systemd)).to.equal(0);
            });
        }

        it("runs a timer's service at once through startUnit, leaving the timer's schedule as it was", async () => {
            node.unit("etcd-defragment.timer", defragmentTimer(), true);
            const { systemd } = bootBefore(12 * 3_600_000);
            await systemd.boot();
            expect(await systemd.startUnit("etcd-defragment.service")).to.equal("done");
            expect(runs(systemd)).to.equal(1);
            expect(systemd.timers()).to.deep.equal([{ name: "etcd-defragment.timer", unit: "etcd-defragment.service", nextElapseMs: defragmentAt, lastTriggerMs: undefined }]);
        });

        it("starts what the unit requires before it through startUnit, as a boot's transaction does", async () => {
            node.unit("prepare.service", oneshot("/usr/bin/sleep 0.3"))
                .unit("etcd-defragment.service", [...defragmentService(), "[Unit]", "Requires=prepare.service", "After=prepare.service"]);
            const { systemd } = bootBefore(60_000);
            await systemd.boot();
            expect(await systemd.startUnit("etcd-defragment.service")).to.equal("done");
            const journal = systemd.journal;
            expect(journal.indexOf("etcd-defragment.service: ExecStart: code=exited, status=0/SUCCESS"))
                .to.be.greaterThan(journal.indexOf("prepare.service: ExecStart: code=exited, status=0/SUCCESS")).and.greaterThan(-1);
        });

        it("leaves a unit that is up alone through startUnit: a running service it requires keeps its one main process", async () => {
            node.unit("app.service", service([]), true)
                .unit("etcd-defragment.service", [...defragmentService(), "[Unit]", "Requires=app.service", "After=app.service"]);
            const { systemd } = bootBefore(60_000);
            await systemd.boot();
            const mainPid = systemd.status("app.service").mainPid;
            expect(await systemd.startUnit("etcd-defragment.service")).to.equal("done");
            expect(await systemd.startUnit("app.service")).to.equal("done");
            expect(systemd.status("app.service").mainPid).to.equal(mainPid);
            expect(systemd.journal.filter((line) => line.startsWith("app.service: Started"))).to.have.length(1);
        });

        it("fails and journals a unit whose start fails through startUnit, as at boot", async () => {
            node.unit("etcd-defragment.service", defragmentService("/usr/bin/false"));
            const { systemd } = bootBefore(60_000);
            await systemd.boot();
            expect(await systemd.startUnit("etcd-defragment.service")).to.equal("failed");
            expect(systemd.status("etcd-defragment.service")).to.deep.include({ activeState: "failed", result: "exit-code" });
            expect(systemd.failureBeyond(0)).to.include("etcd-defragment.service: ExecStart=/usr/bin/false: /usr/bin/false exited with code 1");
        });

        it("starts a timer that nothing enabled through startUnit, for the unit its Unit= names", async () => {
            node.unit("nightly.timer", defragmentTimer(["OnCalendar=*-*-* 04:00:30", "Unit=etcd-defragment.service"]));
            const { systemd } = bootBefore(0);
            await systemd.boot();
            expect(systemd.timers()).to.deep.equal([]);
            expect(await systemd.startUnit("nightly.timer")).to.equal("done");
            expect(systemd.timers()).to.deep.equal([{ name: "nightly.timer", unit: "etcd-defragment.service", nextElapseMs: defragmentAt + 30_000, lastTriggerMs: undefined }]);
        });

        it("refuses to start a timer whose unit does not exist, as systemd does", async () => {
            node.unit("backup.timer", defragmentTimer(), true);
            const systemd = bootBefore(60_000).systemd;
            await systemd.boot();
            expect(systemd.status("backup.timer")).to.deep.include({ activeState: "failed", result: "resources" });
            expect(systemd.status("backup.timer").failure).to.include("Refusing to start, unit backup.service to trigger not loaded");
        });

        /** The reason the timer with these [Timer] lines does not start at boot. */
        async function refusal(timerLines: string[]): Promise<string | undefined> {
            node.unit("etcd-defragment.timer", defragmentTimer(timerLines), true);
            const systemd = node.systemd();
            await systemd.boot();
            return systemd.status("etcd-defragment.timer").failure;
        }

        for (const calendar of ["daily", "Mon *-*-* 04:00", "*-*-01 04:00", "*-*-* 24:00", "*-*-* 04:00 Europe/Paris", "*-*-* *:00/0:00", "*-*-* 4,5:00"]) {
            it(`refuses OnCalendar=${calendar}, a form it does not play, naming the forms it does`, async () => {
                expect(await refusal([`OnCalendar=${calendar}`])).to.equal(`etcd-defragment.timer: OnCalendar=${calendar} is not played by the local harness ` +
                    "(it plays only *-*-* HH:MM or *-*-* HH:MM:SS, where the hour and the minute may also be * or start/step, optionally followed by \" UTC\")");
            });
        }

        it("waits for the next of every six hours, from midnight", async () => {
            node.unit("etcd-defragment.timer", defragmentTimer(["OnCalendar=*-*-* 00/6:00:00 UTC"]), true);
            // 02:00 on the day: the next of 00:00, 06:00, 12:00, 18:00 is 06:00.
            const { systemd } = bootBefore(2 * 3_600_000);
            await systemd.boot();
            expect(systemd.timers()[0].nextElapseMs).to.equal(defragmentAt + 2 * 3_600_000);
        });

        it("elapses every quarter hour at each quarter, by the node's clock", async () => {
            node.unit("etcd-defragment.timer", defragmentTimer(["OnCalendar=*-*-* *:00/15:00 UTC"]), true);
            // 03:59:59.5 on the day: the next quarter hour is 04:00, then 04:15.
            const { systemd, clock } = bootBefore(500);
            await systemd.boot();
            expect(systemd.timers()[0].nextElapseMs).to.equal(defragmentAt);
            await eventually(() => runs(systemd) === 1, 5_000, "the quarter hour's run");
            expect(systemd.timers()[0].nextElapseMs).to.equal(defragmentAt + 15 * 60_000);
            expect(clock()).to.be.lessThan(defragmentAt + 15 * 60_000);
        });

        it("refuses Persistent=true: it needs the last trigger kept across reboots, which the harness does not keep", async () => {
            expect(await refusal(["OnCalendar=*-*-* 04:00", "Persistent=true"])).to.include("Persistent=true is not played by the local harness")
                .and.include("a state the harness does not keep");
        });

        it("refuses a RandomizedDelaySec= other than 0", async () => {
            expect(await refusal(["OnCalendar=*-*-* 04:00", "RandomizedDelaySec=30min"])).to.include("RandomizedDelaySec=30min is not played by the local harness");
        });

        it("refuses a [Timer] setting it does not play, naming those it does", async () => {
            expect(await refusal(["OnCalendar=*-*-* 04:00", "OnBootSec=5min"])).to.include("OnBootSec= in [Timer] is not played by the local harness " +
                "(there it plays OnCalendar=, Persistent=, AccuracySec=, RandomizedDelaySec=, Unit=)");
        });

        it("refuses a timer without OnCalendar=, which would never elapse", async () => {
            expect(await refusal([])).to.include("no OnCalendar=");
        });

        it("accepts Persistent=false, RandomizedDelaySec=0 and an AccuracySec=", async () => {
            node.unit("etcd-defragment.timer", defragmentTimer(["OnCalendar=*-*-* 04:00:00 UTC", "Persistent=false", "RandomizedDelaySec=0", "AccuracySec=1h"]), true);
            const { systemd } = bootBefore(60_000);
            await systemd.boot();
            expect(systemd.status("etcd-defragment.timer")).to.deep.include({ activeState: "active", subState: "waiting" });
        });
    });

    describe("mount units on the node's block devices", () => {
        const volume = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0";
        const mountUnit = (options = "defaults") => [
            "[Unit]", "Description=etcd data volume",
            "[Mount]", `What=${volume}`, "Where=/var/lib/etcd", "Type=ext4", `Options=${options}`,
            "[Install]", "WantedBy=local-fs.target",
        ];
        const app = service(["RequiresMountsFor=/var/lib/etcd"]);

        it("mounts the volume before a unit that RequiresMountsFor= its path, and unmounts it at shutdown", async function () {
            this.timeout(losetupMs + mkfsMs + suiteTimeoutMs);
            const device = node.loopDevice();
            execFileSync("mkfs.ext4", ["-q", device], { timeout: mkfsMs });
            node.devices.attach(volume, { hostDevice: device });
            node.unit("var-lib-etcd.mount", mountUnit(), true).unit("app.service", app, true);
            const systemd = node.systemd();
            await systemd.boot();
            const target = path.join(node.root, "var/lib/etcd");
            expect(systemd.status("var-lib-etcd.mount").activeState).to.equal("active");
            expect(isMountPoint(target)).to.equal(true);
            expect(systemd.status("app.service").activeState).to.equal("active");
            const journal = systemd.journal;
            expect(journal.findIndex((line) => line.startsWith("app.service: Started")))
                .to.be.greaterThan(journal.findIndex((line) => line.startsWith("var-lib-etcd.mount: Mounted")));
            await systemd.shutdown();
            expect(isMountPoint(target)).to.equal(false);
        });

        it("does not format a blank volume for x-systemd.makefs in a unit file, which systemd ignores there: the mount and its dependent fail", async function () {
            this.timeout(losetupMs + suiteTimeoutMs);
            node.devices.attach(volume, { hostDevice: node.loopDevice() });
            node.unit("var-lib-etcd.mount", mountUnit("defaults,x-systemd.makefs"), true).unit("app.service", app, true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("var-lib-etcd.mount").activeState).to.equal("failed");
            expect(systemd.status("app.service")).to.deep.include({ activeState: "failed", result: "dependency" });
            expect(systemd.journal.join("\n")).to.include("x-systemd.makefs ignored");
        });

        it("formats a blank volume with systemd-makefs only once: a second boot keeps the file system", async function () {
            this.timeout(losetupMs + 2 * blkidMs + suiteTimeoutMs);
            const device = node.loopDevice();
            node.devices.attach(volume, { hostDevice: device });
            node.unit("etcd-makefs.service", oneshot(`/usr/lib/systemd/systemd-makefs ext4 ${volume}`, ["RemainAfterExit=yes"],
                ["DefaultDependencies=no", "Before=var-lib-etcd.mount"]))
                .unit("var-lib-etcd.mount", ["[Unit]", "Requires=etcd-makefs.service", "After=etcd-makefs.service", ...mountUnit().slice(2)], true)
                .unit("app.service", app, true);
            const first = node.systemd();
            await first.boot();
            expect(first.status("app.service").activeState).to.equal("active");
            const uuid = fileSystemUuid(device);
            expect(uuid).to.be.a("string");
            await first.shutdown();
            const second = node.systemd();
            await second.boot();
            expect(second.status("app.service").activeState).to.equal("active");
            expect(fileSystemUuid(device)).to.equal(uuid);
            await second.shutdown();
        });

        it("fails a mount whose volume is never attached (EC2 would time out after 90 s), and every unit that needs it", async () => {
            node.unit("var-lib-etcd.mount", mountUnit(), true).unit("app.service", app, true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("var-lib-etcd.mount")).to.deep.include({ activeState: "failed", result: "dependency" });
            expect(systemd.status("app.service")).to.deep.include({ activeState: "failed", result: "dependency" });
            expect(systemd.journal.join("\n")).to.include("no device /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0 is attached");
        });

        it("waits for a volume attached after the boot began", async function () {
            this.timeout(losetupMs + mkfsMs + suiteTimeoutMs);
            const device = node.loopDevice();
            execFileSync("mkfs.ext4", ["-q", device], { timeout: mkfsMs });
            node.devices.attach(volume, { hostDevice: device, attachedAt: Date.now() + 700 });
            node.unit("var-lib-etcd.mount", mountUnit(), true).unit("app.service", app, true);
            const started = Date.now();
            const systemd = node.systemd();
            await systemd.boot();
            expect(Date.now() - started).to.be.at.least(700);
            expect(systemd.status("app.service").activeState).to.equal("active");
            await systemd.shutdown();
        });

        it("refuses a mount unit not named after its Where=, as systemd does", async () => {
            node.unit("etcd-data.mount", mountUnit(), true);
            const systemd = node.systemd();
            await systemd.boot();
            expect(systemd.status("etcd-data.mount").failure).to.include("belongs in a unit named var-lib-etcd.mount");
        });

        it("never lets a node's unit reach a device of the test host that is not a loop device", () => {
            expect(() => node.devices.attach(volume, { hostDevice: "/dev/sda" })).to.throw(/only a loop device/);
        });
    });
});
