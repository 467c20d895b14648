/**
 * Asking a discovery service for a token (`GET {service}/new?size=N`) and
 * recognising discovery URLs: plain Node.js, no Pulumi, so argument checks,
 * the Ignition builder and the local cluster use it without loading the SDK.
 */
import * as fs from "fs";
import { setTimeout as sleep } from "timers/promises";

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
    return serviceUrlPattern.test(value) && parsesAsUrl(value);
}

export function isDiscoveryUrl(value: string): boolean {
    return discoveryUrlPattern.test(value) && parsesAsUrl(value);
}

/** False for what the patterns let through but no client can use: a port above 65535. */
function parsesAsUrl(value: string): boolean {
    try {
        new URL(value);
        return true;
    } catch {
        return false;
    }
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

