/**
 * The load balancer stand-in (local/haproxy.ts) with targets serving TLS, as
 * the component registers them with clientTls: the ALB's target group HTTPS
 * and checked over HTTPS, the gRPC NLB's target group TCP (TLS passes through)
 * checked over HTTPS. Like the ALB, haproxy speaks HTTP/1.1 over TLS to the
 * targets and verifies none of their certificates (here issued by a test CA
 * haproxy is never told of).
 */
import { expect } from "chai";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { freePort } from "../local/cluster-registry";
import { loadBalancersOf, LoadBalancerSpec, RegisteredResource } from "../local/component-resources";
import { LoadBalancer, registerTarget, renderHaproxyConfig, startLoadBalancer, targetStates } from "../local/haproxy";
import { probe } from "../local/http";
import { ProcessGroup, waitUntil } from "../local/processes";
import { requireTool } from "../local/system-tools";
import { createTestCertificateAuthority, TestCertificateAuthority } from "../local/test-certificates";
import { marginMs, probeOverrunMs, waitUntilMs } from "./helpers/local-cluster";

const listenAddress = "127.0.0.1";
const targetAddresses = ["127.0.0.2", "127.0.0.3"];
/** 5 s interval and 3 s timeout as registered, 500 ms and 300 ms played. */
const healthCheckTimeScale = 0.1;
/** Bound on starting the load balancers, and on each wait for the health checks. */
const startBoundMs = 20_000;
const checksWaitMs = 20_000;
/** The longest of the requests and TLS handshakes a test here makes (local/http.ts's probes take 2 s at most). */
const requestMs = 5_000;
/** Worst case of a wait for the health checks: each check reads haproxy's stats page with a probe. */
const checksMs = waitUntilMs(checksWaitMs, probeOverrunMs);

const resource = (type: string, name: string, inputs: Record<string, unknown>, state: Record<string, unknown> = {}): RegisteredResource =>
    ({ type, name, inputs, id: `${name}-id`, state });

/** A health check as the component registers it, over `protocol`. */
const healthCheck = (protocol: string, overrides: Record<string, unknown> = {}) => ({
    protocol, path: "/health?exclude=NOSPACE", matcher: "200", port: "traffic-port",
    interval: 5, timeout: 3, healthyThreshold: 2, unhealthyThreshold: 2, ...overrides,
});

interface BalancerShape {
    targetGroupProtocol: string;
    healthCheck: Record<string, unknown>;
    /** The listener's port (the NLB's is played on its own port). */
    listenerPort?: number;
}

/**
 * Resources as the mocks record them: one instance per target port, an ALB
 * (HTTP listener on 80) and optionally an NLB (TCP listener), each target
 * group with the instances attached on their ports.
 */
function registered(targetPorts: number[], alb: BalancerShape, nlb?: BalancerShape): RegisteredResource[] {
    const instances = targetPorts.map((_, index) => resource("aws:ec2/instance:Instance", `etcd3-cluster-${index}`, { userData: "" }, { privateIp: `10.0.0.${10 + index}` }));
    const balancer = (kind: "alb" | "nlb", shape: BalancerShape) => [
        resource("aws:lb/loadBalancer:LoadBalancer", kind, { loadBalancerType: kind === "alb" ? "application" : "network", idleTimeout: 60 }, { arn: `${kind}-arn` }),
        resource("aws:lb/targetGroup:TargetGroup", `${kind}-tg`, {
            protocol: shape.targetGroupProtocol, port: 2379, deregistrationDelay: 10, healthCheck: shape.healthCheck,
        }, { arn: `${kind}-tg-arn` }),
        resource("aws:lb/listener:Listener", `${kind}-listener`, {
            loadBalancerArn: `${kind}-arn`, port: shape.listenerPort ?? 80, protocol: kind === "alb" ? "HTTP" : "TCP",
            defaultActions: [{ type: "forward", targetGroupArn: `${kind}-tg-arn` }],
        }),
        ...targetPorts.map((port, index) => resource("aws:lb/targetGroupAttachment:TargetGroupAttachment", `${kind}-attachment-${index}`, {
            targetGroupArn: `${kind}-tg-arn`, targetId: instances[index].id, port,
        })),
    ];
    return [...instances, ...balancer("alb", alb), ...(nlb ? balancer("nlb", nlb) : [])];
}

