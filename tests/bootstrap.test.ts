/**
 * How the cluster first forms (`bootstrap`): the flags each method gives etcd,
 * the combinations of bootstrap, etcd branch and API that cannot work, the
 * guard's one-way move from discovery to static, and, under the mocks, a static
 * cluster's graph (no discovery request, the slots' addresses in every member's
 * user data, no `etcd3DiscoveryUrl`).
 */
import { expect } from "chai";
import { installMocks, resourcesOf, settle, uniqueName, valueOf } from "./support/pulumi-mocks";

installMocks();
import { Etcd3Cluster, Etcd3ClusterArgs, resolveArgs } from "../lib";
import {
    bootstrapMethods, bootstrapSettingsPath, clusterTokenProblems, discoveryBootstrapFlags, initialClusterFlag, initialClusterToken,
    slotMembersProblems, staticBootstrapFlags,
} from "../lib/bootstrap";
import { ClusterGuardFacts, clusterGuardRefusals } from "../lib/guard";
import { buildIgnitionConfig, EtcdNodeIgnitionOptions } from "../lib/ignition";
import { memberIgnitionOptions, planMembers } from "../lib/plan";
import { decodeInlineContents, InlineContents } from "../local/ignition-contents";
import { ignitionFailure } from "./support/ignition-failure";

const members = [
    { name: "kv-0", ip: "10.99.1.10" }, { name: "kv-1", ip: "10.99.2.10" }, { name: "kv-2", ip: "10.99.3.10" },
];
const clusterToken = "kv-5f0c6a52";
const discoveryUrl = "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e";

/** The problems `resolveArgs` lists for `args`, none when it resolves. */
function problemsOf(args: Etcd3ClusterArgs): string[] {
    try {
        resolveArgs("kv", args);
        return [];
    } catch (error) {
        return (error as { problems: string[] }).problems;
    }
}

describe("cluster bootstrap (lib/bootstrap.ts)", () => {
    it("offers discovery and static", () => {
        expect(bootstrapMethods).to.deep.equal(["discovery", "static"]);
    });

    it("forms a static cluster from every member's name and peer URL, with the cluster's token and state new", () => {
        expect(staticBootstrapFlags(members, clusterToken)).to.deep.equal([
            "--initial-cluster=kv-0=http://10.99.1.10:2380,kv-1=http://10.99.2.10:2380,kv-2=http://10.99.3.10:2380",
            "--initial-cluster-state=new",
            "--initial-cluster-token=kv-5f0c6a52",
        ]);
    });

    it("forms a discovery cluster through the URL, exiting rather than turning proxy when the token is full", () => {
        expect(discoveryBootstrapFlags(discoveryUrl)).to.deep.equal([`--discovery=${discoveryUrl}`, "--discovery-fallback=exit"]);
    });

    it("writes a one-member initial cluster without a separator", () => {
        expect(initialClusterFlag([members[0]])).to.equal("kv-0=http://10.99.1.10:2380");
    });

    it("makes the token from the ecosystem and the stack's unique id", () => {
        expect(initialClusterToken("kv", "5f0c6a52-3d1e")).to.equal("kv-5f0c6a52-3d1e");
    });

    describe("refuses a member list that cannot be the cluster's", () => {
        it("accepts a good one", () => {
            expect(slotMembersProblems(members, "kv-1")).to.deep.equal([]);
        });

        it("an empty or missing list", () => {
            for (const list of [[], undefined, "kv-0"]) {
                expect(slotMembersProblems(list, "kv-0")).to.deep.equal(["members: list every member of the cluster by its slot, as { name, ip }"]);
            }
        });

        it("a list without this member", () => {
            expect(slotMembersProblems(members, "kv-3")).to.deep.equal([
                'members: "kv-3" is not among them ("kv-0", "kv-1", "kv-2"); a member must be in its own cluster',
            ]);
        });

        it("a name twice, an address that is not IPv4, a name etcd would split", () => {
            const broken = [{ name: "kv-0", ip: "10.99.1.10" }, { name: "kv-0", ip: "10.99.1.256" }, { name: "kv,1", ip: "fe80::1" }];
            expect(slotMembersProblems(broken, "kv-0")).to.deep.equal([
                'members[1].ip "10.99.1.256": use the slot\'s private IPv4 address, e.g. 10.99.1.10',
                'members[2].name "kv,1": use letters, digits, dots, underscores and hyphens',
                'members[2].ip "fe80::1": use the slot\'s private IPv4 address, e.g. 10.99.1.10',
                'members: "kv-0" named more than once',
            ]);
        });

        it("a token with a space, or none", () => {
            expect([clusterTokenProblems("kv token"), clusterTokenProblems(undefined), clusterTokenProblems(clusterToken)]).to.deep.equal([
                ['clusterToken "kv token": use letters, digits, dots, underscores and hyphens'],
                ["clusterToken undefined: use letters, digits, dots, underscores and hyphens"],
                [],
            ]);
        });
    });
});

