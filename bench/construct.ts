/**
 * One measurement of the program's cost: constructs an Etcd3Cluster of the
 * given size under the tests' Pulumi mocks, waits for every registration, and
 * prints {size, ms, heapBytes, resources} as JSON. Run in a fresh process per
 * measurement (with --expose-gc) so that sizes do not share a heap.
 */
import { installMocks, registered, settle } from "../tests/support/pulumi-mocks";

async function main(): Promise<void> {
    const size = Number(process.argv[2]);
    installMocks();
    // Loading the SDKs costs the same for every size; it is not the component's cost.
    const { Etcd3Cluster } = await import("../lib");
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = process.hrtime.bigint();
    new Etcd3Cluster("bench", { clusterSize: size, discoveryLogFile: false });
    await settle();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    gc?.();
    const heapBytes = process.memoryUsage().heapUsed - heapBefore;
    process.stdout.write(`${JSON.stringify({ size, ms, heapBytes, resources: registered.length })}\n`);
}

main().catch((error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
});
