/**
 * The component's arguments: their one definition (type, default, how stack
 * config gives them), their documentation, and their validation. Every check
 * runs before any resource is registered, and all problems are reported at
 * once, each naming its argument and what is allowed. The README's argument
 * table and Pulumi.yaml's config are generated from this file
 * (`npx ts-node --transpile-only scripts/docs.ts --write`); a test fails when
 * they drift.
 */
import type * as pulumi from "@pulumi/pulumi";
import { InstanceType } from "@pulumi/aws/types/enums/ec2";
import {
    defaultEtcdVersion, defaultImageRepository, EtcdRelease, etcdTimingDefaults, etcdTimingProblems, isDnsName, isImageRepository, isWholeNumberIn,
    generationProblems, parseEtcdRelease,
    supportedClusterSizes, supportedEtcdBranches,
} from "./etcd";
import { rootPasswordProblem } from "./access-control";
import { CheckedPeerCaCertificate, checkedPeerCaCertificate, peerCaPrivateKeyProblem } from "./peer-ca";
import { BootstrapMethod, bootstrapMethods, leaveTagKey } from "./bootstrap";
import { defaultDiscoveryService, isDiscoveryServiceUrl, isDiscoveryUrl } from "./discovery-request";
import type { BackupSettings } from "./backup";
import { sslPolicyTlsVersions } from "./tls-policy";
import { maintenanceProblems } from "./maintenance";
import { PeerCaRotation, PeerCaRound, peerCaRoundProblems } from "./member-certificate";
import { OperatingSystem, OperatingSystemProfile, operatingSystems, supportedOperatingSystems } from "./os";
import { parseRestoreSource } from "./restore";
import { maxSnapshotUploadMiB, snapshotSettingsProblems } from "./snapshots";

/** How many NAT gateways a new VPC gets: one, or one per zone. */
export type NatGatewayStrategy = "Single" | "OnePerAz";

/**
 * The arguments of `Etcd3Cluster`. Every one is optional; each one's TSDoc
 * ends with its default, and the README's table is generated from it.
 */
