import { expect } from "chai";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { installMocks, resourcesOf, settle, valueOf } from "./support/pulumi-mocks";

installMocks();
import { argumentDefaults, argsFromConfig, ConfigReader, outputNames, resolveArgs } from "../lib";

const root = path.join(__dirname, "..");
/** As `pulumi config set --secret rootPassword` would give it to the program. */
const rootPassword = "correct horse battery staple";
const project = yaml.load(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
    name: string; main: string; config: Record<string, { type: string; default: unknown; description: string }>;
};

describe("the Pulumi program (index.ts with stack config)", () => {
    it("declares every config key with a type, a default and a description", () => {
        for (const [key, declaration] of Object.entries(project.config)) {
            expect(declaration, key).to.have.all.keys("type", "default", "description");
        }
    });

    it("declares the same defaults as the component", () => {
        for (const [key, declaration] of Object.entries(project.config)) {
            const componentDefault = (argumentDefaults as Record<string, unknown>)[key];
            expect(declaration.default, key).to.deep.equal(componentDefault);
        }
    });

    describe("Pulumi.yaml's defaults, which the CLI hands the program as if the stack had set them", () => {
        const defaults = Object.fromEntries(Object.entries(project.config).map(([key, declaration]) => [key, declaration.default]));
        /** A config holding `values`, read as pulumi.Config reads what the CLI gives it. */
        const configOf = (values: Record<string, unknown>): ConfigReader => ({
            get: (key) => (values[key] === undefined ? undefined : String(values[key])),
            getNumber: (key) => values[key] as number | undefined,
            getBoolean: (key) => values[key] as boolean | undefined,
            getObject: <T>(key: string) => values[key] as T | undefined,
            getSecret: (key) => (values[key] === undefined ? undefined : pulumi.secret(String(values[key]))),
        });
        const cases: Array<[string, Record<string, unknown>]> = [
            ["alone", {}],
            ["with bootstrap static", { bootstrap: "static" }],
            ["with backups", { backups: true }],
            ["with peerTls", { peerTls: true }],
            ["with rootPassword", { rootPassword }],
            ["with everything switched off that can be", { alarms: false, dailyDefragmentation: false, retainDataVolumes: false, discoveryLogFile: false }],
        ];
        for (const [label, values] of cases) {
            it(`are taken ${label}`, () => {
                expect(() => resolveArgs("etcd3", argsFromConfig(configOf({ ...defaults, ...values })))).to.not.throw();
            });
        }
    });

    it("points Pulumi at index.ts rather than the library in package.json's main", () => {
        expect(project.main).to.equal("index.ts");
        expect(fs.existsSync(path.join(root, project.main))).to.equal(true);
    });

    describe("run with stack config", () => {
        let program: Record<string, pulumi.Output<unknown>>;
        before(async () => {
            pulumi.runtime.setConfig(`${project.name}:clusterSize`, "5");
            pulumi.runtime.setConfig(`${project.name}:allowedCidrs`, JSON.stringify(["10.99.0.0/16", "192.0.2.0/24"]));
            pulumi.runtime.setConfig(`${project.name}:discoveryLogFile`, "false");
            pulumi.runtime.setConfig(`${project.name}:rootPassword`, rootPassword);
            program = require("../index");
            await settle();
        });

        it("builds as many members as clusterSize says", () => {
            expect(resourcesOf("etcd3", "aws:ec2/instance:Instance")).to.have.length(5);
        });

        it("exports the cluster URL and the discovery URL", async () => {
            expect(await valueOf(program.etcd3ClusterUrl)).to.match(/^http:\/\/etcd3-alb-\d+\.eu-west-2\.elb\.amazonaws\.com$/);
            expect(await valueOf(program.etcd3DiscoveryUrl)).to.match(/^https:\/\/discovery\.etcd\.io\/[0-9a-f]{32}$/);
        });

        it("exports every output of the component, and nothing else", () => {
            expect(Object.keys(program)).to.have.members(outputNames);
        });

        it("lets the configured allowedCidrs reach the load balancer", () => {
            const toAlb = resourcesOf("etcd3", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                .filter((rule) => rule.inputs.fromPort === 80).map((rule) => rule.inputs.cidrIpv4);
            expect(toAlb).to.have.members(["10.99.0.0/16", "192.0.2.0/24"]);
        });

        it("reads rootPassword as a secret: it reaches its object in the secrets bucket as one, and no other resource", () => {
            const holding = resourcesOf("etcd3").filter((resource) => JSON.stringify(resource.inputs).includes(rootPassword));
            expect(holding.map((resource) => [resource.name, resource.inputs.content])).to.deep.equal([
                ["etcd3-root-password", { [specialSigKey]: specialSecretSig, value: rootPassword }],
            ]);
        });

        it("turns the discovery log off with discoveryLogFile false", () => {
            const [discovery] = resourcesOf("etcd3", "pulumi-nodejs:dynamic/etcd3-cluster:DiscoveryUrl");
            expect(discovery.inputs).to.include({ size: 5 });
            expect(discovery.inputs.logFile).to.equal(undefined);
        });
    });
});
