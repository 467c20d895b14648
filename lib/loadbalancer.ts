/**
 * The load balancers in front of the members: the application load balancer
 * (listener 80 → target group HTTP 2379, HTTPS with `clientTls`) for curl and
 * the REST APIs, and the optional network load balancer (TCP 2379 → 2379,
 * passing TLS through) for gRPC clients. Both health-check members on etcd's
 * /health. What differs between them is one
 * table row. With a certificate the ALB serves HTTPS on 443 and its port 80
 * redirects there.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { HttpsSettings } from "./args";
import { clientPort } from "./etcd";

/**
 * What both load balancers share: members' client port as the target, and how
 * the target group judges members. A load balancer keeps sending a dead member
 * its share of requests until the member is marked unhealthy, and an ALB does
 * not retry on another target, so the health-check timing is the cluster's
 * failover time: AWS's minimum interval (5 s) and thresholds of 2 mark a dead
 * member in about 10 s instead of the ALB default's 60 s or more. etcd answers
 * /health with 503 when it has no leader, so a member cut off from quorum is
 * taken out as well. It also answers 503 while the cluster-wide `NOSPACE`
 * alarm is raised, which the check leaves out (`exclude=NOSPACE`): every
 * member would be taken out at once, an outage on every dashboard, while the
 * members still serve reads and answer each write with the error that names
 * the cause ("database space exceeded").
 */
export const loadBalancerSettings = {
    targetPort: clientPort,
    healthCheck: {
        path: "/health?exclude=NOSPACE",
        intervalSeconds: 5,
        timeoutSeconds: 3,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
        matcher: "200",
    },
    /** Seconds a deregistered member keeps its in-flight requests; etcd requests are short. */
    deregistrationDelaySeconds: 10,
} as const;

export type LoadBalancerKind = "alb" | "nlb";

interface LoadBalancerProfile {
    loadBalancerType: "application" | "network";
    listenerPort: number;
    listenerProtocol: "HTTP" | "TCP";
    targetProtocol: "HTTP" | "TCP";
    /** The target group's protocol when the members serve TLS. */
    tlsTargetProtocol: "HTTPS" | "TCP";
    /** Description of its security group. */
    description: string;
    /** Seconds a connection may sit idle before the load balancer closes it (set explicitly; AWS's defaults). */
    idleTimeoutSeconds: number;
    /** Arguments only this type of load balancer takes. */
    loadBalancerArgs: Partial<aws.lb.LoadBalancerArgs>;
    /** Arguments only this type of target group takes. */
    targetGroupArgs: Partial<aws.lb.TargetGroupArgs>;
    /** Arguments only this type of listener takes. */
    listenerArgs: Partial<aws.lb.ListenerArgs>;
}

// v2 long-poll watches through the ALB are cut after this; gRPC watch streams through the NLB may be quiet for long.
const albIdleTimeoutSeconds = 60;
const nlbIdleTimeoutSeconds = 350;

export const loadBalancerProfiles: Readonly<Record<LoadBalancerKind, LoadBalancerProfile>> = {
    // The seed's listener: port 80 in front of the members' 2379, for curl and the REST APIs.
    alb: {
        loadBalancerType: "application",
        listenerPort: 80,
        listenerProtocol: "HTTP",
        targetProtocol: "HTTP",
        // The ALB does not check the members' certificates: TLS here keeps the hop private, the VPC keeps it to the members.
        tlsTargetProtocol: "HTTPS",
        description: "etcd REST API load balancer: HTTP from the allowed CIDRs",
        idleTimeoutSeconds: albIdleTimeoutSeconds,
        loadBalancerArgs: { dropInvalidHeaderFields: true, idleTimeout: albIdleTimeoutSeconds },
        targetGroupArgs: {},
        listenerArgs: {},
    },
    // gRPC is HTTP/2 over plain TCP here: the NLB passes the stream through untouched.
    nlb: {
        loadBalancerType: "network",
        listenerPort: clientPort,
        listenerProtocol: "TCP",
        targetProtocol: "TCP",
        tlsTargetProtocol: "TCP",
        description: `etcd gRPC load balancer: TCP ${clientPort} from the allowed CIDRs`,
        // An NLB keeps each zone's traffic in its zone unless told otherwise; members are one per zone.
        loadBalancerArgs: { enableCrossZoneLoadBalancing: true },
        // The members then see the load balancer's address, so their rules can name its security group.
        targetGroupArgs: { preserveClientIp: "false" },
        idleTimeoutSeconds: nlbIdleTimeoutSeconds,
        listenerArgs: { tcpIdleTimeoutSeconds: nlbIdleTimeoutSeconds },
    },
};

