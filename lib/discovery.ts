/**
 * The etcd discovery token: requested from a discovery service
 * (`GET {service}/new?size=N`) once, when the cluster is created, by a Pulumi
 * dynamic resource that keeps it in state. `requestDiscoveryUrl` is usable on
 * its own, without the Pulumi engine.
 */
import * as fs from "fs";
import * as path from "path";
import { setTimeout as sleep } from "timers/promises";
import * as pulumi from "@pulumi/pulumi";

export const defaultDiscoveryService = "https://discovery.etcd.io";

export interface DiscoveryRequestOptions {
    /** Base URL of the discovery service. Default `https://discovery.etcd.io`. */
    service?: string;
    /** How many times to ask in all before giving up on network errors, timeouts, 429 and 5xx. Default 5. */
    attempts?: number;
    /** Time allowed for each request, in ms. Default 10000. */
    timeoutMs?: number;
    /** Wait before the first retry, in ms; doubled for each retry after it. Default 500. */
    retryDelayMs?: number;
    /** Receives one line per fact worth logging (node count, each attempt, the URL). */
    log?: (line: string) => void;
}

/** A discovery service's base URL: http(s), a host, an optional port and path, no trailing slash. */
const serviceUrlSource = String.raw`https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~-]+)*`;
const serviceUrlPattern = new RegExp(`^${serviceUrlSource}$`);
/** A discovery URL is the service's base URL followed by a 32-hex-digit token and nothing else. */
export const discoveryUrlPattern = new RegExp(`^${serviceUrlSource}\\/[0-9a-f]{32}$`);

export function isDiscoveryServiceUrl(value: string): boolean {
    return serviceUrlPattern.test(value);
}

export function isDiscoveryUrl(value: string): boolean {
    return discoveryUrlPattern.test(value);
}

/**
 * A failure that asking again cannot fix (a 4xx other than 429, a body that is
 * not a discovery URL): a plain `Error` tagged `permanent`, not a subclass.
 * The provider runs as Pulumi's closure serializer rewrote it, and that
 * rewrites `class X extends Error {}` into a constructor that calls `Error`
 * without its message, so the engine would print `undefined`.
 */
function permanentFailure(message: string): Error {
    return Object.assign(new Error(message), { permanent: true });
}

function isPermanentFailure(error: unknown): boolean {
    return (error as { permanent?: unknown } | undefined)?.permanent === true;
}

/**
 * Asks the discovery service for a fresh token for a cluster of `size` members
 * and returns the discovery URL. Retries with exponential backoff on network
 * errors, timeouts, 429 and 5xx; fails at once on other statuses and on a body
 * that is not a discovery URL.
 *
 * @throws Error naming the service and what it answered (or that it did not).
 */
export async function requestDiscoveryUrl(size: number, options: DiscoveryRequestOptions = {}): Promise<string> {
    const service = (options.service ?? defaultDiscoveryService).replace(/\/+$/, "");
    const attempts = options.attempts ?? 5;
    const timeoutMs = options.timeoutMs ?? 10_000;
    const retryDelayMs = options.retryDelayMs ?? 500;
    const log = options.log ?? (() => undefined);
    if (!Number.isInteger(attempts) || attempts < 1) {
        throw new Error(`discovery request: attempts must be a whole number of at least 1, not ${attempts}`);
    }
    if (!(timeoutMs > 0) || !(retryDelayMs >= 0)) {
        throw new Error(`discovery request: timeoutMs must be above 0 and retryDelayMs at least 0, not ${timeoutMs} and ${retryDelayMs}`);
    }
    const requestUrl = `${service}/new?size=${size}`;
    log(`The stated node count in the etcd cluster is [${size}]`);

    let lastProblem = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
            log(`GET ${requestUrl} (attempt ${attempt} of ${attempts})`);
            const body = await fetchOnce(requestUrl, timeoutMs);
            log(`The etcd discovery url retrieved is [${body}]`);
            return body;
        } catch (error) {
            if (isPermanentFailure(error)) {
                throw new Error(`discovery service ${service}: ${(error as Error).message}`);
            }
            lastProblem = (error as Error).message;
            log(`discovery service ${service}: ${lastProblem}`);
        }
        if (attempt < attempts) {
            await sleep(retryDelayMs * 2 ** (attempt - 1));
        }
    }
    throw new Error(`discovery service ${service} gave no discovery URL after ${attempts} attempts; last: ${lastProblem}`);
}

/**
 * One request with Node's own `fetch`, not a package: the provider runs
 * serialized, and a package it required would be looked up from the Pulumi
 * program's directory, where it may be missing or another version.
 */
