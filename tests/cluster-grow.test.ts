/**
 * A cluster that grows or shrinks, under the suite's Pulumi mocks: the slots a
 * stack has before and after `clusterSize` changes, the user data of every
 * member that stays, which must not change (a change would replace its
 * instance), and the order in which leaving members go.
 */
import { expect } from "chai";
import { installMocks, playFoundingClusterSize, resourcesOf, settle, uniqueName } from "./support/pulumi-mocks";
import { recordChildOptions } from "./support/pulumi-mocks";

installMocks();
import { Etcd3ClusterArgs } from "../lib/args";
import { bootstrapSettingsPath } from "../lib/bootstrap";
import { Etcd3Cluster } from "../lib/cluster";
import { decodeInlineContents } from "../local/ignition-contents";

const INSTANCE = "aws:ec2/instance:Instance";
const INTERFACE = "aws:ec2/networkInterface:NetworkInterface";
const VOLUME = "aws:ebs/volume:Volume";
const GUARD = "pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard";

/** The stack's resources for `args`, played as a stack created with `foundingClusterSize` members. */
async function stack(args: Etcd3ClusterArgs, foundingClusterSize?: number) {
    const name = uniqueName();
    const recorder = recordChildOptions();
    playFoundingClusterSize(foundingClusterSize);
    try {
        new Etcd3Cluster(name, { discoveryLogFile: false, ecosystem: "kv", ...args }, { transformations: [recorder.transformation] });
        await settle();
    } finally {
        playFoundingClusterSize(undefined);
    }
    const of = (type: string) => resourcesOf(name, type);
    /**
     * Each instance's user data, its files decoded, with the stack's own ids
     * (the only values the mocks make per stack: the volumes', and the guard's
     * in a static token) in a fixed form, so two stacks compare.
     */
    const ownIds = [...of(VOLUME).flatMap((volume) => [[volume.id!, "vol-SLOT"], [volume.id!.replace("-", ""), "volSLOT"]]), [of(GUARD)[0].id!, "GUARD-ID"]];
    const userData = of(INSTANCE).map((instance) => {
        const config = JSON.parse(instance.inputs.userData);
        for (const file of config.storage.files) {
            file.contents = decodeInlineContents(file.contents);
        }
        return ownIds.reduce((text, [id, fixed]) => text.split(id).join(fixed), JSON.stringify(config));
    });
    const settings = of(INSTANCE).map((instance) => {
        const files: { path: string; contents: { source: string; compression?: string } }[] = JSON.parse(instance.inputs.userData).storage.files;
        return decodeInlineContents(files.find((file) => file.path === bootstrapSettingsPath)!.contents);
    });
    return { name, of, userData, settings, children: recorder.children };
}

