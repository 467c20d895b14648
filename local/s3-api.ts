/**
 * A stand-in for Amazon S3 on loopback, for a node's scripts that keep S3's
 * real URLs and sign their own requests (`curl --aws-sigv4`): it plays the
 * virtual-hosted endpoint `https://BUCKET.s3.REGION.amazonaws.com/KEY` over
 * TLS, with a certificate for `*.s3.REGION.amazonaws.com` and
 * `s3.REGION.amazonaws.com` from a throwaway test CA (test-certificates.ts).
 * A node reaches it through its instance metadata proxy, which tunnels a
 * `CONNECT BUCKET.s3.REGION.amazonaws.com:443` here (`tunnel`), so the
 * script's curl checks the certificate against the name in its URL and
 * trusts the test CA as a node's curl trusts the public ones
 * (`CURL_CA_BUNDLE`, see instanceMetadataProxyEnvironment). A bucket name
 * with a dot fails that check, as it does on S3.
 *
 * Played: PutObject (`PUT /KEY`, the body whole, `Content-MD5` checked),
 * GetObject and HeadObject (`GET`/`HEAD /KEY`), and ListObjectsV2
 * (`GET /?list-type=2` with `prefix`, `max-keys`, `start-after` and
 * `continuation-token`), objects kept in memory with the quoted MD5 of the
 * body as their ETag. Each request is authenticated as S3 does it for
 * Signature Version 4 in the Authorization header: the canonical request
 * (the URI-encoded path, no double encoding; the sorted, encoded query; the
 * signed headers; the payload hash as `x-amz-content-sha256` gives it,
 * `UNSIGNED-PAYLOAD` allowed) and the signature are computed by AWS's own
 * SigV4 code (@smithy/signature-v4, which the AWS SDK signs with), for the
 * credential scope's date, region and service, with the secret of the access
 * key's role session; and authorized by evaluating that role's policy
 * documents (iam-policy.ts): PutObject needs `s3:PutObject` on
 * `arn:aws:s3:::BUCKET/KEY`, GetObject and HeadObject `s3:GetObject` there,
 * ListObjectsV2 `s3:ListBucket` on `arn:aws:s3:::BUCKET` with `s3:prefix` the
 * request's prefix ("" without one).
 *
 * Objects are kept encrypted as S3 keeps them: with SSE-S3 (`AES256`, S3's
 * default) unless a seed asks for SSE-KMS with a KMS key's ARN (`putObject`,
 * as the component's `BucketObjectv2` with `kmsKeyId` has it). S3 decrypts
 * such an object by calling KMS on the caller's behalf, so a GetObject or
 * HeadObject of it also needs `kms:Decrypt` on the key, with `kms:ViaService`
 * `s3.REGION.amazonaws.com` (the bucket's region) in the request context. The
 * key's policy is taken to be KMS's default one, which lets the account's
 * IAM policies decide. Such an object is answered with
 * `x-amz-server-side-encryption: aws:kms` and its key's ARN in
 * `x-amz-server-side-encryption-aws-kms-key-id`, and its ETag is not the MD5
 * of its body, as on S3.
 *
 * Never kinder than AWS, each refusal with S3's status, error code and XML
 * error document (a HEAD's with no body): an anonymous request
 * (`AccessDenied`), another signing algorithm (`InvalidArgument`), a
 * malformed Credential or a scope for another region, service or day
 * (`AuthorizationHeaderMalformed`), no or a bad `x-amz-date`, a time more than
 * 15 minutes off (`RequestTimeTooSkewed`), `host` or an `x-amz-*` header left
 * unsigned, an unknown key (`InvalidAccessKeyId`, also a temporary key sent
 * without its token), a wrong or expired token (`InvalidToken`,
 * `ExpiredToken`), a wrong signature (`SignatureDoesNotMatch`, with the
 * canonical request and string to sign S3 shows), no `x-amz-content-sha256`,
 * a body whose SHA-256 or MD5 is not the one announced
 * (`XAmzContentSHA256Mismatch`, `BadDigest`; nothing is stored), a PUT over
 * 5 GiB (`EntityTooLarge`) or without a length, a bucket it does not have
 * (`NoSuchBucket`) or that is in another region (`PermanentRedirect`), what
 * the role's policies do not allow (`AccessDenied`, `kms:Decrypt` on an
 * SSE-KMS object's key included, worded as S3 relays KMS's refusal), and a missing key:
 * `NoSuchKey` only for a caller allowed `s3:ListBucket`, `AccessDenied`
 * otherwise, as S3 hides which keys exist. Anything it does not play (another
 * operation, query parameter or `x-amz-*` header, a range or conditional
 * request, path-style or presigned requests, streaming payloads) is refused
 * by name as `InvalidRequest` rather than answered.
 */
import {
    ALGORITHM_IDENTIFIER, createScope, getCanonicalHeaders, getSigningKey, SignatureV4Base,
} from "@smithy/signature-v4";
import type { Checksum, HttpRequest, SourceData } from "@smithy/types";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { assumedRoleArn, evaluatePolicies, localAccountId, RoleSession } from "./iam-policy";
import type { TunnelTarget } from "./instance-metadata-service";
import { createTestCertificateAuthority, TestCertificateAuthority } from "./test-certificates";

