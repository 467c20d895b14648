/**
 * lib/discovery.ts in this process: the DiscoveryUrl provider's create, diff
 * and update called directly against loopback services, and the inputs the
 * resource registers with (tests/discovery-engine.test.ts runs the same
 * provider serialized, in Pulumi's provider host).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { installMocks, registered, settle } from "./support/pulumi-mocks";

installMocks();
import { DiscoveryUrl, discoveryUrlProvider } from "../lib/discovery";
import { answerWith, FakeService, fakeService } from "./support/discovery-services";

const token = "0123456789abcdef0123456789abcdef";
const fast = { attempts: 2, retryDelayMs: 10, timeoutMs: 2000 };
const stamp = /^\d{8} \d\d:\d\d:\d\d [AP]M /;

/** What `work` returned and what it passed to console.warn, call by call. */
async function withWarnings<T>(work: () => Promise<T>): Promise<{ result: T; warnings: unknown[][] }> {
    const warnings: unknown[][] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => { warnings.push(args); };
    try {
        return { result: await work(), warnings };
    } finally {
        console.warn = warn;
    }
}

/** The error `promise` rejects with, or a failure if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
    const outcome = await promise.then(() => undefined, (error: Error) => error);
    expect(outcome, "the call succeeded").to.be.instanceOf(Error);
    return outcome!;
}

describe("the DiscoveryUrl provider, called directly (lib/discovery.ts)", () => {
    let service: FakeService | undefined;
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-discovery-provider-"));
    });
    afterEach(async () => {
        await service?.close();
        service = undefined;
        fs.rmSync(dir, { recursive: true, force: true });
    });
    const logLines = (file: string) => fs.readFileSync(file, "utf8").trimEnd().split("\n").map((line) => line.replace(stamp, ""));

    it("creates a token whose id is the token and whose state is the inputs plus the URL", async () => {
        service = await fakeService(answerWith(200, `https://discovery.etcd.io/${token}`));
        const created = await discoveryUrlProvider.create({ size: 3, service: service.base, requestSettings: fast });
        expect(created).to.deep.equal({
            id: token,
            outs: { size: 3, service: service.base, requestSettings: fast, url: `https://discovery.etcd.io/${token}` },
        });
    });

    it("asks the service given, for the size given", async () => {
        service = await fakeService(answerWith(200, `https://discovery.etcd.io/${token}`));
        await discoveryUrlProvider.create({ size: 7, service: service.base, requestSettings: fast });
        expect(service.requests).to.deep.equal(["/new?size=7"]);
    });

    it("uses the request settings given: one attempt fails at once", async () => {
        service = await fakeService(answerWith(503, "busy"), answerWith(200, `https://discovery.etcd.io/${token}`));
        const error = await rejectionOf(discoveryUrlProvider.create({ size: 3, service: service.base, requestSettings: { ...fast, attempts: 1 } }));
        expect(error.message).to.equal(`discovery service ${service.base} gave no discovery URL after 1 attempts; last: HTTP 503 Service Unavailable: busy`);
    });

    it("appends what it asked and got to the log file", async () => {
        service = await fakeService(answerWith(200, `https://discovery.etcd.io/${token}`));
        const logFile = path.join(dir, "discovery.log");
        await discoveryUrlProvider.create({ size: 3, service: service.base, logFile, requestSettings: fast });
        expect(logLines(logFile)).to.deep.equal([
            "[etcd3-cluster] requesting an etcd discovery url.",
            "The stated node count in the etcd cluster is [3]",
            `GET ${service.base}/new?size=3 (attempt 1 of 2)`,
            `The etcd discovery url retrieved is [https://discovery.etcd.io/${token}]`,
        ]);
    });

    it("fails with the request's error and logs it", async () => {
        service = await fakeService(answerWith(400, "bad size"));
        const logFile = path.join(dir, "discovery.log");
        const error = await rejectionOf(discoveryUrlProvider.create({ size: 3, service: service.base, logFile, requestSettings: fast }));
        expect(error.message).to.equal(`discovery service ${service.base}: HTTP 400 Bad Request: bad size`);
        expect(logLines(logFile)).to.deep.equal([
            "[etcd3-cluster] requesting an etcd discovery url.",
            "The stated node count in the etcd cluster is [3]",
            `GET ${service.base}/new?size=3 (attempt 1 of 2)`,
            `no discovery url: discovery service ${service.base}: HTTP 400 Bad Request: bad size`,
        ]);
    });

    it("writes no log, and warns of none, without a log file", async () => {
        service = await fakeService(answerWith(200, `https://discovery.etcd.io/${token}`));
        const { result, warnings } = await withWarnings(() => discoveryUrlProvider.create({ size: 3, service: service!.base, requestSettings: fast }));
        expect([result.id, warnings]).to.deep.equal([token, []]);
    });

    it("keeps the token when the log cannot be written, warning once with the reason", async () => {
        service = await fakeService(answerWith(200, `https://discovery.etcd.io/${token}`));
        const logFile = path.join(dir, "missing", "discovery.log");
        const { result, warnings } = await withWarnings(() => discoveryUrlProvider.create({ size: 3, service: service!.base, logFile, requestSettings: fast }));
        expect([result.id, warnings]).to.deep.equal([token, [[
            `etcd3-cluster: could not append to ${logFile}: ENOENT: no such file or directory, open '${logFile}'`,
        ]]]);
    });

    describe("diff", () => {
        const olds = { size: 3, service: "https://discovery.etcd.io", logFile: "a.log", url: `https://discovery.etcd.io/${token}` };

        it("reports no change for the same inputs", async () => {
            expect(await discoveryUrlProvider.diff!(token, olds, { size: 3, service: olds.service, logFile: "a.log" }))
                .to.deep.equal({ changes: false, replaces: [] });
        });

        it("reports no change for a new size or service", async () => {
            expect(await discoveryUrlProvider.diff!(token, olds, { size: 5, service: "http://127.0.0.1:8087", logFile: "a.log" }))
                .to.deep.equal({ changes: false, replaces: [] });
        });

        it("reports a new log file as an in-place change", async () => {
            expect(await discoveryUrlProvider.diff!(token, olds, { size: 3, service: olds.service, logFile: "b.log" }))
                .to.deep.equal({ changes: true, replaces: [] });
        });

        it("reports a log file turned off as an in-place change", async () => {
            expect(await discoveryUrlProvider.diff!(token, olds, { size: 3, service: olds.service }))
                .to.deep.equal({ changes: true, replaces: [] });
        });
    });

    it("updates the log file only, keeping the token and what it was requested with", async () => {
        const olds = { size: 3, service: "https://discovery.etcd.io", logFile: "a.log", url: `https://discovery.etcd.io/${token}` };
        expect(await discoveryUrlProvider.update!(token, olds, { size: 5, service: "http://127.0.0.1:8087", logFile: "b.log" }))
            .to.deep.equal({ outs: { size: 3, service: "https://discovery.etcd.io", logFile: "b.log", url: `https://discovery.etcd.io/${token}` } });
    });

    it("registers as etcd3-cluster:DiscoveryUrl with its arguments and an unknown url", async () => {
        new DiscoveryUrl("discovery-unit-1", { size: 5, service: "http://127.0.0.1:8087", logFile: "x.log" });
        await settle();
        const [resource] = registered.filter((r) => r.name === "discovery-unit-1");
        const { __provider, ...inputs } = resource.inputs;
        expect({ type: resource.type, inputs, provider: typeof __provider }).to.deep.equal({
            type: "pulumi-nodejs:dynamic/etcd3-cluster:DiscoveryUrl",
            inputs: { size: 5, service: "http://127.0.0.1:8087", logFile: "x.log" },
            provider: "string",
        });
    });
});
