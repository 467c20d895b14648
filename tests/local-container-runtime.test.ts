/**
 * How the harness turns the unit's podman/docker lines into host commands:
 * faithful where it maps, loud where it cannot.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { mapContainerCommand, NodeContext } from "../local/container-runtime";

const image = "gcr.io/etcd-development/etcd:v3.5.33";

describe("local harness: container runtime stand-in", () => {
    let context: NodeContext;
    beforeEach(() => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-runtime-test-"));
        fs.mkdirSync(path.join(root, "var", "lib", "etcd"), { recursive: true });
        context = { root, address: "127.0.9.1", etcd: { path: "/usr/local/bin/etcd", version: "3.5.30", branch: "3.5" } };
    });
    afterEach(() => fs.rmSync(context.root, { recursive: true, force: true }));

    const run = (...args: string[]) => mapContainerCommand(["/usr/bin/podman", "run", "--name", "etcd-member", "--rm", "--net=host", ...args], context);

    it("runs the host's etcd for an etcd image's /usr/local/bin/etcd", () => {
        const local = run(image, "/usr/local/bin/etcd", "--name=etcd-1");
        expect(local).to.deep.include({ kind: "process", command: "/usr/local/bin/etcd", args: ["--name=etcd-1"], image });
    });

    it("accepts a pull policy, since the host's etcd needs no pull", () => {
        expect(run("--pull=missing", image, "/usr/local/bin/etcd")).to.deep.include({ kind: "process", image });
    });

    it("refuses a pull policy podman does not know", () => {
        expect(() => run("--pull=sometimes", image, "/usr/local/bin/etcd")).to.throw("--pull=sometimes");
    });

    it("gives etcd an empty environment, as a container run without --env has", () => {
        expect(run(image, "/usr/local/bin/etcd")).to.deep.include({ env: {} });
    });

    it("maps arguments under a volume's container path to its host path inside the node root", () => {
        const local = run("--volume", "/var/lib/etcd:/data:z", image, "/usr/local/bin/etcd", "--data-dir=/data", "--wal-dir", "/data/wal");
        expect(local).to.deep.include({ args: [`--data-dir=${context.root}/var/lib/etcd`, "--wal-dir", `${context.root}/var/lib/etcd/wal`] });
    });

    it("maps a wildcard listen address to the node's own address", () => {
        const local = run(image, "/usr/local/bin/etcd", "--listen-client-urls=http://0.0.0.0:2379,http://10.0.0.1:2379");
        expect(local).to.deep.include({ args: ["--listen-client-urls=http://127.0.9.1:2379,http://10.0.0.1:2379"] });
    });

    it("fails like podman when a volume's host path does not exist on the node", () => {
        expect(() => run("-v", "/srv/missing:/data", image, "/usr/local/bin/etcd")).to.throw(/\/srv\/missing does not exist on the node/);
    });

    it("refuses container options and networks it does not emulate", () => {
        expect(() => run("--detach", image, "/usr/local/bin/etcd")).to.throw(/option --detach is not emulated/);
        expect(() => mapContainerCommand(["/usr/bin/docker", "run", "--net=bridge", image, "/usr/local/bin/etcd"], context)).to.throw(/--net=host/);
    });

    it("refuses an image of another etcd branch than the host's", () => {
        expect(() => run("gcr.io/etcd-development/etcd:v3.6.14", "/usr/local/bin/etcd")).to.throw(/not an etcd 3\.5 release/);
    });

    it("treats rm, stop and pull as no-ops that fail without their tolerant flags, as on a boot with no container", () => {
        const podman = (...args: string[]) => mapContainerCommand(["/usr/bin/podman", ...args], context);
        expect(podman("rm", "--force", "etcd-member")).to.deep.include({ kind: "no-op", failure: undefined });
        expect(podman("rm", "etcd-member")).to.deep.include({ kind: "no-op", failure: "no container named etcd-member exists" });
        expect(podman("stop", "etcd-member")).to.have.property("failure").that.is.a("string");
        expect(podman("pull", image)).to.deep.include({ kind: "no-op", failure: undefined });
    });
});