export interface Etcd3ClusterArgs {
    /**
     * Name prefix and `ecosystem` tag of everything the component creates (the
     * seed's `in_ecosystem`); member names are `<ecosystem>-0`, `-1`, ... Lowercase
     * letters, digits and hyphens, starting with a letter and not ending with a
     * hyphen, at most 32 characters. Default `etcd3-cluster`.
     */
    ecosystem?: string;
    /**
     * CIDR of a new VPC made for the cluster (the seed's `in_vpc_cidr`), /16 to
     * /24, with public and private subnets over `availabilityZoneCount` zones.
     * Not with `vpcId`. Default `10.99.0.0/16` when `vpcId` is not given.
     */
    vpcCidr?: string;
    /** Zones the new VPC spans, 2 or 3 (an ALB needs two). Only with a new VPC. Default `3` when a new VPC is made. */
    availabilityZoneCount?: number;
    /**
     * NAT gateways of the new VPC: `Single` (one, cheapest) or `OnePerAz` (survives
     * a zone's loss). The members need outbound access for the etcd image and the
     * discovery service. Only with a new VPC. Default `Single` when a new VPC is made.
     */
    natGateways?: NatGatewayStrategy;
    /** An existing VPC (`vpc-…`) to use instead of creating one; needs `privateSubnetIds`. Not with `vpcCidr`. Default none (a new VPC). */
    vpcId?: pulumi.Input<string>;
    /**
     * Private subnets of `vpcId` (`subnet-…`, each once) the members are spread
     * over, round robin, and the internal ALB sits in: at least two, in different
     * zones, with outbound access through NAT. Only with `vpcId`, and required
     * with it. Default none.
     */
    privateSubnetIds?: pulumi.Input<pulumi.Input<string>[]>;
    /** Public subnets of `vpcId` (at least two) for an internet-facing ALB; needed only with `internetFacing`. Default none. */
    publicSubnetIds?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Number of etcd members: 1, 3, 5 or 7 (odd: even sizes add no fault
     * tolerance). A live stack grows or shrinks to another size one member
     * at a time, the others untouched: a new member joins, a leaving one
     * (highest slot first) removes itself from etcd before its instance goes.
     * Default `3`.
     */
    clusterSize?: number;
    /**
     * EC2 instance type of the members, one `@pulumi/aws` knows (`aws.ec2.InstanceType`)
     * and a Nitro one (the Xen families, `t2`, `m4`, `c4`, ..., are refused but for
     * their `.metal` sizes: their volumes are not NVMe devices named by volume id);
     * a Graviton type (`t4g`, `m7g`, ...) selects the arm64 image. Default `t3.small`.
     */
    instanceType?: string;
    /**
     * Accept an `instanceType` that `@pulumi/aws` does not list yet (a type newer
     * than the SDK); it must still look like `family.size`. Default `false`.
     */
    allowUnknownInstanceType?: boolean;
    /** AMI to boot instead of the latest stable image of `os`; must be of that OS (the user data is Ignition). Default the latest stable image of `os`. */
    amiId?: string;
    /** Operating system of the members: `fedora-coreos` or `flatcar`. Default `fedora-coreos`. */
    os?: OperatingSystem;
    /**
     * etcd release to run, `vX.Y.Z`, from the 3.5, 3.6 or 3.7 branch. Only 3.5
     * serves the seed's `/v2/keys` and `/v2/stats` API; 3.7 removed v2 discovery,
     * so it needs `bootstrap: "static"`. Default `v3.5.33`.
     */
    etcdVersion?: string;
    /**
     * How the members find each other when the cluster first forms:
     * - `discovery`: through a v2 discovery service (`discoveryService`, or your
     *   own `discoveryUrl`), as the seed's module did; `etcd3DiscoveryUrl` is the token.
     *   etcd 3.5 and 3.6 only.
     * - `static`: from the member slots' addresses, known before any instance
     *   boots (`--initial-cluster`, with a token of the cluster's own): no third
     *   party is involved and `etcd3DiscoveryUrl` is absent (undefined). Any etcd branch.
     *
     * A running cluster may move from `discovery` to `static` (a roll; the
     * members keep their data and ignore both once formed), not back. Default `discovery`.
     */
    bootstrap?: BootstrapMethod;
    /**
     * etcd's `--heartbeat-interval`, ms, 10 to 5000: about the round trip between
     * members; etcd's own value is already ample for AWS's cross-zone round trips
     * of 1–2 ms. Default etcd's 100.
     */
    heartbeatIntervalMs?: number;
    /**
     * etcd's `--election-timeout`, ms: how long followers wait for the leader
     * before electing another, so the floor of a failover. Raising it rides out
     * longer disk or CPU stalls of the leader and slows the failover after a
     * real failure by as much (both measured under "Why the defaults are what
     * they are").
     * At least 5 × `heartbeatIntervalMs`, at most 50000. Default etcd's 1000.
     */
    electionTimeoutMs?: number;
    /**
     * Serve etcd's v2 API (`--enable-v2`: `/v2/keys`, `/v2/stats`, the seed's curl
     * session) on etcd 3.5; 3.6 and 3.7 have none, so `true` is refused there,
     * as it is with `rootPassword` (v3's access control does not guard the v2
     * API). Turn it off (after moving any v2 data out) before rolling from 3.5
     * to 3.6.
     * Default `true` on etcd 3.5 without `rootPassword`, otherwise `false`.
     */
    enableV2Api?: boolean;
    /** Container image repository for etcd, without a tag, e.g. `quay.io/coreos/etcd`. Default `gcr.io/etcd-development/etcd`. */
    etcdImageRepository?: string;
    /**
     * A discovery URL you requested yourself (`<service>/<32 hex>`, made for
     * exactly `clusterSize` members and never used before). Default one requested
     * from `discoveryService` when the stack is first created.
     */
    discoveryUrl?: string;
    /** Base URL of the discovery service the token is requested from (`bootstrap: "discovery"` only); a self-hosted `etcd-discovery` works the same. Default `https://discovery.etcd.io`. */
    discoveryService?: string;
    /**
     * File the discovery request's facts (node count, URL) are appended to, as
     * the seed's module did, relative to the program's directory, or `false` for
     * none. Default `etcd3-discovery-url.log`.
     */
    discoveryLogFile?: string | false;
    /**
     * OpenSSH public keys (one key a line, no newlines) for the OS's `core` user;
     * needs `sshCidrs`. Without keys no one can log in and port 22 is closed. Default none.
     */
    sshAuthorizedKeys?: string[];
    /**
     * CIDRs that may reach the members' SSH port (22), e.g. the VPC's CIDR or a
     * bastion's `/32`; needs `sshAuthorizedKeys`, and keys need it: SSH is open
     * only when both say so, and port 22 is closed otherwise. `0.0.0.0/0` only
     * when named here. Default none.
     */
    sshCidrs?: string[];
    /**
     * Whether the ALB is internet-facing, in the public subnets. `false` keeps an
     * internal ALB that only `allowedCidrs` can reach, because by default etcd
     * behind it has no authentication (see `rootPassword`) and no TLS (see
     * `certificateArn`); `true` requires `allowedCidrs`. Default `false`.
     */
    internetFacing?: boolean;
    /**
     * CIDRs allowed to reach the load balancers (the ALB's 80, and 443 with
     * `certificateArn`; the NLB's 2379).
     * Required with `internetFacing`; `0.0.0.0/0` (the seed's open cluster) only
     * when named here. Default the VPC's CIDR.
     */
    allowedCidrs?: string[];
    /**
     * CIDRs whose etcd clients (etcdctl, Kubernetes, gRPC client libraries) may
     * reach the members' 2379 directly, using `clientEndpoints`; `[]` leaves the
     * members reachable by clients only through the load balancers (the members
     * still reach each other's). The same CIDRs reach the metrics port, 2381
     * (`/metrics`, `/health`). `0.0.0.0/0` only when named here. Default the VPC's CIDR.
     */
    clientCidrs?: string[];
    /**
     * Also create a network load balancer, TCP 2379 → members' 2379, for gRPC
     * clients that want one stable address; same exposure as the ALB
     * (`internetFacing`, `allowedCidrs`). Default `false`.
     */
    grpcLoadBalancer?: boolean;
    /** A DNS name for the cluster URL (e.g. `etcd.example.com`): a Route53 alias to the ALB; needs `hostedZoneId`. Default none. */
    dnsName?: string;
    /** The Route53 hosted zone `dnsName` is created in; needs `dnsName`. Default none. */
    hostedZoneId?: pulumi.Input<string>;
    /**
     * An ACM certificate's ARN (`arn:aws:acm:<region>:<account>:certificate/<id>`,
     * in the cluster's region; IAM server certificates are not taken) for HTTPS at the ALB: a listener on 443 serves
     * the cluster with it under `sslPolicy`, port 80 answers every request with
     * a permanent redirect (301) to `https://`, and `etcd3ClusterUrl` becomes
     * `https://<dnsName or the ALB's DNS name>`. The certificate must cover
     * `dnsName` (no certificate of yours can cover the ALB's own name, so give
     * `dnsName` or point a name of your own at `loadBalancerDnsName`). TLS ends at
     * the ALB, and with it `peerTls` and `clientTls` default to on, so the hop to
     * the members is HTTPS too (set them `false` to keep it HTTP). Without it
     * the ALB serves HTTP on 80, as the seed has it. Default none.
     */
    certificateArn?: pulumi.Input<string>;
    /**
     * The HTTPS listener's TLS security policy: an Elastic Load Balancing policy
     * whose lowest TLS version is 1.2 or 1.3 (`ELBSecurityPolicy-TLS13-1-2-…`,
     * `ELBSecurityPolicy-TLS13-1-3-…`, `ELBSecurityPolicy-FS-1-2-…`,
     * `ELBSecurityPolicy-TLS-1-2-…`, their FIPS and post-quantum variants
     * included); needs `certificateArn`. The default allows TLS 1.3 and 1.2
     * with forward-secret ciphers only, as the AWS console does. Default
     * `ELBSecurityPolicy-TLS13-1-2-Res-2021-06` when `certificateArn` is given.
     */
    sslPolicy?: string;
    /**
     * Mutual TLS between the members on the peer port (2380). The component
     * creates the cluster's peer CA (ECDSA P-256, valid 10 years; its key a
     * secret in the stack's state) and a bucket for it, encrypted with a KMS
     * key of the cluster's own, that only the members' instance role may read
     * (and decrypt, through S3). Each member issues itself a certificate for
     * its slot's address at boot, valid 90 days, with a key that never leaves
     * its memory-backed `/run`, and renews it when fewer than 30 days are left
     * (a timer checks every 6 hours; etcd picks the new one up at the next
     * connection, without a restart). Peers without a certificate from the CA
     * are refused. Nothing secret is in the user data. Clients still reach
     * the members over HTTP, unless `clientTls` is on too. It cannot change
     * on a running cluster (the members would stop understanding each
     * other); choose it when the stack is created. On by default once you ask
     * for HTTPS or authentication: a cluster created with those is encrypted
     * on every hop unless you say otherwise.
     * Default `true` with `certificateArn` or `rootPassword`, otherwise `false`.
     */
    peerTls?: boolean;
    /**
     * The generation of the peer CA the cluster is at: 0 for the CA the
     * stack was created with, one more after each rotation. Raise it by one,
     * and leave `peerCaRotation` out, only to finish a rotation that has
     * reached `"sign-with-next"`: the old CA is then deleted and the members
     * roll to trust the new one alone. The guard refuses any other change.
     * Needs `peerTls`. Default `0`.
     */
    peerCaGeneration?: number;
    /**
     * A rotation of the peer CA to a new one, a step at a time, each step a
     * roll of the members (etcd reads the CAs it trusts only at start):
     * `"trust-next"` creates the next generation's CA and has every member
     * trust it beside the current one, still signing with the current one;
     * `"sign-with-next"` then has every member sign with the next one. Finish
     * by raising `peerCaGeneration` by one and leaving this out. Every step
     * must have rolled every member (a `pulumi up` that ends without error)
     * before the next: the guard refuses a step skipped, and the preview
     * refuses the next step while the last has not reached every member.
     * Going back a step is allowed, except once finished. Every run warns
     * while a rotation is under way. Needs `peerTls`. See the README's
     * "Rotating the peer CA".
     * Default none: no rotation under way.
     */
    peerCaRotation?: PeerCaRotation;
    /**
     * Your own peer CA instead of the one the component makes: its
     * certificate, PEM, a plain string (not a secret: it is the
     * `caCertificate` clients verify the members with). The members sign
     * their certificates with it (so whoever controls a member can: give a CA
     * dedicated to this cluster) and trust it alone, so an intermediate is
     * fine (give it without its issuers; the members serve it after their own
     * certificates): certificates from the rest of your PKI are refused at
     * the peer port. It must be a CA certificate valid now, with an RSA (2048
     * bits or more) or ECDSA (P-256, P-384, P-521) key, and an extended key
     * usage, if any, that allows serverAuth and clientAuth. Needs
     * `peerCaPrivateKey` and `peerTls`; not with `peerCaRotation` or a
     * `peerCaGeneration` above 0 (they rotate the component's own CA). On a running cluster it can only be
     * renewed (the same key and subject: the members roll onto it); every
     * `pulumi up` warns a year before it expires. Read it from a file, or
     * `pulumi config set peerCaCertificate -- "$(cat ca.crt)"`. See the
     * README's "Your own peer CA".
     * Default none: the component makes the CA (see `peerTls`).
     */
    peerCaCertificate?: string;
    /**
     * The private key of `peerCaCertificate`, unencrypted PEM: give a Pulumi
     * secret (`pulumi config set --secret peerCaPrivateKey -- "$(cat
     * ca.key)"`). Like the component's own CA's key, it reaches the members
     * only from the cluster's secrets bucket (SSE-KMS, readable by their role
     * alone), into a directory their etcd container never sees, and is a
     * secret in the stack's state whether or not it came as one. Checked
     * against the certificate before anything is created (once known, for a
     * secret from stack config). Needs `peerCaCertificate`.
     * Default none: the component makes the CA.
     */
    peerCaPrivateKey?: pulumi.Input<string>;
    /**
     * TLS on the members' client port (2379) too: each member serves it with
     * the certificate `peerTls` issues it (so it needs `peerTls`), which names
     * its slot's address and, with `grpcLoadBalancer`, the NLB's DNS name.
     * `clientEndpoints` become `https://`, the ALB's target group and both
     * load balancers' health checks speak HTTPS to the members (an ALB does not
     * check a target's certificate; the NLB passes TLS through to the members,
     * so gRPC clients verify it), and `caCertificate` is the CA clients verify
     * the members with (`etcdctl --cacert`). Clients are not asked for
     * certificates: the ALB has none to give. The metrics port (2381) stays
     * plain HTTP. Like `peerTls`, it cannot change on a running cluster; and
     * since the certificates name the NLB, turning `grpcLoadBalancer` on or off
     * (or replacing the NLB) rolls every member.
     * Default `true` with `certificateArn` or `rootPassword` (unless `peerTls` is `false`), otherwise `false`.
     */
    clientTls?: boolean;
    /**
     * Turns on etcd's role-based access control with this password for the
     * user `root` (give a Pulumi secret: `pulumi config set --secret
     * rootPassword …`; at least 12 printable characters). Needs `clientTls`,
     * so that the password and the tokens it buys reach the members only over
     * TLS, and with `internetFacing` needs `certificateArn` (without it,
     * clients send them to the internal ALB over HTTP, inside `allowedCidrs`).
     * The members turn access control on once the cluster has formed; a read
     * or write without a token (`/v3/auth/authenticate`, or etcdctl's
     * `--user`) is then refused, and `/health` still answers for the load
     * balancers. The password reaches the members only from the
     * cluster's secrets bucket (SSE-KMS, readable by their role alone), never
     * in user data or a plain output; the members sign clients' tokens with a
     * key from the same bucket, so a token from one member is good at every
     * member behind the ALB. The v2 API is off with it (v3's access control
     * does not guard it). Access control cannot be turned on or off on a
     * running cluster; the password can be rotated (see the README's
     * Security section). Default none: no authentication.
     */
    rootPassword?: pulumi.Input<string>;
    /**
     * The generation of the key the members sign and check clients' tokens
     * with (made with the stack, kept in the secrets bucket). Raise it by one
     * to rotate the key: a new one replaces it in the bucket and the members
     * roll onto it one at a time. etcd checks tokens with one key only, so
     * during the roll a token is good only at the members with the key that
     * signed it: a client through the ALB may be refused (`invalid auth
     * token`) until it authenticates again, which etcd's own clients do by
     * themselves. Needs `rootPassword`. See the README's "Rotating the token
     * signing key". Default `0`.
     */
    tokenSigningKeyGeneration?: number;
    /**
     * Size of each member's encrypted gp3 root volume, GiB, 10 to 16384. It can
     * grow on a live stack, never shrink (EBS volumes cannot). Default `20`.
     */
    rootVolumeSizeGiB?: number;
    /**
     * Size of each member's data volume (an encrypted gp3 EBS volume in the
     * member's zone that outlives its instances and holds `/var/lib/etcd`), GiB,
     * 1 to 65536. It can grow on a live stack (EBS grows the volume in place;
     * the file system follows at the member's next boot or replacement), never
     * shrink. Default `20`.
     */
    dataVolumeSizeGiB?: number;
    /** Provisioned IOPS of each data volume, 3000 (gp3's baseline, free) to 80000, at most 500 per GiB. Default `3000`. */
    dataVolumeIops?: number;
    /** Provisioned throughput of each data volume, MiB/s, 125 (gp3's baseline, free) to 2000, at most IOPS ÷ 4. Default `125`. */
    dataVolumeThroughput?: number;
    /**
     * ARN of the KMS key (`arn:aws:kms:<region>:<account>:key/<id>`) the data
     * volumes are encrypted with; the members' instance role needs no access to
     * it, EC2 uses it on their behalf. Default AWS's managed key for EBS (`aws/ebs`).
     */
    kmsKeyId?: string;
    /**
     * How long `pulumi up` waits, at each member of a roll, for the replaced
     * member to be healthy behind the load balancer (and, before stopping a
     * member, for the others to be healthy), minutes, 1 to 120; the roll stops
     * with an error at the first member that does not come back. `0` turns the
     * waits off (members are still replaced one after another, but none waits
     * for health; no ELB API call is made). Default `15`.
     */
    rollingHealthTimeoutMinutes?: number;
    /**
     * How long `pulumi up` waits, at each member that leaves the stack (a
     * smaller `clusterSize`, a destroy), for the member to remove itself from
     * etcd and power its instance off before the instance is deleted,
     * minutes, 1 to 120; the change stops with an error at the first member
     * that does not leave. `0` turns the departures off: a leaving member's
     * instance is deleted while it is still a member (no EC2 API call is
     * made), for a cluster that is beyond saving or a place with no EC2 API
     * credentials; remove such members with `etcdctl member remove`. Default `15`.
     */
    memberDepartureTimeoutMinutes?: number;
    /**
     * Keep the data volumes in AWS when they leave the stack (`pulumi destroy`, a
     * removed slot): Pulumi's `retainOnDelete`, so a mistaken destroy loses no
     * data (delete the volumes yourself afterwards). `false` deletes them with
     * the stack. Default `true`.
     */
    retainDataVolumes?: boolean;
    /**
     * etcd's backend quota (`--quota-backend-bytes`), MiB, 16 to 8192: when the
     * backend reaches it, etcd raises the `NOSPACE` alarm and refuses writes
     * until space is freed (see the README's NOSPACE runbook). At most half of
     * `dataVolumeSizeGiB`: defragmentation rewrites the backend into a new
     * file beside the old one, and the raft log and snapshots need room too.
     * etcd warns above 8 GiB (snapshots, defragmentation and restarts grow
     * slow); its own default is 2 GiB. With a smaller data volume the default
     * is half of it, and with `backups` at most 5120 (a snapshot goes up in one
     * PUT). Default `8192` when `dataVolumeSizeGiB` is 16 or more.
     */
    quotaBackendMiB?: number;
    /**
     * etcd's `--snapshot-count`: raft entries applied between two snapshots,
     * 1000 to 1000000. A member keeps the entries since the last snapshot in
     * memory, and a member that falls further behind than them catches up from
     * a whole snapshot. etcd 3.6's default, where 3.5's 100000 holds ten
     * times the memory, too much for small instances. Default `10000`.
     */
    snapshotCount?: number;
    /**
     * Each member defragments its backend once a day, at a time derived from
     * its slot, three hours after the previous member's, so no two members
     * ever do at once (a member answers nothing while it defragments): only
     * when every member is healthy and a tenth of its backend or more is free.
     * Compaction frees space inside the backend; only defragmentation gives it
     * back, so that the quota is not reached by a backend that is mostly
     * empty. Default `true`.
     */
    dailyDefragmentation?: boolean;
    /**
     * Snapshots of the cluster's data to S3: every `backupIntervalMinutes`,
     * the member that leads the cluster takes `etcdctl snapshot save` and
     * uploads it (skipped when the bucket has the current revision already),
     * named `<backupPrefix>etcd-snapshot-rev-<revision>-<UTC time>.db` and
     * checked once uploaded. The members get an instance profile that may put
     * objects under `backupPrefix` and list it, nothing else. Without
     * `backupBucket` the component creates a bucket: versioned, encrypted
     * (SSE-S3), closed to public access, expiring snapshots after
     * `backupRetentionDays`, and kept in AWS when the stack is destroyed.
     * A snapshot goes up in one request, which S3 caps at 5 GiB: with backups
     * `quotaBackendMiB` is at most 5120. Default `false`.
     */
    backups?: boolean;
    /**
     * An existing bucket to upload the snapshots to, instead of one the
     * component creates; needs `backups`. Its name may not contain dots (the
     * members upload over HTTPS to `<bucket>.s3.<region>.amazonaws.com`, which
     * S3's certificate covers only without them). The component adds no
     * lifecycle rule to it: keep and expire the snapshots with the bucket's own
     * rules. Its default encryption must be SSE-S3 (or a KMS key the members'
     * role may use). Default a bucket the component creates.
     */
    backupBucket?: string;
    /**
     * The key prefix of every snapshot: `/`-separated parts of letters, digits,
     * `.`, `_`, `-`, ending with `/`, at most 200 characters; needs `backups`.
     * Default `<ecosystem>/`.
     */
    backupPrefix?: string;
    /**
     * Minutes between two snapshots, one of 5, 10, 15, 20, 30, 60, 120, 180,
     * 240, 360, 480, 720, 1440 (on the hour's or day's boundaries, UTC), as
     * often as etcd-manager takes them by default; needs `backups`. Default `15`.
     */
    backupIntervalMinutes?: number;
    /**
     * Days a created bucket keeps a snapshot, 1 to 3650 (former versions a
     * week more); needs `backups` and no `backupBucket`. Default `30` when the
     * component creates the bucket.
     */
    backupRetentionDays?: number;
    /**
     * Builds the cluster from a snapshot, `s3://<bucket>/<key>` (a backup's
     * object, see `backupLocation`): every member that forms the cluster
     * restores it at first boot with `etcdutl snapshot restore`, the static
     * member list and the cluster's new token, revisions bumped by a billion and
     * marked compacted so watching clients never see them go back. Needs
     * `bootstrap: "static"`. The members' role may read that one object. Read
     * only when the cluster forms: on a running cluster it changes nothing but
     * the user data (one roll); without it a new cluster starts empty. Default none.
     */
    restoreFrom?: string;
    /**
     * CloudWatch alarms on the load balancers' unhealthy and missing members
     * and on each member instance's status checks (see the README for their
     * names and thresholds). Default `true`.
     */
    alarms?: boolean;
    /** An SNS topic ARN the alarms notify when they fire and when they clear; needs `alarms`. Without it, alarms show in CloudWatch only. Default none. */
    alarmTopicArn?: pulumi.Input<string>;
    /**
     * Tags added to every resource, on top of the component's own `Name`,
     * `ecosystem`, `etcd-member` and `etcd3-cluster:leave` (which they may not
     * replace): at most 46, keys up to 128 and values up to 256 characters of
     * letters, digits, spaces and `_ . : / = + -` or the at sign, no key
     * starting with `aws:`. Keys may not contain spaces or `/`, nor be `.`,
     * `..` or `_index`: the members' instances have their tags in their
     * instance metadata, where EC2 refuses those. Default none.
     */
    tags?: Record<string, string>;
}

