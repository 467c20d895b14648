/**
 * A stand-in for the Elastic Load Balancing v2 API on loopback: the two calls
 * the member health gate makes (DescribeTargetHealth, DeregisterTargets),
 * spoken in the API's own Query protocol, so the gate's real AWS SDK client
 * talks to it as it talks to AWS. What the target groups hold comes from a
 * model (the local cluster's haproxy, or a test's table).
 *
 * It is never kinder than AWS: an unsigned request is refused, an unknown
 * target group is `TargetGroupNotFound`, and an action it does not play is
 * refused by name rather than answered.
 */
import * as crypto from "crypto";
import * as http from "http";
import { listenOnLoopback, QueryApiReply, queryApiListener } from "./loopback-server";

/** A target's health as DescribeTargetHealth reports it. */
export interface ElbTargetHealth {
    id: string;
    port: number;
    /** `initial`, `healthy`, `unhealthy`, `unused`, `draining`, `unavailable`. */
    state: string;
    reason?: string;
}

/** What the target groups hold. */
export interface ElbTargetGroupsModel {
    /** The registered targets of a group, or undefined if there is no such group. */
    describe(targetGroupArn: string): Promise<ElbTargetHealth[] | undefined>;
    /** Starts deregistering a target (it drains, then leaves); false if there is no such group. */
    deregister(targetGroupArn: string, targetId: string): Promise<boolean>;
}

/** One request the stand-in answered, for tests that count calls. */
export interface ElbApiCall {
    action: string;
    targetGroupArn?: string;
    targetIds: string[];
}

export interface ElbApiStandIn {
    /** `http://127.0.0.1:<port>`: the endpoint to give the SDK client. */
    endpoint: string;
    calls: ElbApiCall[];
    stop(): Promise<void>;
}

const namespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function answer(action: string, result: string): string {
    return `<${action}Response xmlns="${namespace}"><${action}Result>${result}</${action}Result>` +
        `<ResponseMetadata><RequestId>${crypto.randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

/** A refusal as the API sends it: the status, with the API's error document. */
function errorAnswer(status: number, code: string, message: string): QueryApiReply {
    const body = `<ErrorResponse xmlns="${namespace}"><Error><Type>Sender</Type><Code>${code}</Code>` +
        `<Message>${escapeXml(message)}</Message></Error><RequestId>${crypto.randomUUID()}</RequestId></ErrorResponse>`;
    return { status, body };
}

/** The `Targets.member.N.Id` values of a request, in order. */
function targetIdsOf(form: URLSearchParams): string[] {
    return [...form.keys()].filter((key) => /^Targets\.member\.\d+\.Id$/.test(key))
        .sort((a, b) => Number(a.split(".")[2]) - Number(b.split(".")[2])).map((key) => form.get(key)!);
}

function describeResult(targets: ElbTargetHealth[]): string {
    const members = targets.map((target) => "<member>" +
        `<Target><Id>${escapeXml(target.id)}</Id><Port>${target.port}</Port></Target><HealthCheckPort>${target.port}</HealthCheckPort>` +
        `<TargetHealth><State>${target.state}</State>${target.reason ? `<Reason>${escapeXml(target.reason)}</Reason>` : ""}</TargetHealth>` +
        "</member>").join("");
    return `<TargetHealthDescriptions>${members}</TargetHealthDescriptions>`;
}

/** Answers one signed form-encoded request. */
async function handle(model: ElbTargetGroupsModel, form: URLSearchParams, calls: ElbApiCall[]): Promise<QueryApiReply> {
    const action = form.get("Action") ?? "";
    const targetGroupArn = form.get("TargetGroupArn") ?? undefined;
    const targetIds = targetIdsOf(form);
    calls.push({ action, targetGroupArn, targetIds });
    const notFound = () => errorAnswer(400, "TargetGroupNotFound", `One or more target groups not found: ${targetGroupArn}`);
    if (action === "DescribeTargetHealth" && targetGroupArn) {
        const targets = await model.describe(targetGroupArn);
        if (!targets) {
            return notFound();
        }
        // Asked about named targets, the API answers for each, `unused` for one not registered.
        const picked = targetIds.length === 0 ? targets : targetIds.map((id) => targets.find((t) => t.id === id) ??
            { id, port: 0, state: "unused", reason: "Target.NotRegistered" });
        return { status: 200, body: answer(action, describeResult(picked)) };
    }
    if (action === "DeregisterTargets" && targetGroupArn && targetIds.length > 0) {
        for (const id of targetIds) {
            if (!(await model.deregister(targetGroupArn, id))) {
                return notFound();
            }
        }
        return { status: 200, body: answer(action, "") };
    }
    return errorAnswer(400, "InvalidAction", `the local ELB API stand-in does not play ${action || "a request without Action"} ` +
        "(it plays DescribeTargetHealth and DeregisterTargets with a TargetGroupArn)");
}

/** Starts the stand-in on 127.0.0.1 (a free port unless given). */
export async function startElbApi(model: ElbTargetGroupsModel, port = 0): Promise<ElbApiStandIn> {
    const calls: ElbApiCall[] = [];
    const server = await listenOnLoopback(http.createServer(queryApiListener({
        contentType: "text/xml",
        unsigned: () => errorAnswer(403, "MissingAuthenticationToken", "Request is missing Authentication Token"),
        answer: (form) => handle(model, form, calls),
        failure: (error) => errorAnswer(500, "InternalFailure", error.message),
    })), port);
    return { endpoint: server.url, calls, stop: server.stop };
}
