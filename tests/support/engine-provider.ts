/**
 * Runs a dynamic resource's provider the way `pulumi up` does, so tests see
 * what the engine sees.
 *
 * The engine never runs the provider object the program built. It stores the
 * serialized closure as the resource's `__provider` input, starts Pulumi's
 * dynamic-provider host (`pulumi-resource-pulumi-nodejs`, i.e. `node
 * @pulumi/pulumi/cmd/dynamic-provider <engine>`) with the program's directory
 * as its working directory (`cmd.Dir = ctx.Pwd` in the engine's ExecPlugin),
 * and calls it over gRPC. The host loads the provider with
 * `requireFromString(props.__provider).handler()`, with no file name, so the
 * provider's `require`s are looked up from that working directory, and it
 * passes back only `error.message` when a call fails.
 *
 * This module does the same: it starts that very host script (resolved from
 * the program directory, as the plugin's launcher script does) in a program
 * directory of the test's choosing and sends it the engine's requests: Check
 * then Create for a new resource, Check then Diff or Update for a changed
 * one. The inputs are the ones the Pulumi mocks received for a dynamic
 * resource the test constructed, `__provider` included.
 *
 * A suite gets one host for all its tests from useEngineProviderHost, declares
 * its resources with a dynamicResourceDeclarer, and reads a refused call's
 * message with failureOf.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type * as grpcTypes from "@grpc/grpc-js";
import type * as providerGrpcTypes from "@pulumi/pulumi/proto/provider_grpc_pb";
import type * as providerProtoTypes from "@pulumi/pulumi/proto/provider_pb";
import type * as structTypes from "google-protobuf/google/protobuf/struct_pb";
import { expect } from "chai";
import { registered, settle } from "./pulumi-mocks";

/** A resource's property bag, as it crosses the engine's gRPC boundary. */
export type Properties = Record<string, any>;

/** The host's Diff answer, in the dynamic provider's terms. */
export interface EngineDiff {
    /** true: DIFF_SOME, false: DIFF_NONE, undefined: DIFF_UNKNOWN. */
    changes: boolean | undefined;
    replaces: string[];
    deleteBeforeReplace: boolean;
}

const pulumiDirectory = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
/** The host's own dependencies, taken from where the host takes them, so messages are built by the same classes. */
function fromPulumi<T>(id: string): T {
    return require(require.resolve(id, { paths: [pulumiDirectory] })) as T;
}
const grpc = fromPulumi<typeof grpcTypes>("@grpc/grpc-js");
const providerGrpc = fromPulumi<typeof providerGrpcTypes>("@pulumi/pulumi/proto/provider_grpc_pb");
const providerProto = fromPulumi<typeof providerProtoTypes>("@pulumi/pulumi/proto/provider_pb");
const { Struct } = fromPulumi<typeof structTypes>("google-protobuf/google/protobuf/struct_pb");

/** A dynamic resource as the engine received it from the program. */
export interface EngineResource {
    urn: string;
    /** The inputs, with the serialized provider as `__provider`. */
    inputs: Properties;
}

/**
 * The dynamic resource `name` of type `<module>:<type>` (e.g.
 * `etcd3-cluster:DiscoveryUrl`) as the mocks received it; call after `settle()`.
 */
export function registeredDynamicResource(moduleAndType: string, name: string): EngineResource {
    const type = `pulumi-nodejs:dynamic/${moduleAndType}`;
    const found = registered.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) {
        throw new Error(`expected one registered ${type} named ${name}, found ${found.length}`);
    }
    if (typeof found[0].inputs.__provider !== "string") {
        throw new Error(`${type} ${name} reached the engine without a serialized __provider`);
    }
    return { urn: `urn:pulumi:test::etcd3-cluster::${type}::${name}`, inputs: found[0].inputs };
}

/**
 * A function that declares a dynamic resource in the mocked program and
 * returns it as the engine received it: `construct(name, ...args)` builds it
 * under a fresh name (`<prefix>-1`, `<prefix>-2`, ...), then the mocks settle
 * and the resource `<module>:<type>` of that name is looked up (see
 * registeredDynamicResource).
 */
export function dynamicResourceDeclarer<Args extends unknown[]>(
    moduleAndType: string, prefix: string, construct: (name: string, ...args: Args) => unknown,
): (...args: Args) => Promise<EngineResource> {
    let count = 0;
    return async (...args: Args) => {
        const name = `${prefix}-${++count}`;
        construct(name, ...args);
        await settle();
        return registeredDynamicResource(moduleAndType, name);
    };
}

