/**
 * The shape of bench/results.json (a module named apart from it: `./results`
 * would resolve to the JSON file first): written by bench/run.ts, read by
 * scripts/bench-tables.ts, which renders the README's figures from it.
 * Every section carries the conditions it ran under, because `--only`
 * reruns one section and keeps the others from earlier runs.
 */
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

export interface BenchResults {
    machine: Machine;
    userData?: { conditions: Conditions; results: UserDataResult[] };
    program?: { conditions: Conditions; processesPerSize: number; results: ProgramResult[] };
    bootstrap?: { conditions: Conditions; runsPerSize: number; results: BootstrapResult[] };
    loadBalancer?: { conditions: Conditions; runs: number; durationSeconds: number; connections: number; results: LoadBalancerResult[] };
    faults?: FaultsSection;
    /** Present only in a failed run's file: results.json is never written from a run with errors. */
    errors?: string[];
}

export const sectionNames = ["userdata", "program", "bootstrap", "loadbalancer", "faults"] as const;
export type SectionName = typeof sectionNames[number];
