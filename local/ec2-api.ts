/**
 * A stand-in for the EC2 API on loopback: the three calls a member's departure
 * makes (DescribeInstances, CreateTags, StartInstances), spoken in EC2's own
 * Query protocol (API version 2016-11-15), so the departure's real AWS SDK
 * client talks to it as it talks to AWS. What the instances are comes from a
 * model (the local cluster's nodes, or a test's table).
 *
 * It is never kinder than AWS: an unsigned request is refused; an instance id
 * that is not one is malformed, an unknown one `InvalidInstanceID.NotFound`,
 * for the whole call; a tag EC2 would refuse is refused, with the stricter
 * keys of an instance whose tags are in its instance metadata; a start of an
 * instance that is stopping or gone is `IncorrectInstanceState`; and an
 * action, version or parameter it does not play is refused by name rather
 * than answered.
 */
import * as crypto from "crypto";
import * as http from "http";
import { listenOnLoopback, QueryApiReply, queryApiListener } from "./loopback-server";

/** An instance's state, as EC2 names it. */
export type Ec2InstanceState = "pending" | "running" | "stopping" | "stopped" | "shutting-down" | "terminated";

/** What EC2 says about an instance, as far as the stand-in plays it. */
export interface Ec2Instance {
    state: Ec2InstanceState;
    tags: Record<string, string>;
    /**
     * The instance's `MetadataOptions.InstanceMetadataTags` is `enabled`: its
     * tags are in its instance metadata, and EC2 then refuses a tag key the
     * metadata service could not serve as a path.
     */
    metadataTags: boolean;
}

/** What the instances are. */
export interface Ec2InstancesModel {
    /** The instance, or undefined if EC2 does not know it. */
    describe(instanceId: string): Promise<Ec2Instance | undefined>;
    /** Adds the tags, a tag of the same key replaced; false if there is no such instance. */
    createTags(instanceId: string, tags: Record<string, string>): Promise<boolean>;
    /** Starts a stopped instance (only ever asked for one); false if there is no such instance. */
    start(instanceId: string): Promise<boolean>;
}

/** One request the stand-in answered, for tests that count calls. */
export interface Ec2ApiCall {
    action: string;
    instanceIds: string[];
    /** The tags of a CreateTags. */
    tags?: Record<string, string>;
}

export interface Ec2ApiStandIn {
    /** `http://127.0.0.1:<port>`: the endpoint to give the SDK client. */
    endpoint: string;
    calls: Ec2ApiCall[];
    stop(): Promise<void>;
}

const version = "2016-11-15";
const namespace = `http://ec2.amazonaws.com/doc/${version}/`;
const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** EC2's state codes (InstanceState.Code's low byte). */
const stateCodes: Readonly<Record<Ec2InstanceState, number>> = {
    "pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
};

/** The parameters each played action takes besides Action and Version; N stands for a list index. */
const playedParameters: Readonly<Record<string, readonly string[]>> = {
    DescribeInstances: ["InstanceId.N"],
    CreateTags: ["ResourceId.N", "Tag.N.Key", "Tag.N.Value"],
    StartInstances: ["InstanceId.N"],
};

/** EC2's tag limits (the EC2 User Guide's tag restrictions). */
const tagLimits = { perResource: 50, keyLength: 128, valueLength: 256 };
/**
 * With tags in instance metadata, a key must be usable as a metadata path: EC2's
 * own refusal gives this pattern and these reserved names.
 */
const metadataTagKey = /^[0-9a-zA-Z\-_+=,.@:]{1,255}$/;
const reservedMetadataTagKeys = [".", "..", "_index"];

/** A refusal as EC2 words it: an error code, and the message. */
class Ec2Error extends Error {
    constructor(readonly code: string, message: string, readonly status = 400) {
        super(message);
    }
}

function answer(action: string, result: string): string {
    return `<${action}Response xmlns="${namespace}"><requestId>${crypto.randomUUID()}</requestId>${result}</${action}Response>`;
}

/** A refusal as EC2 sends it: the refusal's status, with EC2's error document. */
function errorAnswer(error: Ec2Error): QueryApiReply {
    const body = `<Response><Errors><Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message></Error></Errors>` +
        `<RequestID>${crypto.randomUUID()}</RequestID></Response>`;
    return { status: error.status, body };
}

