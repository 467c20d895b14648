import * as assert from "node:assert/strict";
import { outputValue, setEtcd3ClusterMocks } from "etcd3-cluster/testing";

const mocks = setEtcd3ClusterMocks();

describe("an etcd cluster in an existing awsx VPC", () => {
    let program: typeof import("./index");
    before(async () => {
        program = await mocks.run(() => import("./index"));
    });

    it("makes no VPC of its own", () => {
        assert.deepEqual(mocks.resourcesOf("awsx:ec2:Vpc").map((vpc) => vpc.name), ["shared"]);
    });

    it("spreads every slot's address (seven: the most the cluster can grow to) round robin over the VPC's private subnets", async () => {
        const [shared] = mocks.resourcesOf("awsx:ec2:Vpc");
        const subnets: string[] = shared.state.privateSubnetIds;
        assert.equal(subnets.length, 2);
        assert.deepEqual(mocks.resourcesOf("aws:ec2/networkInterface:NetworkInterface").map((nic) => nic.inputs.subnetId),
            [0, 1, 2, 3, 4, 5, 6].map((slot) => subnets[slot % 2]));
    });

    it("puts every security group in the VPC", async () => {
        const vpcId = await outputValue(program.vpcId);
        const groups = mocks.resourcesOf("aws:ec2/securityGroup:SecurityGroup");
        assert.ok(groups.length > 0);
        assert.ok(groups.every((group) => group.inputs.vpcId === vpcId));
    });

    it("lets the VPC's own CIDR, looked up from its id, reach the internal load balancer", () => {
        assert.deepEqual(mocks.callsOf("aws:ec2/getVpc:getVpc").map((call) => call.inputs.id), ["vpc-shared"]);
        const toAlb = mocks.resourcesOf("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
            .filter((rule) => rule.inputs.fromPort === 80);
        assert.deepEqual(toAlb.map((rule) => rule.inputs.cidrIpv4), ["10.20.0.0/16"]);
    });

    it("exports the cluster URL", async () => {
        assert.match(await outputValue(program.etcd3ClusterUrl), /^http:\/\/etcd3-alb-\d+\.[a-z0-9-]+\.elb\.amazonaws\.com$/);
    });
});