/** The rejection's message (what the engine prints), or a failed assertion if the call succeeded. */
export async function failureOf(promise: Promise<unknown>): Promise<string> {
    const outcome = await promise.then(() => undefined, (error: Error) => error);
    expect(outcome, "the call succeeded").to.be.instanceOf(Error);
    return outcome!.message;
}

/**
 * A directory standing in for a Pulumi program's: `node_modules` holds
 * `@pulumi/pulumi` (every Pulumi program has it; the host is started from
 * it) and nothing else, so a provider that requires any other package fails
 * here as it would in a program that lacks it or holds another version.
 */
export function makeProgramDirectory(options: { packages?: string[] } = {}): { directory: string; remove: () => void } {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-program-"));
    try {
        fs.mkdirSync(path.join(directory, "node_modules", "@pulumi"), { recursive: true });
        fs.symlinkSync(pulumiDirectory, path.join(directory, "node_modules", "@pulumi", "pulumi"), "dir");
        // Packages npm hoists next to @pulumi/pulumi when the program installs this one (its dependencies).
        for (const name of options.packages ?? []) {
            const target = path.join(directory, "node_modules", name);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.symlinkSync(path.dirname(require.resolve(`${name}/package.json`)), target, "dir");
        }
    } catch (error) {
        fs.rmSync(directory, { recursive: true, force: true });
        throw error;
    }
    return { directory, remove: () => fs.rmSync(directory, { recursive: true, force: true }) };
}

/** How long a host gets to print its port, each call gets to answer, and a stopped host gets to exit. */
export interface HostTimeouts {
    startMs: number;
    callMs: number;
    stopMs: number;
}

const defaultTimeouts: HostTimeouts = { startMs: 20_000, callMs: 15_000, stopMs: 5_000 };

/**
 * The environment for a host: this process's, without any AWS setting (no
 * credentials, profile or region of the machine's user can reach a provider
 * under test), with `extra` on top. The rest is kept: a mutation run's
 * NODE_OPTIONS preload must reach the host (see mutation/stryker-namespace.cjs).
 */
export function hostEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const kept = Object.entries(process.env).filter(([name]) => !name.startsWith("AWS_"));
    return { ...Object.fromEntries(kept), ...extra };
}

/**
 * An environment in which the AWS SDK finds no credentials: hostEnvironment's
 * (no AWS setting), no instance metadata, and HOME at `home`, a directory
 * without `.aws` config or credentials files.
 */
export function credentiallessEnvironment(home: string): NodeJS.ProcessEnv {
    return hostEnvironment({ AWS_EC2_METADATA_DISABLED: "true", HOME: home });
}

/** Pulumi's dynamic-provider host, running in a program directory, and a gRPC client of it. */
export class EngineProviderHost {
    private constructor(
        private readonly child: ChildProcess,
        private readonly client: providerGrpcTypes.ResourceProviderClient,
        private readonly timeouts: HostTimeouts,
        private readonly output: { stderr: string },
        readonly programDirectory: string,
    ) {}