/** A bucket the stand-in has, and the region it is in. */
export interface S3Bucket {
    name: string;
    region: string;
}

export interface S3ApiOptions {
    buckets: readonly S3Bucket[];
    /**
     * The role session an access key id belongs to, its secret, token and the
     * role's policy documents (iam-policy.ts); undefined for a key AWS does not
     * know. Asked at each request, so rotated or revoked credentials show at once.
     */
    session(accessKeyId: string): Promise<RoleSession | undefined>;
    /**
     * The CA that issues the stand-in's certificate; by default one of its own,
     * in a temporary directory removed by `stop()`.
     */
    certificateAuthority?: TestCertificateAuthority;
    /** S3's clock (epoch ms), which requests must be within 15 minutes of and credentials expire by; default the host's. */
    clock?: () => number;
}

/** SSE-KMS: the object's data key is under this KMS key, which a reader must be allowed to decrypt with. */
export interface S3ObjectKmsEncryption {
    /** `arn:aws:kms:REGION:ACCOUNT:key/ID`, in the bucket's region and the stand-in's account, as S3 records it. */
    kmsKeyArn: string;
}

/** An object as the stand-in keeps it. */
export interface S3Object {
    body: Buffer;
    /**
     * The quoted MD5 of the body, in hex, as S3 gives a single PUT's object;
     * for an SSE-KMS object 32 hex digits that are not its MD5, as on S3.
     */
    etag: string;
    /** To the second, as S3 keeps it. */
    lastModified: Date;
    contentType: string;
    /** Its SSE-KMS key; undefined for SSE-S3 (`AES256`). */
    encryption?: S3ObjectKmsEncryption;
}

/** One request the stand-in answered. */
export interface S3Request {
    method: string;
    /** The bucket named by the request's host, if any. */
    bucket?: string;
    /** The object key, if the request names one. */
    key?: string;
    /** The S3 operation, e.g. `PutObject`; the name of an unplayed one too. */
    operation: string;
    status: number;
    /** S3's error code for a refusal, e.g. `SignatureDoesNotMatch`. */
    errorCode?: string;
}

export interface S3ApiStandIn {
    /** The regions whose endpoints it plays: those of its buckets. */
    regions: readonly string[];
    /** The PEM file of the CA its certificate is from: what a node's curl must trust (`CURL_CA_BUNDLE`). */
    caBundle: string;
    /** What a node's proxy tunnels to it (`startInstanceMetadataService(source, { tunnels: [s3.tunnel] })`). */
    tunnel: TunnelTarget;
    requests: S3Request[];
    /**
     * Stores an object as a PutObject would, without a request: a test's or
     * the component's seed. Content type `binary/octet-stream` and SSE-S3
     * unless given. Throws for a bucket it does not have, and for a KMS key
     * S3 would not encrypt with (not a key ARN, another region or account).
     */
    putObject(bucket: string, key: string, body: Buffer | string, options?: { contentType?: string; encryption?: S3ObjectKmsEncryption }): void;
    /** The bucket's objects by key (a copy). Throws for a bucket it does not have. */
    objects(bucket: string): Map<string, S3Object>;
    /** Closes the listener and every connection, and removes its own CA's files. */
    stop(): Promise<void>;
}

/** S3's largest single PUT: 5 GiB. */
export const maxPutObjectBytes = 5 * 1024 ** 3;
/** How far a request's time may be from S3's. */
const maxClockSkewMs = 15 * 60_000;
/** Cap on the keys one ListObjectsV2 returns. */
const maxListKeys = 1000;
const unsignedPayload = "UNSIGNED-PAYLOAD";
const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";
const playedOperations = ["PutObject", "GetObject", "HeadObject", "ListObjectsV2"];
/** The `x-amz-*` headers played; any other is refused by name (each asks for something S3 would do: encryption, tags, a copy…). */
const playedAmzHeaders = ["x-amz-date", "x-amz-content-sha256", "x-amz-security-token"];
/** Request headers that make a GET or HEAD partial or conditional, which is not played. */
const unplayedRequestHeaders = ["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"];
const listParameters = ["list-type", "prefix", "max-keys", "start-after", "continuation-token"];

/** S3 escapes quotes too: a listing's ETag reads `&quot;…&quot;`, which a script reading the XML must expect. */
const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** AWS's URI encoding: every byte but the unreserved characters percent-encoded, `/` kept in a path. */
function uriEncode(text: string, keepSlash: boolean): string {
    const encoded = encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
    return keepSlash ? encoded.replace(/%2F/g, "/") : encoded;
}

/** A refusal as S3 words it: status, error code, message, and the elements S3 adds for that error. */
class S3Error extends Error {
    constructor(readonly status: number, readonly code: string, message: string, readonly details: Record<string, string> = {},
        readonly headers: Record<string, string> = {}) {
        super(message);
    }
}

const notPlayed = (what: string) => new S3Error(400, "InvalidRequest", `${what} is not played by the local S3 stand-in ` +
    `(it plays ${playedOperations.join(", ")} at https://BUCKET.s3.REGION.amazonaws.com/, signed with AWS4-HMAC-SHA256 in the Authorization header)`);

