/**
 * The ALB stand-in's reading of HTTPS and redirecting listeners
 * (local/component-resources.ts, local/haproxy.ts): what AWS refuses or would
 * default is refused locally too, and a certificate the ACM stand-in does not
 * hold stops the start before anything runs.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadBalancersOf, RegisteredResource } from "../local/component-resources";
import { startLoadBalancer, tlsBindOptions } from "../local/haproxy";
import { ProcessGroup } from "../local/processes";

const certificateArn = "arn:aws:acm:eu-west-2:123456789012:certificate/local-load-balancer";
const forward = [{ type: "forward", targetGroupArn: "tg-arn" }];
const redirect = (overrides: Record<string, unknown> = {}) => [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301", ...overrides } }];

/** An ALB with its target group and the listeners given, as the mocks register them. */
function albWith(...listeners: Record<string, unknown>[]): RegisteredResource[] {
    const resource = (type: string, name: string, inputs: Record<string, unknown>, state: Record<string, unknown> = {}): RegisteredResource =>
        ({ type, name, inputs, id: `${name}-id`, state });
    return [
        resource("aws:lb/loadBalancer:LoadBalancer", "alb", { loadBalancerType: "application", idleTimeout: 60 }, { arn: "alb-arn" }),
        resource("aws:lb/targetGroup:TargetGroup", "alb-tg", {
            protocol: "HTTP", port: 2379, deregistrationDelay: 10,
            healthCheck: { protocol: "HTTP", path: "/health", matcher: "200", interval: 5, timeout: 3, healthyThreshold: 2, unhealthyThreshold: 2 },
        }, { arn: "tg-arn" }),
        ...listeners.map((inputs, index) => resource("aws:lb/listener:Listener", `listener-${index}`, { loadBalancerArn: "alb-arn", ...inputs })),
    ];
}

const https = { port: 443, protocol: "HTTPS", certificateArn, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", defaultActions: forward };
const redirecting = { port: 80, protocol: "HTTP", defaultActions: redirect() };

describe("the ALB stand-in's HTTPS and redirecting listeners", () => {
    it("reads an HTTPS listener and a redirect to it whole", () => {
        const [spec] = loadBalancersOf(albWith(https, redirecting));
        expect([spec.listener, spec.redirects]).to.deep.equal([
            { port: 443, protocol: "HTTPS", tls: { certificateArn, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06" } },
            [{ port: 80, toPort: 443, statusCode: 301 }],
        ]);
    });

    it("refuses an HTTPS listener left to AWS's default policy, or without a certificate", () => {
        const without = (key: string) => Object.fromEntries(Object.entries(https).filter(([name]) => name !== key));
        expect(() => loadBalancersOf(albWith(without("sslPolicy")))).to.throw(
            "listener listener-0 sslPolicy is left to a default: the local harness does not guess AWS's (ELBSecurityPolicy-2016-08, which allows TLS 1.0); set it");
        expect(() => loadBalancersOf(albWith(without("certificateArn")))).to.throw("listener listener-0: an HTTPS listener needs certificateArn, which AWS requires");
    });

    it("refuses a redirect to another port or protocol than the HTTPS listener's, or with a status the ALB does not offer", () => {
        expect(() => loadBalancersOf(albWith(https, { ...redirecting, defaultActions: redirect({ port: "8443" }) })))
            .to.throw("listener listener-1 redirects to HTTPS port 8443, which is not the load balancer's HTTPS listener");
        expect(() => loadBalancersOf(albWith(https, { ...redirecting, defaultActions: redirect({ protocol: "HTTP" }) })))
            .to.throw("listener listener-1 redirects to HTTP port 443, which is not the load balancer's HTTPS listener");
        expect(() => loadBalancersOf(albWith(https, { ...redirecting, defaultActions: redirect({ statusCode: "HTTP_308" }) })))
            .to.throw('listener listener-1 redirect statusCode "HTTP_308": the ALB redirects with HTTP_301 or HTTP_302');
    });

    it("refuses two listeners on one port, as AWS does", () => {
        expect(() => loadBalancersOf(albWith(https, { ...redirecting, port: 443 })))
            .to.throw("load balancer alb has two listeners on one port (443, 443), which AWS refuses");
    });

    it("refuses a second listener that neither forwards nor redirects over HTTP", () => {
        expect(() => loadBalancersOf(albWith(https, { ...redirecting, protocol: "HTTPS" }))).to.throw(
            'listener listener-1: HTTPS with default actions [{"type":"redirect","redirect":{"protocol":"HTTPS","port":"443","statusCode":"HTTP_301"}}] ' +
            "is neither the one listener forwarding to a target group nor an HTTP listener redirecting to it");
    });

    it("plays a policy's TLS versions, both ends", () => {
        expect(["ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-FS-1-2-Res-2020-10"].map(tlsBindOptions))
            .to.deep.equal([
                "ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3", "ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3", "ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2",
            ]);
        expect(() => tlsBindOptions("ELBSecurityPolicy-TLS13-1-2")).to.throw('TLS security policy "ELBSecurityPolicy-TLS13-1-2": not a name');
    });

    it("refuses to start when the HTTPS listener names a certificate the ACM stand-in does not hold, starting nothing", async () => {
        const directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-cluster-acm-"));
        const processes = new ProcessGroup(false);
        try {
            const error = await startLoadBalancer({
                address: "127.0.0.1", specs: loadBalancersOf(albWith(https, redirecting)), targetFor: () => ({ name: "none", address: "127.0.0.1" }),
                certificates: new Map([["arn:aws:acm:eu-west-2:123456789012:certificate/other", "/nonexistent.pem"]]),
                healthCheckTimeScale: 0.1, directory, processes, timeoutMs: 1000, interrupted: () => undefined,
            }).then(() => undefined, (failure: Error) => failure);
            expect(error?.message).to.equal(`alb's HTTPS listener names certificate ${certificateArn}, which the ACM stand-in does not hold ` +
                "(it holds: arn:aws:acm:eu-west-2:123456789012:certificate/other); AWS refuses such a listener");
            expect(processes.records()).to.deep.equal([]);
            expect(fs.readdirSync(directory)).to.deep.equal([]);
        } finally {
            await processes.stopAll(1000);
            fs.rmSync(directory, { recursive: true, force: true });
        }
    });
});