/** The value of `KEY=` in a settings file. */
const setting = (file: string, key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(file)?.[1];

describe("a cluster that grows (Pulumi mocks)", () => {
    for (const bootstrap of ["discovery", "static"] as const) {
        const etcdVersion = bootstrap === "static" ? "v3.7.1" : undefined;

        it(`leaves the user data of the members that stay exactly as it was, 3 → 5 (${bootstrap})`, async () => {
            const created = await stack({ clusterSize: 3, bootstrap, etcdVersion });
            const grown = await stack({ clusterSize: 5, bootstrap, etcdVersion }, 3);
            expect(grown.userData.slice(0, 3)).to.deep.equal(created.userData);
        });

        it(`gives the new members no way to form a cluster of their own (${bootstrap})`, async () => {
            const grown = await stack({ clusterSize: 5, bootstrap, etcdVersion }, 3);
            expect(grown.settings.map((file) => setting(file, "FORM_FLAGS") !== "")).to.deep.equal([true, true, true, false, false]);
        });
    }

    it("keeps the static member list to the founding members", async () => {
        const grown = await stack({ clusterSize: 7, bootstrap: "static", etcdVersion: "v3.7.1" }, 3);
        const ips = grown.of(INTERFACE).map((nic) => nic.state.privateIp as string);
        expect(setting(grown.settings[0], "FORM_FLAGS")).to.match(
            new RegExp(`^--initial-cluster=kv-0=http://${ips[0]}:2380,kv-1=http://${ips[1]}:2380,kv-2=http://${ips[2]}:2380 --initial-cluster-state=new `));
    });

    it("has every slot's address before and after, and a volume and an instance for each member, in slot order", async () => {
        const created = await stack({ clusterSize: 3 });
        const grown = await stack({ clusterSize: 5 }, 3);
        const names = (of: (type: string) => { name: string }[], type: string, prefix: string) => of(type).map((r) => r.name.slice(prefix.length));
        expect([created, grown].map(({ name, of }) => [INTERFACE, VOLUME, INSTANCE].map((type) => names(of, type, name)))).to.deep.equal([
            [["-0-nic", "-1-nic", "-2-nic", "-3-nic", "-4-nic", "-5-nic", "-6-nic"], ["-0-data", "-1-data", "-2-data"], ["-0", "-1", "-2"]],
            [["-0-nic", "-1-nic", "-2-nic", "-3-nic", "-4-nic", "-5-nic", "-6-nic"], ["-0-data", "-1-data", "-2-data", "-3-data", "-4-data"], ["-0", "-1", "-2", "-3", "-4"]],
        ]);
    });

    it("starts each new member only once the member before it is healthy: one joins at a time", async () => {
        const { name, children } = await stack({ clusterSize: 5 }, 3);
        expect([3, 4].map((index) => children.get(`${name}-${index}`)!.options.dependsOn))
            .to.deep.equal([[`${name}-guard`, `${name}-2-health`], [`${name}-guard`, `${name}-3-health`]]);
    });

    it("gives a new stack's every member the formation, however large", async () => {
        const created = await stack({ clusterSize: 7 });
        expect(created.settings.map((file) => setting(file, "FORM_FLAGS")!.startsWith("--discovery="))).to.deep.equal(Array(7).fill(true));
    });
});

describe("a cluster that shrinks (Pulumi mocks)", () => {
    const DEPARTURE = "pulumi-nodejs:dynamic/etcd3-cluster:MemberDeparture";
    const GATE = "pulumi-nodejs:dynamic/etcd3-cluster:MemberHealthGate";

    for (const bootstrap of ["discovery", "static"] as const) {
        it(`leaves the user data of the members that stay exactly as it was, 5 → 3 (${bootstrap})`, async () => {
            const created = await stack({ clusterSize: 5, bootstrap });
            const shrunk = await stack({ clusterSize: 3, bootstrap }, 5);
            expect(shrunk.userData).to.deep.equal(created.userData.slice(0, 3));
        });
    }

    it("keeps every slot's address, and a volume, an instance, a departure and a health gate for each staying member only", async () => {
        const shrunk = await stack({ clusterSize: 3 }, 5);
        const names = (type: string) => shrunk.of(type).map((r) => r.name.slice(shrunk.name.length));
        expect([INTERFACE, VOLUME, INSTANCE, DEPARTURE, GATE].map(names)).to.deep.equal([
            ["-0-nic", "-1-nic", "-2-nic", "-3-nic", "-4-nic", "-5-nic", "-6-nic"], ["-0-data", "-1-data", "-2-data"], ["-0", "-1", "-2"],
            ["-0-departure", "-1-departure", "-2-departure"], ["-0-health", "-1-health", "-2-health"],
        ]);
    });

    it("orders each member's resources so that Pulumi deletes a leaving member highest slot first: gate, departure, then its instance", async () => {
        // Pulumi deletes a resource before what it depends on. Member i+1's instance depends on member i's gate, so the whole
        // chain of member i+1 goes before member i's; within a member, the gate depends on the departure, which depends on the
        // volume attachment and target registrations, which depend on the instance.
        const { name, children } = await stack({ clusterSize: 5 }, 5);
        const dependsOn = (child: string) => children.get(`${name}${child}`)!.options.dependsOn;
        expect([3, 4].map((index) => [dependsOn(`-${index}-health`), dependsOn(`-${index}-departure`), dependsOn(`-${index}`)])).to.deep.equal([3, 4].map((index) => [
            [`${name}-${index}-departure`],
            [`${name}-${index}-data-attachment`, `${name}-alb-target-${index}`],
            [`${name}-guard`, `${name}-${index - 1}-health`],
        ]));
        const attachment = resourcesOf(name, "aws:ec2/volumeAttachment:VolumeAttachment").find((r) => r.name === `${name}-4-data-attachment`)!;
        const departure = resourcesOf(name, DEPARTURE).find((r) => r.name === `${name}-4-departure`)!;
        const instance = resourcesOf(name, INSTANCE).find((r) => r.name === `${name}-4`)!;
        expect([attachment.inputs.instanceId, departure.inputs.instanceId]).to.deep.equal([instance.id, instance.id]);
    });
});
