/**
 * lib/discovery-request.ts: what requestDiscoveryUrl logs and answers on each
 * kind of response, its defaults, the URL checks, and the log file's stamps.
 * (tests/discovery.test.ts covers the request's retries and timing.)
 */
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import {
    appendDiscoveryLog, defaultDiscoveryService, discoveryUrlPattern, isDiscoveryServiceUrl, isDiscoveryUrl, requestDiscoveryUrl,
} from "../lib/discovery-request";
import { answerWith, FakeService, fakeService } from "./support/discovery-services";

const token = "0123456789abcdef0123456789abcdef";
const fast = { retryDelayMs: 0, timeoutMs: 2000 };

/** The error `promise` rejects with, or a failure if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
    const outcome = await promise.then(() => undefined, (error: Error) => error);
    expect(outcome, "the call succeeded").to.be.instanceOf(Error);
    return outcome!;
}

describe("the discovery request (lib/discovery-request.ts)", () => {
    let service: FakeService | undefined;
    afterEach(async () => {
        await service?.close();
        service = undefined;
    });

    it("asks discovery.etcd.io by default", () => {
        expect(defaultDiscoveryService).to.equal("https://discovery.etcd.io");
    });

    it("logs the size, each attempt, why it failed, and the URL it got, in order", async () => {
        service = await fakeService(answerWith(503, "busy"), answerWith(200, `https://discovery.etcd.io/${token}`));
        const lines: string[] = [];
        await requestDiscoveryUrl(3, { service: service.base, ...fast, attempts: 2, log: (line) => lines.push(line) });
        expect(lines).to.deep.equal([
            "The stated node count in the etcd cluster is [3]",
            `GET ${service.base}/new?size=3 (attempt 1 of 2)`,
            `discovery service ${service.base}: HTTP 503 Service Unavailable: busy`,
            `GET ${service.base}/new?size=3 (attempt 2 of 2)`,
            `The etcd discovery url retrieved is [https://discovery.etcd.io/${token}]`,
        ]);
    });

    it("asks the service without the slashes it was given at the end", async () => {
        service = await fakeService(answerWith(200, `https://discovery.etcd.io/${token}`));
        await requestDiscoveryUrl(5, { service: `${service.base}//`, ...fast });
        expect(service.requests).to.deep.equal(["/new?size=5"]);
    });

    it("takes the body without the whitespace around it", async () => {
        service = await fakeService(answerWith(200, `\n https://discovery.etcd.io/${token}\n`));
        expect(await requestDiscoveryUrl(3, { service: service.base, ...fast })).to.equal(`https://discovery.etcd.io/${token}`);
    });

    it("tries five times by default", async () => {
        service = await fakeService(answerWith(500, "broken"));
        const error = await rejectionOf(requestDiscoveryUrl(3, { service: service.base, ...fast }));
        expect([error.message, service.requests.length]).to.deep.equal([
            `discovery service ${service.base} gave no discovery URL after 5 attempts; last: HTTP 500 Internal Server Error: broken`, 5,
        ]);
    });

    it("gives up right after its last attempt, without waiting another delay", async () => {
        service = await fakeService(answerWith(503, "busy"));
        const started = performance.now();
        await rejectionOf(requestDiscoveryUrl(3, { service: service.base, attempts: 1, retryDelayMs: 5_000, timeoutMs: 2000 }));
        expect(performance.now() - started, "ms until it gave up").to.be.below(2_500);
    });

    it("waits retryDelayMs before the first retry, not four times as long", async () => {
        const arrivals: number[] = [];
        service = await fakeService((request, response) => {
            arrivals.push(performance.now());
            answerWith(503, "busy")(request, response);
        });
        await rejectionOf(requestDiscoveryUrl(3, { service: service.base, attempts: 2, retryDelayMs: 1_000, timeoutMs: 2000 }));
        // Four times the delay would be 4 s; a busy machine adds to a sleep, so only the upper bound is tight here.
        expect(arrivals[1] - arrivals[0], "ms between the first and second attempt").to.be.below(3_000);
    });

    it("keeps the first 200 characters of a failing answer", async () => {
        service = await fakeService(answerWith(400, `${"x".repeat(200)}TAIL`));
        const error = await rejectionOf(requestDiscoveryUrl(3, { service: service.base, ...fast }));
        expect(error.message).to.equal(`discovery service ${service.base}: HTTP 400 Bad Request: ${"x".repeat(200)}`);
    });

    it("keeps the first 200 characters of an answer it retries", async () => {
        service = await fakeService(answerWith(502, `${"y".repeat(200)}TAIL`));
        const error = await rejectionOf(requestDiscoveryUrl(3, { service: service.base, ...fast, attempts: 1 }));
        expect(error.message).to.equal(`discovery service ${service.base} gave no discovery URL after 1 attempts; last: HTTP 502 Bad Gateway: ${"y".repeat(200)}`);
    });

    it("quotes the first 200 characters of a body that is not a discovery URL", async () => {
        service = await fakeService(answerWith(200, `${"z".repeat(200)}TAIL`));
        const error = await rejectionOf(requestDiscoveryUrl(3, { service: service.base, ...fast }));
        expect(error.message).to.equal(`discovery service ${service.base}: answered with something that is not a discovery URL: "${"z".repeat(200)}"`);
    });

    it("fails at once on a 204, naming the status", async () => {
        service = await fakeService(answerWith(204, ""));
        const error = await rejectionOf(requestDiscoveryUrl(3, { service: service.base, ...fast }));
        expect([error.message, service.requests.length]).to.deep.equal([`discovery service ${service.base}: HTTP 204 No Content: `, 1]);
    });

    it("fails at once on 300 and 399 as redirects, saying where to, and on 400 as a refusal", async () => {
        const answers: string[] = [];
        for (const status of [300, 399, 400]) {
            service = await fakeService((_request, response) => {
                response.writeHead(status, "Custom", { Location: "http://elsewhere.example/" });
                response.end("no");
            });
            answers.push((await rejectionOf(requestDiscoveryUrl(3, { service: service.base, ...fast }))).message.replace(service.base, "<service>"));
            await service.close();
            service = undefined;
        }
        expect(answers).to.deep.equal([
            "discovery service <service>: HTTP 300 Custom: redirects to http://elsewhere.example/; give the service's own URL",
            "discovery service <service>: HTTP 399 Custom: redirects to http://elsewhere.example/; give the service's own URL",
            "discovery service <service>: HTTP 400 Custom: no",
        ]);
    });

    it("retries a 500 but not a 499", async () => {
        const counts: number[] = [];
        for (const status of [499, 500]) {
            service = await fakeService(answerWith(status, "x"));
            await rejectionOf(requestDiscoveryUrl(3, { service: service.base, ...fast, attempts: 2 }));
            counts.push(service.requests.length);
            await service.close();
            service = undefined;
        }
        expect(counts).to.deep.equal([1, 2]);
    });

    it("retries a 429 but not a 428", async () => {
        const counts: number[] = [];
        for (const status of [428, 429]) {
            service = await fakeService(answerWith(status, "x"));
            await rejectionOf(requestDiscoveryUrl(3, { service: service.base, ...fast, attempts: 2 }));
            counts.push(service.requests.length);
            await service.close();
            service = undefined;
        }
        expect(counts).to.deep.equal([1, 2]);
    });

    it("explains a connection the service drops by the reason fetch gives for it", async () => {
        const server = http.createServer((request) => request.socket.destroy());
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        try {
            const error = await rejectionOf(requestDiscoveryUrl(3, { service: base, ...fast, attempts: 1 }));
            expect(error.message).to.equal(`discovery service ${base} gave no discovery URL after 1 attempts; last: fetch failed: other side closed`);
        } finally {
            server.close();
        }
    });

    it("refuses no attempts, fractions of one, a negative delay and a timeout of NaN", async () => {
        const messages = await Promise.all([
            { attempts: 0 }, { attempts: 2.5 }, { retryDelayMs: -1 }, { timeoutMs: Number.NaN }, { retryDelayMs: Number.NaN },
        ].map(async (settings) => (await rejectionOf(requestDiscoveryUrl(3, { service: "http://127.0.0.1:9", ...settings }))).message));
        expect(messages).to.deep.equal([
            "discovery request: attempts must be a whole number of at least 1, not 0",
            "discovery request: attempts must be a whole number of at least 1, not 2.5",
            "discovery request: timeoutMs must be above 0 and retryDelayMs at least 0, not 10000 and -1",
            "discovery request: timeoutMs must be above 0 and retryDelayMs at least 0, not NaN and 500",
            "discovery request: timeoutMs must be above 0 and retryDelayMs at least 0, not 10000 and NaN",
        ]);
    });

    it("accepts a single attempt and no delay between attempts", async () => {
        service = await fakeService(answerWith(200, `https://discovery.etcd.io/${token}`));
        expect(await requestDiscoveryUrl(3, { service: service.base, attempts: 1, retryDelayMs: 0 })).to.equal(`https://discovery.etcd.io/${token}`);
    });

    describe("URL checks", () => {
        it("takes http(s) base URLs with a host, an optional port and path segments", () => {
            expect(["http://127.0.0.1:8087", "https://discovery.etcd.io", "https://d.example.com/v2/keys_1.x~y", "http://host:1"]
                .map(isDiscoveryServiceUrl)).to.deep.equal([true, true, true, true]);
        });

        it("refuses other schemes, a trailing slash, a query, a six-digit port, an empty host and text around it", () => {
            expect(["ftp://discovery.etcd.io", "https://discovery.etcd.io/", "https://d.example.com/?x=1", "http://host:123456", "http://",
                " https://discovery.etcd.io", "https://discovery.etcd.io x", "https://user@discovery.etcd.io"].map(isDiscoveryServiceUrl))
                .to.deep.equal(Array(8).fill(false));
        });

        it("refuses a port above 65535 in a service URL and in a discovery URL, and takes 65535", () => {
            expect(["http://host:65536", "http://host:99999", `http://host:65536/${token}`, "http://host:65535", `http://host:65535/${token}`]
                .map((url) => (url.endsWith(token) ? isDiscoveryUrl(url) : isDiscoveryServiceUrl(url)))).to.deep.equal([false, false, false, true, true]);
        });

        it("takes a service URL followed by a 32-hex-digit token", () => {
            expect([`https://discovery.etcd.io/${token}`, `http://127.0.0.1:8087/prefix/${token}`].map(isDiscoveryUrl)).to.deep.equal([true, true]);
        });

        it("refuses a token of 31 or 33 digits, a token alone and text before the URL", () => {
            expect([`https://discovery.etcd.io/${token.slice(1)}`, `https://discovery.etcd.io/${token}0`, token, `x https://discovery.etcd.io/${token}`,
                `https://discovery.etcd.io${token}`].map(isDiscoveryUrl)).to.deep.equal(Array(5).fill(false));
        });

        it("exposes the same rule as a pattern", () => {
            expect([discoveryUrlPattern.test(`https://discovery.etcd.io/${token}`), discoveryUrlPattern.test("https://discovery.etcd.io/new")])
                .to.deep.equal([true, false]);
        });
    });

    describe("appendDiscoveryLog", () => {
        let dir: string;
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-discovery-log-"));
        });
        afterEach(() => {
            fs.rmSync(dir, { recursive: true, force: true });
        });

        it("stamps midnight as 12 AM and noon as 12 PM, padding each field", () => {
            const file = path.join(dir, "log");
            appendDiscoveryLog(file, ["midnight"], new Date(2026, 0, 2, 0, 3, 4));
            appendDiscoveryLog(file, ["noon"], new Date(2026, 0, 2, 12, 0, 0));
            appendDiscoveryLog(file, ["before noon", "same stamp"], new Date(2026, 11, 31, 11, 59, 59));
            appendDiscoveryLog(file, ["after noon"], new Date(2026, 9, 10, 13, 10, 10));
            expect(fs.readFileSync(file, "utf8")).to.equal([
                "20260102 12:03:04 AM midnight",
                "20260102 12:00:00 PM noon",
                "20261231 11:59:59 AM before noon",
                "20261231 11:59:59 AM same stamp",
                "20261010 01:10:10 PM after noon",
                "",
            ].join("\n"));
        });

        it("stamps with the time it is called at by default", () => {
            const file = path.join(dir, "log");
            const before = new Date();
            appendDiscoveryLog(file, ["now"]);
            const [date] = fs.readFileSync(file, "utf8").split(" ");
            const pad = (n: number) => String(n).padStart(2, "0");
            expect(date).to.equal(`${before.getFullYear()}${pad(before.getMonth() + 1)}${pad(before.getDate())}`);
        });
    });
});
