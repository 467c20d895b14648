/**
 * Faults under load on a locally booted 3-member cluster: a writer sends one
 * v2 write every 50 ms through the ALB stand-in (single attempt, no retry)
 * while the leader is stopped, the leader crashes, a follower is stopped, or
 * the whole cluster is stopped and started. Afterwards every acknowledged
 * write must read back (quorum read) with the value and index it was
 * acknowledged with; unacknowledged writes are counted apart and may or may
 * not be there. `npm run bench` runs the same scenarios (tests/helpers/
 * faults-under-load.ts) at the ALB's own health-check times for the figures.
 */
import { expect } from "chai";
import { FaultRun, faultRunHookTimeoutMs, faultScenarios, runFaultUnderLoad } from "./helpers/faults-under-load";
import { outcomeOf } from "./helpers/paced-writes";

/** One line a reader can compare with the README's figures. */
function summary(run: FaultRun): string {
    const f = run.figures;
    return `${run.fault}: ${f.unacknowledged} of ${f.sent} writes unacknowledged (${Object.entries(f.unacknowledgedBy).map(([k, v]) => `${v}× ${k}`).join(", ") || "none"}; `
        + `${f.unacknowledgedPresent} of them made anyway), while down ${f.whileDown.answered} answered / ${f.whileDown.failed} failed, `
        + `DOWN after ${f.faultToDownMs} ms, failing window ${f.failingWindowMs} ms, longest wait ${f.longestWaitMs} ms`;
}

for (const scenario of faultScenarios) {
    describe(`local cluster of 3 under a write every 50 ms: ${scenario.title}`, function () {
        let run: FaultRun | undefined;
        const done = () => {
            if (!run) {
                throw new Error("the run did not complete (see the before hook's error)");
            }
            return run;
        };

        before(async function () {
            this.timeout(faultRunHookTimeoutMs);
            run = await runFaultUnderLoad({ fault: scenario.id });
        });

        after(function () {
            if (run) {
                process.stdout.write(`      ${summary(run)}\n`);
            }
        });

        it("wrote throughout: one write every 50 ms from before the fault until after the recovery", () => {
            const { figures, timeline } = done();
            expect(figures.sent, "writes sent").to.be.at.least(Math.floor(timeline.endMs / figures.intervalMs) - 1);
            expect(timeline.faultMs).to.be.greaterThan(0);
            expect(done().records.every((r) => r.settledMs !== undefined), "every write settled").to.equal(true);
        });

        it("reads back every acknowledged write, with the value and index it was acknowledged with (quorum read)", () => {
            const { check } = done();
            expect(check.acknowledged, "acknowledged writes").to.be.greaterThan(0);
            expect(check.lost, "acknowledged writes missing").to.deep.equal([]);
            expect(check.altered, "acknowledged writes read back differently").to.deep.equal([]);
            expect(check.strays, "keys no write sent").to.deep.equal([]);
        });

        it("counts unacknowledged writes apart: each one is either there as sent or absent", () => {
            const { check } = done();
            expect(check.unacknowledgedAltered, "unacknowledged writes holding another value").to.deep.equal([]);
            expect(check.unacknowledgedPresent + check.unacknowledgedAbsent).to.equal(check.unacknowledged);
            expect(check.acknowledged + check.unacknowledged).to.equal(check.sent);
        });

        it("fails no write answered before the fault, nor any sent once the load balancer and etcd have recovered", () => {
            const described = done().unexpectedFailures.map((r) => `${r.key} sent at ${r.sentMs} ms: ${outcomeOf(r)}`);
            expect(described).to.deep.equal([]);
        });

        if (scenario.id === "stop-cluster") {
            it("answers every write sent while no member is up with the stand-in's 503", () => {
                const { records, timeline } = done();
                const whileDown = records.filter((r) => r.sentMs >= timeline.downMs && r.sentMs < timeline.restartMs);
                expect(whileDown.length, "writes sent while every member was DOWN").to.be.greaterThan(0);
                expect(whileDown.map(outcomeOf).filter((outcome) => outcome !== "503")).to.deep.equal([]);
            });
        } else {
            it("keeps acknowledging writes while the member is down", () => {
                const { figures } = done();
                expect(figures.whileDown.answered, "writes acknowledged while the member was down").to.be.greaterThan(0);
            });
        }
    });
}