const malformedAuthorization = (reason: string, details: Record<string, string> = {}) =>
    new S3Error(400, "AuthorizationHeaderMalformed", `The authorization header is malformed; ${reason}`, details);

/** Node's SHA-256 and HMAC-SHA-256 in the shape AWS's SigV4 code hashes with. */
class Sha256 implements Checksum {
    private hash: crypto.Hash | crypto.Hmac;

    constructor(private readonly secret?: SourceData) {
        this.hash = this.create();
    }

    private create(): crypto.Hash | crypto.Hmac {
        return this.secret === undefined ? crypto.createHash("sha256") : crypto.createHmac("sha256", Sha256.bytes(this.secret));
    }

    private static bytes(data: SourceData): Buffer {
        return typeof data === "string" ? Buffer.from(data, "utf8")
            : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
    }

    update(chunk: Uint8Array): void {
        this.hash.update(chunk);
    }

    async digest(): Promise<Uint8Array> {
        return new Uint8Array(this.hash.digest());
    }

    reset(): void {
        this.hash = this.create();
    }
}

/** AWS's SigV4 canonical request and string to sign (@smithy/signature-v4), for S3: the path as given, no checksum header added. */
class S3RequestSignature extends SignatureV4Base {
    constructor() {
        super({ service: "s3", region: "", credentials: { accessKeyId: "", secretAccessKey: "" }, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
    }

    /** What S3 computes for a request: its canonical request, the string to sign, and the signature the secret gives. */
    async compute(request: HttpRequest, signedHeaders: string[], payloadHash: string, longDate: string,
        scope: { region: string; service: string }, credentials: { accessKeyId: string; secretAccessKey: string }) {
        const shortDate = longDate.slice(0, 8);
        const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(signedHeaders));
        const canonicalRequest = this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
        const stringToSign = await this.createStringToSign(longDate, createScope(shortDate, scope.region, scope.service), canonicalRequest,
            ALGORITHM_IDENTIFIER);
        const hmac = new Sha256(await getSigningKey(Sha256, credentials, shortDate, scope.region, scope.service));
        hmac.update(Buffer.from(stringToSign, "utf8"));
        return { canonicalRequest, stringToSign, signature: Buffer.from(await hmac.digest()).toString("hex") };
    }
}

const signatureCheck = new S3RequestSignature();

/** The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
interface Authorization {
    accessKeyId: string;
    date: string;
    region: string;
    service: string;
    terminal: string;
    signedHeaders: string[];
    signature: string;
}

function parseAuthorization(header: string): Authorization {
    const [algorithm, ...rest] = header.trim().split(" ");
    if (algorithm !== ALGORITHM_IDENTIFIER) {
        throw new S3Error(400, "InvalidArgument", `Unsupported Authorization Type (${algorithm}): the local S3 stand-in, as S3 in the regions it plays, ` +
            "takes AWS4-HMAC-SHA256 only", { ArgumentName: "Authorization", ArgumentValue: header });
    }
    const fields = new Map(rest.join(" ").split(",").map((field) => {
        const equals = field.indexOf("=");
        return [field.slice(0, equals).trim(), field.slice(equals + 1).trim()] as const;
    }));
    const credential = fields.get("Credential")?.split("/") ?? [];
    const signedHeaders = fields.get("SignedHeaders");
    const signature = fields.get("Signature");
    if (credential.length !== 5 || credential.some((part) => part === "")) {
        throw malformedAuthorization(`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
    }
    if (!signedHeaders || !signature) {
        throw new S3Error(400, "InvalidArgument", `AWS authorization header is invalid. Expected AwsAccessKeyId/date/region/service/aws4_request, ` +
            "SignedHeaders and Signature", { ArgumentName: "Authorization", ArgumentValue: header });
    }
    const [accessKeyId, date, region, service, terminal] = credential;
    return { accessKeyId, date, region, service, terminal, signedHeaders: signedHeaders.split(";"), signature };
}

/** `x-amz-date`'s time (YYYYMMDD'T'HHMMSS'Z'), or undefined if it is not one. */
function amzDate(value: string): number | undefined {
    const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
    if (!match) {
        return undefined;
    }
    const [, year, month, day, hour, minute, second] = match.map(Number);
    const time = Date.UTC(year, month - 1, day, hour, minute, second);
    return new Date(time).getUTCDate() === day ? time : undefined;
}

/** The request's headers by lower-case name, repeated ones joined with commas as SigV4 joins them. */
function headerValues(request: http.IncomingMessage): Map<string, string> {
    const values = new Map<string, string>();
    for (let index = 0; index < request.rawHeaders.length; index += 2) {
        const name = request.rawHeaders[index].toLowerCase();
        const value = request.rawHeaders[index + 1];
        values.set(name, values.has(name) ? `${values.get(name)},${value}` : value);
    }
    return values;
}

/** What a request asks, as read from its host, path and query. */
interface Target {
    bucket: string;
    region: string;
    /** The decoded key; undefined for the bucket itself (`/`). */
    key?: string;
    /** The canonical URI: the key URI-encoded once. */
    canonicalPath: string;
    /** The query's parameters, decoded, in order. */
    query: Array<[string, string]>;
    operation: string;
}

/** S3's bucket naming rules (general purpose buckets). */
function checkBucketName(name: string): void {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(name) ||
        name.startsWith("xn--") || name.endsWith("-s3alias")) {
        throw new Error(`${JSON.stringify(name)} is not a bucket name S3 accepts`);
    }
}

