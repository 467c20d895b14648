/**
 * Facts about a running cluster that an update must not change, or may change
 * only one way, kept in the stack's state by a Pulumi dynamic resource whose
 * `diff` refuses a forbidden change. The engine diffs every resource during
 * `pulumi preview` and before `pulumi up` changes anything, so a refused
 * change stops the run before a single member is touched.
 */
import { randomUUID } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import type { BootstrapMethod } from "./bootstrap";
import { etcdUpgradeProblem } from "./etcd";
import type { PeerCaRotation } from "./member-certificate";
import { generatedPeerCa } from "./peer-ca";

/** The guarded facts: the component's resolved arguments of the same names. */
export interface ClusterGuardFacts {
    /** Number of members. */
    clusterSize: number;
    /** Size of each member's root EBS volume. */
    rootVolumeSizeGiB: number;
    /** Size of each member's data volume. */
    dataVolumeSizeGiB: number;
    /** The KMS key the data volumes are encrypted with: the key's ARN, or `aws/ebs` for AWS's managed key. */
    dataVolumeKmsKey: string;
    /** The etcd release the members run. */
    etcdVersion: string;
    /** Whether the members serve the v2 API (a 3.5 → 3.6 roll needs it off first). */
    enableV2Api: boolean;
    /** How the cluster formed: `discovery` or `static`. */
    bootstrap: BootstrapMethod;
    /** Whether the members talk mutual TLS to each other. */
    peerTls: boolean;
    /** Whether the members serve their client port over TLS. */
    clientTls: boolean;
    /** Whether etcd's access control is on (`rootPassword` is given): the password itself is never kept. */
    accessControl: boolean;
    /** The peer CA's generation. */
    peerCaGeneration: number;
    /** The step of the peer CA's rotation under way, `none` for none. */
    peerCaRotation: "none" | PeerCaRotation;
    /** Whose the peer CA is: `generated` for the component's own, or the subject and key of the one given (peer-ca.ts). */
    peerCaCertificate: string;
}

/** What the guard keeps: the facts, and the size the cluster was created with (see founding.ts). */
export interface ClusterGuardState extends ClusterGuardFacts {
    /** Absent from a state written by a version of the component before clusterSize could change. */
    foundingClusterSize?: number;
}

/** The facts kept in state, in this order. */
export const clusterGuardFactNames: readonly (keyof ClusterGuardFacts)[] = [
    "clusterSize", "rootVolumeSizeGiB", "dataVolumeSizeGiB", "dataVolumeKmsKey", "etcdVersion", "enableV2Api", "bootstrap", "peerTls", "clientTls",
    "accessControl", "peerCaGeneration", "peerCaRotation", "peerCaCertificate",
];

/** One guarded fact: which changes are refused and what to do instead. */
export interface ClusterGuardRule {
    /** The fact, named as the component's argument is (`accessControl`: whether `rootPassword` is given). */
    argument: keyof ClusterGuardFacts;
    /** The refusal, as the user will read it, for going from `olds` (state, which has the fact) to `news`; undefined if allowed. */
    refusal(olds: Partial<ClusterGuardFacts>, news: ClusterGuardFacts): string | undefined;
    /** The refusal when a state made by an older version of the component lacks the fact, if its absence matters. */
    whenMissing?: string;
    /** The value in effect on a cluster whose state, made by an older version of the component, lacks the fact: checked as if recorded. */
    valueWhenMissing?: ClusterGuardFacts[keyof ClusterGuardFacts];
}

/** A rule for a number, in the form "<argument> cannot change from <old> to <next> on a running cluster: <why>. <instead>". */
function numberRule(argument: keyof ClusterGuardFacts, refuses: (old: number, next: number) => boolean, why: string,
    instead: (old: number) => string, whenMissing?: string): ClusterGuardRule {
    return {
        argument,
        whenMissing,
        refusal: (olds, news) => {
            const [old, next] = [olds[argument] as number, news[argument] as number];
            return refuses(old, next) ? `${argument} cannot change from ${old} to ${next} on a running cluster: ${why}. ${instead(old)}` : undefined;
        },
    };
}

