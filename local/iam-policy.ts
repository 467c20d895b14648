/**
 * IAM as the harness's stand-ins play it: an instance role's temporary
 * credentials, which the instance metadata stand-in hands a node
 * (instance-metadata-service.ts) and the S3 stand-in checks (s3-api.ts), and
 * the evaluation of the role's identity-based policy documents, the JSON the
 * component gives `aws.iam.RolePolicy`, that decides each request.
 *
 * The evaluation is IAM's for what it plays: deny by default, an Allow
 * statement that matches allows, and a Deny statement that matches wins over
 * every Allow. A statement matches when its Action (a string or a list, with
 * `*` and `?` wildcards, case-insensitive as IAM's actions are), its Resource
 * (ARNs with `*` and `?`, case-sensitive) and each of its conditions match.
 * Conditions played: `StringEquals` and `StringLike` on `s3:prefix` (what a
 * ListBucket lists) and on `kms:ViaService` (the service that calls KMS on the
 * caller's behalf, as S3 does to decrypt an SSE-KMS object), several values
 * matching if any does, several keys and operators all having to; a key the
 * request has no value for fails its condition, as in IAM.
 *
 * Never kinder than AWS: a document IAM would refuse (no Effect, a Principal
 * in an identity-based policy) throws as `MalformedPolicyDocument`, and an
 * element, operator, condition key or policy variable this evaluator does not
 * play throws by name rather than being ignored, which could allow what IAM
 * denies.
 */
import * as crypto from "crypto";

/** An instance role's temporary credentials, as the instance metadata service hands them out. */
export interface RoleCredentials {
    /** The role's name: the last path part of `/latest/meta-data/iam/security-credentials/ROLE`. */
    roleName: string;
    /** `ASIA…`: a temporary key's prefix. */
    accessKeyId: string;
    secretAccessKey: string;
    /** Sent by the caller as `x-amz-security-token`. */
    sessionToken: string;
    /** When the credentials stop working. */
    expiration: Date;
    /** When the metadata service last refreshed them. */
    lastUpdated: Date;
}

/** A role session: its credentials and the role's policy documents, which decide what the credentials may do. */
export interface RoleSession extends RoleCredentials {
    /** The role's identity-based policy documents (JSON), as `aws.iam.RolePolicy` takes them. */
    policies: readonly string[];
    /** The session's name in the caller's ARN; an instance profile's session is named after the instance id. */
    sessionName: string;
}

/** The account the stand-ins play (the EC2 stand-in's owner id too). */
export const localAccountId = "123456789012";

/** The ARN S3 and STS name a role session's caller by. */
export function assumedRoleArn(session: Pick<RoleSession, "roleName" | "sessionName">): string {
    return `arn:aws:sts::${localAccountId}:assumed-role/${session.roleName}/${session.sessionName}`;
}

/** Characters of an access key id after its 4-letter prefix: upper-case letters and digits 2 to 7 (base32). */
const base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * New temporary credentials for `roleName`, shaped as STS's: an `ASIA` key id
 * of 20 characters, a 40-character secret, a long session token. By default
 * valid for 6 hours from now, as an instance profile's are.
 */
export function issueRoleSession(
    roleName: string, policies: readonly string[], options: { sessionName?: string; now?: Date; lifetimeMs?: number } = {},
): RoleSession {
    const now = options.now ?? new Date();
    const id = [...crypto.randomBytes(16)].map((byte) => base32[byte % 32]).join("");
    return {
        roleName,
        policies,
        sessionName: options.sessionName ?? "i-0123456789abcdef0",
        accessKeyId: `ASIA${id}`,
        secretAccessKey: crypto.randomBytes(30).toString("base64"),
        sessionToken: `IQoJb3JpZ2luX2Vj${crypto.randomBytes(300).toString("base64")}`,
        lastUpdated: now,
        expiration: new Date(now.getTime() + (options.lifetimeMs ?? 6 * 3_600_000)),
    };
}

