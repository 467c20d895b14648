/**
 * A paced, open-loop writer and the check of what it wrote: the load the
 * fault-under-load tests and the benchmark's fault section put on a cluster.
 *
 * Every write is one v2 PUT of a key of its own, sent once (no retry, a new
 * connection each, so no client-side re-send either) on a fixed cadence that
 * does not wait for earlier answers, the way many independent clients would.
 * Afterwards one quorum read of the writer's directory shows which writes the
 * cluster kept: every acknowledged write must be there with its value and
 * index; an unacknowledged one may or may not be, and is counted apart.
 */
import * as http from "http";

/** One write and what became of it. Times are milliseconds since the writer started. */
export interface WriteRecord {
    seq: number;
    /** Key path under /v2/keys, without a leading slash. */
    key: string;
    value: string;
    sentMs: number;
    /** When the answer (or the error) came; undefined only while in flight. */
    settledMs?: number;
    /** HTTP status, when one came back. */
    status?: number;
    /** Why no status came back: `timeout`, or the socket error's code. */
    error?: string;
    /** The etcd index the answer reported for the write. */
    modifiedIndex?: number;
}

/** A write etcd said it made: 200 or 201 with the node's index. */
export function isAcknowledged(record: WriteRecord): boolean {
    return (record.status === 200 || record.status === 201) && record.modifiedIndex !== undefined;
}

/** How a write ended, for counting: the HTTP status, or the error. */
export function outcomeOf(record: WriteRecord): string {
    return record.status !== undefined ? String(record.status) : record.error ?? "in flight";
}

export interface PacedWriterOptions {
    /** The base URL writes go to, e.g. the load balancer's. */
    baseUrl: string;
    /** Key directory the writes go under; one per run so the read-back sees this run's keys only. */
    directory: string;
    /** Milliseconds between two sends. Default 50. */
    intervalMs?: number;
    /** A write not answered in this many milliseconds is abandoned as a `timeout`. Default 15000, above etcd's own request timeout (about 7 s). */
    requestTimeoutMs?: number;
    /** Sends stop after this many writes, whatever happens. Default 4000. */
    maxWrites?: number;
    /** Sends stop this many milliseconds after the start, whatever happens. Default 120000. */
    maxDurationMs?: number;
}

/** Zero-padded sequence numbers keep the keys in send order when etcd lists them. */
const keyOf = (directory: string, seq: number) => `${directory}/${String(seq).padStart(6, "0")}`;

/**
 * Sends one write every `intervalMs` until stopped or a bound is reached.
 * Each write is sent exactly once: a fresh connection (no keep-alive socket
 * that could be reset before the request reached anyone) and no retry.
 */
export class PacedWriter {
    readonly intervalMs: number;
    readonly requestTimeoutMs: number;
    private readonly maxWrites: number;
    private readonly maxDurationMs: number;
    private readonly records: WriteRecord[] = [];
    private readonly inFlight = new Set<Promise<void>>();
    private readonly agent = new http.Agent({ keepAlive: false });
    private startedAt = 0;
    private timer: NodeJS.Timeout | undefined;
    private stopped = false;
    /** Sends that came later than one interval after their slot (the event loop was busy); they are sent late, not dropped. */
    lateSends = 0;

    constructor(private readonly options: PacedWriterOptions) {
        this.intervalMs = options.intervalMs ?? 50;
        this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
        this.maxWrites = options.maxWrites ?? 4000;
        this.maxDurationMs = options.maxDurationMs ?? 120_000;
    }

    /** Milliseconds since the writer started. */
    now(): number {
        return Date.now() - this.startedAt;
    }

    start(): void {
        if (this.startedAt) {
            throw new Error("the writer was already started");
        }
        this.startedAt = Date.now();
        this.tick();
    }

    /** True while sends continue (not stopped, no bound reached). */
    get sending(): boolean {
        return !this.stopped && this.records.length < this.maxWrites && this.now() < this.maxDurationMs;
    }

    private tick(): void {
        if (!this.sending) {
            this.timer = undefined;
            return;
        }
        const seq = this.records.length;
        const slot = seq * this.intervalMs;
        if (this.now() - slot > this.intervalMs) {
            this.lateSends++;
        }
        this.send(seq);
        const next = (seq + 1) * this.intervalMs;
        this.timer = setTimeout(() => this.tick(), Math.max(0, next - this.now()));
    }

