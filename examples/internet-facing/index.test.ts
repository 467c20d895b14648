import * as assert from "node:assert/strict";
import { outputValue, setEtcd3ClusterMocks } from "etcd3-cluster/testing";

// #region mocks
const certificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab";
const mocks = setEtcd3ClusterMocks({
    config: { "aws:region": "us-east-1" },
    mocks: {
        // The program's own lookups: the cluster's mocks answer only what the cluster needs.
        call: (args) => {
            switch (args.token) {
                case "aws:route53/getZone:getZone":
                    return { id: "Z0123456789EXAMPLE", zoneId: "Z0123456789EXAMPLE", name: `${args.inputs.name}.` };
                case "aws:acm/getCertificate:getCertificate":
                    return { id: certificateArn, arn: certificateArn, domain: args.inputs.domain, status: "ISSUED" };
                default:
                    return undefined;
            }
        },
    },
});
// #endregion mocks

describe("an internet-facing etcd cluster with a DNS name and a gRPC load balancer", () => {
    let program: typeof import("./index");
    before(async () => {
        program = await mocks.run(() => import("./index"));
    });

    it("exports the URL under the DNS name, over HTTPS", async () => {
        assert.equal(await outputValue(program.etcd3ClusterUrl), "https://etcd.example.com");
    });

    it("serves HTTPS with the issued certificate looked up for the name, and redirects port 80 there", () => {
        assert.deepEqual(mocks.callsOf("aws:acm/getCertificate:getCertificate").map((call) => call.inputs),
            [{ domain: "etcd.example.com", statuses: ["ISSUED"], mostRecent: true }]);
        const listeners = mocks.resourcesOf("aws:lb/listener:Listener").map((listener) => [
            listener.inputs.port, listener.inputs.protocol, listener.inputs.certificateArn, listener.inputs.defaultActions[0].type,
        ]);
        assert.deepEqual(listeners.sort(), [[2379, "TCP", undefined, "forward"], [443, "HTTPS", certificateArn, "forward"], [80, "HTTP", undefined, "redirect"]]);
    });

    it("points the DNS name, in the hosted zone looked up, at the ALB", () => {
        assert.deepEqual(mocks.callsOf("aws:route53/getZone:getZone").map((call) => call.inputs.name), ["example.com"]);
        const [record] = mocks.resourcesOf("aws:route53/record:Record");
        const [alb] = mocks.resourcesOf("aws:lb/loadBalancer:LoadBalancer").filter((lb) => lb.inputs.loadBalancerType === "application");
        assert.equal(record.inputs.zoneId, "Z0123456789EXAMPLE");
        assert.equal(record.inputs.name, "etcd.example.com");
        assert.deepEqual(record.inputs.aliases.map((alias: { name: string; zoneId: string }) => [alias.name, alias.zoneId]),
            [[alb.state.dnsName, alb.state.zoneId]]);
    });

    it("puts both load balancers, ALB and NLB, in the public subnets, internet-facing", () => {
        const balancers = mocks.resourcesOf("aws:lb/loadBalancer:LoadBalancer");
        assert.deepEqual(balancers.map((lb) => lb.inputs.loadBalancerType).sort(), ["application", "network"]);
        for (const lb of balancers) {
            assert.equal(lb.inputs.internal, false);
            assert.ok(lb.inputs.subnets.every((subnet: string) => subnet.startsWith("subnet-public-")), lb.inputs.subnets.join());
        }
    });

    it("lets only the allowed CIDRs reach the load balancers", () => {
        const balancerGroups = mocks.resourcesOf("aws:lb/loadBalancer:LoadBalancer").flatMap((lb) => lb.inputs.securityGroups);
        const toBalancers = mocks.resourcesOf("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
            .filter((rule) => balancerGroups.includes(rule.inputs.securityGroupId) && rule.inputs.cidrIpv4 !== undefined);
        assert.deepEqual(toBalancers.map((rule) => [rule.inputs.fromPort, rule.inputs.cidrIpv4]).sort(),
            [[2379, "203.0.113.0/24"], [443, "203.0.113.0/24"], [80, "203.0.113.0/24"]]);
    });

    it("exports the gRPC endpoint as the NLB's name and port 2379", async () => {
        assert.match((await outputValue(program.grpcEndpoint))!, /^etcd3-nlb-\d+\.us-east-1\.elb\.amazonaws\.com:2379$/);
    });
});
