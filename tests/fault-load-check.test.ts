/**
 * The check behind the fault-under-load tests, on made-up histories: a lost
 * or altered acknowledged write must be reported, an unacknowledged one must
 * be counted apart whether or not it is there, and a failure outside the
 * fault's window must count against the run. No cluster needed.
 */
import { expect } from "chai";
import { assessRun, FaultTimeline } from "./helpers/faults-under-load";
import { checkWrites, countWindow, StoredValue, writeCheckProblems, WriteRecord } from "./helpers/paced-writes";

const directory = "faults-under-load/unit";

/** Write `seq`, sent at seq × 50 ms; acknowledged at index 100 + seq unless an outcome is given. */
function write(seq: number, outcome: { status?: number; error?: string } = { status: 201 }): WriteRecord {
    const acknowledged = outcome.status === 201;
    return {
        seq, key: `${directory}/${String(seq).padStart(6, "0")}`, value: `write ${seq} of ${directory}`,
        sentMs: seq * 50, settledMs: seq * 50 + 3, ...outcome, modifiedIndex: acknowledged ? 100 + seq : undefined,
    };
}

/** What the cluster would hold after `records`, with the unacknowledged writes in `madeAnyway` made too. */
function storeOf(records: WriteRecord[], madeAnyway: number[] = []): Map<string, StoredValue> {
    const stored = new Map<string, StoredValue>();
    for (const record of records) {
        if (record.modifiedIndex !== undefined || madeAnyway.includes(record.seq)) {
            stored.set(record.key, { value: record.value, modifiedIndex: record.modifiedIndex ?? 1000 + record.seq });
        }
    }
    return stored;
}

describe("the write check of the fault-under-load tests", () => {
    const records = [write(0), write(1), write(2, { status: 503 }), write(3, { error: "timeout" }), write(4, { status: 500 }), write(5)];

    it("passes a history where every acknowledged write is there", () => {
        const check = checkWrites(records, storeOf(records, [3]));
        expect(writeCheckProblems(check)).to.deep.equal([]);
        expect(check).to.include({ sent: 6, acknowledged: 3, unacknowledged: 3, unacknowledgedPresent: 1, unacknowledgedAbsent: 2 });
    });

    it("reports an acknowledged write that is missing", () => {
        const stored = storeOf(records);
        stored.delete(records[1].key);
        const check = checkWrites(records, stored);
        expect(check.lost).to.deep.equal([records[1].key]);
        expect(writeCheckProblems(check).join()).to.contain("1 acknowledged write(s) lost");
    });

    it("reports an acknowledged write that holds another value, or was overwritten at another index", () => {
        const stored = storeOf(records);
        stored.set(records[0].key, { value: "something else", modifiedIndex: 100 });
        stored.set(records[5].key, { value: records[5].value, modifiedIndex: 999 });
        const check = checkWrites(records, stored);
        expect(check.altered).to.have.length(2);
        expect(writeCheckProblems(check)).to.have.length(1);
    });

    it("counts unacknowledged writes apart, and never as lost", () => {
        const check = checkWrites(records, storeOf(records));
        expect(check.lost).to.deep.equal([]);
        expect(check).to.include({ unacknowledged: 3, unacknowledgedPresent: 0, unacknowledgedAbsent: 3 });
    });

    it("reports keys nobody sent and writes that never settled", () => {
        const stored = storeOf(records);
        stored.set(`${directory}/999999`, { value: "stray", modifiedIndex: 5 });
        const unsettled = [...records, { ...write(6), status: undefined, modifiedIndex: undefined, settledMs: undefined }];
        const check = checkWrites(unsettled, stored);
        expect(check.strays).to.deep.equal([`${directory}/999999`]);
        expect(check.unsettled).to.equal(1);
        expect(writeCheckProblems(check)).to.have.length(2);
    });

    it("counts a window by send time", () => {
        expect(countWindow(records, 50, 250)).to.deep.equal({ sent: 4, answered: 1, failed: 3 });
    });
});