/**
 * What an argument must be. It is checked before its value, so a JavaScript
 * caller or untyped config gets the expected type, not a confusing range error;
 * it also says how `pulumi config` gives the value.
 */
export type ArgumentType =
    | "string" | "integer" | "boolean" | "string-list" | "string-map"
    /** A string, or an Output/Promise of one (another resource's id). */
    | "string-input"
    /** A list of strings, or an Output/Promise of one (another resource's ids). */
    | "string-list-input"
    /** A string or an Output of one, read from config as a secret. */
    | "secret-input"
    /** A file path, or `false`. */
    | "path-or-false";

/** One argument's facts that the code, Pulumi.yaml and the README all derive from. */
export interface ArgumentDefinition {
    readonly type: ArgumentType;
    /**
     * The default: a single value (also declared in Pulumi.yaml, unless
     * `defaultOnlyWhen` says it depends on other arguments), words for a default
     * that is not one value, or none.
     */
    readonly default?: string | number | boolean | { readonly words: string };
    /** For a value default that applies only in some cases: when (Pulumi.yaml then leaves it out). */
    readonly defaultOnlyWhen?: string;
}

/** Every argument, once. The type annotation makes a missing or extra key a compile error. */
export const argumentDefinitions: Readonly<Record<keyof Etcd3ClusterArgs, ArgumentDefinition>> = {
    ecosystem: { type: "string", default: "etcd3-cluster" },
    vpcCidr: { type: "string", default: "10.99.0.0/16", defaultOnlyWhen: "`vpcId` is not given" },
    availabilityZoneCount: { type: "integer", default: 3, defaultOnlyWhen: "a new VPC is made" },
    natGateways: { type: "string", default: "Single", defaultOnlyWhen: "a new VPC is made" },
    vpcId: { type: "string-input", default: { words: "none (a new VPC)" } },
    privateSubnetIds: { type: "string-list-input" },
    publicSubnetIds: { type: "string-list-input" },
    clusterSize: { type: "integer", default: 3 },
    instanceType: { type: "string", default: "t3.small" },
    allowUnknownInstanceType: { type: "boolean", default: false },
    amiId: { type: "string", default: { words: "the latest stable image of `os`" } },
    os: { type: "string", default: "fedora-coreos" },
    etcdVersion: { type: "string", default: defaultEtcdVersion },
    bootstrap: { type: "string", default: "discovery" },
    heartbeatIntervalMs: { type: "integer", default: { words: `etcd's ${etcdTimingDefaults.heartbeatIntervalMs}` } },
    electionTimeoutMs: { type: "integer", default: { words: `etcd's ${etcdTimingDefaults.electionTimeoutMs}` } },
    enableV2Api: { type: "boolean", default: { words: "`true` on etcd 3.5 without `rootPassword`, otherwise `false`" } },
    etcdImageRepository: { type: "string", default: defaultImageRepository },
    discoveryUrl: { type: "string", default: { words: "one requested from `discoveryService` when the stack is first created" } },
    discoveryService: { type: "string", default: defaultDiscoveryService },
    discoveryLogFile: { type: "path-or-false", default: "etcd3-discovery-url.log" },
    sshAuthorizedKeys: { type: "string-list" },
    sshCidrs: { type: "string-list" },
    internetFacing: { type: "boolean", default: false },
    allowedCidrs: { type: "string-list", default: { words: "the VPC's CIDR" } },
    clientCidrs: { type: "string-list", default: { words: "the VPC's CIDR" } },
    grpcLoadBalancer: { type: "boolean", default: false },
    dnsName: { type: "string" },
    hostedZoneId: { type: "string-input" },
    certificateArn: { type: "string-input" },
    sslPolicy: { type: "string", default: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", defaultOnlyWhen: "`certificateArn` is given" },
    peerTls: { type: "boolean", default: { words: "`true` with `certificateArn` or `rootPassword`, otherwise `false`" } },
    clientTls: { type: "boolean", default: { words: "`true` with `certificateArn` or `rootPassword` (unless `peerTls` is `false`), otherwise `false`" } },
    peerCaGeneration: { type: "integer", default: 0 },
    peerCaRotation: { type: "string", default: { words: "none: no rotation under way" } },
    peerCaCertificate: { type: "string", default: { words: "none: the component makes the CA (see `peerTls`)" } },
    peerCaPrivateKey: { type: "secret-input", default: { words: "none: the component makes the CA" } },
    rootPassword: { type: "secret-input", default: { words: "none: no authentication" } },
    tokenSigningKeyGeneration: { type: "integer", default: 0 },
    rootVolumeSizeGiB: { type: "integer", default: 20 },
    dataVolumeSizeGiB: { type: "integer", default: 20 },
    dataVolumeIops: { type: "integer", default: 3000 },
    dataVolumeThroughput: { type: "integer", default: 125 },
    kmsKeyId: { type: "string", default: { words: "AWS's managed key for EBS (`aws/ebs`)" } },
    retainDataVolumes: { type: "boolean", default: true },
    rollingHealthTimeoutMinutes: { type: "integer", default: 15 },
    memberDepartureTimeoutMinutes: { type: "integer", default: 15 },
    quotaBackendMiB: { type: "integer", default: 8192, defaultOnlyWhen: "`dataVolumeSizeGiB` is 16 or more" },
    snapshotCount: { type: "integer", default: 10000 },
    dailyDefragmentation: { type: "boolean", default: true },
    backups: { type: "boolean", default: false },
    backupBucket: { type: "string", default: { words: "a bucket the component creates" } },
    backupPrefix: { type: "string", default: { words: "`<ecosystem>/`" } },
    backupIntervalMinutes: { type: "integer", default: 15 },
    backupRetentionDays: { type: "integer", default: 30, defaultOnlyWhen: "the component creates the bucket" },
    restoreFrom: { type: "string" },
    alarms: { type: "boolean", default: true },
    alarmTopicArn: { type: "string-input" },
    tags: { type: "string-map" },
};

export const argumentNames = Object.keys(argumentDefinitions) as (keyof Etcd3ClusterArgs)[];

type ValueDefault<K extends keyof Etcd3ClusterArgs> = Exclude<Etcd3ClusterArgs[K], undefined>;
const valueDefault = <K extends keyof Etcd3ClusterArgs>(key: K) => argumentDefinitions[key].default as ValueDefault<K>;

/** The default of every argument that has a single value as its default. */
export const argumentDefaults = {
    ecosystem: valueDefault("ecosystem"),
    vpcCidr: valueDefault("vpcCidr"),
    availabilityZoneCount: valueDefault("availabilityZoneCount"),
    natGateways: valueDefault("natGateways"),
    clusterSize: valueDefault("clusterSize"),
    instanceType: valueDefault("instanceType"),
    allowUnknownInstanceType: valueDefault("allowUnknownInstanceType"),
    os: valueDefault("os"),
    etcdVersion: valueDefault("etcdVersion"),
    bootstrap: valueDefault("bootstrap"),
    etcdImageRepository: valueDefault("etcdImageRepository"),
    discoveryService: valueDefault("discoveryService"),
    discoveryLogFile: valueDefault("discoveryLogFile") as string,
    internetFacing: valueDefault("internetFacing"),
    grpcLoadBalancer: valueDefault("grpcLoadBalancer"),
    sslPolicy: valueDefault("sslPolicy"),
    peerCaGeneration: valueDefault("peerCaGeneration"),
    tokenSigningKeyGeneration: valueDefault("tokenSigningKeyGeneration"),
    rootVolumeSizeGiB: valueDefault("rootVolumeSizeGiB"),
    dataVolumeSizeGiB: valueDefault("dataVolumeSizeGiB"),
    dataVolumeIops: valueDefault("dataVolumeIops"),
    dataVolumeThroughput: valueDefault("dataVolumeThroughput"),
    retainDataVolumes: valueDefault("retainDataVolumes"),
    rollingHealthTimeoutMinutes: valueDefault("rollingHealthTimeoutMinutes"),
    memberDepartureTimeoutMinutes: valueDefault("memberDepartureTimeoutMinutes"),
    quotaBackendMiB: valueDefault("quotaBackendMiB"),
    snapshotCount: valueDefault("snapshotCount"),
    dailyDefragmentation: valueDefault("dailyDefragmentation"),
    backups: valueDefault("backups"),
    backupIntervalMinutes: valueDefault("backupIntervalMinutes"),
    backupRetentionDays: valueDefault("backupRetentionDays"),
    alarms: valueDefault("alarms"),
};

/** The part of `pulumi.Config` the program reads arguments with. */
export interface ConfigReader {
    get(key: string): string | undefined;
    getNumber(key: string): number | undefined;
    getBoolean(key: string): boolean | undefined;
    getObject<T>(key: string): T | undefined;
    getSecret(key: string): pulumi.Output<string> | undefined;
}

/**
 * The component's arguments from stack config: every key is the argument of
 * the same name, read the way its type says (lists and maps as JSON or by
 * `--path`; `discoveryLogFile` takes `false`).
 */
export function argsFromConfig(config: ConfigReader): Etcd3ClusterArgs {
    const read: Record<ArgumentType, (key: string) => unknown> = {
        "string": (key) => config.get(key),
        "string-input": (key) => config.get(key),
        "secret-input": (key) => config.getSecret(key),
        "integer": (key) => config.getNumber(key),
        "boolean": (key) => config.getBoolean(key),
        "string-list": (key) => config.getObject(key),
        "string-list-input": (key) => config.getObject(key),
        "string-map": (key) => config.getObject(key),
        "path-or-false": (key) => {
            const value = config.get(key);
            return value === "false" ? false : value;
        },
    };
    const args: Record<string, unknown> = {};
    for (const name of argumentNames) {
        const value = read[argumentDefinitions[name].type](name);
        if (value !== undefined) {
            args[name] = value;
        }
    }
    return args as Etcd3ClusterArgs;
}

/** Where a list of CIDRs comes from once defaults are filled in: the VPC's own CIDR (known only once it exists), or a list. */
export type CidrSource = "vpc-cidr" | string[];

/** The arguments after validation, with every default filled in and every lookup done once. */
export interface ResolvedEtcd3ClusterArgs {
    ecosystem: string;
    network:
        | { kind: "new"; vpcCidr: string; availabilityZoneCount: number; natGateways: NatGatewayStrategy }
        | { kind: "existing"; vpcId: pulumi.Input<string>; privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>; publicSubnetIds: pulumi.Input<pulumi.Input<string>[]> };
    clusterSize: number;
    instanceType: string;
    architecture: "x86_64" | "arm64";
    amiId?: string;
    os: OperatingSystem;
    /** The OS's row of the OS table. */
    osProfile: OperatingSystemProfile;
    /** The normalised release tag, e.g. `v3.5.33`. */
    etcdVersion: string;
    /** The parsed release: its branch and what it serves. */
    release: EtcdRelease;
    enableV2Api: boolean;
    bootstrap: BootstrapMethod;
    etcdImageRepository: string;
    heartbeatIntervalMs?: number;
    electionTimeoutMs?: number;
    discoveryUrl?: string;
    discoveryService: string;
    /** As the user gave it (relative to the program's directory), or undefined for none. */
    discoveryLogFile?: string;
    sshAuthorizedKeys: string[];
    internetFacing: boolean;
    /** Who may reach the load balancers. */
    allowedCidrs: CidrSource;
    /** Who may reach the members' client port directly. */
    clientCidrs: CidrSource;
    /** Who may reach the members' SSH port: nobody unless keys and CIDRs are both given. */
    sshCidrs: string[];
    grpcLoadBalancer: boolean;
    dns?: { name: string; hostedZoneId: pulumi.Input<string> };
    /** The ALB's HTTPS listener; none for HTTP only. */
    https?: HttpsSettings;
    /** Mutual TLS between the members. */
    peerTls: boolean;
    /** TLS on the members' client port, with the certificates peer TLS issues. */
    clientTls: boolean;
    /** Which peer CAs the members trust and sign with (with peer TLS). */
    peerCa: PeerCaRound;
    /** The peer CA the user gave, checked; none when the component makes it. */
    givenPeerCa?: GivenPeerCa;
    /** root's password: etcd's access control is on with it; none for no authentication. */
    rootPassword?: pulumi.Input<string>;
    /** The members' token signing key's generation (with `rootPassword`). */
    tokenSigningKeyGeneration: number;
    rootVolumeSizeGiB: number;
    /** Each member's data volume. */
    dataVolume: DataVolumeSettings;
    rollingHealthTimeoutMinutes: number;
    memberDepartureTimeoutMinutes: number;
    quotaBackendMiB: number;
    snapshotCount: number;
    dailyDefragmentation: boolean;
    /** Where and how often the snapshots go; none without backups. */
    backup?: BackupSettings;
    /** The snapshot the cluster forms from; none for an empty cluster. */
    restore?: { bucket: string; key: string };
    /** The CloudWatch alarms, and whom they notify; none without them. */
    alarms?: { topicArn?: pulumi.Input<string> };
    tags: Record<string, string>;
}

/** A peer CA the user gave (see peer-ca.ts), and what its checks found. */
export interface GivenPeerCa extends CheckedPeerCaCertificate {
    certificatePem: string;
    /** Checked here when a plain string; an Output is checked once known (tls.ts). */
    privateKeyPem: pulumi.Input<string>;
}

/** What the ALB's HTTPS listener is made with. */
export interface HttpsSettings {
    certificateArn: pulumi.Input<string>;
    sslPolicy: string;
}

/** What each member's data volume is made with. */
export interface DataVolumeSettings {
    sizeGiB: number;
    iops: number;
    throughputMiBps: number;
    kmsKeyId?: string;
    /** Kept in AWS when it leaves the stack. */
    retain: boolean;
}

/** Thrown for invalid arguments; `problems` holds one line per argument at fault. */
export class Etcd3ClusterArgumentError extends Error {
    constructor(public readonly componentName: string, public readonly problems: string[]) {
        super(`Etcd3Cluster "${componentName}" has invalid arguments:\n  - ${problems.join("\n  - ")}`);
        this.name = "Etcd3ClusterArgumentError";
    }
}

/** Parses an IPv4 CIDR; undefined unless it is a.b.c.d/n with host bits zero. */
export function parseIpv4Cidr(value: string): { address: number; prefix: number } | undefined {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
    if (!match) {
        return undefined;
    }
    const octets = match.slice(1, 5).map(Number);
    const prefix = Number(match[5]);
    if (octets.some((octet) => octet > 255) || prefix > 32) {
        return undefined;
    }
    const address = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
    const hostMask = prefix === 0 ? 0xffffffff : (2 ** (32 - prefix) - 1);
    if ((address & hostMask) >>> 0 !== 0) {
        return undefined;
    }
    return { address, prefix };
}

const sshKeyTypes = [
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
];

/**
 * One OpenSSH public key line: no line breaks (a second key or an injected
 * line would hide in one), a base64 blob that decodes and names the same key
 * type as its prefix.
 */
export function isOpenSshPublicKey(value: string): boolean {
    if (/[\r\n\0]/.test(value)) {
        return false;
    }
    const [type, blob] = value.trim().split(/\s+/);
    if (!sshKeyTypes.includes(type) || !blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) {
        return false;
    }
    const decoded = Buffer.from(blob, "base64");
    if (decoded.length < 4) {
        return false;
    }
    const typeLength = decoded.readUInt32BE(0);
    return decoded.subarray(4, 4 + typeLength).toString("latin1") === type && decoded.length > 4 + typeLength;
}

/**
 * Graviton families carry a `g` among the letters after the generation digit
 * (t4g, m7gd, c6gn, g5g, im4gn); a1 is the first Graviton.
 */
export function architectureOf(instanceType: string): "x86_64" | "arm64" {
    const family = instanceType.split(".")[0];
    return family === "a1" || /^[a-z]+\d+[a-z]*g[a-z]*$/.test(family) ? "arm64" : "x86_64";
}

/** The EC2 instance types `@pulumi/aws` knows. */
export const knownInstanceTypes: ReadonlySet<string> = new Set(Object.values(InstanceType));

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = current;
    }
    return previous[b.length];
}

