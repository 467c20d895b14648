/**
 * How the harness decides whether a first boot would start the unit: the
 * units it requires must be ones the test host stands in for, and a unit that
 * talks to a container daemon must be ordered on that daemon's service.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { NodeContext } from "../local/container-runtime";
import { planUnitStart, ProvidedUnit, unitPath } from "../local/unit-start";

const unitName = "etcd-member.service";
const image = "gcr.io/etcd-development/etcd:v3.5.33";
const metadataUnit: ProvidedUnit = { name: "coreos-metadata.service", writes: "/run/metadata/flatcar" };
const provided: ProvidedUnit[] = [metadataUnit, { name: "network-online.target" }];

/** A unit like the component's, run by `runtime`, with the given dependency lines. */
function unitText(runtime: string, requires: string, after: string): string {
    return [
        "[Unit]",
        `Requires=${requires}`,
        `After=${after}`,
        "[Service]",
        "EnvironmentFile=/run/metadata/flatcar",
        `ExecStartPre=-${runtime} rm --force etcd-member`,
        `ExecStart=${runtime} run --name etcd-member --rm --net=host --volume /var/lib/etcd:/var/lib/etcd ${image} /usr/local/bin/etcd --name=m`,
        `ExecStop=${runtime} stop etcd-member`,
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}

describe("local harness: starting the unit at first boot", () => {
    let context: NodeContext;
    beforeEach(() => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-unit-start-test-"));
        for (const dir of ["var/lib/etcd", "run/metadata", "etc/systemd/system", "etc/systemd/system-preset"]) {
            fs.mkdirSync(path.join(root, dir), { recursive: true });
        }
        fs.writeFileSync(path.join(root, "run/metadata/flatcar"), "COREOS_EC2_IPV4_LOCAL=127.0.9.1\n");
        fs.writeFileSync(path.join(root, "etc/systemd/system-preset/20-ignition.preset"), `enable ${unitName}\n`);
        context = { root, address: "127.0.9.1", etcd: { path: "/usr/local/bin/etcd", version: "3.5.30", branch: "3.5" } };
    });
    afterEach(() => fs.rmSync(context.root, { recursive: true, force: true }));

    const plan = (text: string) => {
        fs.writeFileSync(unitPath(context.root, unitName), text);
        return planUnitStart(context.root, unitName, provided, context);
    };

    it("starts a docker unit that requires and is ordered after docker.service, which the docker stand-in plays", () => {
        const start = plan(unitText("/usr/bin/docker", "coreos-metadata.service docker.service", "coreos-metadata.service docker.service network-online.target"));
        expect(start).to.deep.include({ command: "/usr/local/bin/etcd", image });
    });

    it("refuses a docker unit not ordered on docker.service: dockerd could stop first at shutdown or an update reboot", () => {
        expect(() => plan(unitText("/usr/bin/docker", "coreos-metadata.service", "coreos-metadata.service network-online.target")))
            .to.throw(/etcd-member\.service runs docker without Requires= and After=docker\.service/);
        expect(() => plan(unitText("/usr/bin/docker", "coreos-metadata.service docker.service", "coreos-metadata.service")))
            .to.throw(/without Requires= and After=docker\.service/);
    });

    it("starts a podman unit without any daemon service: podman runs containers itself", () => {
        expect(plan(unitText("/usr/bin/podman", "coreos-metadata.service", "coreos-metadata.service"))).to.deep.include({ image });
    });

    it("refuses a podman unit that requires docker.service, which no stand-in then plays", () => {
        expect(() => plan(unitText("/usr/bin/podman", "coreos-metadata.service docker.service", "coreos-metadata.service docker.service")))
            .to.throw(/Requires=docker\.service, which the local harness does not provide/);
    });

    it("still refuses a required unit nothing stands in for", () => {
        expect(() => plan(unitText("/usr/bin/docker", "coreos-metadata.service docker.service cloud-magic.service", "coreos-metadata.service docker.service")))
            .to.throw(/Requires=cloud-magic\.service/);
    });
});
