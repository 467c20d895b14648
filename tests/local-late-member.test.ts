/**
 * A member that is late at the first bootstrap (its instance slow to boot)
 * joins the new cluster as the member it was meant to be, rather than taking
 * the join path of a member whose data is lost: on a locally booted cluster
 * whose third node boots seconds after the others.
 */
import { expect } from "chai";
import { etcdUnitName } from "../lib/ignition";
import { members, settledMembers, useLocalCluster } from "./helpers/local-cluster";

/** How long the third node boots after the others: long enough for two static members to form the cluster without it. */
const lateByMs = 8_000;

const decisions = (output: string) => output.split("\n").filter((line) => line.startsWith("decide: "));

for (const { bootstrap, expected } of [
    {
        // Two of three form a static cluster; the late member finds itself listed, never started, and starts as it.
        bootstrap: "static" as const,
        expected: /^decide: member [0-9a-f]+ at http:\/\/127\.0\.\d+\.3:2380 is in the cluster and never started \(learner: false\): etcd3-cluster-2 starts as it$/,
    },
    {
        // A discovery token waits for every member: nothing answers before the late one registers, and it forms the cluster with them.
        bootstrap: "discovery" as const,
        expected: /^decide: no data, and no other member answers a quorum read \(.*\): the cluster is forming, and etcd3-cluster-2 forms it$/,
    },
]) {
    describe(`local cluster of 3 whose third member boots ${lateByMs / 1000} s late (bootstrap ${bootstrap})`, function () {
        this.timeout(120_000);
        const cluster = useLocalCluster({ size: 3, bootstrap, bootDelayMs: (index) => (index === 2 ? lateByMs : 0), startTimeoutMs: 90_000 });

        it("has the late member join the new cluster as a founding member: voting, with no member removed or added", async () => {
            expect(await settledMembers(cluster()), JSON.stringify(await members(cluster()))).to.equal(true);
            expect((await members(cluster())).map((member) => member.learner)).to.deep.equal([false, false, false]);
            const late = decisions(cluster().nodes[2].unitOutput(etcdUnitName));
            expect(late.filter((line) => /adding|removing/.test(line))).to.deep.equal([]);
            expect(late.some((line) => expected.test(line)), late.join("\n")).to.equal(true);
        });
    });
}
