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
    it("gives every option a flag names, and leaves out each one not given", () => {
        expect(localCommandOf(["--https", "--size", "5", "--os", "flatcar", "--time-scale", "0.1"])).to.deep.equal({
            action: "start",
            options: {
                size: 5,
                etcdVersion: undefined,
                bootstrap: undefined,
                enableV2Api: undefined,
                os: "flatcar",
                healthCheckTimeScale: 0.1,
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

    it("starts the component's default size when --size is not given", () => {
        const command = localCommandOf([]);
        expect(command.action === "start" && command.options.size).to.equal(argumentDefaults.clusterSize);
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
