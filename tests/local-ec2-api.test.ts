/**
 * The EC2 API stand-in (local/ec2-api.ts) as the member departure's real AWS
 * SDK client sees it: the answers the SDK reads, and each refusal AWS would
 * make, surfaced by the SDK as the error's name.
 */
import {
    CreateTagsCommand, DescribeInstancesCommand, EC2Client, StartInstancesCommand, StopInstancesCommand,
} from "@aws-sdk/client-ec2";
import { expect } from "chai";
import { Ec2ApiStandIn, Ec2Instance, Ec2InstancesModel, Ec2InstanceState, startEc2Api } from "../local/ec2-api";

const running = "i-0123456789abcdef0";
const stopped = "i-0123456789abcdef1";
const unknown = "i-0fffffffffffffff0";
const leaveKey = "etcd3-cluster:leave";

/** A test's instances, and every start asked of them. */
class InstanceTable implements Ec2InstancesModel {
    readonly instances = new Map<string, Ec2Instance>();
    readonly started: string[] = [];

    set(id: string, state: Ec2InstanceState, metadataTags = true, tags: Record<string, string> = {}): void {
        this.instances.set(id, { state, tags, metadataTags });
    }

    async describe(id: string): Promise<Ec2Instance | undefined> {
        const instance = this.instances.get(id);
        return instance && { ...instance, tags: { ...instance.tags } };
    }

    async createTags(id: string, tags: Record<string, string>): Promise<boolean> {
        const instance = this.instances.get(id);
        if (instance) {
            Object.assign(instance.tags, tags);
        }
        return instance !== undefined;
    }

    async start(id: string): Promise<boolean> {
        const instance = this.instances.get(id);
        if (instance) {
            this.started.push(id);
            instance.state = "pending";
        }
        return instance !== undefined;
    }
}

/** The error a call failed with; fails the test if it succeeded. */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
    const outcome = await promise.then(() => undefined, (error: Error) => error);
    expect(outcome, "the call succeeded").to.be.instanceOf(Error);
    return outcome!;
}

