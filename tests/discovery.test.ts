import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { appendDiscoveryLog, discoveryUrlProvider, isDiscoveryUrl, requestDiscoveryUrl } from "../lib/discovery";

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

/** A discovery service on 127.0.0.1 that answers each request with the next handler (the last one repeats). */
async function fakeService(...handlers: Handler[]) {
    const requests: string[] = [];
    const server = http.createServer((request, response) => {
        requests.push(request.url ?? "");
        handlers[Math.min(requests.length, handlers.length) - 1](request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
        base,
        requests,
        close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    };
}

const token = "9a69d64726338dabf0a279d4fa7e803e";
const answerWith = (status: number, body: string): Handler => (_request, response) => {
    response.writeHead(status, { "Content-Type": "text/plain" });
    response.end(body);
};
const fast = { retryDelayMs: 10, timeoutMs: 2000 };

describe("requestDiscoveryUrl", () => {
    let service: Awaited<ReturnType<typeof fakeService>> | undefined;
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

    it("gives up after the set number of attempts, naming the service and the last status", async () => {
        service = await fakeService(answerWith(502, "Bad Gateway"));
        const error = await requestDiscoveryUrl(3, { service: service.base, ...fast, attempts: 3 }).catch((e: Error) => e);
        expect((error as Error).message).to.contain(`discovery service ${service.base}`).and.contain("3 attempts").and.contain("HTTP 502");
        expect(service.requests).to.have.length(3);
    });

    it("fails at once on a 400, with the service's text", async () => {
        service = await fakeService(answerWith(400, 'strconv.Atoi: parsing "x": invalid syntax'));
        const error = await requestDiscoveryUrl(3, { service: service.base, ...fast }).catch((e: Error) => e);
        expect((error as Error).message).to.contain("HTTP 400").and.contain("invalid syntax");
        expect(service.requests).to.have.length(1);
    });

    it("rejects a body that is not a discovery URL and keeps none of it", async () => {
        service = await fakeService(answerWith(200, "<html>maintenance</html>"));
        const error = await requestDiscoveryUrl(3, { service: service.base, ...fast }).catch((e: Error) => e);
        expect((error as Error).message).to.contain("not a discovery URL");
        expect(service.requests).to.have.length(1);
    });

    it("times out a service that never answers, and retries", async function () {
        service = await fakeService(() => undefined);
        const error = await requestDiscoveryUrl(3, { service: service.base, attempts: 2, retryDelayMs: 10, timeoutMs: 200 }).catch((e: Error) => e);
        expect((error as Error).message).to.contain("no answer within 200 ms");
        expect(service.requests).to.have.length(2);
    });

    it("reports a refused connection after its retries", async () => {
        const closed = await fakeService(answerWith(200, ""));
        const base = closed.base;
        await closed.close();
        const error = await requestDiscoveryUrl(3, { service: base, ...fast, attempts: 2 }).catch((e: Error) => e);
        expect((error as Error).message).to.contain(`discovery service ${base}`).and.contain("ECONNREFUSED");
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

describe("DiscoveryUrl dynamic provider", () => {
    const olds = { size: 3, service: "https://discovery.etcd.io", url: `https://discovery.etcd.io/${token}` };

    it("creates by requesting a token and appends the facts to the log file", async () => {
        const service = await fakeService(answerWith(200, `https://discovery.etcd.io/${token}`));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-log-"));
        try {
            const logFile = path.join(dir, "etcd3-discovery-url.log");
            const result = await discoveryUrlProvider.create!({ size: 3, service: service.base, logFile });
            expect(result.id).to.equal(token);
            expect(result.outs.url).to.equal(`https://discovery.etcd.io/${token}`);
            const log = fs.readFileSync(logFile, "utf8").trim().split("\n");
            expect(log.some((line) => line.endsWith("The stated node count in the etcd cluster is [3]"))).to.equal(true);
            expect(log[log.length - 1]).to.match(/^\d{8} \d\d:\d\d:\d\d [AP]M The etcd discovery url retrieved is \[https:\/\/discovery.etcd.io\/9a69d64726338dabf0a279d4fa7e803e\]$/);
        } finally {
            await service.close();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses a cluster size change on a running cluster, saying what to do instead", async () => {
        const error = await discoveryUrlProvider.diff!(token, olds, { size: 5, service: olds.service }).catch((e: Error) => e);
        expect((error as Error).message).to.contain("clusterSize cannot change from 3 to 5").and.contain("pulumi destroy");
    });

    it("still creates the token when the log file cannot be written", async () => {
        const service = await fakeService(answerWith(200, `https://discovery.etcd.io/${token}`));
        const warn = console.warn;
        console.warn = () => undefined;
        try {
            const result = await discoveryUrlProvider.create!({ size: 3, service: service.base, logFile: "/nonexistent-dir/etcd3-discovery-url.log" });
            expect(result.outs.url).to.equal(`https://discovery.etcd.io/${token}`);
        } finally {
            console.warn = warn;
            await service.close();
        }
    });

    it("replaces the token when the service changes", async () => {
        const diff = await discoveryUrlProvider.diff!(token, olds, { size: 3, service: "http://127.0.0.1:8087" });
        expect(diff.replaces).to.deep.equal(["service"]);
    });

    it("reports no change, so keeps the token, when size and service stay", async () => {
        const diff = await discoveryUrlProvider.diff!(token, olds, { size: 3, service: olds.service });
        expect(diff).to.deep.include({ changes: false, replaces: [] });
    });
});
