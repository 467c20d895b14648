/**
 * The DiscoveryUrl provider as `pulumi up` runs it: serialized by the SDK,
 * loaded from its `__provider` input by Pulumi's own dynamic-provider host in
 * a program directory, and called over gRPC (see support/engine-provider.ts).
 * Errors are asserted whole, as the engine would print them.
 */
import { expect } from "chai";
import * as fs from "fs";
import { isBuiltin } from "module";
import * as path from "path";
import { installMocks } from "./support/pulumi-mocks";

installMocks();
import { DiscoveryUrl, DiscoveryUrlArgs } from "../lib/discovery";
import {
    answerWith, FakeService, fakeService, Handler, neverAnswer, refusingService, useRealDiscoveryService,
} from "./support/discovery-services";
import { dynamicResourceDeclarer, failureOf, Properties, useEngineProviderHost } from "./support/engine-provider";

const token = "9a69d64726338dabf0a279d4fa7e803e";
/** Two quick attempts; the component never sets this, so stacks keep the defaults (5 attempts, 10 s each). */
const fast = { attempts: 2, retryDelayMs: 10, timeoutMs: 300 };

/** Declares a DiscoveryUrl in the mocked program and returns it as the engine received it. */
const declare = dynamicResourceDeclarer("etcd3-cluster:DiscoveryUrl", "engine-discovery", (name, args: DiscoveryUrlArgs) => new DiscoveryUrl(name, args));