const rebuild = "run `pulumi destroy` first, or create a second Etcd3Cluster";
/** A given peer CA may be renewed (peer-ca.ts): what the guard keeps of it stays. */
const renewalTaken = " (a certificate renewed for the same key and subject is taken)";

/** A peer CA rotation's steps in the order they are taken, within a generation. */
const peerCaSteps = ["none", "trust-next", "sign-with-next"] as const;

/** The peer CA's arguments as the user writes them, for a generation and a step. */
export function peerCaArguments(generation: number, rotation: string): string {
    return `peerCaGeneration ${generation} ${rotation === "none" ? "without peerCaRotation" : `with peerCaRotation "${rotation}"`}`;
}

/** Where a generation and a step are in the sequence of every rotation's steps: one more for each step forward. */
export const peerCaPosition = (generation: number, rotation: string) => generation * peerCaSteps.length + peerCaSteps.indexOf(rotation as never);

/** The peer CA's arguments at a position of {@link peerCaPosition}. */
export const peerCaArgumentsAt = (position: number) => peerCaArguments(Math.floor(position / peerCaSteps.length), peerCaSteps[position % peerCaSteps.length]);

/**
 * The peer CA moves one step at a time, each step a roll of every member:
 * forward (trust the next CA, sign with it, drop the old one), or back a
 * step while the old CA still exists. Any other move leaves members that
 * refuse the certificates of the members rolled after them.
 */
function peerCaRefusal(olds: Partial<ClusterGuardFacts>, news: ClusterGuardFacts): string | undefined {
    const [oldGeneration, oldRotation] = [olds.peerCaGeneration!, olds.peerCaRotation ?? "none"];
    const [from, to] = [peerCaPosition(oldGeneration, oldRotation), peerCaPosition(news.peerCaGeneration, news.peerCaRotation)];
    if (to === from || to === from + 1 || (to === from - 1 && oldRotation !== "none")) {
        return undefined;
    }
    const why = to < from
        ? (oldRotation === "none"
            ? `the CA of generation ${oldGeneration - 1} was deleted when the rotation to ${oldGeneration} finished, and no member trusts it any more`
            : "the members rolled at the steps in between would be left with certificates that the members rolled now refuse")
        : "each step rolls every member, and a member trusts only the CAs it had when it started, so with a step skipped the members " +
          "not rolled yet refuse the first member rolled, the roll stops there, and one more member lost would cost the quorum";
    const back = oldRotation === "none" ? "" : `, or back to ${peerCaArgumentsAt(from - 1)}`;
    return `the peer CA cannot go from ${peerCaArguments(oldGeneration, oldRotation)} to ${peerCaArguments(news.peerCaGeneration, news.peerCaRotation)} ` +
        `on a running cluster: ${why}. Go one step at a time, one \`pulumi up\` each: from here to ${peerCaArgumentsAt(from + 1)}${back}.`;
}
const shrinkWhy = "an EBS volume can grow but never shrink, so AWS would refuse the change partway through updating the members";

/**
 * The rules, one row per guarded fact. To guard another fact, add it to
 * {@link ClusterGuardFacts} and a row here. A fact missing from the state (a
 * stack created before its row existed) is recorded without a check, unless
 * its row says what its absence means.
 */