/** Up to `count` candidates nearest to `value`, nearest first, among those within a few edits. */
export function nearestNames(value: string, candidates: Iterable<string>, count = 3): string[] {
    const lower = value.toLowerCase();
    return [...candidates]
        .map((candidate) => ({ candidate, distance: editDistance(lower, candidate.toLowerCase()) }))
        .filter(({ distance }) => distance <= Math.max(2, Math.floor(value.length / 3)))
        .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
        .slice(0, count)
        .map(({ candidate }) => candidate);
}

/** An ALB needs subnets in at least two zones. */
export const minimumSubnets = 2;
/** The error lines for too few subnets, shared by the check at construction and the one when outputs resolve. */
export const privateSubnetProblem = (count: number) =>
    `privateSubnetIds: with vpcId, give at least ${minimumSubnets} private subnets in different availability zones (got ${count})`;
export const publicSubnetProblem = (count: number) =>
    `publicSubnetIds: an internet-facing load balancer needs at least ${minimumSubnets} public subnets of vpcId (got ${count})`;

/** The longest component name whose derived ALB and target group names fit AWS's 32 characters. */
export const maxComponentNameLength = 16;
/**
 * Prefixes AWS refuses at the start of names derived from the component's:
 * load balancer names may not begin with `internal-`, security group names not with `sg-`.
 */
