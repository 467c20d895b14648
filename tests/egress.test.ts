/**
 * lib/egress.ts: the ports the members reach outside their own group, which
 * are the only egress their security group allows.
 */
import { expect } from "chai";
import { memberOutboundPorts, MemberEgressOptions } from "../lib/egress";

const defaults: MemberEgressOptions = {
    bootstrap: "discovery", discoveryService: "https://discovery.etcd.io", etcdImageRepository: "gcr.io/etcd-development/etcd",
};

describe("the members' outbound ports (lib/egress.ts)", () => {
    it("are HTTPS, for the AWS APIs, image pulls, OS updates and discovery, and NTP by default", () => {
        expect(memberOutboundPorts(defaults)).to.deep.equal([
            { protocol: "tcp", port: 443, purposes: ["AWS APIs", "etcd image pulls", "OS updates", "discovery"] },
            { protocol: "udp", port: 123, purposes: ["NTP"] },
        ]);
    });

    it("leave discovery out with bootstrap static", () => {
        expect(memberOutboundPorts({ ...defaults, bootstrap: "static" })).to.deep.equal([
            { protocol: "tcp", port: 443, purposes: ["AWS APIs", "etcd image pulls", "OS updates"] },
            { protocol: "udp", port: 123, purposes: ["NTP"] },
        ]);
    });

    it("add the port a discovery service names, or 80 for a plain http one", () => {
        const portsFor = (discoveryService: string) => memberOutboundPorts({ ...defaults, discoveryService }).filter((entry) => entry.purposes.includes("discovery"));
        expect(portsFor("http://discovery.internal:8087")).to.deep.equal([{ protocol: "tcp", port: 8087, purposes: ["discovery"] }]);
        expect(portsFor("http://discovery.internal")).to.deep.equal([{ protocol: "tcp", port: 80, purposes: ["discovery"] }]);
    });

    it("take the discovery URL's port over the service's when the URL is given", () => {
        const ports = memberOutboundPorts({ ...defaults, discoveryUrl: "https://discovery.internal:8443/9a69d64726338dabf0a279d4fa7e803e" });
        expect(ports.find((entry) => entry.purposes.includes("discovery"))).to.deep.equal({ protocol: "tcp", port: 8443, purposes: ["discovery"] });
    });

    it("add the port an image registry's host names", () => {
        const ports = memberOutboundPorts({ ...defaults, etcdImageRepository: "registry.internal:5000/etcd" });
        expect(ports.find((entry) => entry.purposes.includes("etcd image pulls"))).to.deep.equal({ protocol: "tcp", port: 5000, purposes: ["etcd image pulls"] });
    });
});
