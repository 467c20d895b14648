/**
 * The Ignition builder's `foundingClusterSize` (lib/ignition.ts): which
 * members may form the cluster, and with which static member list.
 */
import { expect } from "chai";
import { bootstrapSettingsPath } from "../lib/bootstrap";
import { buildIgnitionConfig, EtcdNodeIgnitionOptions } from "../lib/ignition";
import { decodeInlineContents } from "../local/ignition-contents";
import { ignitionFailure } from "./support/ignition-failure";

const slots = [0, 1, 2, 3, 4].map((index) => ({ name: `kv-${index}`, ip: `10.0.1.${10 + index}` }));
const clusterToken = "kv-1234";

const member = (index: number, overrides: Partial<EtcdNodeIgnitionOptions> = {}): EtcdNodeIgnitionOptions =>
    ({ memberName: `kv-${index}`, etcdVersion: "v3.7.1", clusterToken, members: slots, ...overrides });

/** The FORM_FLAGS line of the bootstrap script's settings. */
function formFlags(options: EtcdNodeIgnitionOptions): string {
    const file = buildIgnitionConfig(options).storage.files!.find((candidate) => candidate.path === bootstrapSettingsPath)!;
    return /^FORM_FLAGS=(.*)$/m.exec(decodeInlineContents(file.contents))![1];
}

const failure = ignitionFailure;

describe("the Ignition builder's founding members (lib/ignition.ts)", () => {
    it("forms the cluster from the founding slots alone", () => {
        expect(formFlags(member(2, { foundingClusterSize: 3 }))).to.equal(
            "--initial-cluster=kv-0=http://10.0.1.10:2380,kv-1=http://10.0.1.11:2380,kv-2=http://10.0.1.12:2380 " +
            "--initial-cluster-state=new --initial-cluster-token=kv-1234");
    });

    it("gives a member after the founding slots no formation at all", () => {
        expect([3, 4].map((index) => formFlags(member(index, { foundingClusterSize: 3 })))).to.deep.equal(["", ""]);
    });

    it("counts every slot as founding when the size is left out", () => {
        expect(formFlags(member(4))).to.contain("kv-4=http://10.0.1.14:2380 --initial-cluster-state=new");
    });

    it("accepts a cluster founded by its first member alone, and by all of them", () => {
        expect([1, 5].map((size) => failure(member(0, { foundingClusterSize: size })))).to.deep.equal(["", ""]);
        expect(formFlags(member(0, { foundingClusterSize: 1 }))).to.equal(
            "--initial-cluster=kv-0=http://10.0.1.10:2380 --initial-cluster-state=new --initial-cluster-token=kv-1234");
    });

    for (const size of [0, 6, 2.5, "3"]) {
        it(`refuses foundingClusterSize ${JSON.stringify(size)}, naming what it accepts`, () => {
            expect(failure(member(0, { foundingClusterSize: size as number }))).to.contain(
                `foundingClusterSize ${typeof size === "string" ? `"${size}"` : size}: use how many of members, from the first, formed the cluster: a whole number from 1 to 5`);
        });
    }

    it("refuses a founding size without members", () => {
        expect(failure({ memberName: "kv-0", etcdVersion: "v3.5.33", discoveryUrl: "https://discovery.etcd.io/0123456789abcdef0123456789abcdef", foundingClusterSize: 1 }))
            .to.contain("foundingClusterSize 1: give members too, the slots it counts from the first");
    });
});