/**
 * Throws unless S3 would encrypt an object of `bucket` (in `region`) with
 * `kmsKeyArn`: a key's ARN (S3 records the ARN; an id or alias it would
 * resolve is not played), in the bucket's region as S3 requires, and of the
 * stand-in's account (another account's key policy is not played).
 */
function checkKmsKey(kmsKeyArn: string, bucket: string, region: string): void {
    const match = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):key\/[A-Za-z0-9-]+$/.exec(kmsKeyArn);
    if (!match) {
        throw new Error(`bucket ${bucket}: ${JSON.stringify(kmsKeyArn)} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), ` +
            "which the S3 stand-in takes for SSE-KMS (key ids and aliases are not played)");
    }
    if (match[1] !== region) {
        throw new Error(`bucket ${bucket} is in ${region}: S3 does not encrypt its objects with the KMS key ${kmsKeyArn} of another region`);
    }
    if (match[2] !== localAccountId) {
        throw new Error(`KMS key ${kmsKeyArn}: a key of another account than ${localAccountId} (its key policy) is not played by the S3 stand-in`);
    }
}

/** The operation a request is, played or not, by its method, whether it names a key, its query and headers. */
function operationOf(method: string, key: string | undefined, query: Array<[string, string]>, headers: Map<string, string>): string {
    const names = query.map(([name]) => name);
    if (key === undefined) {
        if (method === "GET") {
            return names.includes("list-type") ? (query.find(([name]) => name === "list-type")![1] === "2" ? "ListObjectsV2" : "ListObjects with list-type")
                : names.length === 0 ? "ListObjects (version 1)" : `the bucket subresource ?${names[0]}`;
        }
        const bucketOperations: Record<string, string> = { PUT: "CreateBucket", HEAD: "HeadBucket", DELETE: "DeleteBucket", POST: "POST on a bucket" };
        return names.length > 0 ? `the bucket subresource ?${names[0]}` : bucketOperations[method] ?? method;
    }
    if (method === "PUT" && headers.has("x-amz-copy-source")) {
        return "CopyObject";
    }
    const objectOperations: Record<string, string> = { PUT: "PutObject", GET: "GetObject", HEAD: "HeadObject", DELETE: "DeleteObject", POST: "POST on an object" };
    return objectOperations[method] ?? method;
}