const reservedNamePrefixes = ["internal-", "sg-"];

/**
 * Families that run on Xen rather than Nitro (their `.metal` sizes are Nitro):
 * EBS volumes there are not NVMe devices named by volume id.
 */
const xenInstanceFamilies = [
    "t1", "t2", "m1", "m2", "m3", "m4", "c1", "c3", "c4", "r3", "r4", "x1", "x1e", "i2", "i3", "d2", "g2", "g3", "g3s",
    "p2", "p3", "h1", "f1", "cc2", "cr1", "hs1",
];

/** Tag keys the component sets itself (the leave tag on a leaving member's instance only, see departure.ts). */
export const componentTagKeys = ["Name", "ecosystem", "etcd-member", leaveTagKey];
/** AWS allows 50 tags on a resource; the component's own take the rest. */
export const maxUserTags = 50 - componentTagKeys.length;
/** The characters load balancers (the strictest of the tagged services) allow in tag keys and values. */
const tagCharacters = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/**
 * What EC2 refuses in the key of a tag on an instance whose tags are in its
 * instance metadata (as the members' are): a space or `/` anywhere, or one of
 * these whole keys.
 */
const metadataTagKeyCharacters = /^[^\p{Z}/]*$/u;
const metadataReservedTagKeys = [".", "..", "_index"];

const describeValue = (value: unknown): string => {
    if (value === null) {
        return "null";
    }
    if (Array.isArray(value)) {
        return "a list";
    }
    if (typeof value === "string") {
        return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    }
    return typeof value === "object" ? "an object" : `the ${typeof value} ${String(value)}`;
};

/** An Output or Promise: a value known only when another resource exists. */
const isDeferred = (value: unknown): boolean =>
    typeof value === "object" && value !== null && (typeof (value as { apply?: unknown }).apply === "function" ||
        typeof (value as { then?: unknown }).then === "function");

const typeChecks: Record<ArgumentType, { expected: string; accepts: (value: unknown) => boolean; hint?: string }> = {
    "string": { expected: "a string", accepts: (value) => typeof value === "string" },
    "integer": { expected: "a number", accepts: (value) => typeof value === "number" },
    "boolean": { expected: "true or false", accepts: (value) => typeof value === "boolean" },
    "string-list": {
        expected: "a list of strings",
        accepts: (value) => Array.isArray(value) && value.every((item) => typeof item === "string"),
        hint: "put a single value in a list: [\"...\"]",
    },
    "string-map": {
        expected: "an object of string values",
        accepts: (value) => typeof value === "object" && value !== null && !Array.isArray(value) &&
            Object.values(value).every((item) => typeof item === "string"),
    },
    "string-input": { expected: "a string or an Output of one", accepts: (value) => typeof value === "string" || isDeferred(value) },
    "secret-input": { expected: "a string or an Output of one (a Pulumi secret)", accepts: (value) => typeof value === "string" || isDeferred(value) },
    "string-list-input": {
        expected: "a list of strings or an Output of one",
        accepts: (value) => isDeferred(value) ||
            (Array.isArray(value) && value.every((item) => typeof item === "string" || isDeferred(item))),
        hint: "put a single value in a list: [\"...\"]",
    },
    "path-or-false": {
        expected: "a file path or false",
        accepts: (value) => value === false || typeof value === "string",
    },
};

/** Problems with the arguments' names and types; the values are checked only once these are right. */
function shapeProblems(args: object): string[] {
    const problems: string[] = [];
    for (const [key, value] of Object.entries(args)) {
        if (value === undefined) {
            continue;
        }
        if (!(key in argumentDefinitions)) {
            const nearest = nearestNames(key, argumentNames);
            problems.push(`${key}: not an argument of Etcd3Cluster` +
                (nearest.length > 0 ? `; did you mean ${nearest.join(" or ")}?` : ""));
            continue;
        }
        const type = argumentDefinitions[key as keyof Etcd3ClusterArgs].type;
        const check = typeChecks[type];
        if (!check.accepts(value)) {
            // A secret's value is never shown, even one of the wrong type.
            const got = type !== "secret-input" ? describeValue(value) : value === null ? "null" : typeof value === "object" ? "an object" : `a ${typeof value}`;
            problems.push(`${key}: expected ${check.expected}, got ${got}` + (check.hint ? ` (${check.hint})` : ""));
        }
    }
    return problems;
}

/** The duplicates in a list of plain strings, each once. */
const duplicatesOf = (values: readonly unknown[]): string[] =>
    [...new Set(values.filter((value, index) => typeof value === "string" && values.indexOf(value) !== index) as string[])];

/**
 * Checks every argument and fills in defaults. Throws an
 * `Etcd3ClusterArgumentError` listing every problem; registers nothing.
 */