    /**
     * Starts the host with `programDirectory` as its working directory and
     * resolves once it listens. The process is stopped again if it does not
     * come up in time.
     */
    static async start(programDirectory: string, timeouts: Partial<HostTimeouts> = {}, env: NodeJS.ProcessEnv = process.env): Promise<EngineProviderHost> {
        const bounds = { ...defaultTimeouts, ...timeouts };
        // What pulumi-resource-pulumi-nodejs runs: `node -e "require.resolve('@pulumi/pulumi/cmd/dynamic-provider')"` from its cwd.
        const hostScript = require.resolve("@pulumi/pulumi/cmd/dynamic-provider", { paths: [programDirectory] });
        // The one argument is the engine's address; the host dials it only for calls these tests never make.
        const child = spawn(process.execPath, [hostScript, "127.0.0.1:1"], {
            cwd: programDirectory,
            env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        const output = { stderr: "" };
        child.stderr!.setEncoding("utf8");
        child.stderr!.on("data", (text: string) => { output.stderr += text; });
        try {
            const port = await readPort(child, bounds.startMs, () => output.stderr);
            const client = new providerGrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
            return new EngineProviderHost(child, client, bounds, output, programDirectory);
        } catch (error) {
            await stopChild(child, bounds.stopMs);
            throw error;
        }
    }

    /** What the host wrote to stderr so far (the engine shows it to the user): provider warnings, stack traces. */
    stderr(): string {
        return this.output.stderr;
    }

    /**
     * Waits, at most `timeoutMs`, until the host's stderr contains `text`, and returns it all. The host writes
     * stderr on a pipe of its own, so a warning can arrive after the answer of the call that printed it.
     */
    async stderrContaining(text: string, timeoutMs = 5_000): Promise<string> {
        const deadline = Date.now() + timeoutMs;
        while (!this.output.stderr.includes(text) && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return this.output.stderr;
    }

    /** `pulumi up` for a new resource: Check, then Create with the checked inputs. Resolves to the state the engine keeps. */
    async create(resource: EngineResource): Promise<{ id: string; outs: Properties }> {
        const checked = await this.check(resource, {});
        const request = new providerProto.CreateRequest();
        request.setUrn(resource.urn);
        request.setProperties(Struct.fromJavaScript(checked));
        const response = await this.call<providerProtoTypes.CreateResponse>("create", request);
        return { id: response.getId(), outs: response.getProperties()!.toJavaScript() };
    }

    /**
     * `pulumi preview` or `up` for an existing resource: Check the program's
     * new inputs, then Diff them against the state (`olds`: the outputs the
     * engine kept for `id`).
     */
    async diff(resource: EngineResource, id: string, olds: Properties): Promise<EngineDiff> {
        const checked = await this.check(resource, olds);
        const request = new providerProto.DiffRequest();
        request.setUrn(resource.urn);
        request.setId(id);
        request.setOlds(Struct.fromJavaScript(olds));
        request.setNews(Struct.fromJavaScript(checked));
        const response = await this.call<providerProtoTypes.DiffResponse>("diff", request);
        const changes = response.getChanges();
        const kinds = providerProto.DiffResponse.DiffChanges;
        return {
            changes: changes === kinds.DIFF_SOME ? true : changes === kinds.DIFF_NONE ? false : undefined,
            replaces: response.getReplacesList(),
            deleteBeforeReplace: response.getDeletebeforereplace(),
        };
    }

    /** `pulumi up` after a Diff with changes and no replacement: Check, then Update. Resolves to the new state. */
    async update(resource: EngineResource, id: string, olds: Properties): Promise<Properties> {
        const checked = await this.check(resource, olds);
        const request = new providerProto.UpdateRequest();
        request.setUrn(resource.urn);
        request.setId(id);
        request.setOlds(Struct.fromJavaScript(olds));
        request.setNews(Struct.fromJavaScript(checked));
        const response = await this.call<providerProtoTypes.UpdateResponse>("update", request);
        return response.getProperties()!.toJavaScript();
    }

    /** `pulumi up` deleting a resource (also the first half of a delete-before-replace): Delete with the state. */
    async delete(resource: EngineResource, id: string, olds: Properties): Promise<void> {
        const request = new providerProto.DeleteRequest();
        request.setUrn(resource.urn);
        request.setId(id);
        request.setProperties(Struct.fromJavaScript(olds));
        await this.call<unknown>("delete", request);
    }

    /** Closes the client and stops the host: SIGTERM, a bounded wait, then SIGKILL. */
    async stop(): Promise<void> {
        this.client.close();
        await stopChild(this.child, this.timeouts.stopMs);
    }

    /** The engine's Check; the host passes the news through when the provider defines no `check`, as ours do not. */
    private async check(resource: EngineResource, olds: Properties): Promise<Properties> {
        const request = new providerProto.CheckRequest();
        request.setUrn(resource.urn);
        request.setOlds(Struct.fromJavaScript(olds));
        request.setNews(Struct.fromJavaScript(resource.inputs));
        const response = await this.call<providerProtoTypes.CheckResponse>("check", request);
        const failures = response.getFailuresList().map((failure) => `${failure.getProperty()}: ${failure.getReason()}`);
        if (failures.length > 0) {
            throw new Error(`check failed: ${failures.join("; ")}`);
        }
        return response.getInputs()!.toJavaScript();
    }

    /** One unary call with a deadline; a failure rejects with exactly the message the engine would show. */
    private call<Response>(method: "check" | "create" | "diff" | "update" | "delete", request: unknown): Promise<Response> {
        return new Promise((resolve, reject) => {
            const deadline = new Date(Date.now() + this.timeouts.callMs);
            const unary = (this.client as any)[method].bind(this.client) as (
                request: unknown, metadata: grpcTypes.Metadata, options: grpcTypes.CallOptions,
                callback: (error: grpcTypes.ServiceError | null, response: Response) => void) => void;
            unary(request, new grpc.Metadata(), { deadline }, (error, response) => {
                if (error) {
                    // `details` is the provider's error.message as the host sent it; the engine prints that.
                    reject(error.code === grpc.status.UNKNOWN ? new Error(error.details) : error);
                } else {
                    resolve(response);
                }
            });
        });
    }
}

/** AWS's documented example key pair: credentials the SDK signs with, which a stand-in API checks are there, as AWS would. */
export const exampleAwsCredentials: NodeJS.ProcessEnv = {
    AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

/** A suite's host, for its tests and for the hooks it registers after useEngineProviderHost's. */
export interface EngineProviderHostFixture {
    /** The running host; reading it before the suite's `before` hooks ran throws. */
    readonly host: EngineProviderHost;
    /** The program directory the host runs in. */
    readonly programDirectory: string;
}

/**
 * Registers mocha hooks in the calling `describe`: `before` makes a program
 * directory holding `packages` (see makeProgramDirectory) and starts a host
 * there with the environment `environment` makes (default: this process's, as
 * EngineProviderHost.start takes it; hostEnvironment drops the AWS settings);
 * `after` stops the host and removes the directory, also when either failed to
 * come up. The environment is made when the host starts, not when the suite is
 * declared, so that it holds what the process's holds then (mutation testing
 * passes the active mutant and the running test to children that way).
 */
export function useEngineProviderHost(options: { packages?: string[]; environment?: () => NodeJS.ProcessEnv } = {}): EngineProviderHostFixture {
    let program: ReturnType<typeof makeProgramDirectory> | undefined;
    let host: EngineProviderHost | undefined;
    before(async function () {
        this.timeout(30_000);
        program = makeProgramDirectory({ packages: options.packages });
        host = await EngineProviderHost.start(program.directory, {}, options.environment?.());
    });
    after(async function () {
        this.timeout(15_000);
        await host?.stop();
        program?.remove();
    });
    const started = <T>(value: T | undefined): T => {
        if (value === undefined) {
            throw new Error("the engine provider host is not running: use it in tests and in hooks registered after useEngineProviderHost");
        }
        return value;
    };
    return {
        get host() { return started(host); },
        get programDirectory() { return started(program).directory; },
    };
}

/**
 * Starts a host for one test, in `programDirectory` or, without one, in a
 * fresh program directory holding only @pulumi/pulumi; runs `use` with it;
 * then stops the host and removes the fresh directory, whatever `use` did.
 */
export async function withEngineProviderHost<T>(
    options: { programDirectory?: string; environment?: NodeJS.ProcessEnv }, use: (host: EngineProviderHost) => Promise<T>,
): Promise<T> {
    const fresh = options.programDirectory === undefined ? makeProgramDirectory() : undefined;
    try {
        const host = await EngineProviderHost.start(options.programDirectory ?? fresh!.directory, {}, options.environment);
        try {
            return await use(host);
        } finally {
            await host.stop();
        }
    } finally {
        fresh?.remove();
    }
}

/** The first line the host prints is the port it listens on. */
function readPort(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<number> {
    return new Promise((resolve, reject) => {
        let stdout = "";
        const finish = (outcome: () => void) => {
            clearTimeout(timer);
            child.stdout!.removeAllListeners("data");
            child.removeListener("exit", onExit);
            outcome();
        };
        const timer = setTimeout(() => finish(() => reject(new Error(
            `the dynamic-provider host printed no port within ${timeoutMs} ms; stderr:\n${stderr()}`))), timeoutMs);
        const onExit = (code: number | null, signal: string | null) => finish(() => reject(new Error(
            `the dynamic-provider host exited (${signal ?? `code ${code}`}) before listening; stderr:\n${stderr()}`)));
        child.once("exit", onExit);
        child.stdout!.setEncoding("utf8");
        child.stdout!.on("data", (text: string) => {
            stdout += text;
            const newline = stdout.indexOf("\n");
            if (newline >= 0) {
                const port = Number(stdout.slice(0, newline).trim());
                finish(() => (Number.isInteger(port) && port > 0
                    ? resolve(port)
                    : reject(new Error(`the dynamic-provider host printed ${JSON.stringify(stdout.slice(0, newline))}, not a port`))));
            }
        });
    });
}

/** SIGTERM the child, wait up to `graceMs`, then SIGKILL it and wait for it to be gone. */
async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
        return;
    }
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), graceMs); }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
        child.kill("SIGKILL");
        await exited;
    }
}
