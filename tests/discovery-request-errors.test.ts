/**
 * lib/discovery-request.ts: a failed connection whose cause has no message of
 * its own, only one error per address tried (fetch's AggregateError, when a
 * service's host name has several addresses and every one refuses), is
 * explained by each address's reason.
 */
import { expect } from "chai";
import dns = require("dns");
import { requestDiscoveryUrl } from "../lib/discovery-request";
import { refusingService } from "./support/discovery-services";

type Lookup = (hostname: string, options: unknown, callback: (...results: unknown[]) => void) => void;

/**
 * Runs `work` while `localhost` resolves to `addresses` (IPv4 loopback) for connections that try every address, as
 * fetch's do: this process's dns.lookup answers for it, so no resolver is asked; other lookups go on as before.
 */
async function whileLocalhostResolvesTo<T>(addresses: string[], work: () => Promise<T>): Promise<T> {
    const resolver = dns as unknown as { lookup: Lookup };
    const lookup = resolver.lookup;
    resolver.lookup = (hostname, options, callback) => {
        if (hostname === "localhost" && (options as dns.LookupOptions | undefined)?.all === true) {
            callback(null, addresses.map((address) => ({ address, family: 4 })));
        } else {
            lookup(hostname, options, callback);
        }
    };
    try {
        return await work();
    } finally {
        resolver.lookup = lookup;
    }
}

describe("the discovery request's connection errors (lib/discovery-request.ts)", () => {
    it("explains a service refused at each of its host's two addresses by both reasons, joined by \"; \"", async () => {
        const { port } = new URL(await refusingService());
        const base = `http://localhost:${port}`;
        const error = await whileLocalhostResolvesTo(["127.0.0.1", "127.0.0.2"],
            () => requestDiscoveryUrl(3, { service: base, attempts: 1, retryDelayMs: 0, timeoutMs: 2000 }).then(() => undefined, (failure: Error) => failure));
        expect(error?.message).to.equal(`discovery service ${base} gave no discovery URL after 1 attempts; last: ` +
            `fetch failed: connect ECONNREFUSED 127.0.0.1:${port}; connect ECONNREFUSED 127.0.0.2:${port}`);
    });
});