export const clusterGuardRules: readonly ClusterGuardRule[] = [
    numberRule("rootVolumeSizeGiB", (old, next) => next < old, shrinkWhy,
        (old) => `Keep rootVolumeSizeGiB at ${old} or more (a larger size is applied in place). For smaller volumes, build a new cluster: ${rebuild}.`),
    numberRule("dataVolumeSizeGiB", (old, next) => next < old, shrinkWhy,
        (old) => `Keep dataVolumeSizeGiB at ${old} or more (a larger size is applied in place). For smaller volumes, build a new cluster: ${rebuild}.`,
        "this cluster was created by a version of etcd3-cluster without member slots: its members keep their data on their root " +
        "volumes, and this version would replace every instance with one whose data volume is blank, a cluster that cannot " +
        "form again. Keep the version that created it, or build a new cluster with this one and move the data " +
        "(`etcdctl make-mirror` copies the v3 keys)."),
    {
        argument: "dataVolumeKmsKey",
        refusal: (olds, news) => (olds.dataVolumeKmsKey === news.dataVolumeKmsKey ? undefined
            : `kmsKeyId cannot change from ${olds.dataVolumeKmsKey} to ${news.dataVolumeKmsKey} on a running cluster: EC2 cannot re-encrypt ` +
              "a volume, so every member's data volume would be replaced by a blank one, a cluster that cannot form again. " +
              `Keep kmsKeyId as it is; to move the data to another key, build a new cluster: ${rebuild}.`),
    },
    {
        argument: "etcdVersion",
        // A state without the v2 flag predates it: every 3.5 member then served the v2 API.
        refusal: (olds, news) => etcdUpgradeProblem({ etcdVersion: olds.etcdVersion!, enableV2Api: olds.enableV2Api ?? true }, news),
    },
    {
        // A formed member ignores both ways; the static list only names addresses the cluster already has, while a
        // discovery token requested now would be a new, empty one that no member ever registered with.
        argument: "bootstrap",
        refusal: (olds, news) => (olds.bootstrap === "static" && news.bootstrap === "discovery"
            ? "bootstrap cannot change from static to discovery on a running cluster: the members formed without a discovery " +
              "service, and a token requested now would name none of them. Keep bootstrap: \"static\"."
            : undefined),
    },
    {
        argument: "peerTls",
        // Versions before the argument existed had plain HTTP between the members.
        valueWhenMissing: false,
        refusal: (olds, news) => (olds.peerTls === news.peerTls ? undefined
            : `peerTls cannot change from ${olds.peerTls} to ${news.peerTls} on a running cluster: the members replaced first would ` +
              "speak another protocol on the peer port than the others, which would refuse them, and the cluster would lose its quorum. " +
              `Keep peerTls: ${olds.peerTls}; for the other, build a new cluster (backups and restoreFrom move the data): ${rebuild}.`),
    },
    {
        argument: "clientTls",
        // Versions before the argument existed served clients plain HTTP.
        valueWhenMissing: false,
        refusal: (olds, news) => (olds.clientTls === news.clientTls ? undefined
            : `clientTls cannot change from ${olds.clientTls} to ${news.clientTls} on a running cluster: the load balancers' new ` +
              "target groups would find none of the members not yet replaced healthy, and a member joining would speak another " +
              `protocol to the others' client port than they serve. Keep clientTls: ${olds.clientTls}; for the other, build a new ` +
              `cluster (backups and restoreFrom move the data): ${rebuild}.`),
    },
    {
        argument: "accessControl",
        // Versions before the argument existed had no access control.
        valueWhenMissing: false,
        refusal: (olds, news) => (olds.accessControl === news.accessControl ? undefined
            : olds.accessControl
                ? "rootPassword cannot be taken away on a running cluster: its access control stays on, and the members replaced " +
                  `without the password could no longer change the membership, take snapshots or defragment. Give rootPassword again; for a cluster without it, ` +
                  "run `etcdctl auth disable` (a snapshot keeps access control, its users and their passwords), then build a new cluster " +
                  `(backups and restoreFrom move the data): ${rebuild}.`
                : "rootPassword cannot be added on a running cluster: the first member replaced would turn access control on, and the " +
                  "members not yet replaced, which have no password, could no longer change the membership (their own replacement " +
                  `included). Leave rootPassword out; for a cluster with it, build a new cluster (backups and restoreFrom move the data): ${rebuild}.`),
    },
    {
        argument: "peerCaGeneration",
        // Versions before rotation existed kept the CA the stack was created with.
        valueWhenMissing: 0,
        refusal: peerCaRefusal,
    },
    {
        argument: "peerCaCertificate",
        // Versions before a CA could be given made their own.
        valueWhenMissing: generatedPeerCa,
        refusal: (olds, news) => (olds.peerCaCertificate === news.peerCaCertificate ? undefined
            : `the peer CA cannot change from ${peerCaShown(olds.peerCaCertificate!)} to ${peerCaShown(news.peerCaCertificate)} on a running ` +
              "cluster: a member trusts only the CA it had when it started, so the members not rolled yet would refuse the first member " +
              "rolled, the roll would stop there, and one more member lost would cost the quorum. Keep peerCaCertificate and " +
              `peerCaPrivateKey as they were${olds.peerCaCertificate === generatedPeerCa ? " (left out)" : renewalTaken}; for another CA, build a new ` +
              `cluster (backups and restoreFrom move the data): ${rebuild}.`),
    },
];

