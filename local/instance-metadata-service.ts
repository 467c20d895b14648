/**
 * A stand-in for one node's instance metadata service, IMDSv2 with
 * `httpTokens: required` as the component's instances have it, reached as a
 * node's scripts reach the real one: at http://169.254.169.254. Tests use
 * loopback addresses only, so it is an HTTP proxy on a loopback port: a node's
 * scripts keep the real URL and their curl goes through the proxy
 * (`instanceMetadataProxyEnvironment`), while `no_proxy` keeps every loopback
 * request direct. It answers only requests for 169.254.169.254 and forwards
 * nothing: any other target, and any CONNECT tunnel, is refused with 403.
 *
 * Played: `PUT /latest/api/token` (a TTL of 1 to 21600 s in
 * `X-aws-ec2-metadata-token-ttl-seconds`), and with a token it issued and that
 * has not expired, `GET /latest/meta-data/instance-id`,
 * `/latest/meta-data/tags/instance` (the keys, one a line; empty for an
 * instance without tags) and `/latest/meta-data/tags/instance/KEY`, the tags
 * read from the model at each request. Never kinder than AWS: a GET without a
 * valid token is 401, a token request with `X-Forwarded-For` (a proxy's) is
 * 403, the tags are 404 unless the instance has them in its metadata
 * (`instanceMetadataTags`), any other path is 404 (what the real service has
 * there is not played), a wrong method is 405, and every error comes with the
 * HTML page the real service sends, which a script that forgets `curl -f`
 * would take for the value.
 */
import * as crypto from "crypto";
import * as http from "http";
import { listenOnLoopback } from "./loopback-server";

/** The address of the instance metadata service on every EC2 instance. */
export const instanceMetadataAddress = "169.254.169.254";

/** What one instance's metadata says. */
export interface InstanceMetadataSource {
    instanceId: string;
    /** The instance's tags, read at each request; undefined unless its tags are in its metadata (`instanceMetadataTags`). */
    tags(): Promise<Record<string, string> | undefined>;
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
 * since 7.86.
 */
export function instanceMetadataProxyEnvironment(proxy: string): Record<string, string> {
    return { http_proxy: proxy, no_proxy: "127.0.0.0/8,localhost" };
}

/** The longest token TTL the service grants: 6 hours. */
const maxTokenTtlSeconds = 21_600;
const tagsPath = "/latest/meta-data/tags/instance";

/** The page the real service sends with an error status. */
function errorPage(status: number): string {
    const title = `${status} - ${http.STATUS_CODES[status]}`;
    return '<?xml version="1.0" encoding="iso-8859-1"?>\n' +
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n' +
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n' +
        ` <head>\n  <title>${title}</title>\n </head>\n <body>\n  <h1>${title}</h1>\n </body>\n</html>\n`;
}

const refusal = (target: string) => `the node's instance metadata stand-in answers only http://${instanceMetadataAddress}/ ` +
    `and forwards nothing: ${target} refused\n`;

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
export async function startInstanceMetadataService(source: InstanceMetadataSource): Promise<InstanceMetadataService> {
    const requests: InstanceMetadataRequest[] = [];
    /** Issued tokens and when each expires (epoch ms). */
    const tokens = new Map<string, number>();

    /** The value at a metadata path, or undefined where there is none. */
    const lookUp = async (pathname: string): Promise<string | undefined> => {
        if (pathname === "/latest/meta-data/instance-id") {
            return source.instanceId;
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
            response.end(refusal(target));
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
    // A tunnel would carry anything anywhere: refused, whatever its target.
    server.on("connect", (request: http.IncomingMessage, socket) => {
        requests.push({ method: "CONNECT", target: request.url ?? "", status: 403 });
        const body = refusal(`CONNECT ${request.url}`);
        socket.on("error", () => undefined);
        socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    const loopback = await listenOnLoopback(server);
    return { proxy: loopback.url, requests, stop: loopback.stop };
}
