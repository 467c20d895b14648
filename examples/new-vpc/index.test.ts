// #region test
import * as assert from "node:assert/strict";
import { outputValue, setEtcd3ClusterMocks } from "etcd3-cluster/testing";

const mocks = setEtcd3ClusterMocks({ config: { vpcCidr: "10.42.0.0/16", clusterSize: 5 } });

it("builds as many members as the stack config says", async () => {
    const program = await mocks.run(() => import("./index"));
    assert.equal((await outputValue(program.clientEndpoints)).length, 5);
});
// #endregion test

describe("an etcd cluster in a new VPC from stack config", () => {
    let program: typeof import("./index");
    before(async () => {
        program = await mocks.run(() => import("./index"));
    });

    it("starts one instance per member", () => {
        assert.equal(mocks.resourcesOf("aws:ec2/instance:Instance").length, 5);
    });

    it("makes the VPC with the configured CIDR", () => {
        const vpcs = mocks.resourcesOf("awsx:ec2:Vpc");
        assert.equal(vpcs.length, 1);
        assert.equal(vpcs[0].inputs.cidrBlock, "10.42.0.0/16");
    });

    it("opens the internal load balancer to that CIDR only", () => {
        const toAlb = mocks.resourcesOf("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
            .filter((rule) => rule.inputs.fromPort === 80);
        assert.deepEqual(toAlb.map((rule) => rule.inputs.cidrIpv4), ["10.42.0.0/16"]);
        const [alb] = mocks.resourcesOf("aws:lb/loadBalancer:LoadBalancer");
        assert.equal(alb.inputs.internal, true);
    });

    it("exports the load balancer URL and the discovery URL", async () => {
        assert.match(await outputValue(program.etcd3ClusterUrl), /^http:\/\/etcd3-alb-\d+\.eu-west-2\.elb\.amazonaws\.com$/);
        assert.match(String(await outputValue(program.etcd3DiscoveryUrl)), /^https:\/\/discovery\.etcd\.io\/[0-9a-f]{32}$/);
    });

    it("gives one client endpoint per member, on 2379", async () => {
        for (const endpoint of await outputValue(program.clientEndpoints)) {
            assert.match(endpoint, /^http:\/\/10\.42\.\d+\.\d+:2379$/);
        }
    });
});
