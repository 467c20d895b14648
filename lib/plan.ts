/**
 * The per-member plan: what each member is, derived from the resolved
 * arguments alone. Pure data, no Pulumi and no AWS SDK, so the AWS modules,
 * the local cluster and the benchmarks all read the same plan.
 */
import type { ResolvedEtcd3ClusterArgs } from "./args";
import type { SlotMember } from "./bootstrap";
import { supportedClusterSizes } from "./etcd";
import type { EtcdNodeIgnitionOptions } from "./ignition";
import type { DailyTime } from "./maintenance";
import type { UpdateWindow } from "./os";

/** One member of the cluster, before any instance exists. */
export interface MemberPlan {
    /** Position in the cluster, from 0: also which subnet (round robin) the member goes in. */
    index: number;
    /** The etcd member name: stable, readable, unique within the cluster. */
    name: string;
    /** The daily window in which the member's OS may reboot for an update. */
    updateWindow: UpdateWindow;
    /** When the member defragments its backend each day (with `dailyDefragmentation`). */
    defragmentationTime: DailyTime;
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

/**
 * Each member's daily defragmentation: half an hour after its update window
 * closes, and so three hours after the previous member's. No two members
 * defragment at once (a member answers nothing while it does), and none while
 * it or its neighbour may reboot for an update.
 */
export function memberDefragmentationTime(index: number): DailyTime {
    const window = memberUpdateWindow(index);
    const minutes = window.startHourUtc * 60 + window.lengthMinutes + 30;
    return { hourUtc: Math.floor(minutes / 60) % 24, minute: minutes % 60 };
}

/**
 * How many slots a cluster has whatever its size: as many as the largest
 * supported cluster. Every slot has its address from the start, so each
 * member's user data can name every address the cluster can ever have, and a
 * change of `clusterSize` leaves the user data of the members that stay as it
 * was.
 */
export const slotCount = Math.max(...supportedClusterSizes);

/** Every slot, in order, as the member it holds or will hold: the first `clusterSize` are the cluster's members. */
export function planSlots(args: Pick<ResolvedEtcd3ClusterArgs, "ecosystem">): MemberPlan[] {
    return Array.from({ length: slotCount }, (_, index) => ({
        index,
        name: memberName(args.ecosystem, index),
        updateWindow: memberUpdateWindow(index),
        defragmentationTime: memberDefragmentationTime(index),
    }));
}

/** The members of the cluster, in member order. */
export function planMembers(args: Pick<ResolvedEtcd3ClusterArgs, "ecosystem" | "clusterSize">): MemberPlan[] {
    return planSlots(args).slice(0, args.clusterSize);
}

/** What only exists once the stack does: how the cluster forms, the members' slot addresses and the member's data volume. */
export interface MemberRuntimeFacts {
    /** With `bootstrap: "discovery"`. */
    discoveryUrl?: string;
    /** With `bootstrap: "static"`: the cluster's token. */
    clusterToken?: string;
    /** Every slot by its address, in slot order: whom a member with empty data asks to join, and (the founding ones) the static member list. */
    members?: SlotMember[];
    /** How many slots, from the first, formed the cluster: the size it was created with, which a later change of `clusterSize` leaves as it was. */
    foundingClusterSize?: number;
    /** The member's slot volume (`vol-…`). */
    dataVolumeId?: string;
    /** With backups: the bucket the snapshots go to, by name, and its region. */
    backupBucket?: { name: string; region: string };
    /** With `restoreFrom`: the snapshot's bucket, its region, and its key. */
    restoreSource?: { bucket: string; region: string; key: string };
    /** With peer TLS: the secrets bucket the member reads the peer CA from, by name, and its region. */
    secretsBucket?: { name: string; region: string };
    /** With client TLS: the DNS names the member's certificate gives besides its address (the gRPC NLB's). */
    certificateDnsNames?: string[];
}

/** Where a member with peer TLS reads its CA from: without the secrets bucket the member would talk plain HTTP to its peers. */
function peerCertificateSource(facts: MemberRuntimeFacts): { bucket: string; region: string } {
    if (!facts.secretsBucket) {
        throw new Error("peerTls: the members need the secrets bucket that holds the peer CA, and none was given");
    }
    return { bucket: facts.secretsBucket.name, region: facts.secretsBucket.region };
}

/** What a member's Ignition config is built from: the one place arguments become user data. */
export function memberIgnitionOptions(args: ResolvedEtcd3ClusterArgs, member: MemberPlan, facts: MemberRuntimeFacts): EtcdNodeIgnitionOptions {
    return {
        memberName: member.name,
        discoveryUrl: facts.discoveryUrl,
        clusterToken: facts.clusterToken,
        members: facts.members,
        foundingClusterSize: facts.foundingClusterSize,
        dataVolumeId: facts.dataVolumeId,
        enableV2Api: args.enableV2Api,
        etcdVersion: args.etcdVersion,
        os: args.os,
        imageRepository: args.etcdImageRepository,
        heartbeatIntervalMs: args.heartbeatIntervalMs,
        electionTimeoutMs: args.electionTimeoutMs,
        sshAuthorizedKeys: args.sshAuthorizedKeys,
        updateWindow: member.updateWindow,
        quotaBackendMiB: args.quotaBackendMiB,
        snapshotCount: args.snapshotCount,
        defragmentationTime: args.dailyDefragmentation ? member.defragmentationTime : undefined,
        snapshots: args.backup && facts.backupBucket && {
            bucket: facts.backupBucket.name,
            region: facts.backupBucket.region,
            prefix: args.backup.prefix,
            intervalMinutes: args.backup.intervalMinutes,
        },
        restore: facts.restoreSource,
        peerTls: args.peerTls ? { ...peerCertificateSource(facts), ca: args.peerCa, givenCaFingerprint: args.givenPeerCa?.fingerprint } : undefined,
        clientTls: args.clientTls ? { dnsNames: facts.certificateDnsNames ?? [] } : undefined,
        accessControl: args.rootPassword !== undefined,
        tokenSigningKeyGeneration: args.rootPassword !== undefined ? args.tokenSigningKeyGeneration : undefined,
    };
}