/** The clientTls pair: the ALB's target group HTTPS checked over HTTPS, the NLB's TCP checked over HTTPS. */
const clientTlsAlb: BalancerShape = { targetGroupProtocol: "HTTPS", healthCheck: healthCheck("HTTPS") };
const clientTlsNlb = (listenerPort: number): BalancerShape => ({ targetGroupProtocol: "TCP", healthCheck: healthCheck("HTTPS"), listenerPort });

/** The backend section (the target group) of `spec` in a rendered config, whole. */
function renderedBackend(spec: LoadBalancerSpec): string {
    const config = renderHaproxyConfig({
        listenAddress,
        balancers: [{ spec, port: 8080, targets: [{ name: "etcd3-cluster-0", address: targetAddresses[0], port: 2379 }], redirects: [] }],
        statsPort: 9000,
        healthCheckTimeScale,
    });
    const start = config.indexOf(`\nbackend ${spec.kind}-targets\n`) + 1;
    return config.slice(start, config.indexOf("\n\n", start) + 1);
}

describe("the load balancer stand-in's reading of HTTPS target groups and health checks", () => {
    it("reads an HTTPS target group of an ALB", () => {
        const [alb] = loadBalancersOf(registered([2379], clientTlsAlb));
        expect(alb.targetGroup).to.deep.equal({
            resourceName: "alb-tg", arn: "alb-tg-arn", protocol: "HTTPS", port: 2379, deregistrationDelaySeconds: 10,
            healthCheck: {
                protocol: "HTTPS", port: "traffic-port", path: "/health?exclude=NOSPACE", matcher: "200",
                intervalSeconds: 5, timeoutSeconds: 3, healthyThreshold: 2, unhealthyThreshold: 2,
            },
        });
    });

    it("reads an HTTPS health check of an NLB's TCP target group, path and matcher with it", () => {
        const [, nlb] = loadBalancersOf(registered([2379], clientTlsAlb, clientTlsNlb(2379)));
        expect([nlb.targetGroup.protocol, nlb.targetGroup.healthCheck]).to.deep.equal(["TCP", {
            protocol: "HTTPS", port: "traffic-port", path: "/health?exclude=NOSPACE", matcher: "200",
            intervalSeconds: 5, timeoutSeconds: 3, healthyThreshold: 2, unhealthyThreshold: 2,
        }]);
    });

    it("refuses an HTTPS target group on an NLB, naming what it plays there", () => {
        expect(() => loadBalancersOf(registered([2379], clientTlsAlb, { ...clientTlsNlb(2379), targetGroupProtocol: "HTTPS" }))).to.throw(
            "the component's load balancers cannot be played locally:\n" +
            '  - target group nlb-tg protocol "HTTPS": the local stand-in plays HTTP and TCP on an NLB\'s target group');
    });

    it("refuses an HTTPS health check without a path, as an HTTP one", () => {
        expect(() => loadBalancersOf(registered([2379], { ...clientTlsAlb, healthCheck: healthCheck("HTTPS", { path: undefined }) }))).to.throw(
            "the component's load balancers cannot be played locally:\n" +
            "  - target group alb-tg healthCheck.path undefined: an HTTPS health check needs a path starting with /");
    });

    it("refuses a TCP health check of an HTTPS target group, as AWS does", () => {
        expect(() => loadBalancersOf(registered([2379], { ...clientTlsAlb, healthCheck: healthCheck("TCP") }))).to.throw(
            "the component's load balancers cannot be played locally:\n" +
            '  - target group alb-tg healthCheck.protocol "TCP" on an HTTPS target group, which AWS refuses (an ALB\'s targets are checked over HTTP or HTTPS)');
    });
});