export function resolveArgs(name: string, args: Etcd3ClusterArgs = {}): ResolvedEtcd3ClusterArgs {
    const shape = shapeProblems(args);
    if (shape.length > 0) {
        throw new Etcd3ClusterArgumentError(name, shape);
    }
    const problems: string[] = [];
    const problem = (text: string) => problems.push(text);

    if (!/^[a-z][a-z0-9-]*$/.test(name) || name.length > maxComponentNameLength) {
        problem(`name "${name}": use lowercase letters, digits and hyphens, starting with a letter, at most ${maxComponentNameLength} characters ` +
            "(AWS limits load balancer and target group names to 32 characters, and the component derives them from its name)");
    }
    const reservedPrefix = reservedNamePrefixes.find((prefix) => name.startsWith(prefix));
    if (reservedPrefix) {
        problem(`name "${name}": may not begin with "${reservedPrefix}" (AWS refuses load balancer names beginning "internal-" ` +
            "and security group names beginning \"sg-\", and the component derives them from its name)");
    }

    const ecosystem = args.ecosystem ?? argumentDefaults.ecosystem;
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(ecosystem) || ecosystem.endsWith("-")) {
        problem(`ecosystem "${ecosystem}": use 1 to 32 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen`);
    }

    const newNetworkArgs = (["availabilityZoneCount", "natGateways"] as const).filter((key) => args[key] !== undefined);
    const existingNetworkArgs = (["privateSubnetIds", "publicSubnetIds"] as const).filter((key) => args[key] !== undefined);
    let network: ResolvedEtcd3ClusterArgs["network"];
    if (args.vpcId !== undefined) {
        if (args.vpcCidr !== undefined || newNetworkArgs.length > 0) {
            problem(`vpcId and ${[args.vpcCidr !== undefined ? "vpcCidr" : "", ...newNetworkArgs].filter(Boolean).join(", ")}: ` +
                "give either vpcId with its subnets (use an existing VPC) or vpcCidr (create one), not both");
        }
        if (typeof args.vpcId === "string" && !/^vpc-[0-9a-f]{8,17}$/.test(args.vpcId)) {
            problem(`vpcId "${args.vpcId}": use a VPC id like vpc-0123456789abcdef0`);
        }
        const privateSubnetIds = args.privateSubnetIds ?? [];
        const publicSubnetIds = args.publicSubnetIds ?? [];
        const checkSubnets = (key: string, ids: pulumi.Input<pulumi.Input<string>[]>) => {
            // Lists that are outputs of other resources are counted when they resolve (see network.ts).
            if (!Array.isArray(ids)) {
                return;
            }
            ids.forEach((id, index) => {
                if (typeof id === "string" && !/^subnet-[0-9a-f]{8,17}$/.test(id)) {
                    problem(`${key}[${index}] "${id}": use a subnet id like subnet-0123456789abcdef0`);
                }
            });
            const duplicates = duplicatesOf(ids);
            if (duplicates.length > 0) {
                problem(`${key}: ${duplicates.join(", ")} given more than once; give each subnet once, in different zones`);
            }
        };
        checkSubnets("privateSubnetIds", privateSubnetIds);
        checkSubnets("publicSubnetIds", publicSubnetIds);
        if (Array.isArray(privateSubnetIds) && privateSubnetIds.length < minimumSubnets) {
            problem(privateSubnetProblem(privateSubnetIds.length));
        }
        if (args.internetFacing && Array.isArray(publicSubnetIds) && publicSubnetIds.length < minimumSubnets) {
            problem(publicSubnetProblem(publicSubnetIds.length));
        }
        network = { kind: "existing", vpcId: args.vpcId, privateSubnetIds, publicSubnetIds };
    } else {
        if (existingNetworkArgs.length > 0) {
            problem(`${existingNetworkArgs.join(", ")}: subnets can only be given together with vpcId`);
        }
        const vpcCidr = args.vpcCidr ?? argumentDefaults.vpcCidr;
        const cidr = parseIpv4Cidr(vpcCidr);
        if (!cidr || cidr.prefix < 16 || cidr.prefix > 24) {
            problem(`vpcCidr "${vpcCidr}": use an IPv4 network address with a prefix from /16 to /24, e.g. 10.99.0.0/16`);
        }
        const availabilityZoneCount = args.availabilityZoneCount ?? argumentDefaults.availabilityZoneCount;
        if (![2, 3].includes(availabilityZoneCount)) {
            problem(`availabilityZoneCount ${availabilityZoneCount}: use 2 or 3 (an ALB needs subnets in at least two zones)`);
        }
        const natGateways = args.natGateways ?? argumentDefaults.natGateways;
        if (!["Single", "OnePerAz"].includes(natGateways)) {
            problem(`natGateways "${natGateways}": use "Single" or "OnePerAz" (the members need outbound access for the image and discovery)`);
        }
        network = { kind: "new", vpcCidr, availabilityZoneCount, natGateways };
    }

    const clusterSize = args.clusterSize ?? argumentDefaults.clusterSize;
    if (!supportedClusterSizes.includes(clusterSize)) {
        problem(`clusterSize ${clusterSize}: use ${supportedClusterSizes.join(", ")} ` +
            "(etcd needs a majority, so even sizes add no fault tolerance, and more than 7 members slow every write)");
    }

    const instanceType = args.instanceType ?? argumentDefaults.instanceType;
    const allowUnknownInstanceType = args.allowUnknownInstanceType ?? argumentDefaults.allowUnknownInstanceType;
    if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(instanceType)) {
        problem(`instanceType "${instanceType}": use an EC2 instance type such as t3.small or m7g.large`);
    } else if (!allowUnknownInstanceType && !knownInstanceTypes.has(instanceType)) {
        const nearest = nearestNames(instanceType, knownInstanceTypes);
        problem(`instanceType "${instanceType}": not an EC2 instance type @pulumi/aws knows` +
            (nearest.length > 0 ? `; did you mean ${nearest.join(", ")}?` : "") +
            " For a type newer than the SDK, also set allowUnknownInstanceType: true");
    }

    const family = instanceType.split(".")[0];
    if (xenInstanceFamilies.includes(family) && !instanceType.endsWith(".metal")) {
        problem(`instanceType "${instanceType}": ${family} runs on Xen, where EBS volumes do not appear as NVMe devices named by their ` +
            "volume id, so the member could not find its data volume; use a Nitro type such as t3.small, m6i.large or m7g.large");
    }

    if (args.amiId !== undefined && !/^ami-[0-9a-f]{8,17}$/.test(args.amiId)) {
        problem(`amiId "${args.amiId}": use an AMI id like ami-0123456789abcdef0`);
    }

    const os = args.os ?? argumentDefaults.os;
    if (!supportedOperatingSystems.includes(os)) {
        problem(`os "${os}": use one of ${supportedOperatingSystems.join(", ")}`);
    }

    const etcdVersion = args.etcdVersion ?? argumentDefaults.etcdVersion;
    const release = parseEtcdRelease(etcdVersion);
    if (!release) {
        problem(`etcdVersion "${etcdVersion}": use a release vX.Y.Z of etcd ${supportedEtcdBranches.join(", ")} ` +
            `(3.4 is end of life), e.g. ${defaultEtcdVersion}`);
    }

    const accessControl = args.rootPassword !== undefined;
    const enableV2Api = args.enableV2Api ?? (!accessControl && release?.servesV2Api) ?? false;
    if (release && enableV2Api && !release.servesV2Api) {
        problem(`enableV2Api: etcd ${release.branch} has no v2 API (3.6 removed it); leave enableV2Api out, or use etcd 3.5`);
    } else if (enableV2Api && accessControl) {
        problem("enableV2Api: v3's access control (rootPassword) does not guard the v2 API, so anyone could read and write /v2/keys; leave enableV2Api out with rootPassword");
    }

    const bootstrap = args.bootstrap ?? argumentDefaults.bootstrap;
    if (!bootstrapMethods.includes(bootstrap)) {
        problem(`bootstrap ${JSON.stringify(bootstrap)}: use "discovery" (a v2 discovery service, etcd 3.5 and 3.6) or "static" (the member slots' addresses)`);
    } else if (bootstrap === "discovery" && release && !release.formsByV2Discovery) {
        problem(`etcdVersion ${release.tag} with bootstrap "discovery": etcd ${release.branch} removed v2 discovery; ` +
            "use bootstrap: \"static\" (the members' addresses are known before they boot), or etcd 3.5 or 3.6");
    } else if (bootstrap === "static") {
        for (const argument of ["discoveryUrl", "discoveryService"] as const) {
            if (givenOtherThanDefault(args, argument)) {
                problem(`${argument}: only used with bootstrap "discovery"; leave it out with bootstrap "static"`);
            }
        }
    }

    etcdTimingProblems(args.heartbeatIntervalMs, args.electionTimeoutMs).forEach(problem);

    const etcdImageRepository = args.etcdImageRepository ?? argumentDefaults.etcdImageRepository;
    if (!isImageRepository(etcdImageRepository)) {
        problem(`etcdImageRepository "${etcdImageRepository}": use a registry host (its port, if any, 1–65535) and a path without a tag, e.g. quay.io/coreos/etcd`);
    }

    const discoveryService = (args.discoveryService ?? argumentDefaults.discoveryService).replace(/\/+$/, "");
    if (!isDiscoveryServiceUrl(discoveryService)) {
        problem(`discoveryService "${args.discoveryService}": use an http(s) base URL such as ${defaultDiscoveryService}`);
    }
    if (args.discoveryUrl !== undefined && !isDiscoveryUrl(args.discoveryUrl)) {
        problem(`discoveryUrl "${args.discoveryUrl}": use a URL that a discovery service returned, ending in a 32-hex-digit token, ` +
            "e.g. https://discovery.etcd.io/9a69d64726338dabf0a279d4fa7e803e");
    }
    if (typeof args.discoveryLogFile === "string" && args.discoveryLogFile.trim() === "") {
        problem("discoveryLogFile: use a file path, or false for no log");
    }

    const sshAuthorizedKeys = args.sshAuthorizedKeys ?? [];
    sshAuthorizedKeys.forEach((key, index) => {
        if (!isOpenSshPublicKey(key)) {
            problem(`sshAuthorizedKeys[${index}]: not one OpenSSH public key line ("ssh-ed25519 AAAA... comment", no line breaks); ` +
                `types allowed: ${sshKeyTypes.join(", ")}`);
        }
    });

    const internetFacing = args.internetFacing ?? argumentDefaults.internetFacing;
    const checkCidrs = (key: string, cidrs: string[]) => {
        cidrs.forEach((value, index) => {
            if (!parseIpv4Cidr(value)) {
                problem(`${key}[${index}] "${value}": use an IPv4 network address with its prefix, e.g. 203.0.113.0/24`);
            }
        });
        const duplicates = duplicatesOf(cidrs);
        if (duplicates.length > 0) {
            // Each CIDR becomes a security group rule, and EC2 refuses a duplicate rule.
            problem(`${key}: ${duplicates.join(", ")} given more than once; give each CIDR once`);
        }
    };
    if (args.clientCidrs !== undefined) {
        checkCidrs("clientCidrs", args.clientCidrs);
    }
    const sshCidrs = args.sshCidrs ?? [];
    checkCidrs("sshCidrs", sshCidrs);
    if (sshAuthorizedKeys.length > 0 && sshCidrs.length === 0) {
        problem("sshAuthorizedKeys: SSH opens only to the CIDRs sshCidrs names, and none is given (keys alone opened port 22 to " +
            "the VPC's CIDR before 0.1.0); give sshCidrs, e.g. pulumi config set --path 'sshCidrs[0]' <the VPC's CIDR or a bastion's /32>, " +
            "or leave the keys out");
    }
    if (sshCidrs.length > 0 && sshAuthorizedKeys.length === 0) {
        problem("sshCidrs: with no sshAuthorizedKeys no one can log in, so port 22 stays closed; give the keys too, or leave sshCidrs out");
    }
    if (args.allowedCidrs !== undefined) {
        if (args.allowedCidrs.length === 0) {
            problem("allowedCidrs: give at least one CIDR, or leave it out to allow the VPC's CIDR");
        }
        checkCidrs("allowedCidrs", args.allowedCidrs);
    } else if (internetFacing) {
        problem("allowedCidrs: an internet-facing load balancer needs the CIDRs allowed in named explicitly " +
            "(without rootPassword, etcd behind it has no authentication); use [\"0.0.0.0/0\"] only if the whole internet may read and write it");
    }

    if ((args.dnsName === undefined) !== (args.hostedZoneId === undefined)) {
        problem(`${args.dnsName === undefined ? "hostedZoneId" : "dnsName"}: dnsName and hostedZoneId go together; give both or neither`);
    }
    if (args.dnsName !== undefined && !isDnsName(args.dnsName)) {
        problem(`dnsName "${args.dnsName}": use a fully qualified DNS name such as etcd.example.com`);
    }
    const https = httpsSettings(args, problem);
    // Whoever asks for HTTPS at the ALB or for authentication gets TLS on every hop unless they say otherwise.
    const encryptedByDefault = https !== undefined || accessControl;
    const peerTls = args.peerTls ?? encryptedByDefault;
    const clientTls = args.clientTls ?? (encryptedByDefault && peerTls);
    const peerCa: PeerCaRound = { generation: args.peerCaGeneration ?? argumentDefaults.peerCaGeneration, rotation: args.peerCaRotation };
    peerCaRoundProblems(peerCa, "peerCaGeneration", "peerCaRotation").forEach(problem);
    const rotationArguments = ["peerCaRotation", "peerCaGeneration"] as const;
    const peerCaArgument = (["peerCaCertificate", "peerCaPrivateKey", ...rotationArguments] as const).find((argument) => givenOtherThanDefault(args, argument));
    if (!peerTls && peerCaArgument) {
        problem(`${peerCaArgument}: the peer CA is peerTls's, and peerTls is off; leave it out, or turn peerTls on`);
    }
    const givenPeerCa = givenPeerCaSettings(args, problem);
    const rotationArgument = rotationArguments.find((argument) => givenOtherThanDefault(args, argument));
    if (givenPeerCa && rotationArgument) {
        problem(`${rotationArgument}: a rotation replaces the component's own peer CA with a next one it makes, and peerCaCertificate gives yours; ` +
            "leave peerCaRotation and peerCaGeneration out");
    }
    if (clientTls && !peerTls) {
        problem("clientTls: the members serve their client port with the certificates peerTls issues them; turn peerTls on too, or leave clientTls out");
    }
    if (accessControl && !clientTls) {
        problem("rootPassword: root's password, and the tokens it buys, would cross the network to the members in clear; turn clientTls (and peerTls) on too, or leave rootPassword out");
    }
    if (accessControl && internetFacing && !https) {
        problem("rootPassword with internetFacing: clients would send root's password, and the tokens it buys, to the ALB over the internet in clear; " +
            "give certificateArn (HTTPS at the ALB), or keep the ALB internal");
    }
    // An Output is checked once known (tls.ts), before anything reads it.
    const passwordProblem = typeof args.rootPassword === "string" ? rootPasswordProblem(args.rootPassword) : undefined;
    if (passwordProblem) {
        problem(passwordProblem);
    }
    const tokenSigningKeyGeneration = args.tokenSigningKeyGeneration ?? argumentDefaults.tokenSigningKeyGeneration;
    generationProblems(tokenSigningKeyGeneration, "tokenSigningKeyGeneration").forEach(problem);
    if (!accessControl && givenOtherThanDefault(args, "tokenSigningKeyGeneration")) {
        problem("tokenSigningKeyGeneration: the members sign clients' tokens only with access control, and rootPassword is not given; leave it out, or give rootPassword");
    }

    const rootVolumeSizeGiB = args.rootVolumeSizeGiB ?? argumentDefaults.rootVolumeSizeGiB;
    if (!Number.isInteger(rootVolumeSizeGiB) || rootVolumeSizeGiB < 10 || rootVolumeSizeGiB > 16384) {
        problem(`rootVolumeSizeGiB ${rootVolumeSizeGiB}: use a whole number of GiB from 10 to 16384`);
    }

    const dataVolume: DataVolumeSettings = {
        sizeGiB: args.dataVolumeSizeGiB ?? argumentDefaults.dataVolumeSizeGiB,
        iops: args.dataVolumeIops ?? argumentDefaults.dataVolumeIops,
        throughputMiBps: args.dataVolumeThroughput ?? argumentDefaults.dataVolumeThroughput,
        kmsKeyId: args.kmsKeyId,
        retain: args.retainDataVolumes ?? argumentDefaults.retainDataVolumes,
    };
    dataVolumeProblems(dataVolume).forEach(problem);

    const rollingHealthTimeoutMinutes = args.rollingHealthTimeoutMinutes ?? argumentDefaults.rollingHealthTimeoutMinutes;
    if (!Number.isInteger(rollingHealthTimeoutMinutes) || rollingHealthTimeoutMinutes < 0 || rollingHealthTimeoutMinutes > 120) {
        problem(`rollingHealthTimeoutMinutes ${rollingHealthTimeoutMinutes}: use a whole number of minutes from 1 to 120, or 0 to roll without waiting for health`);
    }
    const memberDepartureTimeoutMinutes = args.memberDepartureTimeoutMinutes ?? argumentDefaults.memberDepartureTimeoutMinutes;
    if (!Number.isInteger(memberDepartureTimeoutMinutes) || memberDepartureTimeoutMinutes < 0 || memberDepartureTimeoutMinutes > 120) {
        problem(`memberDepartureTimeoutMinutes ${memberDepartureTimeoutMinutes}: use a whole number of minutes from 1 to 120, ` +
            "or 0 to delete leaving members' instances without removing them from etcd first");
    }

    const backup = backupSettings(args, ecosystem, problem);
    const restore = args.restoreFrom === undefined ? undefined : parseRestoreSource(args.restoreFrom);
    if (args.restoreFrom !== undefined && !restore) {
        problem(`restoreFrom "${args.restoreFrom}": use s3://<bucket>/<key>, a bucket name without dots (the members read it over HTTPS at ` +
            "<bucket>.s3.<region>.amazonaws.com) and a key of letters, digits, \".\", \"_\", \"-\" in \"/\"-separated parts");
    } else if (restore && bootstrap !== "static") {
        problem(`restoreFrom: a cluster restored from a snapshot forms from its static member list; set bootstrap to "static"`);
    }

    // Defragmentation writes a second copy of the backend beside the first; a snapshot goes up in one PUT.
    const largestQuotaMiB = Math.min(Math.floor(dataVolume.sizeGiB * 1024 / 2), backup ? maxSnapshotUploadMiB : Infinity);
    const quotaBackendMiB = args.quotaBackendMiB ?? Math.min(argumentDefaults.quotaBackendMiB, largestQuotaMiB);
    const snapshotCount = args.snapshotCount ?? argumentDefaults.snapshotCount;
    const quotaProblems = maintenanceProblems({ quotaBackendMiB: args.quotaBackendMiB });
    [...quotaProblems, ...maintenanceProblems({ snapshotCount })].forEach(problem);
    if (quotaProblems.length === 0 && backup && quotaBackendMiB > maxSnapshotUploadMiB) {
        problem(`quotaBackendMiB ${quotaBackendMiB}: with backups at most ${maxSnapshotUploadMiB}, since a snapshot, as large as the backend, ` +
            "goes up to S3 in one request, which S3 caps at 5 GiB; lower it or turn backups off");
    } else if (quotaProblems.length === 0 && quotaBackendMiB > largestQuotaMiB) {
        problem(`quotaBackendMiB ${quotaBackendMiB}: at most half of dataVolumeSizeGiB (${largestQuotaMiB} MiB for ${dataVolume.sizeGiB} GiB), ` +
            "since defragmentation writes a second copy of the backend beside the first; lower it or raise dataVolumeSizeGiB");
    }

    const alarms = args.alarms ?? argumentDefaults.alarms;
    if (!alarms && args.alarmTopicArn !== undefined) {
        problem("alarmTopicArn: the alarms notify it, and alarms is false; leave it out or turn alarms on");
    }
    if (typeof args.alarmTopicArn === "string" && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(args.alarmTopicArn)) {
        problem(`alarmTopicArn "${args.alarmTopicArn}": use an SNS topic ARN such as arn:aws:sns:eu-west-2:123456789012:etcd-alarms`);
    }

    const tags = args.tags ?? {};
    for (const [key, value] of Object.entries(tags)) {
        if (componentTagKeys.includes(key)) {
            problem(`tags["${key}"]: the component sets ${componentTagKeys.join(", ")} itself; use another key`);
        } else if (key.length === 0 || key.length > 128 || key.toLowerCase().startsWith("aws:") || !tagCharacters.test(key) ||
            value.length > 256 || !tagCharacters.test(value)) {
            problem(`tags["${key}"]: keys are 1 to 128 characters and may not start with "aws:"; values are at most 256; ` +
                "both only letters, digits, spaces and _ . : / = + - @");
        } else if (!metadataTagKeyCharacters.test(key) || metadataReservedTagKeys.includes(key)) {
            problem(`tags["${key}"]: the members' instances have their tags in their instance metadata (how a member learns ` +
                `it is to leave the cluster), where EC2 refuses a key with a space or "/", and the keys ${metadataReservedTagKeys.map((k) => `"${k}"`).join(", ")}; ` +
                "use another key");
        }
    }
    if (Object.keys(tags).length > maxUserTags) {
        problem(`tags: ${Object.keys(tags).length} given; AWS allows 50 tags on a resource and the component sets ` +
            `${componentTagKeys.length} of its own, so give at most ${maxUserTags}`);
    }

    if (problems.length > 0) {
        throw new Etcd3ClusterArgumentError(name, problems);
    }
    return {
        ecosystem,
        network,
        clusterSize,
        instanceType,
        architecture: architectureOf(instanceType),
        amiId: args.amiId,
        os,
        osProfile: operatingSystems[os],
        etcdVersion: release!.tag,
        release: release!,
        etcdImageRepository,
        heartbeatIntervalMs: args.heartbeatIntervalMs,
        electionTimeoutMs: args.electionTimeoutMs,
        discoveryUrl: args.discoveryUrl,
        discoveryService,
        discoveryLogFile: args.discoveryLogFile === false ? undefined : (args.discoveryLogFile ?? argumentDefaults.discoveryLogFile),
        sshAuthorizedKeys,
        internetFacing,
        allowedCidrs: args.allowedCidrs ?? "vpc-cidr",
        clientCidrs: args.clientCidrs ?? "vpc-cidr",
        sshCidrs,
        grpcLoadBalancer: args.grpcLoadBalancer ?? argumentDefaults.grpcLoadBalancer,
        dns: args.dnsName !== undefined ? { name: args.dnsName, hostedZoneId: args.hostedZoneId! } : undefined,
        https,
        peerTls,
        clientTls,
        peerCa,
        givenPeerCa,
        rootPassword: args.rootPassword,
        tokenSigningKeyGeneration,
        rootVolumeSizeGiB,
        dataVolume,
        rollingHealthTimeoutMinutes,
        memberDepartureTimeoutMinutes,
        quotaBackendMiB,
        snapshotCount,
        dailyDefragmentation: args.dailyDefragmentation ?? argumentDefaults.dailyDefragmentation,
        backup,
        restore,
        alarms: alarms ? { topicArn: args.alarmTopicArn } : undefined,
        enableV2Api,
        bootstrap,
        tags,
    };
}