describe("local harness: the EC2 API stand-in", () => {
    let api: Ec2ApiStandIn;
    let client: EC2Client;
    let table: InstanceTable;

    beforeEach(async () => {
        table = new InstanceTable();
        table.set(running, "running", true, { Name: "etcd3-cluster-0" });
        table.set(stopped, "stopped");
        api = await startEc2Api(table);
        client = new EC2Client({ region: "us-east-1", endpoint: api.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    });
    afterEach(async () => {
        client?.destroy();
        await api?.stop();
    });

    const describeOne = async (id: string) => (await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0];
    const tag = (id: string, key: string, value = "etcd3-cluster-0") => client.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: key, Value: value }] }));

    describe("DescribeInstances", () => {
        it("describes an instance's state, tags and metadata tags option as the SDK reads them", async () => {
            const instance = await describeOne(running);
            expect(instance).to.deep.include({
                InstanceId: running,
                State: { Code: 16, Name: "running" },
                Tags: [{ Key: "Name", Value: "etcd3-cluster-0" }],
                MetadataOptions: { InstanceMetadataTags: "enabled" },
            });
        });

        it("leaves the tags out of an instance without any, as EC2 does", async () => {
            expect((await describeOne(stopped))?.Tags).to.equal(undefined);
        });

        it("gives each instance state its EC2 code", async () => {
            const codes: [Ec2InstanceState, number][] = [
                ["pending", 0], ["running", 16], ["shutting-down", 32], ["terminated", 48], ["stopping", 64], ["stopped", 80],
            ];
            for (const [state, code] of codes) {
                table.set(running, state);
                expect((await describeOne(running))?.State).to.deep.equal({ Code: code, Name: state });
            }
        });

        it("refuses the whole call when one instance is unknown: InvalidInstanceID.NotFound", async () => {
            const error = await failureOf(client.send(new DescribeInstancesCommand({ InstanceIds: [running, unknown] })));
            expect(error.name).to.equal("InvalidInstanceID.NotFound");
            expect(error.message).to.equal(`The instance ID '${unknown}' does not exist`);
        });

        it("refuses an id that is not an instance id: InvalidInstanceID.Malformed", async () => {
            const error = await failureOf(client.send(new DescribeInstancesCommand({ InstanceIds: ["i-1"] })));
            expect(error.name).to.equal("InvalidInstanceID.Malformed");
        });

        it("refuses a call without instance ids by name, since it lists no instances", async () => {
            const error = await failureOf(client.send(new DescribeInstancesCommand({})));
            expect(error.name).to.equal("UnknownParameter");
            expect(error.message).to.include("plays DescribeInstances only with InstanceId.N");
        });
    });

    describe("CreateTags", () => {
        it("tags an instance whose tags are in its metadata with the leave tag, and the next DescribeInstances shows it", async () => {
            await tag(running, leaveKey);
            expect((await describeOne(running))?.Tags).to.deep.include({ Key: leaveKey, Value: "etcd3-cluster-0" });
            expect(api.calls.at(-2)).to.deep.equal({ action: "CreateTags", instanceIds: [running], tags: { [leaveKey]: "etcd3-cluster-0" } });
        });

        it("refuses to tag an unknown instance, and tags none of the others in the call", async () => {
            const error = await failureOf(client.send(new CreateTagsCommand({ Resources: [running, unknown], Tags: [{ Key: leaveKey, Value: "x" }] })));
            expect(error.name).to.equal("InvalidInstanceID.NotFound");
            expect(table.instances.get(running)!.tags).to.not.have.property(leaveKey);
        });

        it("refuses, on an instance whose tags are in its metadata, a key with a space or a slash, or one that is '.', '..' or '_index'", async () => {
            for (const key of ["Patch Group", "etcd3-cluster/leave", ".", "..", "_index"]) {
                const error = await failureOf(tag(running, key));
                expect(error.name, key).to.equal("InvalidParameterValue");
                expect(error.message).to.equal(`'${key}' is not a valid tag key. Tag keys must match pattern ([0-9a-zA-Z\\-_+=,.@:]{1,255}), ` +
                    "and must not be a reserved name ('.', '..', '_index')");
            }
            expect(Object.keys(table.instances.get(running)!.tags)).to.deep.equal(["Name"]);
        });

        it("accepts those keys on an instance whose tags are not in its metadata", async () => {
            table.set(running, "running", false);
            for (const key of ["Patch Group", "etcd3-cluster/leave", ".", "..", "_index"]) {
                await tag(running, key);
            }
            expect(Object.keys(table.instances.get(running)!.tags)).to.have.length(5);
        });

        it("refuses a key starting with aws:, which AWS keeps for itself", async () => {
            const error = await failureOf(tag(running, "AWS:leave"));
            expect(error.name).to.equal("InvalidParameterValue");
        });

        it("refuses a tag beyond the 50 an instance may have", async () => {
            table.set(running, "running", true, Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`key${i}`, ""])));
            await tag(running, "key0", "replaced");
            const error = await failureOf(tag(running, "key50"));
            expect(error.name).to.equal("TagLimitExceeded");
        });
    });

    describe("StartInstances", () => {
        it("starts a stopped instance, answering its current and previous states", async () => {
            const answer = await client.send(new StartInstancesCommand({ InstanceIds: [stopped] }));
            expect(answer.StartingInstances).to.deep.equal([{
                InstanceId: stopped, CurrentState: { Code: 0, Name: "pending" }, PreviousState: { Code: 80, Name: "stopped" },
            }]);
            expect(table.started).to.deep.equal([stopped]);
        });

        it("leaves a running instance running, and says so", async () => {
            const answer = await client.send(new StartInstancesCommand({ InstanceIds: [running] }));
            expect(answer.StartingInstances?.[0]).to.deep.include({ CurrentState: { Code: 16, Name: "running" }, PreviousState: { Code: 16, Name: "running" } });
            expect(table.started).to.deep.equal([]);
        });

        it("refuses to start an instance that is stopping or gone: IncorrectInstanceState", async () => {
            for (const state of ["stopping", "shutting-down", "terminated"] as const) {
                table.set(stopped, state);
                const error = await failureOf(client.send(new StartInstancesCommand({ InstanceIds: [stopped] })));
                expect(error.name, state).to.equal("IncorrectInstanceState");
            }
            expect(table.started).to.deep.equal([]);
        });

        it("refuses an unknown instance and starts none of the others in the call", async () => {
            const error = await failureOf(client.send(new StartInstancesCommand({ InstanceIds: [stopped, unknown] })));
            expect(error.name).to.equal("InvalidInstanceID.NotFound");
            expect(table.started).to.deep.equal([]);
        });
    });

    describe("what it refuses as AWS would", () => {
        /** A raw POST, signed or not. */
        const post = (body: string, signed: boolean) => fetch(api.endpoint, {
            method: "POST",
            headers: {
                "content-type": "application/x-www-form-urlencoded",
                ...(signed ? { authorization: "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0" } : {}),
            },
            body,
            signal: AbortSignal.timeout(10_000),
        });

        it("refuses an unsigned request", async () => {
            const response = await post(`Action=DescribeInstances&Version=2016-11-15&InstanceId.1=${running}`, false);
            expect(response.status).to.equal(403);
            expect(await response.text()).to.include("<Code>MissingAuthenticationToken</Code>");
        });

        it("refuses an action it does not play, by name", async () => {
            const error = await failureOf(client.send(new StopInstancesCommand({ InstanceIds: [running] })));
            expect(error.name).to.equal("InvalidAction");
            expect(error.message).to.equal("the local EC2 API stand-in does not play StopInstances (it plays DescribeInstances, CreateTags, StartInstances)");
        });

        it("refuses a parameter it does not play, by name", async () => {
            const error = await failureOf(client.send(new DescribeInstancesCommand({ InstanceIds: [running], DryRun: true })));
            expect(error.name).to.equal("UnknownParameter");
            expect(error.message).to.include("The parameter DryRun is not played");
        });

        it("refuses another API version, whose answers it does not speak", async () => {
            const response = await post(`Action=DescribeInstances&Version=2014-10-01&InstanceId.1=${running}`, true);
            expect(response.status).to.equal(400);
            expect(await response.text()).to.include("<Code>NoSuchVersion</Code>");
        });
    });
});
