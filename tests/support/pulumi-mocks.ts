/**
 * Pulumi mocks shared by every test that builds the component: the package's
 * own `etcd3-cluster/testing` mocks (lib/testing.ts), so that what consumers
 * test with is what this suite runs on, plus a gate that can hold the load
 * balancers back. Installed once per process, before any resource is constructed.
 */
import * as pulumi from "@pulumi/pulumi";
import { Etcd3ClusterMockOptions, Etcd3ClusterMocks, MockedResource, outputValue } from "../../lib/testing";

export type RegisteredResource = MockedResource;

export const fakeDiscoveryUrl = "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e";
export const existingVpcCidr = "10.50.0.0/16";

/** A bucket of the user's in another region than the stack's, for backups to a named bucket. */
export const userBucketInOtherRegion = { name: "ops-etcd-snapshots", region: "us-east-2" };

const mockOptions: Etcd3ClusterMockOptions = {
    discoveryUrl: fakeDiscoveryUrl, vpcCidr: existingVpcCidr, region: "eu-west-2",
    bucketRegions: { [userBucketInOtherRegion.name]: userBucketInOtherRegion.region },
};
const mocks = new Etcd3ClusterMocks(mockOptions);

/** Plays, until called again with undefined, a stack created with `size` members (the founding record's answer). */
export function playFoundingClusterSize(size: number | undefined): void {
    mockOptions.foundingClusterSize = size;
}

/** Every resource registered so far. */
export const registered: RegisteredResource[] = mocks.resources;
/** Every function called so far. */
export const calls: pulumi.runtime.MockCallArgs[] = mocks.calls;

/**
 * Plays, until called again with undefined, the user's own mocks beside the
 * package's (e.g. key material for the TLS provider's resources).
 */
export function playUserMocks(userMocks: Etcd3ClusterMockOptions["mocks"]): void {
    mockOptions.mocks = userMocks;
}

let loadBalancerGate: Promise<void> = Promise.resolve();

/** Holds every load balancer's creation until the returned function is called. */
export function holdLoadBalancers(): () => void {
    let release!: () => void;
    loadBalancerGate = new Promise((resolve) => { release = resolve; });
    return () => { release(); loadBalancerGate = Promise.resolve(); };
}

let installed = false;

/** Installs the mocks; safe to call from every test file. */
export function installMocks(): void {
    if (installed) {
        return;
    }
    installed = true;
    pulumi.runtime.setMocks({
        async newResource(args) {
            if (args.type === "aws:lb/loadBalancer:LoadBalancer") {
                await loadBalancerGate;
            }
            const result = await mocks.newResource(args);
            return result;
        },
        call: (args) => mocks.call(args),
    }, "etcd3-cluster", "test", false);
}

/** The value an output settles on. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return outputValue(output) as Promise<T>;
}

/** What a component named `name` registered, optionally of one type. */
export function resourcesOf(name: string, type?: string): RegisteredResource[] {
    return registered.filter((r) => (r.name === name || r.name.startsWith(`${name}-`)) && (type === undefined || r.type === type));
}

let counter = 0;
/** A component name no other test has used (URNs must be unique in one mocked stack). */
export function uniqueName(): string {
    counter += 1;
    return `cluster${counter}`;
}

/** A child resource's options as the component passed them, with resources given by name. */
export interface ChildOptions {
    type: string;
    /** The options, with `parent` and `dependsOn` as resource names and `ignoreChanges` sorted. */
    options: Record<string, unknown>;
}

/**
 * Records the options the component gives each of its children: pass
 * `transformation` in the component's `transformations` (the SDK runs them
 * under mocks; the engine-side `transforms` do not run there), then read
 * `children` (child name → type and options; `everyChild` has each child,
 * for children that share a name across types). Keys the SDK itself adds to
 * every resource it constructs are left out: `version` (the provider
 * package's version) and, on load balancer types, the `aliases` that
 * @pulumi/aws adds for their old `elasticloadbalancingv2` tokens.
 */
export function recordChildOptions(): {
    transformation: pulumi.ResourceTransformation; children: Map<string, ChildOptions>; everyChild: (ChildOptions & { name: string })[]; order: string[];
} {
    const children = new Map<string, ChildOptions>();
    const everyChild: (ChildOptions & { name: string })[] = [];
    const order: string[] = [];
    const nameOf = (resource: unknown) => (resource as { __name?: string }).__name ?? "<unnamed resource>";
    const transformation: pulumi.ResourceTransformation = ({ type, name, opts }) => {
        order.push(type);
        if (type === "etcd3-cluster:index:Etcd3Cluster") {
            return undefined;
        }
        const options: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(opts)) {
            if (value === undefined || key === "version") {
                continue;
            }
            if (key === "aliases" && Array.isArray(value) && value.every((alias) =>
                Object.keys(alias).length === 1 && typeof alias.type === "string" && alias.type.startsWith("aws:elasticloadbalancingv2/"))) {
                continue;
            }
            if (key === "parent") {
                options.parent = nameOf(value);
            } else if (key === "dependsOn") {
                options.dependsOn = ([] as unknown[]).concat(value).map(nameOf);
            } else if (key === "ignoreChanges") {
                options.ignoreChanges = [...(value as string[])].sort();
            } else {
                options[key] = value;
            }
        }
        children.set(name, { type, options });
        everyChild.push({ name, type, options });
        return undefined;
    };
    return { transformation, children, everyChild, order };
}

/** Waits until every resource registration started so far has gone through the mocks; fails on anything they could not answer. */
export function settle(): Promise<void> {
    return mocks.settle();
}
