/**
 * Runs lib/testing.ts (`etcd3-cluster/testing`) the way a consumer's test does,
 * in a process of its own, since Pulumi's mocks are one per process. Started by
 * tests/testing.test.ts with the scenario's name; prints one JSON object.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { outputValue, setEtcd3ClusterMocks } from "../../lib/testing";

type Result = Record<string, unknown>;

async function failure(work: () => Promise<unknown>): Promise<string> {
    try {
        await work();
        return "no error";
    } catch (error) {
        return (error as Error).message;
    }
}

const scenarios: Record<string, () => Promise<Result>> = {
    /** The component with the defaults, plus a program's own resources and functions answered by the user's mocks. */
    async delegation() {
        const mocks = setEtcd3ClusterMocks({
            project: "consumer",
            config: { clusterSize: 5, "aws:region": "us-west-2" },
            mocks: {
                newResource: (args) => args.type === "aws:s3/bucket:Bucket"
                    ? { id: "my-bucket", state: { ...args.inputs, arn: "arn:aws:s3:::my-bucket" } }
                    : undefined,
                call: (args) => args.token === "aws:ec2/getSubnets:getSubnets" ? { ids: ["subnet-1", "subnet-2"] } : undefined,
            },
        });
        const { Etcd3Cluster } = await import("../../lib");
        const program = await mocks.run(() => {
            const config = new pulumi.Config();
            const cluster = new Etcd3Cluster("etcd3", { clusterSize: config.getNumber("clusterSize"), discoveryLogFile: false });
            const bucket = new aws.s3.Bucket("backups", {});
            const topic = new aws.sns.Topic("alarms", { name: "alarms" });
            const subnets = aws.ec2.getSubnetsOutput({ filters: [{ name: "vpc-id", values: ["vpc-1"] }] });
            return { url: cluster.etcd3ClusterUrl, members: cluster.memberNames, bucketArn: bucket.arn, topicName: topic.name, subnets: subnets.ids };
        });
        return {
            url: await outputValue(program.url),
            members: await outputValue(program.members),
            bucketArn: await outputValue(program.bucketArn),
            topicName: await outputValue(program.topicName),
            subnets: await outputValue(program.subnets),
            instances: mocks.resourcesOf("aws:ec2/instance:Instance").length,
        };
    },
    /** What is missing fails with a message: an unanswered function, an error in an apply, a second SDK. */
    async failures() {
        const mocks = setEtcd3ClusterMocks({ project: "consumer" });
        const unansweredCall = await failure(() => mocks.run(() => {
            const subnets = aws.ec2.getSubnetsOutput({ filters: [{ name: "vpc-id", values: ["vpc-1"] }] });
            return new aws.ec2.Instance("with-subnet", { ami: "ami-1", instanceType: "t3.micro", subnetId: subnets.ids[0] });
        }));
        const started = Date.now();
        const failingApply = await failure(() => mocks.run(() => {
            const name = pulumi.output("x").apply((): string => { throw new Error("the program's own bug"); });
            return new aws.sns.Topic("broken", { name });
        }, 30_000));
        const failingApplyMs = Date.now() - started;
        // A second copy of the SDK, as a nested install would load it.
        const second = "/elsewhere/node_modules/@pulumi/pulumi/index.js";
        require.cache[second] = require.cache[require.resolve("@pulumi/pulumi")];
        const secondSdk = await failure(() => mocks.settle());
        delete require.cache[second];
        return { unansweredCall, failingApply, failingApplyMs, secondSdk };
    },
    /** In a preview an output the provider computes is unknown: outputValue says so instead of waiting forever. */
    async preview() {
        const mocks = setEtcd3ClusterMocks({ project: "consumer", preview: true });
        const instance = await mocks.run(() => new aws.ec2.Instance("previewed", { ami: "ami-1", instanceType: "t3.micro" }));
        return {
            unknown: await failure(() => outputValue(instance.publicIp)),
            known: await outputValue(instance.instanceType),
        };
    },
    /** Without `preview`, as `pulumi up`: an output the provider computes and the mocks leave out of the state is known, and empty. */
    async update() {
        const mocks = setEtcd3ClusterMocks({ project: "consumer" });
        const instance = await mocks.run(() => new aws.ec2.Instance("created", { ami: "ami-1", instanceType: "t3.micro" }));
        return { publicIp: (await outputValue(instance.publicIp)) ?? null };
    },
    /** The timers outputValue leaves behind once its value has settled: none, so a test process can end. */
    async timers() {
        const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;
        const before = timers();
        const value = await outputValue(pulumi.output("settled"), 60_000);
        return { value, leftBehind: timers() - before };
    },
    /** No project given: the name in the working directory's Pulumi.yaml or Pulumi.yml, else `project`; the stack `test`; config under it. */
    async project() {
        setEtcd3ClusterMocks({ config: { clusterSize: 5 } });
        return { project: pulumi.getProject(), stack: pulumi.getStack(), clusterSize: new pulumi.Config().get("clusterSize") ?? null };
    },
};

const name = process.argv[2];
scenarios[name]().then(
    (result) => { process.stdout.write(`${JSON.stringify(result)}\n`); process.exit(0); },
    (error) => { process.stderr.write(`${(error as Error).stack}\n`); process.exit(1); },
);