/** The values of `prefix.N` (or `prefix.N.suffix`), by N in order. */
function listOf(form: URLSearchParams, prefix: string, suffix = ""): Map<number, string> {
    const pattern = new RegExp(`^${prefix}\\.(\\d+)${suffix.replace(/\./g, "\\.")}$`);
    const entries = [...form.keys()].flatMap((key) => {
        const match = pattern.exec(key);
        return match ? [[Number(match[1]), form.get(key)!] as const] : [];
    });
    return new Map(entries.sort(([a], [b]) => a - b));
}

/** Refuses a parameter the action does not play, by name. */
function checkParameters(action: string, form: URLSearchParams): void {
    const played = playedParameters[action];
    for (const key of form.keys()) {
        if (key !== "Action" && key !== "Version" && !played.includes(key.replace(/\.\d+(?=\.|$)/g, ".N"))) {
            throw new Ec2Error("UnknownParameter", `The parameter ${key} is not played by the local EC2 API stand-in's ${action} ` +
                `(it plays ${played.join(", ")})`);
        }
    }
}

const isInstanceId = (id: string) => /^i-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id);

/** The instances of a request, every one known (EC2 refuses the whole call otherwise). */
async function instancesOf(model: Ec2InstancesModel, ids: string[], malformed: (id: string) => Ec2Error): Promise<Map<string, Ec2Instance>> {
    const bad = ids.find((id) => !isInstanceId(id));
    if (bad !== undefined) {
        throw malformed(bad);
    }
    const instances = new Map<string, Ec2Instance>();
    const unknown: string[] = [];
    for (const id of ids) {
        const instance = await model.describe(id);
        if (instance) {
            instances.set(id, instance);
        } else {
            unknown.push(id);
        }
    }
    if (unknown.length > 0) {
        throw notFound(unknown);
    }
    return instances;
}

function notFound(ids: string[]): Ec2Error {
    return new Ec2Error("InvalidInstanceID.NotFound", ids.length === 1
        ? `The instance ID '${ids[0]}' does not exist` : `The instance IDs '${ids.join(", ")}' do not exist`);
}

const malformedInstanceId = (id: string) => new Ec2Error("InvalidInstanceID.Malformed", `Invalid id: "${id}"`);

function stateXml(element: string, state: Ec2InstanceState): string {
    return `<${element}><code>${stateCodes[state]}</code><name>${state}</name></${element}>`;
}

/** One reservation per instance: the stand-in does not play launches, so nothing groups them. */
function describeResult(instances: Map<string, Ec2Instance>): string {
    const reservations = [...instances].map(([id, instance]) => {
        const tags = Object.entries(instance.tags)
            .map(([key, value]) => `<item><key>${escapeXml(key)}</key><value>${escapeXml(value)}</value></item>`).join("");
        return `<item><reservationId>r-${id.slice(2)}</reservationId><ownerId>123456789012</ownerId><groupSet/>` +
            `<instancesSet><item><instanceId>${id}</instanceId>${stateXml("instanceState", instance.state)}` +
            // EC2 leaves the tag set out of an instance without tags.
            `${tags === "" ? "" : `<tagSet>${tags}</tagSet>`}` +
            `<metadataOptions><instanceMetadataTags>${instance.metadataTags ? "enabled" : "disabled"}</instanceMetadataTags></metadataOptions>` +
            "</item></instancesSet></item>";
    });
    return `<reservationSet>${reservations.join("")}</reservationSet>`;
}

/** Why EC2 would refuse the tags on `instance`, or undefined. */
function tagProblem(instance: Ec2Instance, tags: Record<string, string>): Ec2Error | undefined {
    for (const [key, value] of Object.entries(tags)) {
        if (key.length === 0 || key.length > tagLimits.keyLength || value.length > tagLimits.valueLength) {
            return new Ec2Error("InvalidParameterValue", `Tag '${key}': a key has 1 to ${tagLimits.keyLength} characters, ` +
                `a value at most ${tagLimits.valueLength}`);
        }
        if (key.toLowerCase().startsWith("aws:")) {
            return new Ec2Error("InvalidParameterValue", `Value ( ${key} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use`);
        }
        if (instance.metadataTags && (!metadataTagKey.test(key) || reservedMetadataTagKeys.includes(key))) {
            return new Ec2Error("InvalidParameterValue", `'${key}' is not a valid tag key. Tag keys must match pattern ` +
                "([0-9a-zA-Z\\-_+=,.@:]{1,255}), and must not be a reserved name ('.', '..', '_index')");
        }
    }
    if (new Set([...Object.keys(instance.tags), ...Object.keys(tags)]).size > tagLimits.perResource) {
        return new Ec2Error("TagLimitExceeded", `The maximum number of tags on a resource is ${tagLimits.perResource}`);
    }
    return undefined;
}

