/**
 * `npm run local`'s command line: each flag becomes the harness option it
 * names, and a flag left out leaves the component's own default, so the local
 * cluster boots what the same arguments would on AWS.
 */
import { expect } from "chai";
import { argumentDefaults, resolveArgs } from "../lib/args";
import { localCommandOf } from "../local/cli-options";
import { componentArgsOf } from "../local/cluster";

/** The member TLS the component resolves for the cluster `npm run local -- <argv>` starts. */
function memberTlsOf(argv: string[]) {
    const command = localCommandOf(argv);
    if (command.action !== "start") {
        throw new Error(`${argv.join(" ")} does not start a cluster`);
    }
    const { peerTls, clientTls } = resolveArgs("etcd", componentArgsOf(command.options));
    return { peerTls, clientTls };
}

describe("npm run local's command line (local/cli-options.ts)", () => {
    it("gives each flag to the option it names", () => {
        expect(localCommandOf([
            "--size", "5", "--etcd-version", "3.5.21", "--bootstrap", "static", "--no-v2-api", "--os", "flatcar", "--time-scale", "0.1",
            "--heartbeat-interval", "150", "--election-timeout", "1500", "--subnet", "42", "--port", "8080", "--grpc-load-balancer",
            "--https", "--peer-tls", "--client-tls", "--root-password", "pw", "--keep",
        ])).to.deep.equal({
            action: "start",
            options: {
                size: 5,
                etcdVersion: "3.5.21",
                bootstrap: "static",
                enableV2Api: false,
                os: "flatcar",
                healthCheckTimeScale: 0.1,
                heartbeatIntervalMs: 150,
                electionTimeoutMs: 1500,
                subnet: 42,
                loadBalancerPort: 8080,
                grpcLoadBalancer: true,
                https: true,
                peerTls: true,
                clientTls: true,
                rootPassword: "pw",
                keep: true,
            },
        });
    });

    it("leaves out of the options each flag not given", () => {
        expect(localCommandOf(["--https"])).to.deep.equal({
            action: "start",
            options: {
                size: argumentDefaults.clusterSize,
                etcdVersion: undefined,
                bootstrap: undefined,
                enableV2Api: undefined,
                os: undefined,
                healthCheckTimeScale: undefined,
                heartbeatIntervalMs: undefined,
                electionTimeoutMs: undefined,
                subnet: undefined,
                loadBalancerPort: undefined,
                grpcLoadBalancer: undefined,
                https: true,
                peerTls: undefined,
                clientTls: undefined,
                rootPassword: undefined,
                keep: false,
            },
        });
    });

    it("brings TLS to and between the members with --https alone, as certificateArn does", () => {
        expect(memberTlsOf(["--https"])).to.deep.equal({ peerTls: true, clientTls: true });
    });

    it("takes --root-password alone, with TLS on every hop, as rootPassword does", () => {
        expect(memberTlsOf(["--root-password", "correct horse battery staple"])).to.deep.equal({ peerTls: true, clientTls: true });
    });

    it("turns peer TLS on with --peer-tls and leaves the client port plain", () => {
        expect(memberTlsOf(["--peer-tls"])).to.deep.equal({ peerTls: true, clientTls: false });
    });

    it("leaves the members plain without a TLS, HTTPS or password flag", () => {
        expect(memberTlsOf([])).to.deep.equal({ peerTls: false, clientTls: false });
    });

    it("answers --help and --stop before reading anything else", () => {
        expect(localCommandOf(["--size", "3", "--help"])).to.deep.equal({ action: "help" });
        expect(localCommandOf(["--stop"])).to.deep.equal({ action: "stop" });
    });

    it("refuses a number flag whose value is not a number, naming the flag", () => {
        expect(() => localCommandOf(["--size", "three"])).to.throw("--size three is not a number");
    });

    it("refuses a flag it does not know", () => {
        expect(() => localCommandOf(["--peer-tsl"])).to.throw(/Unknown option '--peer-tsl'/);
    });
});
