/**
 * The warnings a piece of a test makes Pulumi log, captured instead of
 * printed: what a user reads at `pulumi preview` and `pulumi up`.
 */
import * as pulumi from "@pulumi/pulumi";

/** What `pulumi.log.warn` is given while `run` runs, in order. */
export async function warningsWhile(run: () => Promise<unknown>): Promise<string[]> {
    const warnings: string[] = [];
    const warn = pulumi.log.warn;
    pulumi.log.warn = async (message: string) => {
        warnings.push(message);
    };
    try {
        await run();
    } finally {
        pulumi.log.warn = warn;
    }
    return warnings;
}
