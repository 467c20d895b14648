/**
 * The shape of bench/results.json (a module named apart from it: `./results`
 * would resolve to the JSON file first): written by bench/run.ts, read by
 * scripts/bench-tables.ts, which renders the README's figures from it.
 * Every section carries the conditions it ran under, because `--only`
 * reruns one section and keeps the others from earlier runs.
 */
import type { ReplacementTimings } from "../local/cluster";
import type { FaultFigures, FaultId, FaultTimeline } from "../tests/helpers/faults-under-load";

/** Median, minimum and maximum of a sample, and how many values it had. */
export interface Summary {
    median: number;
    min: number;
    max: number;
    n: number;
}

export function summarize(values: number[]): Summary {
    if (!values.length) {
        throw new Error("summarize: no values");
    }
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** When and under what load a section ran: the machine is shared, so this is part of every figure. */
export interface Conditions {
    /** ISO time the section started. */
    date: string;
    durationSeconds: number;
    /** `os.loadavg()` (1, 5, 15 minutes) when the section started and ended. */
    loadAverageBefore: number[];
    loadAverageAfter: number[];
}

export interface Machine {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    etcd: string;
    haproxy: string;
}

export interface UserDataResult {
    variant: string;
    bytes: number;
    shareOfLimit: number;
    /** How it goes out (lib/ignition.ts, renderUserData); absent from results recorded before it was. */
    form?: "plain" | "compressed" | "compressed without comments";
}

export interface ProgramResult {
    size: number;
    resources: number;
    constructMs: Summary;
    heapBytes: Summary;
}

export interface BootstrapResult {
    size: number;
    /** Runs that started; a failed start is an error of the run, not a figure. */
    runs: number;
    bootstrapMs: Summary;
    discoveryMs: Summary;
    ignitionPerNodeMs: Summary;
    etcdHealthyMs: Summary;
    loadBalancerReadyMs: Summary;
    firstWriteMs: Summary;
    totalMs: Summary;
}

/** One autocannon run. */
export interface LoadRun {
    requestsPerSecond: number;
    meanLatencyMs: number;
    p99Ms: number;
    errors: number;
}

export interface LoadBalancerResult {
    operation: "read" | "write";
    throughLoadBalancer: { requestsPerSecond: Summary; meanLatencyMs: Summary; p99Ms: Summary };
    direct: { requestsPerSecond: Summary; meanLatencyMs: Summary; p99Ms: Summary };
    /** LB req/s over one member's req/s, per pair of runs made side by side. */
    throughputRatio: Summary;
}

/** One run of a fault scenario: the figures and the timeline, not every write. */
export interface FaultRunResult {
    failed: string[];
    figures: FaultFigures;
    timeline: FaultTimeline;
}

export interface FaultScenarioResult {
    fault: FaultId;
    title: string;
    runs: FaultRunResult[];
    /** Unacknowledged writes of all, per run. */
    unacknowledged: Summary;
    sent: Summary;
    whileDownSent: Summary;
    whileDownFailed: Summary;
    faultToDownMs: Summary;
    failingWindowMs: Summary;
    longestWaitMs: Summary;
    unacknowledgedPresent: Summary;
    /** Acknowledged writes over all runs, and how many of them were missing or altered at the read-back (always 0 in a run without errors). */
    acknowledged: number;
    lostOrAltered: number;
}

export interface FaultsSection {
    conditions: Conditions;
    size: number;
    intervalMs: number;
    healthCheckTimeScale: number;
    /** The target group's health check as the component sets it, at the scale above: what the failing window follows. */
    healthCheck: { intervalMs: number; unhealthyThreshold: number; healthyThreshold: number };
    scenarios: FaultScenarioResult[];
}

/** One roll of every member, under writes. */
export interface RollingRunResult {
    /** From the first member's gate delete to the last member's gate letting the roll go on. */
    rollMs: number;
    /** Each member's replacement, in member order (`inServiceMs` is 0: the gate's wait is in `healthyMs`). */
    members: ReplacementTimings[];
    /** Writes sent from 1 s before the roll to 1 s after it, and those sent during the roll itself. */
    sent: number;
    sentDuringRoll: number;
    acknowledged: number;
    /** Acknowledged writes missing or altered at the quorum read-back (a run with any is an error of the bench). */
    lostOrAltered: number;
    /** Unacknowledged writes by how they ended: HTTP status or error. */
    failedByOutcome: Record<string, number>;
    /** Of those: haproxy's own answers (502, 503, 504) and connections that failed or timed out, i.e. the load balancer's part. */
    failedAtLoadBalancer: number;
    /** etcd's own 500s (a proposal dropped while leadership moves). */
    failedByEtcd: number;
    /** Any other answer. */
    failedOther: number;
    /** Unacknowledged writes the cluster made anyway. */
    unacknowledgedPresent: number;
    /** Writes sent more than one interval late (the event loop was busy). */
    lateSends: number;
}

export interface RollingResult {
    size: number;
    runs: RollingRunResult[];
    rollMs: Summary;
    /** Over every member of every run. */
    perMember: { drainMs: Summary; stopMs: Summary; ignitionMs: Summary; healthyMs: Summary; totalMs: Summary };
    sent: Summary;
    sentDuringRoll: Summary;
    failedAtLoadBalancer: Summary;
    failedByEtcd: Summary;
    failedOther: Summary;
    /** Acknowledged writes over all runs, and how many were missing or altered at the read-back (always 0 in a run without errors). */
    acknowledged: number;
    lostOrAltered: number;
}

export interface RollingSection {
    conditions: Conditions;
    /** The `etcdVersion` the cluster starts at and the one rolled to. */
    fromVersion: string;
    toVersion: string;
    intervalMs: number;
    healthCheckTimeScale: number;
    /** The target groups' health check and deregistration delay as the component sets them, at the scale above. */
    healthCheck: { intervalMs: number; unhealthyThreshold: number; healthyThreshold: number };
    deregistrationDelayMs: number;
    results: RollingResult[];
}

/** One raft timing crashed under writes several times. */
export interface FailoverResult {
    /** How the README names it: the component's default, or the alternative it is set against. */
    label: string;
    heartbeatIntervalMs: number;
    electionTimeoutMs: number;
    /** The component's default timing. */
    isDefault: boolean;
    runs: { afterFault: FaultFigures["afterFault"]; resumedMs?: number }[];
    /** The share of the writes sent in the window after the crash that were acknowledged, per run. */
    answeredShare: Summary;
    /** From the crash to the first write sent after it that was acknowledged, per run that had one. */
    resumedMs?: Summary;
    acknowledged: number;
    lostOrAltered: number;
}

export interface FailoverSection {
    conditions: Conditions;
    size: number;
    intervalMs: number;
    /** The window after the crash whose writes are counted. */
    windowMs: number;
    healthCheckTimeScale: number;
    results: FailoverResult[];
}

export interface BenchResults {
    machine: Machine;
    userData?: { conditions: Conditions; results: UserDataResult[] };
    program?: { conditions: Conditions; processesPerSize: number; results: ProgramResult[] };
    bootstrap?: { conditions: Conditions; runsPerSize: number; results: BootstrapResult[] };
    loadBalancer?: { conditions: Conditions; runs: number; durationSeconds: number; connections: number; results: LoadBalancerResult[] };
    faults?: FaultsSection;
    rolling?: RollingSection;
    failover?: FailoverSection;
    /** Present only in a failed run's file: results.json is never written from a run with errors. */
    errors?: string[];
}

export const sectionNames = ["userdata", "program", "bootstrap", "loadbalancer", "faults", "rolling", "failover"] as const;
export type SectionName = typeof sectionNames[number];
