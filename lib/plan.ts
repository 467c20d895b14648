/**
 * The per-member plan: what each member is, derived from the resolved
 * arguments alone. Pure data, no Pulumi and no AWS SDK, so the AWS modules,
 * the local cluster and the benchmarks all read the same plan.
 */
import type { ResolvedEtcd3ClusterArgs } from "./args";
import type { SlotMember } from "./bootstrap";
import type { EtcdNodeIgnitionOptions } from "./ignition";
import type { UpdateWindow } from "./os";

/** One member of the cluster, before any instance exists. */
export interface MemberPlan {
    /** Position in the cluster, from 0: also which subnet (round robin) the member goes in. */
    index: number;
    /** The etcd member name: stable, readable, unique within the cluster. */
    name: string;
    /** The daily window in which the member's OS may reboot for an update. */
    updateWindow: UpdateWindow;
}

/** Member `index`'s name. */
export function memberName(ecosystem: string, index: number): string {
    return `${ecosystem}-${index}`;
}

/**
 * Each member's daily OS-update window: an hour long and three hours after the
 * previous member's, so automatic updates never reboot two members at once
 * (seven members fit in a day).
 */
export function memberUpdateWindow(index: number): UpdateWindow {
    return { startHourUtc: (2 + 3 * index) % 24, lengthMinutes: 60 };
}

/** The members of the cluster, in member order. */
export function planMembers(args: Pick<ResolvedEtcd3ClusterArgs, "ecosystem" | "clusterSize">): MemberPlan[] {
    return Array.from({ length: args.clusterSize }, (_, index) => ({
        index,
        name: memberName(args.ecosystem, index),
        updateWindow: memberUpdateWindow(index),
    }));
}

/** What only exists once the stack does: how the cluster forms, the members' slot addresses and the member's data volume. */
export interface MemberRuntimeFacts {
    /** With `bootstrap: "discovery"`. */
    discoveryUrl?: string;
    /** With `bootstrap: "static"`: the cluster's token. */
    clusterToken?: string;
    /** Every member by its slot's address: the static member list, and whom a member with empty data asks to join. */
    members?: SlotMember[];
    /** The member's slot volume (`vol-…`). */
    dataVolumeId?: string;
}

/** What a member's Ignition config is built from: the one place arguments become user data. */
export function memberIgnitionOptions(args: ResolvedEtcd3ClusterArgs, member: MemberPlan, facts: MemberRuntimeFacts): EtcdNodeIgnitionOptions {
    return {
        memberName: member.name,
        discoveryUrl: facts.discoveryUrl,
        clusterToken: facts.clusterToken,
        members: facts.members,
        dataVolumeId: facts.dataVolumeId,
        enableV2Api: args.enableV2Api,
        etcdVersion: args.etcdVersion,
        os: args.os,
        imageRepository: args.etcdImageRepository,
        heartbeatIntervalMs: args.heartbeatIntervalMs,
        electionTimeoutMs: args.electionTimeoutMs,
        sshAuthorizedKeys: args.sshAuthorizedKeys,
        updateWindow: member.updateWindow,
    };
}