describe("the Ignition builder's bootstrap options (lib/ignition.ts)", () => {
    const member = (overrides: Partial<EtcdNodeIgnitionOptions>): EtcdNodeIgnitionOptions =>
        ({ memberName: "kv-0", etcdVersion: "v3.5.33", ...overrides });
    const etcdUnit = (options: EtcdNodeIgnitionOptions) => buildIgnitionConfig(options).systemd.units[0].contents;
    /** The bootstrap script's settings file, decoded. */
    const settings = (options: EtcdNodeIgnitionOptions) => {
        const file = buildIgnitionConfig(options).storage.files!.find((candidate) => candidate.path === bootstrapSettingsPath)!;
        return decodeInlineContents(file.contents);
    };
    const failure = ignitionFailure;

    it("forms a static member's cluster from the member list and token, naming no discovery service", () => {
        expect(settings(member({ clusterToken, members }))).to.contain(`FORM_FLAGS=${staticBootstrapFlags(members, clusterToken).join(" ")}\n`)
            .and.not.contain("--discovery");
    });

    it("forms a discovery member's cluster through the URL, naming no static member list", () => {
        expect(settings(member({ discoveryUrl, members }))).to.contain(`FORM_FLAGS=${discoveryBootstrapFlags(discoveryUrl).join(" ")}\n`)
            .and.not.contain("--initial-cluster");
    });

    it("refuses both a discovery URL and a token, and neither", () => {
        const either = "give discoveryUrl (the cluster forms through a discovery service) or clusterToken (it forms from the static member list), one of them";
        expect(failure(member({ discoveryUrl, clusterToken, members }))).to.contain(either);
        expect(failure(member({}))).to.contain(either);
    });

    it("refuses a token without the member list it forms from", () => {
        expect(failure(member({ clusterToken }))).to.contain("members: a cluster formed with clusterToken needs its static member list");
    });

    it("refuses v2 discovery on etcd 3.7, which removed it", () => {
        expect(failure(member({ discoveryUrl, etcdVersion: "v3.7.1" }))).to.equal(
            'cannot build the Ignition config for etcd member "kv-0":\n  - discoveryUrl: etcd 3.7 removed v2 discovery; form the cluster from its members with clusterToken');
    });

    it("builds a 3.7 member from a static list", () => {
        expect(etcdUnit(member({ clusterToken, members, etcdVersion: "v3.7.1" }))).to.contain("etcd:v3.7.1 /usr/local/bin/etcd");
    });
});

describe("the per-member plan's bootstrap facts (lib/plan.ts)", () => {
    it("hands the static member list and token to the builder, and no discovery URL", () => {
        const args = resolveArgs("kv", { bootstrap: "static", ecosystem: "kv" });
        const options = memberIgnitionOptions(args, planMembers(args)[1], { clusterToken, members });
        expect({ discoveryUrl: options.discoveryUrl, clusterToken: options.clusterToken, members: options.members })
            .to.deep.equal({ discoveryUrl: undefined, clusterToken, members });
    });
});

describe("the bootstrap argument (lib/args.ts)", () => {
    it("defaults to discovery, as the seed's module formed its clusters", () => {
        expect(resolveArgs("kv", {}).bootstrap).to.equal("discovery");
    });

    it("takes static with any supported branch", () => {
        for (const etcdVersion of ["v3.5.33", "v3.6.14", "v3.7.1"]) {
            expect(problemsOf({ bootstrap: "static", etcdVersion }), etcdVersion).to.deep.equal([]);
        }
    });

    it("refuses an unknown method, naming both", () => {
        expect(problemsOf({ bootstrap: "dns" as never })).to.deep.equal([
            'bootstrap "dns": use "discovery" (a v2 discovery service, etcd 3.5 and 3.6) or "static" (the member slots\' addresses)',
        ]);
    });

    it("refuses etcd 3.7 with discovery, pointing at static", () => {
        expect(problemsOf({ etcdVersion: "v3.7.1" })).to.deep.equal([
            'etcdVersion v3.7.1 with bootstrap "discovery": etcd 3.7 removed v2 discovery; use bootstrap: "static" ' +
            "(the members' addresses are known before they boot), or etcd 3.5 or 3.6",
        ]);
    });

    it("refuses the v2 API on etcd 3.7, as on 3.6", () => {
        expect(problemsOf({ bootstrap: "static", etcdVersion: "v3.7.1", enableV2Api: true })).to.deep.equal([
            "enableV2Api: etcd 3.7 has no v2 API (3.6 removed it); leave enableV2Api out, or use etcd 3.5",
        ]);
    });

    it("refuses a discovery URL or service with static, which would never use them", () => {
        expect(problemsOf({ bootstrap: "static", discoveryUrl, discoveryService: "http://127.0.0.1:8087" })).to.deep.equal([
            'discoveryUrl: only used with bootstrap "discovery"; leave it out with bootstrap "static"',
            'discoveryService: only used with bootstrap "discovery"; leave it out with bootstrap "static"',
        ]);
    });
});

