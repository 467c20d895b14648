/**
 * The component's target groups as the ELB API would report them, played by
 * haproxy: the model behind local/elb-api.ts, so the members' health gates
 * (lib/rolling.ts) ask about and deregister the local cluster's targets as
 * they would on AWS.
 *
 * - A registered target's state is haproxy's health-check verdict: `healthy`
 *   while UP (also while one check short of DOWN, as a target group does),
 *   `unhealthy` otherwise.
 * - Deregistering drains the target (no new requests; those under way
 *   finish) and it is `draining` until no request is under way or the target
 *   group's deregistration delay (on the cluster's health-check time scale)
 *   has run out, as an ALB completes a deregistration; then it is gone from
 *   the group.
 * - Registering it again (a new instance's attachment) puts it back.
 */
import type { ElbTargetGroupsModel, ElbTargetHealth } from "./elb-api";
import type { LoadBalancerKind, LoadBalancerSpec } from "./component-resources";
import { LoadBalancer, resetTargetHealth, setTargetAdminState, targetSessions, targetStates } from "./haproxy";

export class LocalTargetGroups implements ElbTargetGroupsModel {
    /** `kind/instance` → when its deregistration started, while it is deregistered. */
    private readonly deregisteredAt = new Map<string, number>();

    /**
     * @param instanceIds the id each instance's target is registered under, in the component's instance order, as the
     *   latest construction of the component has them (a grow adds some)
     * @param timeScale the factor the cluster's health-check times run at
     */
    constructor(
        private readonly balancer: Pick<LoadBalancer, "adminSocket" | "servers" | "statsUrl">,
        private readonly specs: LoadBalancerSpec[],
        private readonly instanceIds: () => readonly string[],
        private readonly timeScale: number,
    ) {}

    private specOf(targetGroupArn: string): LoadBalancerSpec | undefined {
        return this.specs.find((spec) => spec.targetGroup.arn === targetGroupArn);
    }

    async describe(targetGroupArn: string): Promise<ElbTargetHealth[] | undefined> {
        const spec = this.specOf(targetGroupArn);
        if (!spec) {
            return undefined;
        }
        const [states, sessions] = await Promise.all([targetStates(this.balancer.statsUrl, spec.kind), targetSessions(this.balancer.statsUrl, spec.kind)]);
        const delayMs = spec.targetGroup.deregistrationDelaySeconds * 1000 * this.timeScale;
        return this.balancer.servers.filter((server) => server.kind === spec.kind).flatMap((server): ElbTargetHealth[] => {
            const id = this.instanceIds()[server.instance];
            const port = spec.targetGroup.port;
            const since = this.deregisteredAt.get(`${spec.kind}/${server.instance}`);
            if (since !== undefined) {
                const draining = (sessions[server.server] ?? 0) > 0 && Date.now() - since < delayMs;
                return draining ? [{ id, port, state: "draining", reason: "Target.DeregistrationInProgress" }] : [];
            }
            const status = states[server.server] ?? "";
            return [status.startsWith("UP")
                ? { id, port, state: "healthy" }
                : { id, port, state: "unhealthy", reason: `Target.FailedHealthChecks (haproxy: ${status || "no status"})` }];
        });
    }

    async deregister(targetGroupArn: string, targetId: string): Promise<boolean> {
        const spec = this.specOf(targetGroupArn);
        if (!spec) {
            return false;
        }
        const instance = this.instanceIds().indexOf(targetId);
        const key = `${spec.kind}/${instance}`;
        if (instance >= 0 && !this.deregisteredAt.has(key)) {
            this.deregisteredAt.set(key, Date.now());
            await setTargetAdminState(this.balancer, instance, "drain", spec.kind);
        }
        return true;
    }

    /**
     * Deregisters `instance` from every group and waits until it has left them
     * all (at most `boundMs`); resolves to the requests still under way on its
     * targets then (non-zero when a deregistration delay ran out first).
     */
    async drain(instance: number, boundMs: number): Promise<number> {
        const id = this.instanceIds()[instance];
        for (const spec of this.specs) {
            await this.deregister(spec.targetGroup.arn, id);
        }
        const deadline = Date.now() + boundMs;
        for (;;) {
            const left = (await Promise.all(this.specs.map((spec) => this.describe(spec.targetGroup.arn)))).flat().filter((target) => target?.id === id);
            if (left.length === 0 || Date.now() >= deadline) {
                break;
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
        let underWay = 0;
        for (const kind of new Set(this.specs.map((spec) => spec.kind))) {
            const sessions = await targetSessions(this.balancer.statsUrl, kind);
            underWay += this.balancer.servers.filter((server) => server.kind === kind && server.instance === instance)
                .reduce((sum, server) => sum + (sessions[server.server] ?? 0), 0);
        }
        return underWay;
    }

    /**
     * The new instance's attachments: its targets registered again in every
     * group, starting unhealthy as a new registration does, so they take
     * traffic only after the health checks' rise, not on the old instance's
     * record at the same address.
     */
    async register(instance: number): Promise<void> {
        for (const kind of new Set<LoadBalancerKind>(this.specs.map((spec) => spec.kind))) {
            this.deregisteredAt.delete(`${kind}/${instance}`);
        }
        await resetTargetHealth(this.balancer, instance);
        await setTargetAdminState(this.balancer, instance, "ready");
    }
}