describe("the load balancer stand-in's rendering of HTTPS target groups and health checks", () => {
    it("renders an HTTPS target group checked over HTTPS: TLS to the targets and in the checks, no certificate verified", () => {
        const [alb] = loadBalancersOf(registered([2379], clientTlsAlb));
        expect(renderedBackend(alb)).to.equal([
            "backend alb-targets",
            "    mode http",
            "    timeout server 60s",
            "    balance roundrobin",
            "    option httpchk GET /health?exclude=NOSPACE",
            "    http-check expect status 200",
            "    timeout check 300ms",
            "    default-server check inter 500ms fall 2 rise 2 ssl check-ssl verify none",
            "    server etcd3-cluster-0 127.0.0.2:2379",
            "",
        ].join("\n"));
    });

    it("renders a TCP target group checked over HTTPS: TLS in the checks only, the traffic passed through", () => {
        const [, nlb] = loadBalancersOf(registered([2379], clientTlsAlb, clientTlsNlb(2379)));
        expect(renderedBackend(nlb)).to.equal([
            "backend nlb-targets",
            "    mode tcp",
            "    timeout server 350s",
            "    balance roundrobin",
            "    option httpchk GET /health?exclude=NOSPACE",
            "    http-check expect status 200",
            "    timeout check 300ms",
            "    default-server check inter 500ms fall 2 rise 2 check-ssl verify none",
            "    server etcd3-cluster-0 127.0.0.2:2379",
            "",
        ].join("\n"));
    });

    it("renders an HTTPS target group checked over plain HTTP: an explicit plain connect, as the checks would inherit the servers' TLS", () => {
        const [alb] = loadBalancersOf(registered([2379], { ...clientTlsAlb, healthCheck: healthCheck("HTTP") }));
        expect(renderedBackend(alb)).to.equal([
            "backend alb-targets",
            "    mode http",
            "    timeout server 60s",
            "    balance roundrobin",
            "    option httpchk GET /health?exclude=NOSPACE",
            "    http-check connect",
            "    http-check send meth GET uri /health?exclude=NOSPACE",
            "    http-check expect status 200",
            "    timeout check 300ms",
            "    default-server check inter 500ms fall 2 rise 2 ssl verify none",
            "    server etcd3-cluster-0 127.0.0.2:2379",
            "",
        ].join("\n"));
    });

    it("renders an HTTP target group checked over HTTPS on another port: TLS in the checks only", () => {
        const [alb] = loadBalancersOf(registered([2379], { targetGroupProtocol: "HTTP", healthCheck: healthCheck("HTTPS", { port: "2381" }) }));
        expect(renderedBackend(alb).split("\n").filter((line) => line.includes("default-server"))).to.deep.equal([
            "    default-server check inter 500ms fall 2 rise 2 port 2381 check-ssl verify none",
        ]);
    });
});

/** A request a target served: what haproxy sent it. */
interface ServedRequest {
    url: string;
    httpVersion: string;
    /** Whether it came over TLS. */
    encrypted: boolean;
}

/**
 * A loopback target: a Node HTTPS (or plain HTTP) server answering /health
 * (the health checks', and the harness's probe through the listener) with 200
 * and anything else with its name.
 */
interface TestTarget {
    name: string;
    address: string;
    port: number;
    /** Every request but the health checks', in order. */
    requests: ServedRequest[];
    /** /health requests answered. */
    healthChecks: number;
    /** Connections accepted (TCP, before any TLS). */
    connections: number;
    /** The PEM certificate it serves, if it serves TLS. */
    certificate?: string;
    stop(): Promise<void>;
}

async function startTarget(name: string, address: string, authority?: TestCertificateAuthority): Promise<TestTarget> {
    const issued = authority && await authority.issue(name, { ipAddresses: [address] });
    const server: http.Server = issued ? https.createServer({ key: issued.key, cert: issued.certificate }) : http.createServer();
    const target: TestTarget = {
        name, address, port: 0, requests: [], healthChecks: 0, connections: 0, certificate: issued?.certificate,
        stop: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
    server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
        if (request.url?.startsWith("/health")) {
            target.healthChecks++;
            response.end('{"health":"true"}');
            return;
        }
        target.requests.push({ url: request.url ?? "", httpVersion: request.httpVersion, encrypted: "encrypted" in request.socket && request.socket.encrypted === true });
        response.end(`served by ${name}`);
    });
    server.on("connection", () => target.connections++);
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, address, () => resolve());
    });
    target.port = (server.address() as AddressInfo).port;
    return target;
}

