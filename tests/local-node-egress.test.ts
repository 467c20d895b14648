/**
 * Where the harness lets a node connect outside the VPC: the TCP ports the
 * component's own egress rules open for the members' security group
 * (`nodeInternetPortsOf`), which the node's proxy enforces on every tunnel.
 */
import { expect } from "chai";
import { componentResources, nodeInternetPortsOf, RegisteredResource } from "../local/component-resources";

const group = (name: string, id: string): RegisteredResource => ({ type: "aws:ec2/securityGroup:SecurityGroup", name, id, inputs: {}, state: {} });
const egress = (name: string, inputs: Record<string, unknown>): RegisteredResource =>
    ({ type: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", name, id: `${name}-id`, inputs, state: {} });

describe("local harness: the members' ports outside the VPC", function () {
    this.timeout(60_000);

    it("are the TCP ports of the component's own egress rules, as it renders them", async () => {
        const resources = await componentResources({ discoveryService: "http://discovery.internal:8087" }, { timeoutMs: 50_000 });
        expect(nodeInternetPortsOf(resources)).to.deep.equal([{ from: 443, to: 443 }, { from: 8087, to: 8087 }]);
    });

    it("count only the members' group's rules to 0.0.0.0/0, every port for a rule of every protocol, no UDP", () => {
        const resources = [
            group("kv-nodes-sg", "sg-nodes"), group("kv-alb-sg", "sg-alb"),
            egress("kv-nodes-out-tcp-443", { securityGroupId: "sg-nodes", ipProtocol: "tcp", cidrIpv4: "0.0.0.0/0", fromPort: 443, toPort: 443 }),
            egress("kv-nodes-out-udp-123", { securityGroupId: "sg-nodes", ipProtocol: "udp", cidrIpv4: "0.0.0.0/0", fromPort: 123, toPort: 123 }),
            egress("kv-nodes-peer-to-nodes", { securityGroupId: "sg-nodes", ipProtocol: "tcp", referencedSecurityGroupId: "sg-nodes", fromPort: 2380, toPort: 2380 }),
            egress("kv-nodes-to-vpc", { securityGroupId: "sg-nodes", ipProtocol: "tcp", cidrIpv4: "10.0.0.0/16", fromPort: 8080, toPort: 8080 }),
            egress("kv-alb-out", { securityGroupId: "sg-alb", ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" }),
            egress("kv-nodes-range", { securityGroupId: "sg-nodes", ipProtocol: "tcp", cidrIpv4: "0.0.0.0/0", fromPort: 5000, toPort: 5010 }),
        ];
        expect(nodeInternetPortsOf(resources)).to.deep.equal([{ from: 443, to: 443 }, { from: 5000, to: 5010 }]);
        const everything = egress("kv-nodes-outbound", { securityGroupId: "sg-nodes", ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" });
        expect(nodeInternetPortsOf([...resources, everything])).to.deep.include({ from: 0, to: 65535 });
    });

    it("are refused as unknown when the component registered no members' group", () => {
        expect(() => nodeInternetPortsOf([group("kv-alb-sg", "sg-alb")]))
            .to.throw("the component registered 0 members' security groups (<name>-nodes-sg) with an id under mocks; the harness plays one");
    });
});