describe("DiscoveryUrl as the engine runs it", function () {
    const engine = useEngineProviderHost();

    it("reaches the engine serialized, needing no package from the program's node_modules", async () => {
        const resource = await declare({ size: 3, service: "http://127.0.0.1:8087" });
        const required = [...(resource.inputs.__provider as string).matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
        expect(required.filter((id) => !isBuiltin(id)), "non-built-in modules the provider requires").to.deep.equal([]);
    });

    describe("create against Debian's etcd-discovery on loopback", () => {
        const service = useRealDiscoveryService();

        it("keeps a fresh token for the stated size, and nothing the component did not give", async () => {
            const created = await engine.host.create(await declare({ size: 3, service: service() }));
            expect(created.id).to.match(/^[0-9a-f]{32}$/);
            expect(created.outs).to.have.all.keys("__provider", "size", "service", "url");
            expect(created.outs).to.deep.include({ size: 3, service: service(), url: `${service()}/${created.id}` });
            const stored = await (await fetch(`${created.outs.url}/_config/size`, { signal: AbortSignal.timeout(5_000) })).json();
            expect(stored.node.value).to.equal("3");
        });

        it("appends to a relative logFile in the program's directory and keeps the path as given", async () => {
            const logFile = `etcd3-discovery-url-${process.pid}.log`;
            const created = await engine.host.create(await declare({ size: 5, service: service(), logFile }));
            expect(created.outs.logFile).to.equal(logFile);
            const lines = fs.readFileSync(path.join(engine.programDirectory, logFile), "utf8").trimEnd().split("\n");
            expect(lines.map((line) => line.replace(/^\d{8} \d\d:\d\d:\d\d [AP]M /, ""))).to.deep.equal([
                "[etcd3-cluster] requesting an etcd discovery url.",
                "The stated node count in the etcd cluster is [5]",
                `GET ${service()}/new?size=5 (attempt 1 of 5)`,
                `The etcd discovery url retrieved is [${created.outs.url}]`,
            ]);
            expect(fs.existsSync(path.join(process.cwd(), logFile)), "a log file in the test's own directory").to.equal(false);
        });

        it("fails at once on a 400, with the service's own explanation", async () => {
            const resource = await declare({ size: "x" as unknown as number, service: service() });
            expect(await failureOf(engine.host.create(resource)))
                .to.equal(`discovery service ${service()}: HTTP 400 Bad Request: strconv.Atoi: parsing "x": invalid syntax`);
        });

        it("fails at once on a 404 (a wrong path in the service URL), with the service's text", async () => {
            const resource = await declare({ size: 3, service: `${service()}/v2` });
            expect(await failureOf(engine.host.create(resource)))
                .to.equal(`discovery service ${service()}/v2: HTTP 404 Not Found: 404 page not found`);
        });
    });

    describe("create against services that fail", () => {
        let fake: FakeService | undefined;
        afterEach(async () => {
            await fake?.close();
            fake = undefined;
        });

        it("retries after a 503 and keeps the next answer's token", async () => {
            fake = await fakeService(answerWith(503, "Service Unavailable"), answerWith(200, `https://discovery.etcd.io/${token}`));
            const created = await engine.host.create(await declare({ size: 3, service: fake.base, requestSettings: fast }));
            expect(created).to.deep.include({ id: token });
            expect(created.outs.url).to.equal(`https://discovery.etcd.io/${token}`);
            expect(fake.requests).to.deep.equal(["/new?size=3", "/new?size=3"]);
        });

        it("retries after a 429", async () => {
            fake = await fakeService(answerWith(429, "slow down"), answerWith(200, `https://discovery.etcd.io/${token}`));
            const created = await engine.host.create(await declare({ size: 3, service: fake.base, requestSettings: fast }));
            expect(created.outs.url).to.equal(`https://discovery.etcd.io/${token}`);
            expect(fake.requests).to.have.length(2);
        });

        it("backs off between attempts as the engine runs it: retryDelayMs, then twice that", async () => {
            const arrivals: number[] = [];
            const arrived = (handler: Handler): Handler => (request, response) => {
                arrivals.push(performance.now());
                handler(request, response);
            };
            fake = await fakeService(arrived(answerWith(429, "slow down")), arrived(answerWith(503, "busy")),
                arrived(answerWith(200, `https://discovery.etcd.io/${token}`)));
            const created = await engine.host.create(await declare({
                size: 3, service: fake.base, requestSettings: { attempts: 3, retryDelayMs: 200, timeoutMs: 5000 },
            }));
            expect(created.outs.url).to.equal(`https://discovery.etcd.io/${token}`);
            expect(arrivals).to.have.length(3);
            // Lower bounds only, and generous ones: a busy machine makes the gaps longer, never shorter.
            expect(arrivals[1] - arrivals[0], "ms between the first and second attempt").to.be.at.least(180);
            expect(arrivals[2] - arrivals[1], "ms between the second and third attempt").to.be.at.least(360);
        });

        it("gives up after its attempts on 5xx, naming the service, the count and the last answer", async () => {
            fake = await fakeService(answerWith(502, "Bad Gateway"));
            const resource = await declare({ size: 3, service: fake.base, requestSettings: fast });
            expect(await failureOf(engine.host.create(resource)))
                .to.equal(`discovery service ${fake.base} gave no discovery URL after 2 attempts; last: HTTP 502 Bad Gateway: Bad Gateway`);
            expect(fake.requests).to.have.length(2);
        });

        for (const [status, statusText] of [[400, "Bad Request"], [404, "Not Found"]] as const) {
            it(`fails at once on a ${status}, keeping the service's explanation`, async () => {
                fake = await fakeService(answerWith(status, "size must be a number"));
                const resource = await declare({ size: 3, service: fake.base, requestSettings: fast });
                expect(await failureOf(engine.host.create(resource)))
                    .to.equal(`discovery service ${fake.base}: HTTP ${status} ${statusText}: size must be a number`);
                expect(fake.requests).to.have.length(1);
            });
        }

        it("fails at once on a redirect, saying where to", async () => {
            fake = await fakeService((_request, response) => {
                response.writeHead(301, { Location: "https://discovery.example.com/new?size=3" });
                response.end();
            });
            const resource = await declare({ size: 3, service: fake.base, requestSettings: fast });
            expect(await failureOf(engine.host.create(resource))).to.equal(`discovery service ${fake.base}: HTTP 301 Moved Permanently: ` +
                "redirects to https://discovery.example.com/new?size=3; give the service's own URL");
            expect(fake.requests).to.have.length(1);
        });

        it("fails at once on a body that is not a discovery URL, quoting it", async () => {
            fake = await fakeService(answerWith(200, "<html>maintenance</html>"));
            const resource = await declare({ size: 3, service: fake.base, requestSettings: fast });
            expect(await failureOf(engine.host.create(resource)))
                .to.equal(`discovery service ${fake.base}: answered with something that is not a discovery URL: "<html>maintenance</html>"`);
            expect(fake.requests).to.have.length(1);
        });

        it("reports a refused connection with its cause after its attempts", async () => {
            const base = await refusingService();
            const resource = await declare({ size: 3, service: base, requestSettings: fast });
            expect(await failureOf(engine.host.create(resource))).to.equal(`discovery service ${base} gave no discovery URL after 2 attempts; ` +
                `last: fetch failed: connect ECONNREFUSED ${base.replace("http://", "")}`);
        });

        it("times out a service that never answers, each attempt within the set time", async () => {
            fake = await fakeService(neverAnswer);
            const resource = await declare({ size: 3, service: fake.base, requestSettings: fast });
            const started = Date.now();
            expect(await failureOf(engine.host.create(resource)))
                .to.equal(`discovery service ${fake.base} gave no discovery URL after 2 attempts; last: no answer within 300 ms`);
            expect(Date.now() - started).to.be.below(5_000);
            expect(fake.requests).to.have.length(2);
        });

        it("logs why it got no token", async () => {
            fake = await fakeService(answerWith(400, "bad size"));
            const logFile = `etcd3-discovery-failure-${process.pid}.log`;
            const resource = await declare({ size: 3, service: fake.base, logFile, requestSettings: fast });
            await failureOf(engine.host.create(resource));
            const lines = fs.readFileSync(path.join(engine.programDirectory, logFile), "utf8").trimEnd().split("\n");
            expect(lines[lines.length - 1]).to.match(/^\d{8} \d\d:\d\d:\d\d [AP]M no discovery url: discovery service /)
                .and.satisfy((line: string) => line.endsWith(`${fake!.base}: HTTP 400 Bad Request: bad size`));
        });

        it("still keeps the token when the log file cannot be written, and says so on the host's stderr", async () => {
            fake = await fakeService(answerWith(200, `https://discovery.etcd.io/${token}`));
            const logFile = "/nonexistent-dir/etcd3-discovery-url.log";
            const created = await engine.host.create(await declare({ size: 3, service: fake.base, logFile, requestSettings: fast }));
            expect(created.outs.url).to.equal(`https://discovery.etcd.io/${token}`);
            const warning = `etcd3-cluster: could not append to ${logFile}: ENOENT: no such file or directory, open '${logFile}'`;
            expect(await engine.host.stderrContaining(warning)).to.contain(warning);
        });

        it("refuses request settings that would never ask", async () => {
            const resource = await declare({ size: 3, service: "http://127.0.0.1:8087", requestSettings: { attempts: 0 } });
            expect(await failureOf(engine.host.create(resource)))
                .to.equal("discovery request: attempts must be a whole number of at least 1, not 0");
        });
    });

    describe("diff and update of a created token", () => {
        let fake: FakeService;
        let created: { id: string; outs: Properties };
        const logFile = `etcd3-discovery-diff-${process.pid}.log`;
        before(async () => {
            fake = await fakeService(answerWith(200, `https://discovery.etcd.io/${token}`));
            created = await engine.host.create(await declare({ size: 3, service: fake.base, logFile }));
        });
        after(async () => {
            await fake?.close();
        });

        it("reports no change when nothing changed", async () => {
            const diff = await engine.host.diff(await declare({ size: 3, service: fake.base, logFile }), created.id, created.outs);
            expect(diff).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
        });

        it("keeps the token on a size change (ClusterGuard decides whether the change is allowed)", async () => {
            const diff = await engine.host.diff(await declare({ size: 5, service: fake.base, logFile }), created.id, created.outs);
            expect(diff).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
        });

        it("ignores request settings", async () => {
            const resource = await declare({ size: 3, service: fake.base, logFile, requestSettings: fast });
            expect(await engine.host.diff(resource, created.id, created.outs)).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
        });

        it("keeps the token on a service change: the running members formed the cluster with it", async () => {
            const diff = await engine.host.diff(await declare({ size: 3, service: "http://127.0.0.1:8087", logFile }), created.id, created.outs);
            expect(diff).to.deep.equal({ changes: false, replaces: [], deleteBeforeReplace: false });
        });

        it("updates state only, keeping the token, its size and its service, when the log file changes", async () => {
            const resource = await declare({ size: 5, service: "http://127.0.0.1:8087", logFile: "elsewhere.log" });
            expect(await engine.host.diff(resource, created.id, created.outs)).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
            const outs = await engine.host.update(resource, created.id, created.outs);
            expect(outs).to.deep.equal({ ...created.outs, logFile: "elsewhere.log" });
            expect(fake.requests).to.have.length(1);
        });
    });
});
