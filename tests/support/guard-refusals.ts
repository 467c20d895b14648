/**
 * The guard's refusals, word for word as the user reads them: shared by the
 * tests of lib/guard.ts called directly and run in Pulumi's provider host.
 */
export const shrinkRefusal = (from: number, to: number) => `rootVolumeSizeGiB cannot change from ${from} to ${to} on a running ` +
    "cluster: an EBS volume can grow but never shrink, so AWS would refuse the change partway through updating the " +
    `members. Keep rootVolumeSizeGiB at ${from} or more (a larger size is applied in place). For smaller volumes, build ` +
    "a new cluster: run `pulumi destroy` first, or create a second Etcd3Cluster.";
export const dataShrinkRefusal = (from: number, to: number) => `dataVolumeSizeGiB cannot change from ${from} to ${to} on a running ` +
    "cluster: an EBS volume can grow but never shrink, so AWS would refuse the change partway through updating the " +
    `members. Keep dataVolumeSizeGiB at ${from} or more (a larger size is applied in place). For smaller volumes, build ` +
    "a new cluster: run `pulumi destroy` first, or create a second Etcd3Cluster.";
export const preSlotRefusal = "this cluster was created by a version of etcd3-cluster without member slots: its members keep their " +
    "data on their root volumes, and this version would replace every instance with one whose data volume is blank, a " +
    "cluster that cannot form again. Keep the version that created it, or build a new cluster with this one and move the " +
    "data (`etcdctl make-mirror` copies the v3 keys).";
export const downgradeRefusal = "etcdVersion cannot go down from v3.6.14 to v3.5.33: members of an older minor release cannot read " +
    "the newer one's data, and etcd's downgrade needs a cluster-wide downgrade job this component does not run. Keep " +
    "etcdVersion at 3.6.x.";
export const v2OnRefusal = "etcdVersion cannot go from v3.5.33 to v3.6.14 yet: roll with enableV2Api: false first, after moving " +
    "any data out of the v2 key space (etcd 3.6 refuses to start on a v2 store holding data; `etcdutl check v2store` on " +
    "a member's snapshot tells). Then set etcdVersion to v3.6.14 again.";
export const peerTlsRefusal = (from: boolean, to: boolean) => `peerTls cannot change from ${from} to ${to} on a running cluster: the members ` +
    "replaced first would speak another protocol on the peer port than the others, which would refuse them, and the cluster " +
    `would lose its quorum. Keep peerTls: ${from}; for the other, build a new cluster (backups and restoreFrom move the data): ` +
    "run `pulumi destroy` first, or create a second Etcd3Cluster.";
export const clientTlsRefusal = (from: boolean, to: boolean) => `clientTls cannot change from ${from} to ${to} on a running cluster: ` +
    "the load balancers' new target groups would find none of the members not yet replaced healthy, and a member joining would " +
    `speak another protocol to the others' client port than they serve. Keep clientTls: ${from}; for the other, build a new cluster ` +
    "(backups and restoreFrom move the data): run `pulumi destroy` first, or create a second Etcd3Cluster.";

/** The guard's refusal to add rootPassword (`had` false) or take it away (`had` true) on a running cluster. */
export const accessControlRefusal = (had: boolean) => (had
    ? "rootPassword cannot be taken away on a running cluster: its access control stays on, and the members replaced without the " +
      "password could no longer change the membership, take snapshots or defragment. Give rootPassword again; for a cluster without it, " +
      "run `etcdctl auth disable` (a snapshot keeps access control, its users and their passwords), then "
    : "rootPassword cannot be added on a running cluster: the first member replaced would turn access control on, and the members not " +
      "yet replaced, which have no password, could no longer change the membership (their own replacement included). Leave " +
      "rootPassword out; for a cluster with it, ") +
    "build a new cluster (backups and restoreFrom move the data): run `pulumi destroy` first, or create a second Etcd3Cluster.";

/** The peer CA's arguments, as the guard's refusals name them. */
const peerCaNamed = ([generation, rotation]: [number, string]) =>
    `peerCaGeneration ${generation} ${rotation === "none" ? "without peerCaRotation" : `with peerCaRotation "${rotation}"`}`;
/** Why a move of the peer CA is refused: a step skipped, a step back past the end of a rotation, or back over a step. */
export const peerCaWhy = {
    skipped: "each step rolls every member, and a member trusts only the CAs it had when it started, so with a step skipped the " +
        "members not rolled yet refuse the first member rolled, the roll stops there, and one more member lost would cost the quorum",
    finished: (generation: number) => `the CA of generation ${generation - 1} was deleted when the rotation to ${generation} finished, ` +
        "and no member trusts it any more",
    backOver: "the members rolled at the steps in between would be left with certificates that the members rolled now refuse",
};
/** The guard's refusal to move the peer CA from `from` to `to`, naming the moves it allows. */
export const peerCaRefusal = (from: [number, string], to: [number, string], why: string, forward: [number, string], back?: [number, string]) =>
    `the peer CA cannot go from ${peerCaNamed(from)} to ${peerCaNamed(to)} on a running cluster: ${why}. Go one step at a time, ` +
    `one \`pulumi up\` each: from here to ${peerCaNamed(forward)}${back ? `, or back to ${peerCaNamed(back)}` : ""}.`;

/** The guard's refusal to change whose the peer CA is, from `from` to `to` as it names them (`fromOwn`: from the component's own). */
export const givenPeerCaRefusal = (from: string, to: string, fromOwn: boolean) => `the peer CA cannot change from ${from} to ${to} on a running ` +
    "cluster: a member trusts only the CA it had when it started, so the members not rolled yet would refuse the first member rolled, " +
    "the roll would stop there, and one more member lost would cost the quorum. Keep peerCaCertificate and peerCaPrivateKey as they " +
    `were${fromOwn ? " (left out)" : " (a certificate renewed for the same key and subject is taken)"}; for another CA, build a new cluster ` +
    "(backups and restoreFrom move the data): run `pulumi destroy` first, " +
    "or create a second Etcd3Cluster.";