describe("the verdict on a fault-under-load run", () => {
    // 40 writes, one every 50 ms; the fault at 500 ms, service back at 1000 ms, everything UP at 1500 ms, the end at 2000 ms.
    const timeline: FaultTimeline = { faultMs: 500, faultDoneMs: 510, downMs: 900, stableMs: 1000, restartMs: 1200, upMs: 1500, endMs: 2000 };
    const history = (failing: number[]) => Array.from({ length: 40 }, (_, seq) => write(seq, failing.includes(seq) ? { status: 503 } : { status: 201 }));
    const assess = (records: WriteRecord[], fault: "stop-leader" | "stop-cluster" = "stop-leader") =>
        assessRun(records, checkWrites(records, storeOf(records)), timeline, 50, 0, fault);

    it("accepts failures between the fault and the recovery, and reports their window", () => {
        const { problems, figures } = assess(history([11, 13, 17]));
        expect(problems).to.deep.equal([]);
        expect(figures).to.include({ unacknowledged: 3, failingWindowMs: 300, firstFailureMs: 50 });
        expect(figures.unacknowledgedBy).to.deep.equal({ 503: 3 });
    });

    it("counts a failure answered before the fault against the run", () => {
        const { problems, unexpectedFailures } = assess(history([3, 12]));
        expect(unexpectedFailures.map((r) => r.seq)).to.deep.equal([3]);
        expect(problems).to.have.length(1);
    });

    it("counts a write still in flight when the fault came as the fault's, and its failure in the window", () => {
        // Sent at 450 ms, reset by the crash at 500 ms: answered 502 at 520 ms.
        const records = history([12]).map((r) => (r.seq === 9 ? { ...r, status: 502, modifiedIndex: undefined, settledMs: 520 } : r));
        const { problems, figures } = assessRun(records, checkWrites(records, storeOf(records)), timeline, 50, 0, "crash-leader");
        expect(problems).to.deep.equal([]);
        expect(figures).to.include({ firstFailureMs: -50, failingWindowMs: 150, unacknowledged: 2 });
    });

    it("counts the writes sent in the window after the fault and when they were answered again", () => {
        // Sent from 500 ms: 10 to 15 fail, 16 on is answered; a 400 ms window holds 10 to 17.
        const records = history([10, 11, 12, 13, 14, 15]);
        const { figures } = assessRun(records, checkWrites(records, storeOf(records)), timeline, 50, 0, "crash-leader", 400);
        expect(figures.afterFault).to.deep.equal({ sent: 8, answered: 2, failed: 6, windowMs: 400 });
        expect(figures.resumedMs).to.equal(300);
    });

    it("counts the window after the fault as 2.5 s by default, and no resumption when nothing after the fault was answered", () => {
        const records = history(Array.from({ length: 30 }, (_, i) => i + 10));
        const { figures } = assessRun(records, checkWrites(records, storeOf(records)), timeline, 50, 0, "stop-cluster");
        expect(figures.afterFault).to.deep.equal({ sent: 30, answered: 0, failed: 30, windowMs: 2500 });
        expect(figures.resumedMs).to.equal(undefined);
    });

    it("counts a failure once service has resumed against the run", () => {
        expect(assess(history([12, 25])).unexpectedFailures.map((r) => r.seq)).to.deep.equal([25]);
    });

    it("waits for every member to be UP before calling a whole-cluster failure unexpected", () => {
        expect(assess(history([25]), "stop-cluster").problems).to.deep.equal([]);
        expect(assess(history([30]), "stop-cluster").unexpectedFailures.map((r) => r.seq)).to.deep.equal([30]);
    });

    it("counts a lost acknowledged write against the run", () => {
        const records = history([]);
        const stored = storeOf(records);
        stored.delete(records[20].key);
        const { problems } = assessRun(records, checkWrites(records, stored), timeline, 50, 0, "crash-leader");
        expect(problems.join()).to.contain("lost");
    });

    it("counts a writer that fell behind its cadence against the run", () => {
        expect(assess(history([]).slice(0, 30)).problems.join()).to.contain("fewer than one every 50 ms");
    });
});
