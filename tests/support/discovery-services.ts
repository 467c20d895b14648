/**
 * Discovery services for tests, all on 127.0.0.1: small HTTP servers that
 * answer the way a broken or overloaded service does, a port that refuses
 * connections, and Debian's real `etcd-discovery` (the server behind
 * discovery.etcd.io) with its own etcd store.
 */
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { startDiscoveryService } from "../../local/discovery-server";
import { ProcessGroup } from "../../local/processes";
import { requireHostEtcd } from "../../local/system-tools";

export type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

export interface FakeService {
    /** `http://127.0.0.1:<port>` */
    base: string;
    /** The path and query of every request, in order. */
    requests: string[];
    close(): Promise<void>;
}

/** A service that answers each request with the next handler (the last one repeats). */
export async function fakeService(...handlers: Handler[]): Promise<FakeService> {
    const requests: string[] = [];
    const server = http.createServer((request, response) => {
        requests.push(request.url ?? "");
        handlers[Math.min(requests.length, handlers.length) - 1](request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        base: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
        requests,
        // Drops the connections a hanging handler left open, so close() never waits on them.
        close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    };
}

/** Answers with `status` and a text body. */
export const answerWith = (status: number, body: string): Handler => (_request, response) => {
    response.writeHead(status, { "Content-Type": "text/plain" });
    response.end(body);
};

/** Never answers (the connection stays open until the service is closed). */
export const neverAnswer: Handler = () => undefined;

/** A loopback URL nothing listens on: the port was free a moment ago, so a connection is refused. */
export async function refusingService(): Promise<string> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return `http://127.0.0.1:${port}`;
}

/** Bound on starting the real service (its etcd store first); it takes under a second on a quiet machine. */
const realServiceStartMs = 30_000;

/**
 * Starts Debian's etcd-discovery and its store before the suite's tests and
 * stops both (SIGTERM, bounded wait, SIGKILL) and removes their files after
 * them, even if the start failed halfway. Returns a getter for the service's
 * base URL. Needs `etcd` (3.5) on PATH and the `etcd-discovery` package, as
 * `scripts/setup.sh` installs them; without them the suite fails saying so.
 */
export function useRealDiscoveryService(): () => string {
    let url: string | undefined;
    let processes: ProcessGroup | undefined;
    let workDir: string | undefined;
    before(async function () {
        this.timeout(realServiceStartMs + 15_000);
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-discovery-service-"));
        processes = new ProcessGroup();
        url = await startDiscoveryService({
            address: "127.0.0.1", workDir, etcd: requireHostEtcd(), processes, timeoutMs: realServiceStartMs,
        });
    });
    after(async function () {
        this.timeout(30_000);
        await processes?.stopAll(5_000);
        if (workDir) {
            fs.rmSync(workDir, { recursive: true, force: true });
        }
    });
    return () => {
        if (!url) {
            throw new Error("the real discovery service did not start");
        }
        return url;
    };
}
