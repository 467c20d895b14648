/**
 * The etcd discovery token: requested from a discovery service once, when the
 * cluster is created, by a Pulumi dynamic resource that keeps it in state. The
 * request itself lives in discovery-request.ts, usable without the engine.
 */
import * as pulumi from "@pulumi/pulumi";
import { appendDiscoveryLog, DiscoveryRequestOptions, requestDiscoveryUrl } from "./discovery-request";

/**
 * The retry and timeout settings of the token request, as an input of the
 * {@link DiscoveryUrl} resource. Each one left out takes the default given in
 * {@link DiscoveryRequestOptions}.
 */
export type DiscoveryRequestSettings = Pick<DiscoveryRequestOptions, "attempts" | "timeoutMs" | "retryDelayMs">;

interface DiscoveryUrlInputs {
    size: number;
    service: string;
    logFile?: string;
    requestSettings?: DiscoveryRequestSettings;
}

interface DiscoveryUrlOutputs extends DiscoveryUrlInputs {
    url: string;
}

/**
 * Requests the token once, at create, and never again: a token is for the
 * size it was requested with, and members that formed a cluster with it never
 * look at it again, so a size or service change keeps the token with the size
 * and service it was requested with (the ClusterGuard resource decides whether
 * a size change is allowed at all). A change of log file only updates state;
 * request settings are ignored.
 */
export const discoveryUrlProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: DiscoveryUrlInputs): Promise<pulumi.dynamic.CreateResult> {
        const lines: string[] = ["[etcd3-cluster] requesting an etcd discovery url."];
        let url: string;
        try {
            url = await requestDiscoveryUrl(inputs.size, {
                ...inputs.requestSettings,
                service: inputs.service,
                log: (line) => lines.push(line),
            });
        } catch (error) {
            lines.push(`no discovery url: ${(error as Error).message}`);
            throw error;
        } finally {
            if (inputs.logFile) {
                // A relative path is the provider host's, whose working directory is the program's (see DiscoveryUrlArgs.logFile).
                try {
                    appendDiscoveryLog(inputs.logFile, lines);
                } catch (error) {
                    // The log is a courtesy: it must neither hide the request's own error nor waste a token.
                    console.warn(`etcd3-cluster: could not append to ${inputs.logFile}: ${(error as Error).message}`);
                }
            }
        }
        const outs: DiscoveryUrlOutputs = { ...inputs, url };
        return { id: url.slice(-32), outs };
    },
    async diff(_id: string, olds: DiscoveryUrlOutputs, news: DiscoveryUrlInputs): Promise<pulumi.dynamic.DiffResult> {
        // The token matters only to members that have yet to form the cluster: a new size or service
        // on a live stack must not request one the running members would never use.
        return { changes: olds.logFile !== news.logFile, replaces: [] };
    },
    async update(_id: string, olds: DiscoveryUrlOutputs, news: DiscoveryUrlInputs): Promise<pulumi.dynamic.UpdateResult> {
        // Only the log file can have changed (see diff): the token, and the size and service it was requested with, stay.
        return { outs: { ...news, size: olds.size, service: olds.service, url: olds.url } };
    },
};

export interface DiscoveryUrlArgs {
    /** The number of members the token is for. */
    size: pulumi.Input<number>;
    /** The discovery service's base URL. */
    service: pulumi.Input<string>;
    /**
     * File the request's facts are appended to, or undefined for none. Kept
     * in state as given: an absolute path, or a path relative to the Pulumi
     * program's working directory (the project directory, or its `main`
     * directory), resolved when the token is requested. That is where the
     * engine starts the provider host, so it is the directory the program
     * itself runs in.
     */
    logFile?: pulumi.Input<string>;
    /**
     * How hard to try for a token: attempts, per-request timeout, first retry
     * delay. The component never sets it, so stacks use the defaults and their
     * state holds no such key; tests set it to fail fast. `diff` ignores it:
     * changing it neither updates nor replaces the token.
     */
    requestSettings?: pulumi.Input<DiscoveryRequestSettings>;
}
/** A discovery URL requested once and kept in the stack's state. */
export class DiscoveryUrl extends pulumi.dynamic.Resource {
    declare public readonly url: pulumi.Output<string>;

    constructor(name: string, args: DiscoveryUrlArgs, opts?: pulumi.CustomResourceOptions) {
        super(discoveryUrlProvider, name, { ...args, url: undefined }, opts, "etcd3-cluster", "DiscoveryUrl");
    }
}