/** A peer CA as the guard's refusal names it. */
const peerCaShown = (identity: string) => (identity === generatedPeerCa ? "the component's own" : `the one given (${identity})`);

/** Every refusal for going from `olds` (state) to `news` (program), as the messages the user will read. */
export function clusterGuardRefusals(olds: Partial<ClusterGuardFacts>, news: ClusterGuardFacts): string[] {
    const stateHasFacts = clusterGuardFactNames.some((fact) => olds[fact] !== undefined);
    return clusterGuardRules.flatMap((rule) => {
        const old = olds[rule.argument] ?? (stateHasFacts ? rule.valueWhenMissing : undefined);
        if (old === undefined) {
            return stateHasFacts && rule.whenMissing ? [rule.whenMissing] : [];
        }
        const refusal = rule.refusal({ ...olds, [rule.argument]: old }, news);
        return refusal ? [refusal] : [];
    });
}

/**
 * Holds the facts; `diff` throws (a plain Error, so the message survives the
 * serialized provider) listing every refused change, reports an allowed change
 * as an in-place update that records the new value, and never replaces.
 */
export const clusterGuardProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: ClusterGuardFacts): Promise<pulumi.dynamic.CreateResult> {
        return { id: randomUUID(), outs: { ...factsOf(inputs), foundingClusterSize: inputs.clusterSize } };
    },
    async diff(_id: string, olds: Partial<ClusterGuardFacts>, news: ClusterGuardFacts): Promise<pulumi.dynamic.DiffResult> {
        const refusals = clusterGuardRefusals(olds, news);
        if (refusals.length > 0) {
            throw new Error(refusals.join("\n"));
        }
        return { changes: clusterGuardFactNames.some((fact) => olds[fact] !== news[fact]), replaces: [] };
    },
    async update(_id: string, olds: ClusterGuardState, news: ClusterGuardFacts): Promise<pulumi.dynamic.UpdateResult> {
        // A state written before the founding size was kept holds the size the cluster still had: it was created with it.
        return { outs: { ...factsOf(news), foundingClusterSize: olds.foundingClusterSize ?? olds.clusterSize } };
    },
};

/** Only the guarded facts (the host adds `__provider` itself). */
function factsOf(inputs: ClusterGuardFacts): ClusterGuardFacts {
    return Object.fromEntries(clusterGuardFactNames.map((fact) => [fact, inputs[fact]])) as unknown as ClusterGuardFacts;
}

/**
 * Refuses, at preview, changes a running cluster cannot take (see
 * {@link clusterGuardRules}). Resources that a refused change would touch
 * should `dependsOn` it, so that even `pulumi up --skip-preview` stops before
 * them.
 */
export class ClusterGuard extends pulumi.dynamic.Resource {
    /** The size the cluster was created with; undefined while a state written by an earlier version is kept unchanged. */
    declare public readonly foundingClusterSize: pulumi.Output<number | undefined>;

    /**
     * @param facts the component's resolved values, plain values (known at
     * preview); only the facts named in {@link clusterGuardFactNames} are kept.
     */
    constructor(name: string, facts: ClusterGuardFacts, opts?: pulumi.CustomResourceOptions) {
        super(clusterGuardProvider, name, { ...factsOf(facts), foundingClusterSize: undefined }, opts, "etcd3-cluster", "ClusterGuard");
    }
}
