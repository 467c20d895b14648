/**
 * HTTPS at the ALB (`certificateArn`, `sslPolicy`) under Pulumi's mocks: the
 * two listeners and the ALB's ingress rules compared whole, the order that
 * lets port 80 turn into a redirect in place, and the cluster URL.
 */
import { expect } from "chai";
import { installMocks, recordChildOptions, resourcesOf, settle, uniqueName, valueOf } from "./support/pulumi-mocks";

installMocks();
import { Etcd3Cluster, Etcd3ClusterArgs } from "../lib";

const LISTENER = "aws:lb/listener:Listener";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const certificateArn = "arn:aws:acm:eu-west-2:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab";
const dns = { dnsName: "etcd.example.com", hostedZoneId: "Z0123456789" };
const arn = (resource: string) => `arn:aws:elasticloadbalancing:eu-west-2:123456789012:${resource}/1234567890abcdef`;

async function build(args: Etcd3ClusterArgs) {
    const name = uniqueName();
    const recorder = recordChildOptions();
    const cluster = new Etcd3Cluster(name, { discoveryLogFile: false, ...args }, { transformations: [recorder.transformation] });
    await settle();
    const listeners = Object.fromEntries(resourcesOf(name, LISTENER).map((r) => [r.name.slice(name.length + 1), r.inputs]));
    return { name, cluster, listeners, children: recorder.children };
}

describe("HTTPS at the ALB (certificateArn)", () => {
    it("serves HTTPS on 443 with the certificate and the restricted TLS 1.3/1.2 policy, and redirects 80 there with a 301", async () => {
        const { name, listeners } = await build({ certificateArn, ...dns });
        expect(listeners).to.deep.equal({
            "alb-https-listener": {
                loadBalancerArn: arn(`loadbalancer/app/${name}-alb`), port: 443, protocol: "HTTPS", certificateArn,
                sslPolicy: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
                defaultActions: [{ type: "forward", targetGroupArn: arn(`targetgroup/${name}-alb-tg`) }],
                tags: { ecosystem: "etcd3-cluster" },
            },
            "alb-listener": {
                loadBalancerArn: arn(`loadbalancer/app/${name}-alb`), port: 80, protocol: "HTTP",
                defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
                tags: { ecosystem: "etcd3-cluster" },
            },
        });
    });

    it("takes the sslPolicy given", async () => {
        const { listeners } = await build({ certificateArn, sslPolicy: "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", ...dns });
        expect(listeners["alb-https-listener"].sslPolicy).to.equal("ELBSecurityPolicy-TLS13-1-3-PQ-2025-09");
    });

    it("keeps the port-80 listener's name, so turning HTTPS on updates it in place, after 443 serves and clients may reach it", async () => {
        const { name, children } = await build({ certificateArn, allowedCidrs: ["203.0.113.0/24", "198.51.100.0/24"], ...dns });
        expect(children.get(`${name}-alb-listener`)!.options).to.deep.equal({
            parent: name, dependsOn: [`${name}-alb-https-listener`, `${name}-alb-https-in-0`, `${name}-alb-https-in-1`],
        });
        expect(children.get(`${name}-alb-https-listener`)!.options).to.deep.equal({ parent: name });
    });

    it("lets the allowed CIDRs into the ALB on 80 (for the redirect) and 443, and nowhere else", async () => {
        const { name } = await build({ certificateArn, allowedCidrs: ["203.0.113.0/24", "198.51.100.0/24"], ...dns });
        const toAlb = resourcesOf(name, INGRESS).filter((r) => r.inputs.securityGroupId === `${name}-alb-sg-id`)
            .map((r) => [r.name.slice(name.length + 1), r.inputs.ipProtocol, r.inputs.cidrIpv4, r.inputs.fromPort, r.inputs.toPort, r.inputs.description]);
        expect(toAlb).to.deep.equal([
            ["alb-in-0", "tcp", "203.0.113.0/24", 80, 80, "etcd clients"],
            ["alb-in-1", "tcp", "198.51.100.0/24", 80, 80, "etcd clients"],
            ["alb-https-in-0", "tcp", "203.0.113.0/24", 443, 443, "etcd clients over HTTPS"],
            ["alb-https-in-1", "tcp", "198.51.100.0/24", 443, 443, "etcd clients over HTTPS"],
        ]);
    });

    it("gives the gRPC NLB no TLS listener: it stays TCP 2379", async () => {
        const { listeners } = await build({ certificateArn, grpcLoadBalancer: true, ...dns });
        expect(Object.keys(listeners).sort()).to.deep.equal(["alb-https-listener", "alb-listener", "nlb-listener"]);
        expect(listeners["nlb-listener"]).to.include({ port: 2379, protocol: "TCP" });
    });

    it("gives etcd3ClusterUrl as https:// on dnsName", async () => {
        const { cluster } = await build({ certificateArn, ...dns });
        expect(await valueOf(cluster.etcd3ClusterUrl)).to.equal("https://etcd.example.com");
    });

    it("gives etcd3ClusterUrl as https:// on the ALB's own name without dnsName", async () => {
        const { name, cluster } = await build({ certificateArn });
        expect(await valueOf(cluster.etcd3ClusterUrl)).to.equal(`https://${name}-alb-1234567890.eu-west-2.elb.amazonaws.com`);
    });

    it("keeps one HTTP listener on 80 forwarding to the members without a certificate", async () => {
        const { name, listeners } = await build({});
        expect(listeners).to.deep.equal({
            "alb-listener": {
                loadBalancerArn: arn(`loadbalancer/app/${name}-alb`), port: 80, protocol: "HTTP",
                defaultActions: [{ type: "forward", targetGroupArn: arn(`targetgroup/${name}-alb-tg`) }],
                tags: { ecosystem: "etcd3-cluster" },
            },
        });
    });
});
