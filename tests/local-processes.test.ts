/**
 * The harness's process group: whatever it started, one `stopAll` stops,
 * including what starts while the others are being stopped.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProcessGroup } from "../local/processes";

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
});
