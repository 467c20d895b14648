/**
 * `etcd3-cluster/testing` (lib/testing.ts) as a consumer's test uses it. The
 * rest of this suite builds on the same mocks (tests/support/pulumi-mocks.ts);
 * these scenarios need mocks of their own, so each runs in its own process
 * (tests/support/testing-scenarios.ts).
 */
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";

const root = path.join(__dirname, "..");

async function scenario(name: string, cwd = root): Promise<any> {
    const { stdout } = await promisify(execFile)(process.execPath,
        ["-r", require.resolve("ts-node/register/transpile-only"), path.join(__dirname, "support", "testing-scenarios.ts"), name],
        { cwd, timeout: 60_000, env: { ...process.env, TS_NODE_PROJECT: path.join(root, "tsconfig.json") } });
    return JSON.parse(stdout.trim().split("\n").pop()!);
}

describe("etcd3-cluster/testing", function () {
    this.timeout(60_000);

    describe("with the user's own mocks for the rest of the program", () => {
        let result: any;
        before(async () => {
            result = await scenario("delegation");
        });

        it("builds the cluster from stack config, in the configured region", () => {
            expect(result.instances).to.equal(5);
            expect(result.members).to.have.length(5);
            expect(result.url).to.equal("http://etcd3-alb-1234567890.us-west-2.elb.amazonaws.com");
        });

        it("asks the user's mocks about the types and functions it does not know", () => {
            expect(result.bucketArn).to.equal("arn:aws:s3:::my-bucket");
            expect(result.subnets).to.deep.equal(["subnet-1", "subnet-2"]);
        });

        it("answers a type nobody knows with its inputs", () => {
            expect(result.topicName).to.equal("alarms");
        });
    });

    describe("fails with a message instead of hanging", () => {
        let result: any;
        before(async () => {
            result = await scenario("failures");
        });

        it("when no mock answers a function, naming it and where to answer it", () => {
            expect(result.unansweredCall).to.contain("no mock answers the function aws:ec2/getSubnets:getSubnets");
            expect(result.unansweredCall).to.contain("setEtcd3ClusterMocks({ mocks: { call:");
        });

        it("when the program fails in an apply, at once, with the program's error", () => {
            expect(result.failingApply).to.contain("the program's own bug");
            expect(result.failingApplyMs).to.be.below(5_000);
        });

        it("when a second copy of @pulumi/pulumi is loaded, naming both with their versions and what to do", () => {
            const ours = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
            expect(result.secondSdk).to.equal("etcd3-cluster/testing: two copies of @pulumi/pulumi are in use:\n" +
                `  - ${ours} (${JSON.parse(fs.readFileSync(path.join(ours, "package.json"), "utf8")).version})\n` +
                "  - /elsewhere/node_modules/@pulumi/pulumi (unknown version)\n" +
                "Mocks set on one copy do not reach resources registered through the other, and the test would hang or crash. " +
                "etcd3-cluster takes @pulumi/pulumi, @pulumi/aws and @pulumi/awsx as peer dependencies: install versions in its " +
                "peer ranges in your project (`npm ls @pulumi/pulumi` shows where the second copy comes from).");
        });
    });

    describe("names the project after the working directory's Pulumi.yaml when none is given", () => {
        it("from Pulumi.yaml, with the stack test and the config under the project", async () => {
            expect(await scenario("project")).to.deep.equal({ project: "etcd3-cluster", stack: "test", clusterSize: "5" });
        });

        it("from a quoted name in Pulumi.yml", async () => {
            const directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-testing-"));
            try {
                fs.writeFileSync(path.join(directory, "Pulumi.yml"), "runtime: nodejs\nname: 'consumer-app' # the app\n");
                expect(await scenario("project", directory)).to.deep.equal({ project: "consumer-app", stack: "test", clusterSize: "5" });
            } finally {
                fs.rmSync(directory, { recursive: true, force: true });
            }
        });

        it("from the top-level name alone, however many spaces follow its colon", async () => {
            const directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-testing-"));
            try {
                fs.writeFileSync(path.join(directory, "Pulumi.yaml"), "runtime:\n  name: nodejs\nname:   consumer-app\n");
                expect(await scenario("project", directory)).to.deep.equal({ project: "consumer-app", stack: "test", clusterSize: "5" });
            } finally {
                fs.rmSync(directory, { recursive: true, force: true });
            }
        });

        it("from Pulumi.yml when Pulumi.yaml names no project", async () => {
            const directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-testing-"));
            try {
                fs.writeFileSync(path.join(directory, "Pulumi.yaml"), "runtime: nodejs\n");
                fs.writeFileSync(path.join(directory, "Pulumi.yml"), "name: consumer-app\n");
                expect(await scenario("project", directory)).to.deep.equal({ project: "consumer-app", stack: "test", clusterSize: "5" });
            } finally {
                fs.rmSync(directory, { recursive: true, force: true });
            }
        });

        it("as project where there is neither", async () => {
            const directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-testing-"));
            try {
                expect(await scenario("project", directory)).to.deep.equal({ project: "project", stack: "test", clusterSize: "5" });
            } finally {
                fs.rmSync(directory, { recursive: true, force: true });
            }
        });
    });

    it("refuses, before setting any mock, a working directory whose program would load another @pulumi/pulumi, naming both", async () => {
        const directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-testing-"));
        try {
            const programs = path.join(directory, "node_modules", "@pulumi", "pulumi");
            fs.mkdirSync(programs, { recursive: true });
            fs.writeFileSync(path.join(programs, "package.json"), JSON.stringify({ name: "@pulumi/pulumi", version: "3.0.0" }));
            const failure = await scenario("project", directory).then(() => "the scenario ran", (error: { stderr?: string }) => error.stderr ?? "");
            const ours = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
            const version = JSON.parse(fs.readFileSync(path.join(ours, "package.json"), "utf8")).version;
            expect(failure.split("\n    at ")[0]).to.equal("Error: etcd3-cluster/testing: two copies of @pulumi/pulumi are in use:\n" +
                `  - ${fs.realpathSync(ours)} (${version})\n  - ${fs.realpathSync(programs)} (3.0.0)\n` +
                "Mocks set on one copy do not reach resources registered through the other, and the test would hang or crash. " +
                "etcd3-cluster takes @pulumi/pulumi, @pulumi/aws and @pulumi/awsx as peer dependencies: install versions in its " +
                "peer ranges in your project (`npm ls @pulumi/pulumi` shows where the second copy comes from).");
        } finally {
            fs.rmSync(directory, { recursive: true, force: true });
        }
    });

    it("runs as `pulumi up` unless told it is a preview: an output the mocks leave out is known and empty", async () => {
        expect(await scenario("update")).to.deep.equal({ publicIp: null });
    });

    it("leaves no timer behind once an output has settled, so the test process can end", async () => {
        expect(await scenario("timers")).to.deep.equal({ value: "settled", leftBehind: 0 });
    });

    it("says an output is unknown in a preview instead of waiting for it", async () => {
        const result = await scenario("preview");
        expect(result.unknown).to.contain("the output's value is unknown");
        expect(result.known).to.equal("t3.micro");
    });
});