/** The peer CA the user gave, or none; each problem goes to `problem`. */
function givenPeerCaSettings(args: Etcd3ClusterArgs, problem: (text: string) => void): GivenPeerCa | undefined {
    const { peerCaCertificate: certificatePem, peerCaPrivateKey: privateKeyPem } = args;
    if ((certificatePem === undefined) !== (privateKeyPem === undefined)) {
        problem(`${certificatePem === undefined ? "peerCaPrivateKey" : "peerCaCertificate"}: peerCaCertificate and peerCaPrivateKey go together; give both or neither`);
        return undefined;
    }
    if (certificatePem === undefined || privateKeyPem === undefined) {
        return undefined;
    }
    const checked = checkedPeerCaCertificate(certificatePem, Date.now());
    if ("problem" in checked) {
        problem(checked.problem);
        return undefined;
    }
    // An Output is checked once known (tls.ts), before anything reads it.
    const keyProblem = typeof privateKeyPem === "string" ? peerCaPrivateKeyProblem(privateKeyPem, certificatePem) : undefined;
    if (keyProblem) {
        problem(keyProblem);
    }
    return { ...checked, certificatePem, privateKeyPem };
}

/** The HTTPS listener's settings, or none without a certificate; each problem goes to `problem`. */
function httpsSettings(args: Etcd3ClusterArgs, problem: (text: string) => void): HttpsSettings | undefined {
    if (typeof args.certificateArn === "string" && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(args.certificateArn)) {
        problem(`certificateArn "${args.certificateArn}": use an ACM certificate ARN such as ` +
            "arn:aws:acm:eu-west-2:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab");
    }
    if (args.sslPolicy !== undefined && args.certificateArn === undefined) {
        problem("sslPolicy: it sets the HTTPS listener's TLS versions and ciphers, and there is none without certificateArn; " +
            "leave it out or give a certificate");
    }
    const versions = args.sslPolicy === undefined ? undefined : sslPolicyTlsVersions(args.sslPolicy);
    if (args.sslPolicy !== undefined && !(versions && versions.lowest >= "1.2")) {
        problem(`sslPolicy "${args.sslPolicy}": use an ALB security policy whose lowest version is TLS 1.2 or 1.3, such as ` +
            `${argumentDefaults.sslPolicy} or ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09 (TLS 1.0 and 1.1 are refused)`);
    }
    return args.certificateArn === undefined
        ? undefined
        : { certificateArn: args.certificateArn, sslPolicy: args.sslPolicy ?? argumentDefaults.sslPolicy };
}

