/** The argument tests' view of resolveArgs: the problem lines a user reads. */
import { expect } from "chai";
import { Etcd3ClusterArgs, Etcd3ClusterArgumentError, resolveArgs } from "../../lib/args";

/** The problem lines resolveArgs throws for `args`, or a failure if it accepts them. */
export function problemsOf(args: Etcd3ClusterArgs, name = "etcd3"): string[] {
    try {
        resolveArgs(name, args);
    } catch (error) {
        expect(error).to.be.instanceOf(Etcd3ClusterArgumentError);
        return (error as Etcd3ClusterArgumentError).problems;
    }
    throw new Error(`expected ${JSON.stringify(args)} to be refused`);
}
