/**
 * The step of the peer CA's rotation that every member has rolled to, kept
 * in the stack's state by a dynamic resource that depends on every member's
 * health gate: the engine updates it only once a `pulumi up` has rolled them
 * all. The guard (guard.ts) records the step a `pulumi up` was asked for,
 * before any member rolls; with this record, the next preview refuses a step
 * taken while the one before has not reached every member (its `pulumi up`
 * stopped partway, or ran with `--target`), when the members not rolled yet
 * still trust only the CAs they started with.
 *
 * It is checked at preview, which `pulumi up` runs first: with
 * `--skip-preview` the engine reaches it only after the members have rolled.
 */
import { randomUUID } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { ClusterGuardFacts, peerCaArguments, peerCaArgumentsAt, peerCaPosition } from "./guard";
import type { PeerCaRound } from "./member-certificate";

/** A step of the peer CA, as the guard keeps it. */
export type PeerCaStep = Pick<ClusterGuardFacts, "peerCaGeneration" | "peerCaRotation">;

/**
 * The refusal, as the user will read it, of going to `next` while every
 * member has rolled only to `rolled`; undefined for the step after it, the
 * same step, or a step back (the guard decides those).
 */
export function unfinishedStepRefusal(rolled: PeerCaStep, next: PeerCaStep): string | undefined {
    const from = peerCaPosition(rolled.peerCaGeneration, rolled.peerCaRotation);
    if (peerCaPosition(next.peerCaGeneration, next.peerCaRotation) <= from + 1) {
        return undefined;
    }
    const unfinished = peerCaArgumentsAt(from + 1);
    return `the peer CA cannot go to ${peerCaArguments(next.peerCaGeneration, next.peerCaRotation)} yet: every member has rolled only to ` +
        `${peerCaArguments(rolled.peerCaGeneration, rolled.peerCaRotation)}, so the step after it, ${unfinished}, has not reached them all ` +
        "(its `pulumi up` stopped partway, or ran with --target), and the members it has not reached refuse what the step asked for now " +
        `would have them present. Run \`pulumi up\` with ${unfinished} again until it finishes, then take the next step.`;
}

/**
 * What every `pulumi preview` and `pulumi up` says while a rotation is under
 * way, so that none is left half-done: where it is and the step after it,
 * and with client TLS, before members serve certificates from the next CA,
 * that clients need the CA bundle. Undefined without one.
 */
export function peerCaRotationWarning(round: PeerCaRound, clientTls: boolean): string | undefined {
    if (round.rotation === undefined) {
        return undefined;
    }
    const at = peerCaPosition(round.generation, round.rotation);
    // From the next step on, members serve their clients certificates from the next CA.
    const clients = clientTls && round.rotation === "trust-next"
        ? " Before it, give the clients that verify the members the new caCertificate, which holds both CAs." : "";
    return `a rotation of the peer CA is under way, at ${peerCaArguments(round.generation, round.rotation)}: until it finishes, the members ` +
        `still trust generation ${round.generation}'s CA. Once this step's \`pulumi up\` has finished, take the next: ${peerCaArgumentsAt(at + 1)}.${clients}`;
}

/** Only the step (the host adds `__provider` itself). */
const stepOf = ({ peerCaGeneration, peerCaRotation }: PeerCaStep): PeerCaStep => ({ peerCaGeneration, peerCaRotation });

/**
 * Holds the step; `diff` throws (a plain Error, so the message survives the
 * serialized provider) for a step taken before the one before it finished,
 * reports any other change as an in-place update that records it, and never
 * replaces.
 */
export const peerCaRecordProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: PeerCaStep): Promise<pulumi.dynamic.CreateResult> {
        return { id: randomUUID(), outs: stepOf(inputs) };
    },
    async diff(_id: string, olds: PeerCaStep, news: PeerCaStep): Promise<pulumi.dynamic.DiffResult> {
        const refusal = unfinishedStepRefusal(olds, news);
        if (refusal) {
            throw new Error(refusal);
        }
        return { changes: olds.peerCaGeneration !== news.peerCaGeneration || olds.peerCaRotation !== news.peerCaRotation, replaces: [] };
    },
    async update(_id: string, _olds: PeerCaStep, news: PeerCaStep): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: stepOf(news) };
    },
};

/**
 * The step every member has rolled to. Give it `dependsOn` every member's
 * health gate, so that the engine records a step only once all have rolled.
 */
export class PeerCaRecord extends pulumi.dynamic.Resource {
    constructor(name: string, step: PeerCaStep, opts?: pulumi.CustomResourceOptions) {
        super(peerCaRecordProvider, name, stepOf(step), opts, "etcd3-cluster", "PeerCaRecord");
    }
}
