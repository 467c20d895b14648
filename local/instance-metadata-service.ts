/**
 * A stand-in for one node's instance metadata service, IMDSv2 with
 * `httpTokens: required` as the component's instances have it, reached as a
 * node's scripts reach the real one: at http://169.254.169.254. Tests use
 * loopback addresses only, so it is an HTTP proxy on a loopback port: a node's
 * scripts keep the real URL and their curl goes through the proxy
 * (`instanceMetadataProxyEnvironment`), while `no_proxy` keeps every loopback
 * request direct. It answers only requests for 169.254.169.254 and forwards
 * nothing: any other target is refused with 403, and so is any CONNECT tunnel
 * but one to a TLS stand-in the node was given (`tunnels`, e.g. S3's at
 * `BUCKET.s3.REGION.amazonaws.com:443`, see s3-api.ts), which it pipes to that
 * stand-in's loopback listener and nowhere else, and only on a port the
 * node's security group lets it reach (`egressTcpPorts`).
 *
 * Played: `PUT /latest/api/token` (a TTL of 1 to 21600 s in
 * `X-aws-ec2-metadata-token-ttl-seconds`), and with a token it issued and that
 * has not expired, `GET /latest/meta-data/instance-id`,
 * `/latest/meta-data/tags/instance` (the keys, one a line; empty for an
 * instance without tags) and `/latest/meta-data/tags/instance/KEY`, the tags
 * read from the model at each request; and for an instance with an instance
 * profile, `/latest/meta-data/iam/security-credentials/` (the role's name) and
 * `/latest/meta-data/iam/security-credentials/ROLE` (its current temporary
 * credentials, in the JSON the real service sends, spaces around the colons
 * included). Never kinder than AWS: a GET without a
 * valid token is 401, a token request with `X-Forwarded-For` (a proxy's) is
 * 403, the tags are 404 unless the instance has them in its metadata
 * (`instanceMetadataTags`), the credentials are 404 without an instance
 * profile, any other path is 404 (what the real service has
 * there is not played), a wrong method is 405, and every error comes with the
 * HTML page the real service sends, which a script that forgets `curl -f`
 * would take for the value.
 */
import * as crypto from "crypto";
import * as http from "http";
import * as net from "net";
import type { RoleCredentials } from "./iam-policy";
import { listenOnLoopback } from "./loopback-server";

/** The address of the instance metadata service on every EC2 instance. */
export const instanceMetadataAddress = "169.254.169.254";

/** What one instance's metadata says. */
export interface InstanceMetadataSource {
    instanceId: string;
    /** The instance's tags, read at each request; undefined unless its tags are in its metadata (`instanceMetadataTags`). */
    tags(): Promise<Record<string, string> | undefined>;
    /**
     * The instance profile's role and its current temporary credentials, read
     * at each request (so a rotation shows at once); undefined, or no such
     * method, for an instance without an instance profile.
     */
    credentials?(): Promise<RoleCredentials | undefined>;
}

/**
 * A TLS stand-in on loopback that the proxy opens CONNECT tunnels to, for the
 * names it plays; the client's TLS runs end to end through the tunnel, so the
 * name it checks is the one in its URL.
 */
export interface TunnelTarget {
    /** True if a `CONNECT host:port` is for this stand-in. */
    accepts(host: string, port: number): boolean;
    /** Where the stand-in's TLS listener is on loopback. */
    address: { host: string; port: number };
    /** What it plays, for the proxy's refusal of every other target, e.g. `S3 at BUCKET.s3.us-east-1.amazonaws.com:443`. */
    description: string;
}

/** What a node's proxy does besides answering for its metadata. */
export interface InstanceMetadataServiceOptions {
    /** TLS stand-ins the proxy tunnels to (the node's S3); every other CONNECT is refused. */
    tunnels?: readonly TunnelTarget[];
    /**
     * The TCP port ranges the node's security group lets it reach anywhere
     * (`nodeInternetPortsOf`): a tunnel to any other port is refused, as the
     * group would drop the connection on EC2. Default: every port.
     */
    egressTcpPorts?: readonly PortRange[];
}

/** TCP ports `from` to `to`, both included. */
export interface PortRange {
    from: number;
    to: number;
}

/** One request the stand-in answered. */
export interface InstanceMetadataRequest {
    method: string;
    /** The request target as the client sent it (absolute form through a proxy; `host:port` for CONNECT). */
    target: string;
    status: number;
}

export interface InstanceMetadataService {
    /** `http://127.0.0.1:<port>`: the proxy a node's scripts reach their metadata through. */
    proxy: string;
    requests: InstanceMetadataRequest[];
    stop(): Promise<void>;
}