/** Reads the request's host, path and query; throws for what S3 would not route and what is not played. */
function targetOf(request: http.IncomingMessage, headers: Map<string, string>, regions: readonly string[]): Target {
    const host = (headers.get("host") ?? "").toLowerCase().replace(/:443$/, "");
    const match = /^(?:(.+)\.)?s3\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host);
    if (!match || !regions.includes(match[2])) {
        throw notPlayed(`The host ${JSON.stringify(host)}`);
    }
    const [, bucket, region] = match;
    if (bucket === undefined) {
        throw notPlayed(`A path-style request (https://${host}/BUCKET/KEY, not https://BUCKET.${host}/KEY)`);
    }
    const target = request.url ?? "/";
    const questionMark = target.indexOf("?");
    const rawPath = questionMark < 0 ? target : target.slice(0, questionMark);
    const rawQuery = questionMark < 0 ? "" : target.slice(questionMark + 1);
    let key: string;
    let query: Array<[string, string]>;
    // S3 reads a `+` as a space, in the path as in the query, and signs what it read, encoded again: a key with a
    // character curl leaves as it is (`:`, `=`, `+`) gets a canonical path curl did not sign, as on S3.
    const decode = (text: string) => decodeURIComponent(text.replace(/\+/g, " "));
    try {
        key = decode(rawPath.replace(/^\//, ""));
        query = rawQuery === "" ? [] : rawQuery.split("&").map((pair) => {
            const equals = pair.indexOf("=");
            return equals < 0 ? [decode(pair), ""] : [decode(pair.slice(0, equals)), decode(pair.slice(equals + 1))];
        });
    } catch {
        throw new S3Error(400, "InvalidURI", "Couldn't parse the specified URI.", { URI: target });
    }
    if (!rawPath.startsWith("/")) {
        throw new S3Error(400, "InvalidURI", "Couldn't parse the specified URI.", { URI: target });
    }
    const method = request.method ?? "";
    const objectKey = key === "" ? undefined : key;
    return {
        bucket, region, key: objectKey, canonicalPath: `/${uriEncode(key, true)}`, query,
        operation: operationOf(method, objectKey, query, headers),
    };
}

/** The IAM action and resource an operation needs, with its condition keys. */
function authorizationOf(target: Target): { action: string; resource: string; context?: Record<string, string> } {
    if (target.operation === "ListObjectsV2") {
        return { action: "s3:ListBucket", resource: `arn:aws:s3:::${target.bucket}`, context: { "s3:prefix": queryValue(target, "prefix") ?? "" } };
    }
    return { action: target.operation === "PutObject" ? "s3:PutObject" : "s3:GetObject", resource: `arn:aws:s3:::${target.bucket}/${target.key}` };
}

const queryValue = (target: Target, name: string) => target.query.find(([parameter]) => parameter === name)?.[1];

/** S3's refusal of what the role's policies do not allow, as S3 words it for a caller in the bucket's own account. */
function accessDenied(session: RoleSession, action: string, resource: string, explicit: boolean): S3Error {
    return new S3Error(403, "AccessDenied", `User: ${assumedRoleArn(session)} is not authorized to perform: ${action} on resource: "${resource}" ` +
        (explicit ? "with an explicit deny in an identity-based policy" : `because no identity-based policy allows the ${action} action`));
}

/** S3's refusal of an SSE-KMS object's read when KMS refuses to decrypt for the caller: KMS's words, whose resource is not quoted. */
function kmsDecryptDenied(session: RoleSession, keyArn: string, explicit: boolean): S3Error {
    return new S3Error(403, "AccessDenied", `User: ${assumedRoleArn(session)} is not authorized to perform: kms:Decrypt on resource: ${keyArn} ` +
        (explicit ? "with an explicit deny in an identity-based policy" : "because no identity-based policy allows the kms:Decrypt action"));
}

/** The space-separated hex bytes S3 shows beside a string to sign. */
const bytesOf = (text: string) => [...Buffer.from(text, "utf8")].map((byte) => byte.toString(16).padStart(2, "0")).join(" ");

/** Starts the stand-in's TLS listener on 127.0.0.1 (a free port). */
export async function startS3Api(options: S3ApiOptions): Promise<S3ApiStandIn> {
    const clock = options.clock ?? Date.now;
    const buckets = new Map<string, { region: string; objects: Map<string, S3Object> }>();
    for (const bucket of options.buckets) {
        checkBucketName(bucket.name);
        if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(bucket.region)) {
            throw new Error(`bucket ${bucket.name}: ${JSON.stringify(bucket.region)} is not a region name`);
        }
        buckets.set(bucket.name, { region: bucket.region, objects: new Map() });
    }
    const regions = [...new Set(options.buckets.map((bucket) => bucket.region))];
    if (regions.length === 0) {
        throw new Error("the S3 stand-in needs at least one bucket: its regions are its buckets'");
    }
    const requests: S3Request[] = [];

    const ownDirectory = options.certificateAuthority ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-s3-"));
    const removeOwnDirectory = () => ownDirectory && fs.rmSync(ownDirectory, { recursive: true, force: true });
    const listening = async () => {
        const authority = options.certificateAuthority ?? await createTestCertificateAuthority(ownDirectory!);
        const certificate = await authority.issue(`s3-${crypto.randomBytes(4).toString("hex")}`, {
            dnsNames: regions.flatMap((region) => [`*.s3.${region}.amazonaws.com`, `s3.${region}.amazonaws.com`]),
        });
        const tlsServer = https.createServer({ key: certificate.key, cert: certificate.certificate });
        await new Promise<void>((resolve, reject) => {
            tlsServer.once("error", reject);
            tlsServer.listen(0, "127.0.0.1", () => resolve());
        });
        return { server: tlsServer, caBundle: authority.certificateFile };
    };
    const { server, caBundle } = await listening().catch((error) => {
        removeOwnDirectory();
        throw error;
    });

    const storedBucket = (name: string) => {
        const bucket = buckets.get(name);
        if (!bucket) {
            throw new Error(`the S3 stand-in has no bucket ${name} (it has ${[...buckets.keys()].join(", ")})`);
        }
        return bucket;
    };
    const store = (bucket: string, key: string, body: Buffer, contentType: string, encryption?: S3ObjectKmsEncryption) => {
        const stored = storedBucket(bucket);
        if (encryption) {
            checkKmsKey(encryption.kmsKeyArn, bucket, stored.region);
        }
        stored.objects.set(key, {
            body, contentType,
            etag: `"${encryption ? crypto.randomBytes(16).toString("hex") : crypto.createHash("md5").update(body).digest("hex")}"`,
            lastModified: new Date(Math.floor(clock() / 1000) * 1000),
            ...(encryption ? { encryption: { kmsKeyArn: encryption.kmsKeyArn } } : {}),
        });
    };

    /** Authenticates the request as S3 does; its role session, or a refusal. */
    const authenticate = async (request: http.IncomingMessage, headers: Map<string, string>, target: Target): Promise<RoleSession> => {
        const header = headers.get("authorization");
        if (header === undefined) {
            if (target.query.some(([name]) => name.toLowerCase() === "x-amz-signature" || name.toLowerCase() === "x-amz-credential")) {
                throw notPlayed("A presigned URL (query-string authentication)");
            }
            // Anonymous: the stand-in's buckets, as the component's, are not public.
            throw new S3Error(403, "AccessDenied", "Access Denied");
        }
        const authorization = parseAuthorization(header);
        const dateHeader = headers.get("x-amz-date");
        const requestTime = dateHeader === undefined ? undefined : amzDate(dateHeader);
        if (requestTime === undefined) {
            throw new S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
        }
        if (authorization.date !== dateHeader!.slice(0, 8)) {
            throw malformedAuthorization(`Invalid credential date "${authorization.date}". This date is not the same as X-Amz-Date: "${dateHeader!.slice(0, 8)}".`);
        }
        if (authorization.region !== target.region) {
            throw malformedAuthorization(`the region '${authorization.region}' is wrong; expecting '${target.region}'`, { Region: target.region });
        }
        if (authorization.service !== "s3") {
            throw malformedAuthorization(`incorrect service "${authorization.service}". This endpoint belongs to "s3".`);
        }
        if (authorization.terminal !== "aws4_request") {
            throw malformedAuthorization(`incorrect terminal "${authorization.terminal}". This endpoint uses "aws4_request".`);
        }
        const unsigned = [...headers.keys()].filter((name) => (name === "host" || name.startsWith("x-amz-")) && !authorization.signedHeaders.includes(name));
        if (unsigned.length > 0) {
            throw new S3Error(403, "AccessDenied", "There were headers present in the request which were not signed", { HeadersNotSigned: unsigned.join(", ") });
        }
        const now = clock();
        if (Math.abs(now - requestTime) > maxClockSkewMs) {
            throw new S3Error(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", {
                RequestTime: dateHeader!, ServerTime: new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z"), MaxAllowedSkewMilliseconds: String(maxClockSkewMs),
            });
        }
        const session = await options.session(authorization.accessKeyId);
        const token = headers.get("x-amz-security-token");
        // A temporary key without its token is unknown to S3: it looks the key up with the token.
        if (!session || token === undefined) {
            throw new S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", { AWSAccessKeyId: authorization.accessKeyId });
        }
        if (token !== session.sessionToken) {
            throw new S3Error(400, "InvalidToken", "The provided token is malformed or otherwise invalid.", { "Token-0": token });
        }
        if (now >= session.expiration.getTime()) {
            throw new S3Error(400, "ExpiredToken", "The provided token has expired.", { "Token-0": token });
        }
        const payloadHash = headers.get("x-amz-content-sha256");
        if (payloadHash === undefined) {
            throw new S3Error(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
        }
        if (payloadHash.startsWith("STREAMING-")) {
            throw notPlayed(`A streaming payload (x-amz-content-sha256: ${payloadHash})`);
        }
        if (payloadHash !== unsignedPayload && !/^[0-9a-fA-F]{64}$/.test(payloadHash)) {
            throw new S3Error(400, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, " +
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, " +
                "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.", { ArgumentName: "x-amz-content-sha256", ArgumentValue: payloadHash });
        }
        const signedValues = Object.fromEntries(authorization.signedHeaders.filter((name) => headers.has(name)).map((name) => [name, headers.get(name)!]));
        const query: Record<string, string | string[]> = {};
        for (const [name, value] of target.query) {
            const existing = query[name];
            query[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
        }
        const computed = await signatureCheck.compute(
            { method: request.method ?? "", protocol: "https:", hostname: headers.get("host") ?? "", path: target.canonicalPath, query, headers: signedValues },
            authorization.signedHeaders, payloadHash, dateHeader!, authorization, session);
        const provided = Buffer.from(authorization.signature, "utf8");
        const expected = Buffer.from(computed.signature, "utf8");
        if (provided.length !== expected.length || !crypto.timingSafeEqual(provided, expected)) {
            throw new S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. " +
                "Check your key and signing method.", {
                AWSAccessKeyId: authorization.accessKeyId,
                StringToSign: computed.stringToSign,
                SignatureProvided: authorization.signature,
                StringToSignBytes: bytesOf(computed.stringToSign),
                CanonicalRequest: computed.canonicalRequest,
                CanonicalRequestBytes: bytesOf(computed.canonicalRequest),
            });
        }
        return session;
    };

    /** Refuses a played operation's query parameters and headers that it does not play, by name. */
    const checkPlayed = (target: Target, headers: Map<string, string>) => {
        if (!playedOperations.includes(target.operation)) {
            throw notPlayed(target.operation);
        }
        const allowed = target.operation === "ListObjectsV2" ? listParameters : [];
        const parameter = target.query.find(([name]) => !allowed.includes(name));
        if (parameter) {
            throw notPlayed(`The query parameter ${parameter[0]} of ${target.operation}`);
        }
        const header = [...headers.keys()].find((name) => (name.startsWith("x-amz-") && !playedAmzHeaders.includes(name)) ||
            unplayedRequestHeaders.includes(name));
        if (header !== undefined) {
            throw notPlayed(`The header ${header} of ${target.operation}`);
        }
    };

    /** Whether the session may list the bucket: what decides between NoSuchKey and AccessDenied for a missing key. */
    const mayList = (session: RoleSession, bucket: string) =>
        evaluatePolicies(session.policies, { action: "s3:ListBucket", resource: `arn:aws:s3:::${bucket}`, context: { "s3:prefix": "" } }) === "allow";

    const readBody = (request: http.IncomingMessage) => new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.once("end", () => resolve(Buffer.concat(chunks)));
        request.once("error", reject);
        request.once("aborted", () => reject(new Error("the client aborted the request")));
    });

    const listObjects = (target: Target): string => {
        const prefix = queryValue(target, "prefix") ?? "";
        const maxKeysText = queryValue(target, "max-keys");
        if (maxKeysText !== undefined && !/^\d{1,10}$/.test(maxKeysText)) {
            throw new S3Error(400, "InvalidArgument", "Provided max-keys not an integer or within integer range", { ArgumentName: "max-keys", ArgumentValue: maxKeysText });
        }
        const maxKeys = Math.min(maxKeysText === undefined ? maxListKeys : Number(maxKeysText), maxListKeys);
        const token = queryValue(target, "continuation-token");
        const startAfter = queryValue(target, "start-after");
        let after = startAfter;
        if (token !== undefined) {
            const decoded = Buffer.from(token, "base64").toString("utf8");
            if (!decoded.startsWith("1\n") || Buffer.from(decoded, "utf8").toString("base64") !== token) {
                throw new S3Error(400, "InvalidArgument", "The continuation token provided is incorrect", { ArgumentName: "continuation-token" });
            }
            after = decoded.slice(2);
        }
        const keys = [...storedBucket(target.bucket).objects.keys()]
            .filter((key) => key.startsWith(prefix) && (after === undefined || Buffer.compare(Buffer.from(key), Buffer.from(after)) > 0))
            .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        const page = keys.slice(0, maxKeys);
        const truncated = keys.length > page.length;
        const contents = page.map((key) => {
            const object = storedBucket(target.bucket).objects.get(key)!;
            return `<Contents><Key>${escapeXml(key)}</Key><LastModified>${object.lastModified.toISOString()}</LastModified>` +
                `<ETag>${escapeXml(object.etag)}</ETag><Size>${object.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
        });
        const next = truncated ? `<NextContinuationToken>${Buffer.from(`1\n${page[page.length - 1]}`, "utf8").toString("base64")}</NextContinuationToken>` : "";
        return `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${s3Namespace}"><Name>${escapeXml(target.bucket)}</Name>` +
            `<Prefix>${escapeXml(prefix)}</Prefix>${token === undefined ? "" : `<ContinuationToken>${escapeXml(token)}</ContinuationToken>`}${next}` +
            `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
            `${startAfter === undefined ? "" : `<StartAfter>${escapeXml(startAfter)}</StartAfter>`}<IsTruncated>${truncated}</IsTruncated>` +
            `${contents.join("")}</ListBucketResult>`;
    };

    const objectHeaders = (object: S3Object) => ({
        "last-modified": object.lastModified.toUTCString(),
        "etag": object.etag,
        ...(object.encryption
            ? { "x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": object.encryption.kmsKeyArn }
            : { "x-amz-server-side-encryption": "AES256" }),
        "accept-ranges": "bytes",
        "content-type": object.contentType,
        "content-length": String(object.body.length),
    });

    /** A played request, authenticated, checked and authorized: S3's answer. */
    type Answer = { status: number; headers: Record<string, string>; body?: Buffer | string };

    const answer = async (request: http.IncomingMessage, headers: Map<string, string>, target: Target, expectsContinue: boolean,
        response: http.ServerResponse): Promise<Answer> => {
        const session = await authenticate(request, headers, target);
        const bucket = buckets.get(target.bucket);
        if (!bucket) {
            throw new S3Error(404, "NoSuchBucket", "The specified bucket does not exist", { BucketName: target.bucket });
        }
        if (bucket.region !== target.region) {
            const endpoint = `${target.bucket}.s3.${bucket.region}.amazonaws.com`;
            throw new S3Error(301, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint. " +
                "Please send all future requests to this endpoint.", { Endpoint: endpoint, Bucket: target.bucket }, { "x-amz-bucket-region": bucket.region });
        }
        checkPlayed(target, headers);
        const { action, resource, context } = authorizationOf(target);
        const decision = evaluatePolicies(session.policies, { action, resource, context });
        if (decision !== "allow") {
            throw accessDenied(session, action, resource, decision === "explicit-deny");
        }
        if (target.operation === "ListObjectsV2") {
            return { status: 200, headers: { "content-type": "application/xml" }, body: listObjects(target) };
        }
        if (target.operation === "PutObject") {
            return putObject(request, headers, target, expectsContinue, response);
        }
        const object = bucket.objects.get(target.key!);
        if (!object) {
            if (!mayList(session, target.bucket)) {
                throw accessDenied(session, "s3:ListBucket", `arn:aws:s3:::${target.bucket}`, false);
            }
            throw new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: target.key! });
        }
        if (object.encryption) {
            // S3 asks KMS for the object's data key as the caller, through S3 in the bucket's region.
            const decision = evaluatePolicies(session.policies, {
                action: "kms:Decrypt", resource: object.encryption.kmsKeyArn, context: { "kms:viaservice": `s3.${bucket.region}.amazonaws.com` },
            });
            if (decision !== "allow") {
                throw kmsDecryptDenied(session, object.encryption.kmsKeyArn, decision === "explicit-deny");
            }
        }
        return { status: 200, headers: objectHeaders(object), body: target.operation === "GetObject" ? object.body : undefined };
    };

    const putObject = async (request: http.IncomingMessage, headers: Map<string, string>, target: Target, expectsContinue: boolean,
        response: http.ServerResponse): Promise<Answer> => {
        if (headers.has("transfer-encoding")) {
            throw new S3Error(501, "NotImplemented", "A header you provided implies functionality that is not implemented", { Header: "Transfer-Encoding" });
        }
        const lengthText = headers.get("content-length");
        if (lengthText === undefined) {
            throw new S3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
        }
        if (Number(lengthText) > maxPutObjectBytes) {
            throw new S3Error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
                { ProposedSize: lengthText, MaxSizeAllowed: String(maxPutObjectBytes) });
        }
        const md5 = headers.get("content-md5");
        if (md5 !== undefined && (!/^[A-Za-z0-9+/]{22}==$/.test(md5) || Buffer.from(md5, "base64").length !== 16)) {
            throw new S3Error(400, "InvalidDigest", "The Content-MD5 you specified was invalid.", { "Content-MD5": md5 });
        }
        // Only now may the client send the body: every refusal above came before it, as S3's do.
        if (expectsContinue) {
            response.writeContinue();
        }
        const body = await readBody(request);
        const payloadHash = headers.get("x-amz-content-sha256")!;
        const sha256 = crypto.createHash("sha256").update(body).digest("hex");
        if (payloadHash !== unsignedPayload && payloadHash !== sha256) {
            throw new S3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.",
                { ClientComputedContentSHA256: payloadHash, S3ComputedContentSHA256: sha256 });
        }
        const computedMd5 = crypto.createHash("md5").update(body).digest("base64");
        if (md5 !== undefined && md5 !== computedMd5) {
            throw new S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.",
                { ExpectedDigest: md5, CalculatedDigest: computedMd5 });
        }
        store(target.bucket, target.key!, body, headers.get("content-type") ?? "binary/octet-stream");
        return { status: 200, headers: { etag: storedBucket(target.bucket).objects.get(target.key!)!.etag, "x-amz-server-side-encryption": "AES256" } };
    };

    const handle = (request: http.IncomingMessage, response: http.ServerResponse, expectsContinue: boolean) => {
        const headers = headerValues(request);
        const method = request.method ?? "";
        const record: S3Request = { method, operation: "", status: 0 };
        requests.push(record);
        const common = {
            "x-amz-request-id": crypto.randomBytes(8).toString("hex").toUpperCase(),
            "x-amz-id-2": crypto.randomBytes(48).toString("base64"),
            "date": new Date(clock()).toUTCString(),
            "server": "AmazonS3",
        };
        const send = (status: number, sendHeaders: Record<string, string>, body?: Buffer | string) => {
            record.status = status;
            const payload = method === "HEAD" || body === undefined ? undefined : body;
            response.writeHead(status, {
                ...common,
                ...(sendHeaders["content-length"] === undefined ? { "content-length": String(payload === undefined ? 0 : Buffer.byteLength(payload)) } : {}),
                ...sendHeaders,
            });
            response.end(payload);
        };
        const refuse = (error: S3Error) => {
            record.errorCode = error.code;
            const extras = Object.entries(error.details).map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`).join("");
            const document = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message>` +
                `${extras}<RequestId>${common["x-amz-request-id"]}</RequestId><HostId>${common["x-amz-id-2"]}</HostId></Error>`;
            // A body the client has not sent (it waits for 100 Continue) or that was not read is not wanted: the connection ends with the answer.
            send(error.status, { "content-type": "application/xml", ...(request.complete ? {} : { connection: "close" }), ...error.headers }, document);
        };
        void (async () => {
            try {
                const target = targetOf(request, headers, regions);
                Object.assign(record, { bucket: target.bucket, ...(target.key === undefined ? {} : { key: target.key }), operation: target.operation });
                const { status, headers: answerHeaders, body } = await answer(request, headers, target, expectsContinue, response);
                send(status, answerHeaders, body);
            } catch (error) {
                if (error instanceof S3Error) {
                    refuse(error);
                } else {
                    // A policy the evaluator does not play, or a harness fault: named, never taken for an answer.
                    refuse(new S3Error(500, "InternalError", `local S3 stand-in: ${(error as Error).message}`));
                }
            }
        })().catch(() => response.destroy());
    };
    server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => handle(request, response, false));
    server.on("checkContinue", (request: http.IncomingMessage, response: http.ServerResponse) => handle(request, response, true));
    server.on("tlsClientError", () => undefined);

    const port = (server.address() as AddressInfo).port;
    return {
        regions,
        caBundle,
        tunnel: {
            accepts: (host, connectPort) => connectPort === 443 &&
                regions.some((region) => host === `s3.${region}.amazonaws.com` || host.endsWith(`.s3.${region}.amazonaws.com`)),
            address: { host: "127.0.0.1", port },
            description: regions.map((region) => `S3 at BUCKET.s3.${region}.amazonaws.com:443`).join(", "),
        },
        requests,
        putObject: (bucket, key, body, { contentType = "binary/octet-stream", encryption } = {}) => store(bucket, key, Buffer.from(body), contentType, encryption),
        objects: (bucket) => new Map(storedBucket(bucket).objects),
        stop: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => {
                removeOwnDirectory();
                resolve();
            });
        }),
    };
}
