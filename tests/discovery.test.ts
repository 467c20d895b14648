/**
 * requestDiscoveryUrl called directly, as the local cluster calls it. The
 * DiscoveryUrl provider, which the engine runs serialized, is tested as the
 * engine runs it in discovery-engine.test.ts.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { appendDiscoveryLog, isDiscoveryUrl, requestDiscoveryUrl } from "../lib/discovery-request";
import { answerWith, FakeService, fakeService, Handler, neverAnswer, refusingService } from "./support/discovery-services";

/** The handlers, each noting in `arrivals` when its request came in (ms, monotonic). */
function timed(arrivals: number[], ...handlers: Handler[]): Handler[] {
    return handlers.map((handler) => (request, response) => {
        arrivals.push(performance.now());
        handler(request, response);
    });
}

/** The time between each request and the next. */
const gapsBetween = (arrivals: number[]) => arrivals.slice(1).map((arrival, i) => arrival - arrivals[i]);

const token = "9a69d64726338dabf0a279d4fa7e803e";
const fast = { retryDelayMs: 10, timeoutMs: 2000 };

describe("requestDiscoveryUrl", () => {
    let service: FakeService | undefined;
    afterEach(async () => {
        await service?.close();
        service = undefined;
    });

    it("asks GET /new?size=N and returns the URL in the body", async () => {
        service = await fakeService((_req, res) => answerWith(200, `${service!.base}/${token}`)(_req, res));
        const url = await requestDiscoveryUrl(5, { service: service.base, ...fast });
        expect(url).to.equal(`${service.base}/${token}`);
        expect(service.requests).to.deep.equal(["/new?size=5"]);
    });

    it("retries after a 503 and returns the URL of the next answer", async () => {
        service = await fakeService(answerWith(503, "Service Unavailable"), answerWith(200, `https://discovery.etcd.io/${token}`));
        expect(await requestDiscoveryUrl(3, { service: service.base, ...fast })).to.equal(`https://discovery.etcd.io/${token}`);
        expect(service.requests).to.have.length(2);
    });

    it("retries after a 429 (too many requests) and returns the URL of the next answer", async () => {
        service = await fakeService(answerWith(429, "Too Many Requests"), answerWith(200, `https://discovery.etcd.io/${token}`));
        expect(await requestDiscoveryUrl(3, { service: service.base, ...fast })).to.equal(`https://discovery.etcd.io/${token}`);
        expect(service.requests).to.deep.equal(["/new?size=3", "/new?size=3"]);
    });

    it("waits retryDelayMs before the first retry and twice as long before the next", async () => {
        const arrivals: number[] = [];
        service = await fakeService(...timed(arrivals, answerWith(503, "busy"), answerWith(503, "busy"), answerWith(200, `https://discovery.etcd.io/${token}`)));
        await requestDiscoveryUrl(3, { service: service.base, attempts: 3, retryDelayMs: 200, timeoutMs: 5000 });
        expect(arrivals).to.have.length(3);
        // Lower bounds only, and generous ones: a busy machine makes the gaps longer, never shorter.
        const [first, second] = gapsBetween(arrivals);
        expect(first, "ms between the first and second attempt").to.be.at.least(180);
        expect(second, "ms between the second and third attempt").to.be.at.least(360);
    });

    it("waits half a second, then a second, between attempts by default", async function () {
        this.timeout(20_000);
        const arrivals: number[] = [];
        service = await fakeService(...timed(arrivals, answerWith(429, "slow down"), answerWith(503, "busy"), answerWith(200, `https://discovery.etcd.io/${token}`)));
        await requestDiscoveryUrl(3, { service: service.base });
        expect(arrivals).to.have.length(3);
        const [first, second] = gapsBetween(arrivals);
        expect(first, "ms between the first and second attempt").to.be.at.least(450);
        expect(second, "ms between the second and third attempt").to.be.at.least(900);
    });

    it("gives up after the set number of attempts, naming the service and the last status", async () => {
        service = await fakeService(answerWith(502, "Bad Gateway"));
        const error = await requestDiscoveryUrl(3, { service: service.base, ...fast, attempts: 3 }).catch((e: Error) => e);
        expect((error as Error).message)
            .to.equal(`discovery service ${service.base} gave no discovery URL after 3 attempts; last: HTTP 502 Bad Gateway: Bad Gateway`);
        expect(service.requests).to.have.length(3);
    });

    it("fails at once on a 400, with the service's text", async () => {
        service = await fakeService(answerWith(400, 'strconv.Atoi: parsing "x": invalid syntax'));
        const error = await requestDiscoveryUrl(3, { service: service.base, ...fast }).catch((e: Error) => e);
        expect((error as Error).message)
            .to.equal(`discovery service ${service.base}: HTTP 400 Bad Request: strconv.Atoi: parsing "x": invalid syntax`);
        expect(service.requests).to.have.length(1);
    });

    it("rejects a body that is not a discovery URL and keeps none of it", async () => {
        service = await fakeService(answerWith(200, "<html>maintenance</html>"));
        const error = await requestDiscoveryUrl(3, { service: service.base, ...fast }).catch((e: Error) => e);
        expect((error as Error).message)
            .to.equal(`discovery service ${service.base}: answered with something that is not a discovery URL: "<html>maintenance</html>"`);
        expect(service.requests).to.have.length(1);
    });

    it("times out a service that never answers, and retries", async function () {
        service = await fakeService(neverAnswer);
        const error = await requestDiscoveryUrl(3, { service: service.base, attempts: 2, retryDelayMs: 10, timeoutMs: 200 }).catch((e: Error) => e);
        expect((error as Error).message)
            .to.equal(`discovery service ${service.base} gave no discovery URL after 2 attempts; last: no answer within 200 ms`);
        expect(service.requests).to.have.length(2);
    });

    it("reports a refused connection after its retries", async () => {
        const base = await refusingService();
        const error = await requestDiscoveryUrl(3, { service: base, ...fast, attempts: 2 }).catch((e: Error) => e);
        expect((error as Error).message).to.equal(`discovery service ${base} gave no discovery URL after 2 attempts; ` +
            `last: fetch failed: connect ECONNREFUSED ${base.replace("http://", "")}`);
    });

    it("refuses settings that would never ask or never wait", async () => {
        const attempts = await requestDiscoveryUrl(3, { service: "http://127.0.0.1:8087", attempts: 1.5 }).catch((e: Error) => e);
        expect((attempts as Error).message).to.equal("discovery request: attempts must be a whole number of at least 1, not 1.5");
        const timeout = await requestDiscoveryUrl(3, { service: "http://127.0.0.1:8087", timeoutMs: 0 }).catch((e: Error) => e);
        expect((timeout as Error).message)
            .to.equal("discovery request: timeoutMs must be above 0 and retryDelayMs at least 0, not 0 and 500");
    });

    it("logs the node count and the URL it got, like the seed's log", async () => {
        service = await fakeService(answerWith(200, `https://discovery.etcd.io/${token}`));
        const lines: string[] = [];
        await requestDiscoveryUrl(3, { service: service.base, ...fast, log: (line) => lines.push(line) });
        expect(lines[0]).to.equal("The stated node count in the etcd cluster is [3]");
        expect(lines[lines.length - 1]).to.equal(`The etcd discovery url retrieved is [https://discovery.etcd.io/${token}]`);
    });
});