/** One request to authorize: what it does, to what, and the values of the condition keys it carries. */
export interface AuthorizationRequest {
    /** `service:Action`, e.g. `s3:PutObject`. */
    action: string;
    /** The resource's ARN. */
    resource: string;
    /** Condition keys (lower case) and their values, e.g. `{ "s3:prefix": "etcd/" }` or `{ "kms:viaservice": "s3.eu-west-2.amazonaws.com" }`. */
    context?: Readonly<Record<string, string>>;
}

/** IAM's decision: allowed by a statement, denied because nothing allows it, or denied by a statement. */
export type AuthorizationDecision = "allow" | "implicit-deny" | "explicit-deny";

/** A policy document IAM itself would refuse to store. */
export class MalformedPolicyDocument extends Error {
    constructor(message: string) {
        super(`MalformedPolicyDocument: ${message}`);
    }
}

/** Condition operators played, and the condition keys played with them. */
const playedOperators = ["StringEquals", "StringLike"];
const playedConditionKeys = ["s3:prefix", "kms:ViaService"];
const playedStatementElements = ["Sid", "Effect", "Action", "Resource", "Condition"];

interface Statement {
    effect: "Allow" | "Deny";
    actions: string[];
    resources: string[];
    /** Operator → condition key (lower case) → the values any of which must match. */
    conditions: Array<{ operator: string; key: string; values: string[] }>;
}

/** A string or a non-empty list of strings, as IAM takes Action, Resource and condition values. */
function stringList(value: unknown, what: string): string[] {
    const list = typeof value === "string" ? [value] : value;
    if (!Array.isArray(list) || list.length === 0 || !list.every((item) => typeof item === "string")) {
        throw new MalformedPolicyDocument(`${what} must be a string or a non-empty list of strings`);
    }
    return list;
}

/** The policy variables (`${aws:username}`) are not played: a value holding one would be matched literally, unlike IAM. */
function refuseVariables(values: string[], what: string): void {
    const variable = values.find((value) => value.includes("${"));
    if (variable !== undefined) {
        throw new Error(`${what} ${JSON.stringify(variable)}: policy variables are not played by the local IAM policy evaluator`);
    }
}

