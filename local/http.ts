/**
 * The few HTTP calls the harness itself makes (health polls, the first write),
 * each bounded in time and never following a redirect: the discovery service,
 * for one, redirects to a page on the internet.
 */

/** Milliseconds one probe may take. */
const probeTimeoutMs = 2000;

/** A GET that resolves to the status and body, or to undefined if nothing answered in time. */
export async function probe(url: string, init: RequestInit = {}): Promise<{ status: number; body: string } | undefined> {
    try {
        const response = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(probeTimeoutMs) });
        return { status: response.status, body: await response.text() };
    } catch {
        return undefined;
    }
}

/** True if `url` answers 200 within the probe timeout. */
export async function answersOk(url: string): Promise<boolean> {
    return (await probe(url))?.status === 200;
}
