import * as assert from "node:assert/strict";
import { outputValue, setEtcd3ClusterMocks } from "etcd3-cluster/testing";

const mocks = setEtcd3ClusterMocks({ amiId: "ami-0f1a7ca7a7a7a7a7a" });

describe("an etcd cluster on Flatcar and Graviton", () => {
    let program: typeof import("./index");
    before(async () => {
        program = await mocks.run(() => import("./index"));
    });

    it("looks up the latest stable Flatcar image for arm64", () => {
        const [lookup, ...more] = mocks.callsOf("aws:ec2/getAmi:getAmi");
        assert.equal(more.length, 0);
        assert.deepEqual(lookup.inputs.owners, ["075585003325"]);
        assert.equal(lookup.inputs.mostRecent, true);
        assert.deepEqual(lookup.inputs.filters.find((f: { name: string }) => f.name === "architecture").values, ["arm64"]);
        assert.match(lookup.inputs.filters.find((f: { name: string }) => f.name === "name").values[0], /^Flatcar-stable-/);
    });

    it("boots every member from that image on the Graviton type", async () => {
        const instances = mocks.resourcesOf("aws:ec2/instance:Instance");
        assert.equal(instances.length, 3);
        for (const instance of instances) {
            assert.equal(instance.inputs.ami, "ami-0f1a7ca7a7a7a7a7a");
            assert.equal(instance.inputs.instanceType, "t4g.small");
        }
        assert.equal((await outputValue(program.instanceIds)).length, 3);
    });

    it("gives each member Ignition user data that runs etcd with docker, on Flatcar's metadata", () => {
        for (const instance of mocks.resourcesOf("aws:ec2/instance:Instance")) {
            const ignition = JSON.parse(instance.inputs.userData);
            assert.match(ignition.ignition.version, /^3\./);
            const config = decodeURIComponent(JSON.stringify(ignition));
            assert.ok(config.includes("/usr/bin/docker"), "runs etcd with docker");
            assert.ok(!config.includes("podman"), "not with podman");
            assert.ok(config.includes("/run/metadata/flatcar"), "reads Flatcar's instance metadata");
        }
    });
});