/** The statements of one document; throws for what IAM refuses and, by name, for what is not played. */
function parseDocument(document: string): Statement[] {
    let parsed: unknown;
    try {
        parsed = JSON.parse(document);
    } catch (error) {
        throw new MalformedPolicyDocument(`Syntax errors in policy (${(error as Error).message})`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new MalformedPolicyDocument("a policy document is a JSON object");
    }
    const { Version: version, Statement: statements, ...others } = parsed as Record<string, unknown>;
    if (Object.keys(others).length > 0) {
        throw new MalformedPolicyDocument(`Policy document contains unknown element(s): ${Object.keys(others).join(", ")}`);
    }
    // 2008-10-17 (or none) differs from 2012-10-17 only by not knowing policy variables, which are refused anyway.
    if (version !== undefined && version !== "2012-10-17" && version !== "2008-10-17") {
        throw new MalformedPolicyDocument(`The policy failed legacy parsing: Version ${JSON.stringify(version)}`);
    }
    const list = Array.isArray(statements) ? statements : [statements];
    if (statements === undefined || list.length === 0) {
        throw new MalformedPolicyDocument("a policy document needs a Statement");
    }
    return list.map((statement, index) => parseStatement(statement, index));
}

function parseStatement(statement: unknown, index: number): Statement {
    const where = `Statement ${index}`;
    if (typeof statement !== "object" || statement === null || Array.isArray(statement)) {
        throw new MalformedPolicyDocument(`${where} is not an object`);
    }
    const fields = statement as Record<string, unknown>;
    if ("Principal" in fields || "NotPrincipal" in fields) {
        throw new MalformedPolicyDocument("Policy document should not specify a principal.");
    }
    for (const name of Object.keys(fields)) {
        if (!playedStatementElements.includes(name)) {
            throw new Error(`${where}: ${name} is not played by the local IAM policy evaluator (it plays ${playedStatementElements.join(", ")})`);
        }
    }
    if (fields.Effect !== "Allow" && fields.Effect !== "Deny") {
        throw new MalformedPolicyDocument(`${where}: Effect must be Allow or Deny`);
    }
    if (fields.Action === undefined || fields.Resource === undefined) {
        throw new MalformedPolicyDocument(`${where}: Policy statement must contain actions and resources`);
    }
    const actions = stringList(fields.Action, `${where}: Action`);
    const resources = stringList(fields.Resource, `${where}: Resource`);
    for (const action of actions) {
        if (action !== "*" && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/.test(action)) {
            throw new MalformedPolicyDocument(`${where}: Action ${JSON.stringify(action)} is not service:Action`);
        }
    }
    refuseVariables(resources, `${where}: Resource`);
    return { effect: fields.Effect, actions, resources, conditions: parseConditions(fields.Condition, where) };
}

function parseConditions(condition: unknown, where: string): Statement["conditions"] {
    if (condition === undefined) {
        return [];
    }
    if (typeof condition !== "object" || condition === null || Array.isArray(condition)) {
        throw new MalformedPolicyDocument(`${where}: Condition must be an object`);
    }
    return Object.entries(condition).flatMap(([operator, block]) => {
        if (!playedOperators.includes(operator)) {
            throw new Error(`${where}: the condition operator ${operator} is not played by the local IAM policy evaluator ` +
                `(it plays ${playedOperators.join(", ")})`);
        }
        if (typeof block !== "object" || block === null || Array.isArray(block)) {
            throw new MalformedPolicyDocument(`${where}: ${operator} must map condition keys to values`);
        }
        return Object.entries(block as Record<string, unknown>).map(([key, values]) => {
            // Condition key names are case-insensitive in IAM; their values are not.
            if (!playedConditionKeys.some((played) => played.toLowerCase() === key.toLowerCase())) {
                throw new Error(`${where}: the condition key ${key} is not played by the local IAM policy evaluator ` +
                    `(it plays ${playedConditionKeys.join(", ")})`);
            }
            const list = stringList(values, `${where}: ${operator} ${key}`);
            refuseVariables(list, `${where}: ${operator} ${key}`);
            return { operator, key: key.toLowerCase(), values: list };
        });
    });
}

/** True if `text` matches `pattern`, where `*` is any run of characters and `?` one character. */
function wildcardMatch(pattern: string, text: string, ignoreCase = false): boolean {
    const source = pattern.split("").map((character) => (character === "*" ? ".*" : character === "?" ? "." : character.replace(/[.+^${}()|[\]\\/]/g, "\\$&")));
    return new RegExp(`^${source.join("")}$`, ignoreCase ? "is" : "s").test(text);
}

function statementMatches(statement: Statement, request: AuthorizationRequest): boolean {
    return statement.actions.some((action) => wildcardMatch(action, request.action, true)) &&
        statement.resources.some((resource) => wildcardMatch(resource, request.resource)) &&
        statement.conditions.every(({ operator, key, values }) => {
            const value = request.context?.[key];
            return value !== undefined && values.some((expected) => (operator === "StringEquals" ? expected === value : wildcardMatch(expected, value)));
        });
}

/** Throws if IAM would refuse the document, or if it holds something the evaluator does not play. */
export function checkPolicyDocument(document: string): void {
    parseDocument(document);
}

/** IAM's decision on `request` under the identity-based policy documents `documents`. */
export function evaluatePolicies(documents: readonly string[], request: AuthorizationRequest): AuthorizationDecision {
    const statements = documents.flatMap(parseDocument).filter((statement) => statementMatches(statement, request));
    if (statements.some((statement) => statement.effect === "Deny")) {
        return "explicit-deny";
    }
    return statements.length > 0 ? "allow" : "implicit-deny";
}
