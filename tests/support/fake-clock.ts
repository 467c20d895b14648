/**
 * A clock for the providers' waits (lib/rolling.ts' Clock) that a test
 * drives: time moves only when a provider sleeps, by exactly the time it asked
 * for, so the deadline, poll and drain arithmetic is seen to the millisecond
 * and a test of a one-minute wait takes milliseconds. A stand-in's model
 * changes state "later" with `after`, on this clock's time.
 */
import type { Clock } from "../../lib/rolling";

export class FakeClock implements Clock {
    /** Every sleep the provider asked for, in order (a negative or NaN one too, as asked). */
    readonly sleeps: number[] = [];
    private time: number;
    private readonly pending: { at: number; run: () => void }[] = [];

    /**
     * Starts at `start` (not 0, so that a time mistaken for a duration shows);
     * a wait that sleeps more than `maxSleeps` times is taken for one that
     * never ends, and its next sleep throws.
     */
    constructor(start = Date.UTC(2026, 10, 27, 12), private readonly maxSleeps = 100) {
        this.time = start;
    }

    now(): number {
        return this.time;
    }

    async sleep(ms: number): Promise<void> {
        this.sleeps.push(ms);
        if (this.sleeps.length > this.maxSleeps) {
            throw new Error(`the fake clock was asked to sleep more than ${this.maxSleeps} times: a wait that does not end`);
        }
        const until = this.time + (ms > 0 ? ms : 0);
        for (;;) {
            const due = this.pending.filter((event) => event.at <= until).sort((a, b) => a.at - b.at)[0];
            if (!due) {
                break;
            }
            this.pending.splice(this.pending.indexOf(due), 1);
            this.time = due.at;
            due.run();
        }
        this.time = until;
    }

    /** Runs `run` once the clock has reached `ms` from now (when a sleep passes that time). */
    after(ms: number, run: () => void): void {
        this.pending.push({ at: this.time + ms, run });
    }
}