/** A temporary directory, a process group, a CA and the targets a test starts, all undone by `cleanUp`. */
interface Fixture {
    directory: string;
    processes: ProcessGroup;
    authority: TestCertificateAuthority;
    targets: TestTarget[];
    cleanUp(): Promise<void>;
}

async function fixture(): Promise<Fixture> {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-cluster-https-targets-"));
    const processes = new ProcessGroup(false);
    const targets: TestTarget[] = [];
    const cleanUp = async () => {
        await processes.stopAll(2000);
        await Promise.all(targets.map((target) => target.stop()));
        fs.rmSync(directory, { recursive: true, force: true });
    };
    try {
        const certificates = path.join(directory, "ca");
        fs.mkdirSync(certificates);
        return { directory, processes, authority: await createTestCertificateAuthority(certificates), targets, cleanUp };
    } catch (error) {
        await cleanUp();
        throw error;
    }
}

/** Starts the load balancers for `specs`, each target standing for the instance of its index; the NLB's probe trusts the test CA. */
function startFor(test: Fixture, specs: LoadBalancerSpec[]): Promise<LoadBalancer> {
    return startLoadBalancer({
        address: listenAddress, specs,
        targetFor: (instance) => ({ name: test.targets[instance].name, address: test.targets[instance].address }),
        targetCaFile: test.authority.certificateFile,
        healthCheckTimeScale, directory: test.directory, processes: test.processes, timeoutMs: startBoundMs, interrupted: () => undefined,
    });
}