/**
 * Whether `argument` is given with a value other than its default: an
 * argument that means something only with another is refused without it
 * only then, because the Pulumi CLI hands the program every default
 * Pulumi.yaml declares as if the stack had set it.
 */
function givenOtherThanDefault(args: Etcd3ClusterArgs, argument: keyof Etcd3ClusterArgs): boolean {
    return args[argument] !== undefined && args[argument] !== (argumentDefaults as Partial<Record<keyof Etcd3ClusterArgs, unknown>>)[argument];
}

/** The arguments that only mean something with `backups`. */
const backupOnlyArguments = ["backupBucket", "backupPrefix", "backupIntervalMinutes", "backupRetentionDays"] as const;

/** The snapshots' settings, or none without backups; each problem goes to `problem`. */
function backupSettings(args: Etcd3ClusterArgs, ecosystem: string, problem: (text: string) => void): BackupSettings | undefined {
    if (!(args.backups ?? argumentDefaults.backups)) {
        for (const key of backupOnlyArguments.filter((key) => givenOtherThanDefault(args, key))) {
            problem(`${key}: only used with backups, which is off; turn backups on or leave it out`);
        }
        return undefined;
    }
    const settings: BackupSettings = {
        bucket: args.backupBucket,
        prefix: args.backupPrefix ?? `${ecosystem}/`,
        intervalMinutes: args.backupIntervalMinutes ?? argumentDefaults.backupIntervalMinutes,
        retentionDays: args.backupBucket === undefined ? args.backupRetentionDays ?? argumentDefaults.backupRetentionDays : undefined,
    };
    snapshotSettingsProblems(settings).forEach(problem);
    if (args.backupBucket !== undefined && args.backupRetentionDays !== undefined) {
        problem("backupRetentionDays: the component adds no lifecycle rule to a bucket it did not create (backupBucket); " +
            "expire the snapshots with that bucket's own rules, or leave backupBucket out for a created bucket");
    } else if (settings.retentionDays !== undefined && !isWholeNumberIn(settings.retentionDays, 1, 3650)) {
        problem(`backupRetentionDays ${settings.retentionDays}: use a whole number of days from 1 to 3650`);
    }
    return settings;
}

/** gp3's limits, as EC2 states them. */
export const gp3Limits = {
    minSizeGiB: 1, maxSizeGiB: 65536, baselineIops: 3000, maxIops: 80000, maxIopsPerGiB: 500,
    baselineThroughputMiBps: 125, maxThroughputMiBps: 2000, maxThroughputPerIops: 0.25,
} as const;

/** What EC2 would refuse in a gp3 data volume, as argument problems. */
function dataVolumeProblems({ sizeGiB, iops, throughputMiBps, kmsKeyId }: DataVolumeSettings): string[] {
    const limits = gp3Limits;
    const problems: string[] = [];
    const sizeOk = Number.isInteger(sizeGiB) && sizeGiB >= limits.minSizeGiB && sizeGiB <= limits.maxSizeGiB;
    if (!sizeOk) {
        problems.push(`dataVolumeSizeGiB ${sizeGiB}: use a whole number of GiB from ${limits.minSizeGiB} to ${limits.maxSizeGiB}`);
    }
    if (!Number.isInteger(iops) || iops < limits.baselineIops || iops > limits.maxIops) {
        problems.push(`dataVolumeIops ${iops}: use a whole number from ${limits.baselineIops} to ${limits.maxIops}`);
    } else if (sizeOk && iops > limits.baselineIops && iops > sizeGiB * limits.maxIopsPerGiB) {
        problems.push(`dataVolumeIops ${iops}: gp3 allows at most ${limits.maxIopsPerGiB} IOPS per GiB, ` +
            `${sizeGiB * limits.maxIopsPerGiB} for ${sizeGiB} GiB; lower it or raise dataVolumeSizeGiB`);
    }
    if (!Number.isInteger(throughputMiBps) || throughputMiBps < limits.baselineThroughputMiBps || throughputMiBps > limits.maxThroughputMiBps) {
        problems.push(`dataVolumeThroughput ${throughputMiBps}: use a whole number of MiB/s from ${limits.baselineThroughputMiBps} to ${limits.maxThroughputMiBps}`);
    } else if (throughputMiBps > limits.baselineThroughputMiBps && Number.isInteger(iops) && throughputMiBps > iops * limits.maxThroughputPerIops) {
        problems.push(`dataVolumeThroughput ${throughputMiBps}: gp3 allows at most ${limits.maxThroughputPerIops} MiB/s per provisioned IOPS, ` +
            `${iops * limits.maxThroughputPerIops} for ${iops} IOPS; lower it or raise dataVolumeIops`);
    }
    if (kmsKeyId !== undefined && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(kmsKeyId)) {
        problems.push(`kmsKeyId "${kmsKeyId}": use a KMS key ARN such as arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab ` +
            "(EC2 stores the ARN, so an alias or bare key id would show as a change at every update)");
    }
    return problems;
}