async function fetchOnce(requestUrl: string, timeoutMs: number): Promise<string> {
    let response: Response;
    let body: string;
    try {
        // A redirect is answered, not followed: the message then says where the service moved.
        response = await fetch(requestUrl, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
        body = (await response.text()).trim();
    } catch (error) {
        const name = (error as Error).name;
        if (name === "TimeoutError" || name === "AbortError") {
            throw new Error(`no answer within ${timeoutMs} ms`);
        }
        throw new Error(describeNetworkFailure(error as Error));
    }
    if (response.status === 429 || response.status >= 500) {
        throw new Error(`HTTP ${response.status} ${response.statusText}: ${body.slice(0, 200)}`);
    }
    if (response.status >= 300 && response.status < 400) {
        throw permanentFailure(`HTTP ${response.status} ${response.statusText}: redirects to ${response.headers.get("location")}; ` +
            "give the service's own URL");
    }
    if (response.status !== 200) {
        throw permanentFailure(`HTTP ${response.status} ${response.statusText}: ${body.slice(0, 200)}`);
    }
    if (!isDiscoveryUrl(body)) {
        throw permanentFailure(`answered with something that is not a discovery URL: ${JSON.stringify(body.slice(0, 200))}`);
    }
    return body;
}

/** fetch's `fetch failed` plus its cause (e.g. `connect ECONNREFUSED 127.0.0.1:8087`), which holds the reason. */
function describeNetworkFailure(error: Error): string {
    const cause = (error as { cause?: { message?: string; code?: string; errors?: Error[] } }).cause;
    if (cause === undefined) {
        return error.message;
    }
    const reason = cause.message || cause.errors?.map((inner) => inner.message).join("; ") || cause.code || String(cause);
    return `${error.message}: ${reason}`;
}

/** Appends lines in the seed's `etcd3-discovery-url.log` format: `20181118 06:29:37 PM <text>`. */
export function appendDiscoveryLog(file: string, lines: string[], now: Date = new Date()): void {
    const pad = (n: number) => String(n).padStart(2, "0");
    const hours = now.getHours() % 12 === 0 ? 12 : now.getHours() % 12;
    const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())} ` +
        `${pad(hours)}:${pad(now.getMinutes())}:${pad(now.getSeconds())} ${now.getHours() < 12 ? "AM" : "PM"}`;
    fs.appendFileSync(file, lines.map((line) => `${stamp} ${line}\n`).join(""));
}

/**
 * The retry and timeout settings of the token request, as an input of the
 * {@link DiscoveryUrl} resource. Each one left out takes the default given in
 * {@link DiscoveryRequestOptions}.
 */
export type DiscoveryRequestSettings = Pick<DiscoveryRequestOptions, "attempts" | "timeoutMs" | "retryDelayMs">;

interface DiscoveryUrlInputs {
    size: number;
    service: string;
    logFile?: string;
    requestSettings?: DiscoveryRequestSettings;
}

interface DiscoveryUrlOutputs extends DiscoveryUrlInputs {
    url: string;
}

/**
 * Requests the token once, at create. A change of service replaces it (a new
 * token from the new service). Nothing else does: a token is for the size it
 * was requested with, and members that formed a cluster with it never look at
 * it again, so a size change keeps the token and its recorded size (the
 * ClusterGuard resource decides whether a size change is allowed at all). A
 * change of log file only updates state; request settings are ignored.
 */
export const discoveryUrlProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: DiscoveryUrlInputs): Promise<pulumi.dynamic.CreateResult> {
        const lines: string[] = ["[etcd3-cluster] requesting an etcd discovery url."];
        let url: string;
        try {
            url = await requestDiscoveryUrl(inputs.size, {
                ...inputs.requestSettings,
                service: inputs.service,
                log: (line) => lines.push(line),
            });
        } catch (error) {
            lines.push(`no discovery url: ${(error as Error).message}`);
            throw error;
        } finally {
            if (inputs.logFile) {
                // Resolved here, by the provider host, whose working directory is the program's (see DiscoveryUrlArgs.logFile).
                const logFile = path.resolve(inputs.logFile);
                try {
                    appendDiscoveryLog(logFile, lines);
                } catch (error) {
                    // The log is a courtesy: it must neither hide the request's own error nor waste a token.
                    console.warn(`etcd3-cluster: could not append to ${logFile}: ${(error as Error).message}`);
                }
            }
        }
        const outs: DiscoveryUrlOutputs = { ...inputs, url };
        return { id: url.slice(-32), outs };
    },
    async diff(_id: string, olds: DiscoveryUrlOutputs, news: DiscoveryUrlInputs): Promise<pulumi.dynamic.DiffResult> {
        // The token matters only to members that have yet to form the cluster: a new size or service
        // on a live stack must not request one the running members would never use.
        return { changes: olds.logFile !== news.logFile, replaces: [] };
    },
    async update(_id: string, olds: DiscoveryUrlOutputs, news: DiscoveryUrlInputs): Promise<pulumi.dynamic.UpdateResult> {
        // Only the log file can have changed (see diff): the token, and the size and service it was requested with, stay.
        return { outs: { ...news, size: olds.size, service: olds.service, url: olds.url } };
    },
};

export interface DiscoveryUrlArgs {
    /** The number of members the token is for. */
    size: pulumi.Input<number>;
    /** The discovery service's base URL. */
    service: pulumi.Input<string>;
    /**
     * File the request's facts are appended to, or undefined for none. Kept
     * in state as given: an absolute path, or a path relative to the Pulumi
     * program's working directory (the project directory, or its `main`
     * directory), resolved when the token is requested. That is where the
     * engine starts the provider host, so it is the directory the program
     * itself runs in.
     */
    logFile?: pulumi.Input<string>;
    /**
     * How hard to try for a token: attempts, per-request timeout, first retry
     * delay. The component never sets it, so stacks use the defaults and their
     * state holds no such key; tests set it to fail fast. `diff` ignores it:
     * changing it neither updates nor replaces the token.
     */
    requestSettings?: pulumi.Input<DiscoveryRequestSettings>;
}
/** A discovery URL requested once and kept in the stack's state. */
export class DiscoveryUrl extends pulumi.dynamic.Resource {
    declare public readonly url: pulumi.Output<string>;

    constructor(name: string, args: DiscoveryUrlArgs, opts?: pulumi.CustomResourceOptions) {
        super(discoveryUrlProvider, name, { ...args, url: undefined }, opts, "etcd3-cluster", "DiscoveryUrl");
    }
}