/**
 * The environment that sends a node script's curl to its metadata through
 * `proxy` and every loopback request (the members' addresses) direct. curl
 * reads only the lower-case `http_proxy`; its `no_proxy` takes CIDR ranges
 * since 7.86. `https_proxy` sends every HTTPS request to the same proxy, so
 * that one for a stand-in the node has (S3) reaches it under its real name,
 * and one for anything else is refused by name there instead of leaving the
 * test host.
 *
 * `caBundle`, when the node has TLS stand-ins, is the test CA their
 * certificates come from (test-certificates.ts), given to curl as
 * `CURL_CA_BUNDLE`: where a node's curl trusts the public CAs of its system
 * trust store, the node's scripts here trust that CA instead. It is the one
 * thing a script's HTTPS sees differently from a node's, and a script that
 * sets `CURL_CA_BUNDLE` or `--cacert` itself would not reach the stand-in.
 */
export function instanceMetadataProxyEnvironment(proxy: string, caBundle?: string): Record<string, string> {
    return { http_proxy: proxy, https_proxy: proxy, no_proxy: "127.0.0.0/8,localhost", ...(caBundle ? { CURL_CA_BUNDLE: caBundle } : {}) };
}

/** The longest token TTL the service grants: 6 hours. */
const maxTokenTtlSeconds = 21_600;
const tagsPath = "/latest/meta-data/tags/instance";
const credentialsPath = "/latest/meta-data/iam/security-credentials";

/** A time as the service writes it: seconds, no fraction. */
const metadataTime = (time: Date) => time.toISOString().replace(/\.\d{3}Z$/, "Z");

/** The credentials document as the real service sends it: one field a line, a space either side of each colon. */
function credentialsDocument(credentials: RoleCredentials): string {
    const fields: Array<[string, string]> = [
        ["Code", "Success"],
        ["LastUpdated", metadataTime(credentials.lastUpdated)],
        ["Type", "AWS-HMAC"],
        ["AccessKeyId", credentials.accessKeyId],
        ["SecretAccessKey", credentials.secretAccessKey],
        ["Token", credentials.sessionToken],
        ["Expiration", metadataTime(credentials.expiration)],
    ];
    return `{\n${fields.map(([name, value]) => `  ${JSON.stringify(name)} : ${JSON.stringify(value)}`).join(",\n")}\n}`;
}

/** The page the real service sends with an error status. */
function errorPage(status: number): string {
    const title = `${status} - ${http.STATUS_CODES[status]}`;
    return '<?xml version="1.0" encoding="iso-8859-1"?>\n' +
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n' +
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n' +
        ` <head>\n  <title>${title}</title>\n </head>\n <body>\n  <h1>${title}</h1>\n </body>\n</html>\n`;
}

const refusal = (target: string, tunnels: readonly TunnelTarget[]) => `the node's instance metadata stand-in answers only http://${instanceMetadataAddress}/ ` +
    `${tunnels.length > 0 ? `and tunnels only to ${tunnels.map((tunnel) => tunnel.description).join(", ")}; it ` : "and "}` +
    `forwards nothing: ${target} refused\n`;

const describeRange = (range: PortRange) => (range.from === range.to ? `${range.from}` : `${range.from}-${range.to}`);

/** The host and port of a CONNECT target (`host:port`, `[v6]:port`), or undefined if it is not one. */
function connectTarget(target: string): { host: string; port: number } | undefined {
    const match = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(target);
    return match ? { host: match[1].toLowerCase(), port: Number(match[2]) } : undefined;
}

/** The absolute-form target of a request for the metadata service, or undefined for any other target. */
function metadataUrl(target: string): URL | undefined {
    try {
        const url = new URL(target);
        return url.protocol === "http:" && url.hostname === instanceMetadataAddress && url.port === "" ? url : undefined;
    } catch {
        // An origin-form target (`/latest/...`) came straight to the proxy, not through it.
        return undefined;
    }
}