/** The ALB's HTTPS listener's port. */
export const httpsListenerPort = 443;

export interface ClusterLoadBalancer {
    kind: LoadBalancerKind;
    loadBalancer: aws.lb.LoadBalancer;
    targetGroup: aws.lb.TargetGroup;
}

export function createLoadBalancer(
    name: string,
    kind: LoadBalancerKind,
    options: {
        internetFacing: boolean;
        subnetIds: pulumi.Input<string[]>;
        securityGroupId: pulumi.Input<string>;
        vpcId: pulumi.Input<string>;
        /**
         * HTTPS on 443 (the ALB only: an NLB's listener has no redirect), and
         * what lets clients reach it (the load balancer's ingress rules for 443),
         * which port 80's redirect waits for.
         */
        https?: HttpsSettings & { openedBy: pulumi.Resource[] };
        /**
         * The members serve TLS on the client port (`clientTls`): the ALB's
         * target group speaks HTTPS to them, and both load balancers' health
         * checks do. The NLB passes the TLS through.
         */
        membersServeTls: boolean;
    },
    tags: Record<string, string>,
    parent: pulumi.Resource,
): ClusterLoadBalancer {
    const profile = loadBalancerProfiles[kind];
    const health = loadBalancerSettings.healthCheck;
    const prefix = `${name}-${kind}`;
    const loadBalancer = new aws.lb.LoadBalancer(prefix, {
        loadBalancerType: profile.loadBalancerType,
        internal: !options.internetFacing,
        subnets: options.subnetIds,
        securityGroups: [options.securityGroupId],
        ...profile.loadBalancerArgs,
        tags: { ...tags, Name: `${tags.ecosystem}-${kind}` },
    }, { parent });
    const targetGroup = new aws.lb.TargetGroup(`${prefix}-tg`, {
        vpcId: options.vpcId,
        targetType: "instance",
        protocol: options.membersServeTls ? profile.tlsTargetProtocol : profile.targetProtocol,
        port: loadBalancerSettings.targetPort,
        deregistrationDelay: loadBalancerSettings.deregistrationDelaySeconds,
        ...profile.targetGroupArgs,
        healthCheck: {
            enabled: true,
            protocol: options.membersServeTls ? "HTTPS" : "HTTP",
            port: "traffic-port",
            path: health.path,
            matcher: health.matcher,
            interval: health.intervalSeconds,
            timeout: health.timeoutSeconds,
            healthyThreshold: health.healthyThreshold,
            unhealthyThreshold: health.unhealthyThreshold,
        },
        tags: { ...tags, Name: `${tags.ecosystem}-${kind}-tg` },
    }, { parent });
    const forward = [{ type: "forward", targetGroupArn: targetGroup.arn }];
    const https = options.https && new aws.lb.Listener(`${prefix}-https-listener`, {
        loadBalancerArn: loadBalancer.arn,
        port: httpsListenerPort,
        protocol: "HTTPS",
        certificateArn: options.https.certificateArn,
        sslPolicy: options.https.sslPolicy,
        defaultActions: forward,
        tags,
    }, { parent });
    // Port 80 keeps its listener and name whether it forwards or redirects, so turning HTTPS on or off updates it in place;
    // it redirects only once 443 serves and clients may reach it.
    new aws.lb.Listener(`${prefix}-listener`, {
        loadBalancerArn: loadBalancer.arn,
        port: profile.listenerPort,
        protocol: profile.listenerProtocol,
        defaultActions: https
            ? [{ type: "redirect", redirect: { protocol: "HTTPS", port: String(httpsListenerPort), statusCode: "HTTP_301" } }]
            : forward,
        ...profile.listenerArgs,
        tags,
    }, { parent, ...https ? { dependsOn: [https, ...options.https!.openedBy] } : {} });
    return { kind, loadBalancer, targetGroup };
}

/** Registers member `index`'s instance as a target of `balancer`'s target group. */
export function registerTarget(name: string, balancer: ClusterLoadBalancer, index: number, instanceId: pulumi.Input<string>,
    parent: pulumi.Resource): aws.lb.TargetGroupAttachment {
    return new aws.lb.TargetGroupAttachment(`${name}-${balancer.kind}-target-${index}`, {
        targetGroupArn: balancer.targetGroup.arn,
        targetId: instanceId,
        port: loadBalancerSettings.targetPort,
    }, { parent });
}
