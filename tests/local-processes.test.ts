/**
 * The harness's process group: whatever it started, one `stopAll` stops,
 * including what starts while the others are being stopped.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawn } from "child_process";
import { killStrays, ProcessGroup, within } from "../local/processes";

describe("local harness: a process group", function () {
    this.timeout(20_000);
    let directory: string;
    let processes: ProcessGroup;
    beforeEach(() => {
        directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-processes-"));
        processes = new ProcessGroup();
    });
    afterEach(async () => {
        await processes.stopAll(1000);
        fs.rmSync(directory, { recursive: true, force: true });
    });

    const sleeper = (name: string) => processes.start({ name, command: "/usr/bin/sleep", args: ["60"], logFile: path.join(directory, `${name}.log`) });

    it("stops every process it started", async () => {
        const started = [sleeper("first"), sleeper("second")];
        await processes.stopAll(1000);
        expect(started.map((process) => process.running)).to.deep.equal([false, false]);
        expect(processes.records()).to.deep.equal([]);
    });

    it("also stops a process started while stopAll was stopping the others", async () => {
        sleeper("first");
        const stopping = processes.stopAll(500);
        const late = sleeper("late");
        await stopping;
        expect(late.running, "the process started during stopAll still runs").to.equal(false);
        expect(processes.records()).to.deep.equal([]);
    });

    it("has teardown's safety net kill, and report, an untracked process naming the cluster's directory, and no other", async () => {
        // Each in a process group of its own, so that the cleanup below also ends its sleep.
        const untracked = (marker: string) => spawn("/usr/bin/bash", ["-c", "sleep 60; true", marker], { stdio: "ignore", detached: true });
        const killGroup = (pid: number | undefined) => {
            try {
                process.kill(-pid!, "SIGKILL");
            } catch {
                // Gone already.
            }
        };
        const stray = untracked(path.join(directory, "member"));
        const bystander = untracked("/elsewhere/member");
        try {
            const alive = (pid: number | undefined) => fs.existsSync(`/proc/${pid}`) && fs.readFileSync(`/proc/${pid}/cmdline`, "utf8") !== "";
            const exited = new Promise((resolve) => stray.once("exit", resolve));
            expect(await killStrays(directory)).to.deep.equal([`${stray.pid} /usr/bin/bash -c sleep 60; true ${path.join(directory, "member")}`]);
            await exited;
            expect([alive(stray.pid), alive(bystander.pid)]).to.deep.equal([false, true]);
        } finally {
            killGroup(stray.pid);
            killGroup(bystander.pid);
        }
    });
});

describe("local harness: a wait within a deadline", () => {
    const settlesAfter = (ms: number, value: string) => new Promise<string>((resolve) => setTimeout(() => resolve(value), ms));

    it("gives the operation's result when it settles first", async () => {
        expect(await within(Date.now() + 1000, "the answer", settlesAfter(10, "answered"))).to.equal("answered");
    });

    it("rejects, naming what it waited for, once the deadline passes first", async () => {
        const failure = await within(Date.now() + 50, "the slow answer", settlesAfter(1000, "too late")).then(() => "resolved", (error: Error) => error.message);
        expect(failure).to.match(/^timed out after \d+ ms waiting for the slow answer$/);
    });
});