describe("the guard's bootstrap rule (lib/guard.ts)", () => {
    const facts = (bootstrap: "discovery" | "static"): ClusterGuardFacts => ({
        clusterSize: 3, rootVolumeSizeGiB: 20, dataVolumeSizeGiB: 20, dataVolumeKmsKey: "aws/ebs", etcdVersion: "v3.6.14", enableV2Api: false, bootstrap, peerTls: false, clientTls: false, accessControl: false,
        peerCaGeneration: 0, peerCaRotation: "none", peerCaCertificate: "generated",
    });

    it("lets a running cluster move from discovery to static", () => {
        expect(clusterGuardRefusals(facts("discovery"), facts("static"))).to.deep.equal([]);
    });

    it("refuses static back to discovery, saying why", () => {
        expect(clusterGuardRefusals(facts("static"), facts("discovery"))).to.deep.equal([
            "bootstrap cannot change from static to discovery on a running cluster: the members formed without a discovery " +
            "service, and a token requested now would name none of them. Keep bootstrap: \"static\".",
        ]);
    });

    it("records the method for a state made before it existed, without refusing", () => {
        const { bootstrap: _absent, ...older } = facts("discovery");
        expect(clusterGuardRefusals(older, facts("static"))).to.deep.equal([]);
    });

    it("lets a static 3.6.11 cluster roll to 3.7", () => {
        expect(clusterGuardRefusals({ ...facts("static"), etcdVersion: "v3.6.11" }, { ...facts("static"), etcdVersion: "v3.7.1" })).to.deep.equal([]);
    });

    it("refuses 3.6.10 → 3.7, naming 3.6.11", () => {
        expect(clusterGuardRefusals({ ...facts("static"), etcdVersion: "v3.6.10" }, { ...facts("static"), etcdVersion: "v3.7.1" })).to.deep.equal([
            "etcdVersion cannot go from v3.6.10 to v3.7.1 yet: roll to v3.6.11 or later first (etcd's upgrade guide names it as the oldest " +
            "3.6 patch to upgrade from). Then set etcdVersion to v3.7.1 again.",
        ]);
    });
});

describe("a statically bootstrapped cluster's graph (Pulumi mocks)", () => {
    const GUARD = "pulumi-nodejs:dynamic/etcd3-cluster:ClusterGuard";
    const INTERFACE = "aws:ec2/networkInterface:NetworkInterface";

    async function build(args: Etcd3ClusterArgs) {
        const name = uniqueName();
        const cluster = new Etcd3Cluster(name, { discoveryLogFile: false, ...args });
        await settle();
        const of = (type: string) => resourcesOf(name, type);
        /** Each member's bootstrap settings file, decoded. */
        const settingsFiles = of("aws:ec2/instance:Instance").map((instance) => {
            const files: { path: string; contents: InlineContents }[] = JSON.parse(instance.inputs.userData).storage.files;
            return decodeInlineContents(files.find((file) => file.path === bootstrapSettingsPath)!.contents);
        });
        return { cluster, of, settingsFiles };
    }

    it("requests no discovery token and exports no discovery URL", async () => {
        const { cluster, of } = await build({ bootstrap: "static", etcdVersion: "v3.7.1" });
        expect(of("pulumi-nodejs:dynamic/etcd3-cluster:DiscoveryUrl")).to.deep.equal([]);
        expect(await valueOf(cluster.etcd3DiscoveryUrl)).to.equal(undefined);
    });

    it("gives every member every slot's address, the founding slots' static list and the guard's token", async () => {
        const { cluster, of, settingsFiles } = await build({ bootstrap: "static", ecosystem: "kv", etcdVersion: "v3.7.1" });
        const ips = of(INTERFACE).map((slot) => slot.state.privateIp as string);
        const [guard] = of(GUARD);
        const expected = [
            `MEMBER_CLIENT_URLS=${ips.map((ip) => `http://${ip}:2379`).join(",")}`,
            `FORM_FLAGS=--initial-cluster=${ips.slice(0, 3).map((ip, index) => `kv-${index}=http://${ip}:2380`).join(",")} ` +
                `--initial-cluster-state=new --initial-cluster-token=kv-${guard.id}`,
        ];
        expect(ips).to.have.length(7);
        expect(await valueOf(cluster.privateIps)).to.deep.equal(ips.slice(0, 3));
        expect(settingsFiles.map((file) => expected.every((line) => file.includes(`${line}\n`)))).to.deep.equal([true, true, true]);
    });

    it("gives a discovery cluster's members the slots' addresses too, for a member with empty data to join by", async () => {
        const { of, settingsFiles } = await build({ ecosystem: "kv" });
        const ips = of(INTERFACE).map((slot) => slot.state.privateIp as string);
        expect(settingsFiles.map((file) => file.includes(`MEMBER_CLIENT_URLS=${ips.map((ip) => `http://${ip}:2379`).join(",")}\n`)))
            .to.deep.equal([true, true, true]);
    });

    it("records the method in the guard", async () => {
        const { of } = await build({ bootstrap: "static" });
        expect(of(GUARD)[0].inputs.bootstrap).to.equal("static");
    });
});
