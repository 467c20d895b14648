/**
 * Target groups held in a table, for the ELB API stand-in (local/elb-api.ts)
 * in the health gate's tests: a deregistered target drains for `drainMs`,
 * then leaves. When the drain ends is the caller's: the system's timers for
 * the provider as the engine runs it, a fake clock's for the provider run
 * in-process.
 */
import { ElbTargetGroupsModel, ElbTargetHealth } from "../../local/elb-api";

/** Runs `run` once `ms` have passed on some clock. */
export type Schedule = (ms: number, run: () => void) => void;

export class TargetTable implements ElbTargetGroupsModel {
    readonly groups = new Map<string, ElbTargetHealth[]>();

    constructor(public schedule: Schedule, public drainMs: number) {}

    set(arn: string, entries: [string, string][]): void {
        this.groups.set(arn, entries.map(([id, state]) => ({ id, port: 2379, state })));
    }

    setState(arn: string, id: string, state: string): void {
        this.groups.get(arn)!.find((target) => target.id === id)!.state = state;
    }

    async describe(arn: string) {
        return this.groups.get(arn)?.map((target) => ({ ...target }));
    }

    async deregister(arn: string, id: string) {
        const targets = this.groups.get(arn);
        if (!targets) {
            return false;
        }
        const target = targets.find((t) => t.id === id);
        if (target) {
            target.state = "draining";
            this.schedule(this.drainMs, () => this.groups.set(arn, this.groups.get(arn)!.filter((t) => t !== target)));
        }
        return true;
    }
}