/** Starts one node's stand-in on 127.0.0.1 (a free port). */
export async function startInstanceMetadataService(
    source: InstanceMetadataSource, options: InstanceMetadataServiceOptions = {},
): Promise<InstanceMetadataService> {
    const tunnels = options.tunnels ?? [];
    const requests: InstanceMetadataRequest[] = [];
    /** Issued tokens and when each expires (epoch ms). */
    const tokens = new Map<string, number>();

    /** The value at a metadata path, or undefined where there is none. */
    const lookUp = async (pathname: string): Promise<string | undefined> => {
        if (pathname === "/latest/meta-data/instance-id") {
            return source.instanceId;
        }
        if (pathname === credentialsPath || pathname.startsWith(`${credentialsPath}/`)) {
            const credentials = await source.credentials?.();
            const role = pathname.slice(credentialsPath.length + 1);
            // The listing names the one role an instance profile holds; the role's path, its credentials.
            return credentials === undefined ? undefined
                : role === "" ? credentials.roleName : role === credentials.roleName ? credentialsDocument(credentials) : undefined;
        }
        if (pathname !== tagsPath && !pathname.startsWith(`${tagsPath}/`)) {
            return undefined;
        }
        const tags = await source.tags();
        if (tags === undefined) {
            return undefined;
        }
        const key = pathname.slice(tagsPath.length + 1);
        return key === "" ? Object.keys(tags).join("\n") : Object.hasOwn(tags, key) ? tags[key] : undefined;
    };

    const answer = async (request: http.IncomingMessage, url: URL): Promise<{ status: number; body?: string; headers?: Record<string, string> }> => {
        if (url.pathname === "/latest/api/token") {
            if (request.method !== "PUT") {
                return { status: 405 };
            }
            // The service gives no token to a request that came through a proxy: what an open proxy would relay.
            if (request.headers["x-forwarded-for"] !== undefined) {
                return { status: 403 };
            }
            const ttl = String(request.headers["x-aws-ec2-metadata-token-ttl-seconds"] ?? "");
            if (!/^\d+$/.test(ttl) || Number(ttl) < 1 || Number(ttl) > maxTokenTtlSeconds) {
                return { status: 400 };
            }
            const token = crypto.randomBytes(42).toString("base64");
            tokens.set(token, Date.now() + Number(ttl) * 1000);
            return { status: 200, body: token, headers: { "x-aws-ec2-metadata-token-ttl-seconds": ttl } };
        }
        if (request.method !== "GET") {
            return { status: 405 };
        }
        const expiresAt = tokens.get(String(request.headers["x-aws-ec2-metadata-token"] ?? ""));
        if (expiresAt === undefined || Date.now() >= expiresAt) {
            return { status: 401 };
        }
        const value = await lookUp(url.pathname);
        return value === undefined ? { status: 404 } : { status: 200, body: value };
    };

    const server = http.createServer((request, response) => {
        const target = request.url ?? "";
        const record = (status: number) => requests.push({ method: request.method ?? "", target, status });
        const url = metadataUrl(target);
        if (!url) {
            record(403);
            response.writeHead(403, { "content-type": "text/plain" });
            response.end(refusal(target, tunnels));
            return;
        }
        void answer(request, url).then(
            ({ status, body, headers }) => {
                record(status);
                response.writeHead(status, { "content-type": status === 200 ? "text/plain" : "text/html", ...headers });
                response.end(body ?? errorPage(status));
            },
            (error: Error) => {
                record(500);
                response.writeHead(500, { "content-type": "text/plain" });
                response.end(`${error.message}\n`);
            },
        );
    });
    /** Open tunnels, ended with the service: a tunnel's sockets are no longer the HTTP server's to close. */
    const tunnelSockets = new Set<net.Socket>();
    // A tunnel would carry anything anywhere: refused, but to a TLS stand-in the node was given.
    server.on("connect", (request: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
        const target = request.url ?? "";
        socket.on("error", () => undefined);
        const parsed = connectTarget(target);
        const tunnel = parsed && tunnels.find((candidate) => candidate.accepts(parsed.host, parsed.port));
        const refuse = (body: string) => {
            requests.push({ method: "CONNECT", target, status: 403 });
            socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        };
        if (!tunnel) {
            refuse(refusal(`CONNECT ${target}`, tunnels));
            return;
        }
        const egress = options.egressTcpPorts;
        if (egress && !egress.some((range) => parsed.port >= range.from && parsed.port <= range.to)) {
            refuse(`CONNECT ${target} refused: the node's security group lets it reach TCP ${egress.map(describeRange).join(", ") || "no port"} ` +
                `outside the VPC, not ${parsed.port}\n`);
            return;
        }
        const upstream = net.connect(tunnel.address.port, tunnel.address.host);
        for (const end of [socket, upstream]) {
            tunnelSockets.add(end);
            end.on("close", () => tunnelSockets.delete(end));
        }
        let connected = false;
        upstream.on("error", () => {
            if (!connected) {
                // The stand-in is gone (stopped before the node): a proxy's answer for an upstream it cannot reach.
                requests.push({ method: "CONNECT", target, status: 502 });
                socket.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        socket.on("close", () => upstream.destroy());
        upstream.on("close", () => connected && socket.destroy());
        upstream.once("connect", () => {
            connected = true;
            requests.push({ method: "CONNECT", target, status: 200 });
            socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
            if (head.length > 0) {
                upstream.write(head);
            }
            socket.pipe(upstream);
            upstream.pipe(socket);
        });
    });
    const loopback = await listenOnLoopback(server);
    return {
        proxy: loopback.url,
        requests,
        stop: async () => {
            for (const socket of tunnelSockets) {
                socket.destroy();
            }
            await loopback.stop();
        },
    };
}