    private send(seq: number): void {
        const key = keyOf(this.options.directory, seq);
        const record: WriteRecord = { seq, key, value: `write ${seq} of ${this.options.directory}`, sentMs: this.now() };
        this.records.push(record);
        const body = `value=${encodeURIComponent(record.value)}`;
        const done = new Promise<void>((resolve) => {
            const settle = (outcome: { status?: number; error?: string; modifiedIndex?: number }) => {
                if (record.settledMs === undefined) {
                    Object.assign(record, outcome, { settledMs: this.now() });
                    clearTimeout(timeout);
                    resolve();
                }
            };
            const request = http.request(`${this.options.baseUrl}/v2/keys/${key}`, {
                method: "PUT",
                agent: this.agent,
                headers: { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body) },
            }, (response) => {
                const chunks: Buffer[] = [];
                response.on("data", (chunk: Buffer) => chunks.push(chunk));
                response.on("error", (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
                response.on("end", () => {
                    let modifiedIndex: number | undefined;
                    try {
                        const index = JSON.parse(Buffer.concat(chunks).toString("utf8"))?.node?.modifiedIndex;
                        modifiedIndex = typeof index === "number" ? index : undefined;
                    } catch {
                        // Not JSON: haproxy's own error page, for one.
                    }
                    settle({ status: response.statusCode, modifiedIndex });
                });
            });
            const timeout = setTimeout(() => {
                settle({ error: "timeout" });
                request.destroy();
            }, this.requestTimeoutMs);
            request.on("error", (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
            request.end(body);
        });
        this.inFlight.add(done);
        done.then(() => this.inFlight.delete(done));
    }

    /**
     * Stops sending and waits for every write in flight to settle (each is
     * bounded by `requestTimeoutMs`); returns every write in send order.
     */
    async stop(): Promise<WriteRecord[]> {
        this.stopped = true;
        if (this.timer) {
            clearTimeout(this.timer);
            this.timer = undefined;
        }
        await Promise.all([...this.inFlight]);
        this.agent.destroy();
        return [...this.records];
    }

    /** The writes so far (in flight ones have no `settledMs`). */
    snapshot(): WriteRecord[] {
        return [...this.records];
    }
}

/** A key as the cluster holds it. */
export interface StoredValue {
    value: string;
    modifiedIndex: number;
}

/**
 * Every key under `directory` by one recursive v2 read with `quorum=true`
 * (linearizable: nothing acknowledged before it can be missing from it).
 * The read checks what was acknowledged, not the load balancer: while the
 * load balancer has no member UP (haproxy answers 503 where an ALB fails
 * open; a loaded machine can leave the members without a leader for a check
 * or two after a membership change) it is tried again, every 250 ms.
 * Rejects unless a read is answered 200 within `timeoutMs`.
 */
export async function readDirectoryWithQuorum(baseUrl: string, directory: string, timeoutMs = 30_000): Promise<Map<string, StoredValue>> {
    const deadline = Date.now() + timeoutMs;
    let text: string;
    for (;;) {
        const response = await fetch(`${baseUrl}/v2/keys/${directory}?recursive=true&quorum=true`,
            { signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) });
        text = await response.text();
        if (response.status === 200) {
            break;
        }
        if (response.status !== 503 || Date.now() + 250 >= deadline) {
            throw new Error(`quorum read of ${directory} through ${baseUrl}: HTTP ${response.status} ${text.slice(0, 200)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const stored = new Map<string, StoredValue>();
    const visit = (node: { key: string; dir?: boolean; value?: string; modifiedIndex: number; nodes?: unknown[] }) => {
        if (node.dir) {
            for (const child of node.nodes ?? []) {
                visit(child as typeof node);
            }
        } else {
            stored.set(node.key.replace(/^\//, ""), { value: node.value ?? "", modifiedIndex: node.modifiedIndex });
        }
    };
    visit(JSON.parse(text).node);
    return stored;
}

/** What the read-back says about the writes. */
export interface WriteCheck {
    sent: number;
    acknowledged: number;
    unacknowledged: number;
    /** Acknowledged writes whose key is missing. */
    lost: string[];
    /** Acknowledged writes whose key holds another value or index than the acknowledgement said. */
    altered: string[];
    /** Unacknowledged writes the cluster made anyway (allowed: the answer, not the write, was lost). */
    unacknowledgedPresent: number;
    /** Unacknowledged writes the cluster does not hold (allowed). */
    unacknowledgedAbsent: number;
    /** Unacknowledged writes present with another value than the one sent. */
    unacknowledgedAltered: string[];
    /** Keys in the directory that no write sent. */
    strays: string[];
    /** Writes that never settled (the writer was not stopped before the check). */
    unsettled: number;
}

/** Compares the writes with the read-back. Pure: the unit tests feed it made-up histories. */
export function checkWrites(records: WriteRecord[], stored: Map<string, StoredValue>): WriteCheck {
    const check: WriteCheck = {
        sent: records.length, acknowledged: 0, unacknowledged: 0, lost: [], altered: [],
        unacknowledgedPresent: 0, unacknowledgedAbsent: 0, unacknowledgedAltered: [], strays: [], unsettled: 0,
    };
    const sentKeys = new Set<string>();
    for (const record of records) {
        sentKeys.add(record.key);
        const found = stored.get(record.key);
        if (record.settledMs === undefined) {
            check.unsettled++;
        }
        if (isAcknowledged(record)) {
            check.acknowledged++;
            if (!found) {
                check.lost.push(record.key);
            } else if (found.value !== record.value || found.modifiedIndex !== record.modifiedIndex) {
                check.altered.push(`${record.key}: acknowledged ${JSON.stringify(record.value)} at index ${record.modifiedIndex}, holds ${JSON.stringify(found.value)} at index ${found.modifiedIndex}`);
            }
        } else {
            check.unacknowledged++;
            if (!found) {
                check.unacknowledgedAbsent++;
            } else if (found.value !== record.value) {
                check.unacknowledgedAltered.push(record.key);
            } else {
                check.unacknowledgedPresent++;
            }
        }
    }
    check.strays = [...stored.keys()].filter((key) => !sentKeys.has(key));
    return check;
}

/** The check's failures in words; empty when every acknowledged write is there as acknowledged. */
export function writeCheckProblems(check: WriteCheck): string[] {
    const problems: string[] = [];
    const some = (keys: string[]) => keys.slice(0, 5).join(", ") + (keys.length > 5 ? `, … (${keys.length} in all)` : "");
    if (check.lost.length) {
        problems.push(`${check.lost.length} acknowledged write(s) lost: ${some(check.lost)}`);
    }
    if (check.altered.length) {
        problems.push(`${check.altered.length} acknowledged write(s) read back differently: ${some(check.altered)}`);
    }
    if (check.unacknowledgedAltered.length) {
        problems.push(`${check.unacknowledgedAltered.length} unacknowledged write(s) hold a value never sent: ${some(check.unacknowledgedAltered)}`);
    }
    if (check.strays.length) {
        problems.push(`${check.strays.length} key(s) no write sent: ${some(check.strays)}`);
    }
    if (check.unsettled) {
        problems.push(`${check.unsettled} write(s) had not settled when checked`);
    }
    return problems;
}

/** Requests sent in [fromMs, toMs): how many, how many acknowledged, how many not. */
export interface WindowCount {
    sent: number;
    answered: number;
    failed: number;
}

export function countWindow(records: WriteRecord[], fromMs: number, toMs: number): WindowCount {
    const inWindow = records.filter((r) => r.sentMs >= fromMs && r.sentMs < toMs);
    const answered = inWindow.filter(isAcknowledged).length;
    return { sent: inWindow.length, answered, failed: inWindow.length - answered };
}

/** Unacknowledged writes sent in [fromMs, toMs). */
export function failuresBetween(records: WriteRecord[], fromMs: number, toMs: number): WriteRecord[] {
    return records.filter((r) => r.sentMs >= fromMs && r.sentMs < toMs && !isAcknowledged(r));
}

/** Requests that failed through the load balancer, by outcome, e.g. `{ "503": 2 }`. */
export function failuresByOutcome(records: WriteRecord[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const record of records.filter((r) => !isAcknowledged(r))) {
        counts[outcomeOf(record)] = (counts[outcomeOf(record)] ?? 0) + 1;
    }
    return counts;
}
