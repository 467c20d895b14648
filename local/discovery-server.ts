/**
 * A real etcd discovery service on loopback: Debian's `etcd-discovery` (the
 * server behind discovery.etcd.io) backed by an etcd of its own with the v2
 * API, which is where the discovery service keeps its tokens.
 */
import * as fs from "fs";
import * as path from "path";
import { freePort } from "./cluster-registry";
import { answersOk } from "./http";
import { ProcessGroup, waitUntil } from "./processes";
import { HostEtcd, requireTool } from "./system-tools";

export interface DiscoveryServiceOptions {
    /** Loopback address the service and its store listen on (on ports picked free). */
    address: string;
    /** Directory for the store's data and both logs. */
    workDir: string;
    etcd: HostEtcd;
    /** Owns the processes, so they are stopped with the cluster even if this fails halfway. */
    processes: ProcessGroup;
    timeoutMs?: number;
}

/**
 * Starts the store, then the service, and resolves to the service's base URL
 * (`GET {url}/new?size=N` hands out tokens; `url` also prefixes every
 * discovery URL) once it answers.
 */
export async function startDiscoveryService(options: DiscoveryServiceOptions): Promise<string> {
    const serviceBinary = requireTool("discoveryService");
    const timeoutMs = options.timeoutMs ?? 30_000;
    const directory = path.join(options.workDir, "discovery");
    fs.mkdirSync(directory, { recursive: true });
    const storeUrl = `http://${options.address}:${await freePort(options.address)}`;
    const peerUrl = `http://${options.address}:${await freePort(options.address)}`;
    const serviceAddress = `${options.address}:${await freePort(options.address)}`;
    const url = `http://${serviceAddress}`;

    const store = options.processes.start({
        name: "discovery-store",
        command: options.etcd.path,
        args: [
            "--name=discovery-store",
            `--data-dir=${path.join(directory, "store")}`,
            `--listen-client-urls=${storeUrl}`,
            `--advertise-client-urls=${storeUrl}`,
            `--listen-peer-urls=${peerUrl}`,
            `--initial-advertise-peer-urls=${peerUrl}`,
            `--initial-cluster=discovery-store=${peerUrl}`,
            // The discovery service keeps its tokens through the v2 keys API.
            "--enable-v2=true",
        ],
        // ETCD_* variables in the caller's environment would configure it too.
        env: {},
        logFile: path.join(directory, "store.log"),
    });
    await waitUntil(() => answersOk(`${storeUrl}/health`), {
        description: "the discovery service's etcd store to be healthy",
        timeoutMs,
        failFast: () => ProcessGroup.firstExit([store]),
    });

    const service = options.processes.start({
        name: "discovery-service",
        command: serviceBinary,
        args: ["--addr", serviceAddress, "--etcd", storeUrl, "--host", url],
        logFile: path.join(directory, "service.log"),
    });
    await waitUntil(() => answersOk(`${url}/health`), {
        description: "the discovery service to answer /health",
        timeoutMs,
        failFast: () => ProcessGroup.firstExit([store, service]),
    });
    return url;
}