async function describeInstances(model: Ec2InstancesModel, ids: string[]): Promise<string> {
    if (ids.length === 0) {
        throw new Ec2Error("UnknownParameter", "the local EC2 API stand-in plays DescribeInstances only with InstanceId.N (it lists no instances)");
    }
    return describeResult(await instancesOf(model, ids, malformedInstanceId));
}

async function createTags(model: Ec2InstancesModel, ids: string[], tags: Record<string, string>): Promise<string> {
    if (ids.length === 0 || Object.keys(tags).length === 0) {
        throw new Ec2Error("MissingParameter", `The request must contain the parameter ${ids.length === 0 ? "ResourceId" : "Tag"}`);
    }
    const instances = await instancesOf(model, ids,
        (id) => new Ec2Error("InvalidID", `The ID '${id}' is not valid (the local EC2 API stand-in tags instances only)`));
    // Every instance is checked before any is tagged: EC2 refuses the whole call.
    for (const instance of instances.values()) {
        const problem = tagProblem(instance, tags);
        if (problem) {
            throw problem;
        }
    }
    for (const id of ids) {
        if (!(await model.createTags(id, tags))) {
            throw notFound([id]);
        }
    }
    return "<return>true</return>";
}

async function startInstances(model: Ec2InstancesModel, ids: string[]): Promise<string> {
    if (ids.length === 0) {
        throw new Ec2Error("MissingParameter", "The request must contain the parameter InstanceId");
    }
    const instances = await instancesOf(model, ids, malformedInstanceId);
    for (const [id, instance] of instances) {
        if (!["pending", "running", "stopped"].includes(instance.state)) {
            throw new Ec2Error("IncorrectInstanceState", `The instance '${id}' is not in a state from which it can be started.`);
        }
    }
    const items: string[] = [];
    for (const [id, before] of instances) {
        // A pending or running instance is left as it is, and reported so.
        if (before.state === "stopped" && !(await model.start(id))) {
            throw notFound([id]);
        }
        const after = (await model.describe(id))?.state ?? before.state;
        items.push(`<item><instanceId>${id}</instanceId>${stateXml("currentState", after)}${stateXml("previousState", before.state)}</item>`);
    }
    return `<instancesSet>${items.join("")}</instancesSet>`;
}

/** Answers one form-encoded request; throws an Ec2Error to refuse it. */
async function handle(model: Ec2InstancesModel, form: URLSearchParams, calls: Ec2ApiCall[]): Promise<string> {
    const action = form.get("Action") ?? "";
    const instanceIds = [...listOf(form, action === "CreateTags" ? "ResourceId" : "InstanceId").values()];
    const keys = listOf(form, "Tag", ".Key");
    const values = listOf(form, "Tag", ".Value");
    // A tag without a value has the empty value.
    const tags = Object.fromEntries([...keys].map(([index, key]) => [key, values.get(index) ?? ""]));
    calls.push({ action, instanceIds, ...(action === "CreateTags" ? { tags } : {}) });
    if (!playedParameters[action]) {
        throw new Ec2Error("InvalidAction", `the local EC2 API stand-in does not play ${action || "a request without Action"} ` +
            `(it plays ${Object.keys(playedParameters).join(", ")})`);
    }
    if (form.get("Version") !== version) {
        throw new Ec2Error("NoSuchVersion", `the local EC2 API stand-in speaks only Version=${version}, not ${form.get("Version") ?? "a request without Version"}`);
    }
    checkParameters(action, form);
    switch (action) {
        case "DescribeInstances":
            return answer(action, await describeInstances(model, instanceIds));
        case "CreateTags":
            return answer(action, await createTags(model, instanceIds, tags));
        default:
            return answer(action, await startInstances(model, instanceIds));
    }
}

/** Starts the stand-in on 127.0.0.1 (a free port unless given). */
export async function startEc2Api(model: Ec2InstancesModel, port = 0): Promise<Ec2ApiStandIn> {
    const calls: Ec2ApiCall[] = [];
    const server = await listenOnLoopback(http.createServer(queryApiListener({
        contentType: "text/xml;charset=UTF-8",
        unsigned: () => errorAnswer(new Ec2Error("MissingAuthenticationToken",
            "The request must contain either a valid (registered) AWS access key ID or X.509 certificate.", 403)),
        answer: async (form) => ({ status: 200, body: await handle(model, form, calls) }),
        failure: (error) => errorAnswer(error instanceof Ec2Error ? error : new Ec2Error("InternalError", error.message, 500)),
    })), port);
    return { endpoint: server.url, calls, stop: server.stop };
}