describe("discovery URL format", () => {
    it("accepts the public service's and a self-hosted service's URLs", () => {
        expect(isDiscoveryUrl(`https://discovery.etcd.io/${token}`)).to.equal(true);
        expect(isDiscoveryUrl(`http://127.0.0.1:8087/${token}`)).to.equal(true);
    });

    it("rejects a trailing newline, a short token and upper-case hex", () => {
        expect(isDiscoveryUrl(`https://discovery.etcd.io/${token}\n`)).to.equal(false);
        expect(isDiscoveryUrl("https://discovery.etcd.io/9a69d647")).to.equal(false);
        expect(isDiscoveryUrl(`https://discovery.etcd.io/${token.toUpperCase()}`)).to.equal(false);
    });
});

describe("appendDiscoveryLog", () => {
    it("appends lines stamped like the seed's etcd3-discovery-url.log", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-log-"));
        try {
            const file = path.join(dir, "etcd3-discovery-url.log");
            appendDiscoveryLog(file, ["first"], new Date(2018, 10, 18, 18, 29, 37));
            appendDiscoveryLog(file, ["second"], new Date(2018, 10, 18, 6, 5, 9));
            expect(fs.readFileSync(file, "utf8")).to.equal("20181118 06:29:37 PM first\n20181118 06:05:09 AM second\n");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
