import { expect } from "chai";
import { execFileSync } from "child_process";
import * as path from "path";
import { resolveArgs } from "../lib/args";
import { memberIgnitionOptions, planMembers } from "../lib/plan";

const discoveryUrl = "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e";

describe("the per-member plan", () => {
    it("names the members <ecosystem>-<index>, in order", () => {
        expect(planMembers(resolveArgs("etcd3", { ecosystem: "kv", clusterSize: 5 })).map((member) => [member.index, member.name]))
            .to.deep.equal([[0, "kv-0"], [1, "kv-1"], [2, "kv-2"], [3, "kv-3"], [4, "kv-4"]]);
    });

    it("gives each of seven members its own hour-long update window, three hours apart", () => {
        const windows = planMembers(resolveArgs("etcd3", { clusterSize: 7 })).map((member) => member.updateWindow);
        expect(windows).to.deep.equal([2, 5, 8, 11, 14, 17, 20].map((startHourUtc) => ({ startHourUtc, lengthMinutes: 60 })));
    });

    for (const clusterSize of [3, 5, 7]) {
        it(`staggers the ${clusterSize} members' daily defragmentations three hours apart, none in any member's update window`, () => {
            const plan = planMembers(resolveArgs("etcd3", { clusterSize }));
            const minuteOfDay = ({ hourUtc, minute }: { hourUtc: number; minute: number }) => hourUtc * 60 + minute;
            const defragmentations = plan.map((member) => minuteOfDay(member.defragmentationTime));
            expect(defragmentations).to.deep.equal([3, 6, 9, 12, 15, 18, 21].slice(0, clusterSize).map((hour) => hour * 60 + 30));
            for (const { updateWindow } of plan) {
                const opens = updateWindow.startHourUtc * 60;
                expect(defragmentations.filter((at) => at >= opens && at < opens + updateWindow.lengthMinutes)).to.deep.equal([]);
            }
        });
    }

    it("leaves the defragmentation timer out of every member's options with dailyDefragmentation false", () => {
        const args = resolveArgs("etcd3", { dailyDefragmentation: false });
        expect(planMembers(args).map((member) => memberIgnitionOptions(args, member, { discoveryUrl }).defragmentationTime))
            .to.deep.equal([undefined, undefined, undefined]);
    });

    it("turns the resolved arguments into each member's Ignition options", () => {
        const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";
        const args = resolveArgs("etcd3", {
            os: "flatcar", etcdVersion: "3.6.14", etcdImageRepository: "quay.io/coreos/etcd",
            heartbeatIntervalMs: 200, electionTimeoutMs: 2000, sshAuthorizedKeys: [key], sshCidrs: ["10.99.0.0/16"], quotaBackendMiB: 4096,
            snapshotCount: 50000,
        });
        expect(memberIgnitionOptions(args, planMembers(args)[1], { discoveryUrl, dataVolumeId: "vol-0123456789abcdef0" })).to.deep.equal({
            memberName: "etcd3-cluster-1", discoveryUrl, clusterToken: undefined, members: undefined, foundingClusterSize: undefined, dataVolumeId: "vol-0123456789abcdef0", enableV2Api: false, etcdVersion: "v3.6.14", os: "flatcar", imageRepository: "quay.io/coreos/etcd",
            heartbeatIntervalMs: 200, electionTimeoutMs: 2000, sshAuthorizedKeys: [key],
            updateWindow: { startHourUtc: 5, lengthMinutes: 60 },
            quotaBackendMiB: 4096, snapshotCount: 50000, defragmentationTime: { hourUtc: 6, minute: 30 }, snapshots: undefined, restore: undefined,
            peerTls: undefined,
            clientTls: undefined,
            accessControl: false,
            tokenSigningKeyGeneration: undefined,
        });
    });

    it("tells each member with peerTls the secrets bucket, and refuses to plan one without it rather than let it talk plain HTTP", () => {
        const args = resolveArgs("kv", { ecosystem: "kv", peerTls: true, discoveryLogFile: false });
        const [member] = planMembers(args);
        const secretsBucket = { name: "kv-secrets-20261126000000000000000001", region: "eu-west-2" };
        expect(memberIgnitionOptions(args, member, { discoveryUrl, secretsBucket }).peerTls)
            .to.deep.equal({ bucket: secretsBucket.name, region: "eu-west-2", ca: { generation: 0, rotation: undefined }, givenCaFingerprint: undefined });
        expect(() => memberIgnitionOptions(args, member, { discoveryUrl }))
            .to.throw("peerTls: the members need the secrets bucket that holds the peer CA, and none was given");
    });

    it("tells each member with clientTls the DNS names its certificate gives, and none when there are none", () => {
        const args = resolveArgs("kv", { ecosystem: "kv", peerTls: true, clientTls: true, discoveryLogFile: false });
        const [member] = planMembers(args);
        const secretsBucket = { name: "kv-secrets-20261126000000000000000001", region: "eu-west-2" };
        const nlb = "kv-nlb-0123456789abcdef.elb.eu-west-2.amazonaws.com";
        expect(memberIgnitionOptions(args, member, { discoveryUrl, secretsBucket, certificateDnsNames: [nlb] }).clientTls).to.deep.equal({ dnsNames: [nlb] });
        expect(memberIgnitionOptions(args, member, { discoveryUrl, secretsBucket }).clientTls).to.deep.equal({ dnsNames: [] });
    });

    it("renders user data without loading the Pulumi SDK or the AWS SDK", function () {
        this.timeout(30_000);
        const script = `
            const { resolveArgs } = require("./lib/args");
            const { planMembers, memberIgnitionOptions } = require("./lib/plan");
            const { renderUserData } = require("./lib/ignition");
            const args = resolveArgs("etcd3", {});
            planMembers(args).forEach((member) => renderUserData(memberIgnitionOptions(args, member, { discoveryUrl: "${discoveryUrl}", dataVolumeId: "vol-0123456789abcdef0" })));
            console.log(JSON.stringify(Object.keys(require.cache).filter((file) => file.includes("@pulumi"))));`;
        const loaded = JSON.parse(execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
            cwd: path.join(__dirname, ".."), encoding: "utf8",
        })) as string[];
        // The one file read from @pulumi/aws is its list of EC2 instance types, a plain data module.
        expect(loaded.map((file) => file.slice(file.indexOf("@pulumi")))).to.deep.equal(["@pulumi/aws/types/enums/ec2/index.js"]);
    });
});
