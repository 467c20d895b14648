/**
 * Pulumi mocks shared by every test that builds the component: records each
 * registered resource and answers the data-source calls the component makes.
 * Installed once per process, before any resource is constructed.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RegisteredResource {
    type: string;
    name: string;
    inputs: any;
}

export const registered: RegisteredResource[] = [];
export const calls: pulumi.runtime.MockCallArgs[] = [];
export const fakeDiscoveryUrl = "https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e";
export const existingVpcCidr = "10.50.0.0/16";

let loadBalancerGate: Promise<void> = Promise.resolve();

/** Holds every load balancer's creation until the returned function is called. */
export function holdLoadBalancers(): () => void {
    let release!: () => void;
    loadBalancerGate = new Promise((resolve) => { release = resolve; });
    return () => { release(); loadBalancerGate = Promise.resolve(); };
}

function stateFor(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
    switch (args.type) {
        case "awsx:ec2:Vpc":
            return {
                vpcId: `vpc-${args.name}`,
                publicSubnetIds: ["a", "b", "c"].map((zone) => `subnet-public-${zone}`),
                privateSubnetIds: ["a", "b", "c"].map((zone) => `subnet-private-${zone}`),
            };
        case "aws:ec2/instance:Instance":
            return { privateIp: `10.99.${registered.filter((r) => r.type === args.type).length}.10` };
        case "aws:lb/loadBalancer:LoadBalancer":
            return { dnsName: `${args.name}-1234567890.eu-west-2.elb.amazonaws.com`, zoneId: "ZHURV8PSTC4K8", arn: `arn:aws:elasticloadbalancing:eu-west-2:123456789012:loadbalancer/app/${args.name}` };
        case "aws:lb/targetGroup:TargetGroup":
            return { arn: `arn:aws:elasticloadbalancing:eu-west-2:123456789012:targetgroup/${args.name}` };
        case "aws:route53/record:Record":
            return { fqdn: args.inputs.name };
        default:
            return args.type.startsWith("pulumi-nodejs:dynamic") ? { url: fakeDiscoveryUrl } : {};
    }
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
            registered.push({ type: args.type, name: args.name, inputs: args.inputs });
            if (args.type === "aws:lb/loadBalancer:LoadBalancer") {
                await loadBalancerGate;
            }
            return { id: `${args.name}-id`, state: { ...args.inputs, ...stateFor(args) } };
        },
        call(args) {
            calls.push(args);
            switch (args.token) {
                case "aws:ec2/getAmi:getAmi":
                    return { id: "ami-0123456789abcdef0", name: "fedora-coreos-43.20261101.3.0-x86_64" };
                case "aws:ec2/getVpc:getVpc":
                    return { id: args.inputs.id, cidrBlock: existingVpcCidr };
                default:
                    return args.inputs;
            }
        },
    }, "etcd3-cluster", "test", false);
}

/** The value an output settles on. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
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

/** Waits until every resource registration started so far has gone through the mocks. */
export async function settle(): Promise<void> {
    // The SDK's own drain of outstanding RPCs, as `pulumi up` uses before exiting.
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs();
}
