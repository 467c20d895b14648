/**
 * What the loopback stand-ins of AWS services (local/ec2-api.ts,
 * local/elb-api.ts, local/instance-metadata-service.ts) share: an HTTP server
 * on 127.0.0.1 that stops at once, and for the APIs spoken in AWS's Query
 * protocol, the reading of a request and the sending of its XML answer.
 */
import * as http from "http";
import { AddressInfo } from "net";

/** A server listening on loopback. */
export interface LoopbackServer {
    /** `http://127.0.0.1:<port>`. */
    url: string;
    /** Closes the server and every connection it holds, kept-alive ones included. */
    stop(): Promise<void>;
}

/** Starts `server` listening on 127.0.0.1 (a free port unless given); rejects if it cannot. */
export async function listenOnLoopback(server: http.Server, port = 0): Promise<LoopbackServer> {
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => resolve());
    });
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        stop: () => new Promise<void>((resolve) => {
            // An SDK client keeps its connections alive: close() alone would wait for them.
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}

/** An HTTP status and the XML body that goes with it. */
export interface QueryApiReply {
    status: number;
    body: string;
}

/** How one AWS Query-protocol API answers; each keeps its own error format, which the AWS SDK parses per service. */
export interface QueryApi {
    /** The content type of every answer, as the real API sends it. */
    contentType: string;
    /** The API's refusal of a request without a SigV4 Authorization header. */
    unsigned(): QueryApiReply;
    /** The answer to a signed request, given its form-encoded parameters; may throw. */
    answer(form: URLSearchParams): Promise<QueryApiReply>;
    /** The answer when `answer` threw. */
    failure(error: Error): QueryApiReply;
}

/**
 * The request listener of a Query-protocol API: it reads the form body, refuses
 * an unsigned request (never kinder than AWS), and sends the API's answer.
 */
export function queryApiListener(api: QueryApi): http.RequestListener {
    return (request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
            void (async () => {
                let reply: QueryApiReply;
                if (!String(request.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 Credential=")) {
                    reply = api.unsigned();
                } else {
                    try {
                        reply = await api.answer(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
                    } catch (error) {
                        reply = api.failure(error as Error);
                    }
                }
                response.writeHead(reply.status, { "content-type": api.contentType });
                response.end(reply.body);
            })();
        });
    };
}
