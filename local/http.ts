/**
 * The few HTTP calls the harness itself makes (health polls, the first write),
 * each bounded in time and never following a redirect: the discovery service,
 * for one, redirects to a page on the internet. An `https://` URL is checked
 * against the certificate authority given (the harness's test CA), never the
 * system's.
 */
import * as fs from "fs";
import * as https from "https";

/** Milliseconds one probe may take. */
export const probeTimeoutMs = 2000;

export interface ProbeOptions extends Pick<RequestInit, "method" | "body" | "headers"> {
    /** For `https://`: the PEM file of the CA its certificate must chain to. */
    caFile?: string;
}

/** An HTTPS request that trusts only `caFile`: Node's fetch takes no CA of its own. */
function httpsRequest(url: string, options: ProbeOptions & { caFile: string }): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const request = https.request(url, {
            method: options.method ?? "GET",
            headers: options.headers as Record<string, string> | undefined,
            ca: fs.readFileSync(options.caFile),
            timeout: probeTimeoutMs,
        }, (response) => {
            let body = "";
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => (body += chunk));
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
            response.on("error", reject);
        });
        request.on("timeout", () => request.destroy(new Error(`no answer from ${url} within ${probeTimeoutMs} ms`)));
        request.on("error", reject);
        request.end(options.body as string | undefined);
    });
}

/** A request that resolves to the status and body, or to undefined if nothing answered in time. */
export async function probe(url: string, options: ProbeOptions = {}): Promise<{ status: number; body: string } | undefined> {
    const { caFile, ...init } = options;
    const secure = url.startsWith("https://");
    if (secure && caFile === undefined) {
        throw new Error(`${url}: the harness trusts only its test CA, and none was given`);
    }
    try {
        if (secure) {
            return await httpsRequest(url, { ...init, caFile: caFile! });
        }
        const response = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(probeTimeoutMs) });
        return { status: response.status, body: await response.text() };
    } catch {
        return undefined;
    }
}

/** True if `url` answers 200 within the probe timeout. */
export async function answersOk(url: string, caFile?: string): Promise<boolean> {
    return (await probe(url, { caFile }))?.status === 200;
}