describe("the load balancer stand-in with targets serving TLS (haproxy)", function () {
    // The longest test: the start (its own wait for the health checks), a wait for the health checks, two requests.
    this.timeout(startBoundMs + probeOverrunMs + checksMs + 2 * requestMs + marginMs);
    let test: Fixture;
    beforeEach(async () => {
        test = await fixture();
    });
    afterEach(async () => {
        await test.cleanUp();
    });

    it("marks a target serving HTTPS UP behind an HTTPS target group, and forwards a request to it over TLS in HTTP/1.1", async () => {
        test.targets.push(await startTarget("etcd3-cluster-0", targetAddresses[0], test.authority));
        const balancer = await startFor(test, loadBalancersOf(registered([test.targets[0].port], clientTlsAlb)));
        expect(await targetStates(balancer.statsUrl, "alb")).to.deep.equal({ "etcd3-cluster-0": "UP" });
        expect(await probe(`${balancer.url}/v2/keys/planets`)).to.deep.equal({ status: 200, body: "served by etcd3-cluster-0" });
        expect(test.targets[0].requests).to.deep.equal([{ url: "/v2/keys/planets", httpVersion: "1.1", encrypted: true }]);
    });

    it("passes TLS through the NLB's TCP listener untouched: a client sees the target's own certificate", async () => {
        test.targets.push(await startTarget("etcd3-cluster-0", targetAddresses[0], test.authority));
        const nlbPort = await freePort(listenAddress);
        const balancer = await startFor(test, loadBalancersOf(registered([test.targets[0].port], clientTlsAlb, clientTlsNlb(nlbPort))));
        const seen = await new Promise<{ authorized: boolean; fingerprint256: string }>((resolve, reject) => {
            const socket = tls.connect({
                host: listenAddress, port: nlbPort, ca: test.authority.certificate,
                // The target's certificate names the target's address, not the listener's.
                checkServerIdentity: () => undefined,
                timeout: 5000,
            }, () => {
                resolve({ authorized: socket.authorized, fingerprint256: socket.getPeerCertificate().fingerprint256 });
                socket.destroy();
            });
            socket.on("timeout", () => socket.destroy(new Error(`no TLS handshake through ${balancer.grpcEndpoint} within 5000 ms`)));
            socket.on("error", reject);
        });
        expect(seen).to.deep.equal({ authorized: true, fingerprint256: new crypto.X509Certificate(test.targets[0].certificate!).fingerprint256 });
    });

    it("checks a target registered later over TLS too, and forwards to it over TLS", async () => {
        test.targets.push(
            await startTarget("etcd3-cluster-0", targetAddresses[0], test.authority),
            await startTarget("etcd3-cluster-1", targetAddresses[1], test.authority),
        );
        const ports = test.targets.map((target) => target.port);
        const balancer = await startFor(test, loadBalancersOf(registered(ports.slice(0, 1), clientTlsAlb)));
        await registerTarget(balancer, loadBalancersOf(registered(ports, clientTlsAlb)), 1, test.targets[1]);
        await waitUntil(async () => (await targetStates(balancer.statsUrl, "alb"))["etcd3-cluster-1"] === "UP", {
            description: "the target registered later to be UP", timeoutMs: checksWaitMs, failFast: () => balancer.process.exitReport(),
        });
        // Round robin: two requests, one to each target.
        const answers = [await probe(`${balancer.url}/a`), await probe(`${balancer.url}/b`)];
        expect(answers.map((answer) => answer?.body).sort()).to.deep.equal(["served by etcd3-cluster-0", "served by etcd3-cluster-1"]);
        expect(test.targets[1].requests).to.have.lengthOf(1);
        expect(test.targets[1].requests[0]).to.include({ httpVersion: "1.1", encrypted: true });
    });

    it("refuses to start a TCP listener passing the targets' TLS through without the CA to probe it with, starting nothing", async () => {
        const specs = loadBalancersOf(registered([2379], clientTlsAlb, clientTlsNlb(2379)));
        const error = await startLoadBalancer({
            address: listenAddress, specs, targetFor: () => ({ name: "none", address: targetAddresses[0] }),
            healthCheckTimeScale, directory: test.directory, processes: test.processes, timeoutMs: 1000, interrupted: () => undefined,
        }).then(() => undefined, (failure: Error) => failure);
        expect(error?.message).to.equal("nlb passes the targets' TLS through (its target group is checked over HTTPS): " +
            "give targetCaFile, the CA their certificates chain to, for the harness's probe through its listener");
        expect([test.processes.records(), fs.readdirSync(test.directory)]).to.deep.equal([[], ["ca"]]);
    });

    /**
     * Starts haproxy as configured for one ALB whose target group is `shape`,
     * with `target` its one target, and gives its state once it has taken
     * enough health checks to have come UP (rise 2) after going DOWN (fall 2)
     * had any of them passed.
     */
    async function stateAfterChecks(shape: BalancerShape, target: TestTarget): Promise<Record<string, string>> {
        const [alb] = loadBalancersOf(registered([target.port], shape));
        const statsPort = await freePort(listenAddress);
        const configFile = path.join(test.directory, "haproxy.cfg");
        fs.writeFileSync(configFile, renderHaproxyConfig({
            listenAddress,
            balancers: [{
                spec: alb, port: await freePort(listenAddress), redirects: [], targets: [{ name: target.name, address: target.address, port: target.port }],
            }],
            statsPort, healthCheckTimeScale,
        }));
        const haproxy = test.processes.start({
            name: "haproxy", command: requireTool("haproxy"), args: ["-db", "-f", configFile], logFile: path.join(test.directory, "haproxy.log"),
        });
        const checks = 6;
        await waitUntil(async () => target.connections >= checks, {
            description: `${checks} health checks to reach the target`, timeoutMs: checksWaitMs, failFast: () => haproxy.exitReport(),
        });
        return targetStates(`http://${listenAddress}:${statsPort}`, "alb");
    }

    it("never marks UP a target serving plain HTTP behind an HTTPS health check", async () => {
        test.targets.push(await startTarget("etcd3-cluster-0", targetAddresses[0]));
        const states = await stateAfterChecks({ targetGroupProtocol: "HTTP", healthCheck: healthCheck("HTTPS") }, test.targets[0]);
        expect([states, test.targets[0].healthChecks, test.targets[0].requests]).to.deep.equal([{ "etcd3-cluster-0": "DOWN" }, 0, []]);
    });

    it("keeps an HTTP health check of an HTTPS target group plain: a target serving only HTTPS never comes UP, as behind the ALB", async () => {
        test.targets.push(await startTarget("etcd3-cluster-0", targetAddresses[0], test.authority));
        const states = await stateAfterChecks({ targetGroupProtocol: "HTTPS", healthCheck: healthCheck("HTTP") }, test.targets[0]);
        expect([states, test.targets[0].healthChecks, test.targets[0].requests]).to.deep.equal([{ "etcd3-cluster-0": "DOWN" }, 0, []]);
    });
});
