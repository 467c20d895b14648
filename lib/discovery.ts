/**
 * The etcd discovery token: requested from a discovery service
 * (`GET {service}/new?size=N`) once, when the cluster is created, by a Pulumi
 * dynamic resource that keeps it in state. `requestDiscoveryUrl` is usable on
 * its own, without the Pulumi engine.
 */
import * as fs from "fs";
import { setTimeout as sleep } from "timers/promises";
import fetch from "node-fetch";
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

class PermanentDiscoveryError extends Error {}

/**
 * Asks the discovery service for a fresh token for a cluster of `size` members
 * and returns the discovery URL. Retries with exponential backoff on network
 * errors, timeouts, 429 and 5xx; fails at once on other statuses and on a body
 * that is not a discovery URL.
 */
export async function requestDiscoveryUrl(size: number, options: DiscoveryRequestOptions = {}): Promise<string> {
    const service = (options.service ?? defaultDiscoveryService).replace(/\/+$/, "");
    const attempts = options.attempts ?? 5;
    const timeoutMs = options.timeoutMs ?? 10_000;
    const retryDelayMs = options.retryDelayMs ?? 500;
    const log = options.log ?? (() => undefined);
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
            if (error instanceof PermanentDiscoveryError) {
                throw new Error(`discovery service ${service}: ${error.message}`);
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

async function fetchOnce(requestUrl: string, timeoutMs: number): Promise<string> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
        const response = await fetch(requestUrl, { signal: controller.signal, redirect: "error" });
        const body = (await response.text()).trim();
        if (response.status === 429 || response.status >= 500) {
            throw new Error(`HTTP ${response.status} ${response.statusText}: ${body.slice(0, 200)}`);
        }
        if (response.status !== 200) {
            throw new PermanentDiscoveryError(`HTTP ${response.status} ${response.statusText}: ${body.slice(0, 200)}`);
        }
        if (!isDiscoveryUrl(body)) {
            throw new PermanentDiscoveryError(`answered with something that is not a discovery URL: ${JSON.stringify(body.slice(0, 200))}`);
        }
        return body;
    } catch (error) {
        if ((error as Error).name === "AbortError") {
            throw new Error(`no answer within ${timeoutMs} ms`);
        }
        throw error;
    } finally {
        clearTimeout(timer);
    }
}

/** Appends lines in the seed's `etcd3-discovery-url.log` format: `20181118 06:29:37 PM <text>`. */
export function appendDiscoveryLog(file: string, lines: string[], now: Date = new Date()): void {
    const pad = (n: number) => String(n).padStart(2, "0");
    const hours = now.getHours() % 12 === 0 ? 12 : now.getHours() % 12;
    const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())} ` +
        `${pad(hours)}:${pad(now.getMinutes())}:${pad(now.getSeconds())} ${now.getHours() < 12 ? "AM" : "PM"}`;
    fs.appendFileSync(file, lines.map((line) => `${stamp} ${line}\n`).join(""));
}

interface DiscoveryUrlInputs {
    size: number;
    service: string;
    logFile?: string;
}

interface DiscoveryUrlOutputs extends DiscoveryUrlInputs {
    url: string;
}

/**
 * Requests the token once at create. A change of service replaces it; a change
 * of size is refused, because the running members cannot follow it.
 */
export const discoveryUrlProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: DiscoveryUrlInputs): Promise<pulumi.dynamic.CreateResult> {
        const lines: string[] = ["[etcd3-cluster] requesting an etcd discovery url."];
        let url: string;
        try {
            url = await requestDiscoveryUrl(inputs.size, { service: inputs.service, log: (line) => lines.push(line) });
        } finally {
            if (inputs.logFile) {
                try {
                    appendDiscoveryLog(inputs.logFile, lines);
                } catch (error) {
                    // The log is a courtesy: it must neither hide the request's own error nor waste a token.
                    console.warn(`etcd3-cluster: could not append to ${inputs.logFile}: ${(error as Error).message}`);
                }
            }
        }
        const outs: DiscoveryUrlOutputs = { ...inputs, url };
        return { id: url.slice(-32), outs };
    },
    async diff(_id: string, olds: DiscoveryUrlOutputs, news: DiscoveryUrlInputs): Promise<pulumi.dynamic.DiffResult> {
        if (olds.size !== news.size) {
            // A new token would let new members form a second cluster while the running members never learn of them.
            throw new Error(`clusterSize cannot change from ${olds.size} to ${news.size} on a running cluster: its members ` +
                "would not learn of the change (that needs etcd's runtime reconfiguration). To build a new cluster of the " +
                "new size, run `pulumi destroy` first, or create a second Etcd3Cluster.");
        }
        const replaces = (["service"] as const).filter((key) => olds[key] !== news[key]);
        return { changes: replaces.length > 0 || olds.logFile !== news.logFile, replaces };
    },
    async update(_id: string, olds: DiscoveryUrlOutputs, news: DiscoveryUrlInputs): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: { ...news, url: olds.url } };
    },
};

export interface DiscoveryUrlArgs {
    /** The number of members the token is for. */
    size: pulumi.Input<number>;
    /** The discovery service's base URL. */
    service: pulumi.Input<string>;
    /** File the request's facts are appended to, or undefined for none. */
    logFile?: pulumi.Input<string>;
}

/** A discovery URL requested once and kept in the stack's state. */
export class DiscoveryUrl extends pulumi.dynamic.Resource {
    declare public readonly url: pulumi.Output<string>;

    constructor(name: string, args: DiscoveryUrlArgs, opts?: pulumi.CustomResourceOptions) {
        super(discoveryUrlProvider, name, { ...args, url: undefined }, opts, "etcd3-cluster", "DiscoveryUrl");
    }
}
