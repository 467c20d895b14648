/**
 * The application load balancer in front of the members: listener 80 → target
 * group HTTP 2379, health-checked on etcd's /health.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { clientPort } from "./etcd";

/**
 * What the ALB listens on and how its target group judges members. An ALB
 * keeps sending a dead member its share of requests until the member is marked
 * unhealthy, and it does not retry on another target, so the health-check
 * timing is the cluster's failover time: AWS's minimum interval (5 s) and
 * thresholds of 2 mark a dead member in about 10 s instead of the default 60 s.
 * etcd answers /health with 503 when it has no leader, so a member cut off
 * from quorum is taken out as well.
 */
export const loadBalancerSettings = {
    listenerPort: 80,
    targetPort: clientPort,
    healthCheck: {
        path: "/health",
        intervalSeconds: 5,
        timeoutSeconds: 3,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
        matcher: "200",
    },
    /** Seconds a deregistered member keeps its in-flight requests; etcd requests are short. */
    deregistrationDelaySeconds: 10,
} as const;

export interface ClusterLoadBalancer {
    loadBalancer: aws.lb.LoadBalancer;
    targetGroup: aws.lb.TargetGroup;
    listener: aws.lb.Listener;
    attachments: aws.lb.TargetGroupAttachment[];
}

export function createLoadBalancer(
    name: string,
    options: {
        internetFacing: boolean;
        subnetIds: pulumi.Input<string[]>;
        securityGroupId: pulumi.Input<string>;
        vpcId: pulumi.Input<string>;
        instanceIds: pulumi.Input<string>[];
    },
    tags: Record<string, string>,
    parent: pulumi.Resource,
): ClusterLoadBalancer {
    const health = loadBalancerSettings.healthCheck;
    const loadBalancer = new aws.lb.LoadBalancer(`${name}-alb`, {
        loadBalancerType: "application",
        internal: !options.internetFacing,
        subnets: options.subnetIds,
        securityGroups: [options.securityGroupId],
        dropInvalidHeaderFields: true,
        tags: { ...tags, Name: `${tags.ecosystem}-alb` },
    }, { parent });
    const targetGroup = new aws.lb.TargetGroup(`${name}-tg`, {
        vpcId: options.vpcId,
        targetType: "instance",
        protocol: "HTTP",
        port: loadBalancerSettings.targetPort,
        deregistrationDelay: loadBalancerSettings.deregistrationDelaySeconds,
        healthCheck: {
            enabled: true,
            protocol: "HTTP",
            port: "traffic-port",
            path: health.path,
            matcher: health.matcher,
            interval: health.intervalSeconds,
            timeout: health.timeoutSeconds,
            healthyThreshold: health.healthyThreshold,
            unhealthyThreshold: health.unhealthyThreshold,
        },
        tags: { ...tags, Name: `${tags.ecosystem}-tg` },
    }, { parent });
    const listener = new aws.lb.Listener(`${name}-http`, {
        loadBalancerArn: loadBalancer.arn,
        port: loadBalancerSettings.listenerPort,
        protocol: "HTTP",
        defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
        tags,
    }, { parent });
    const attachments = options.instanceIds.map((instanceId, index) => new aws.lb.TargetGroupAttachment(`${name}-target-${index}`, {
        targetGroupArn: targetGroup.arn,
        targetId: instanceId,
        port: loadBalancerSettings.targetPort,
    }, { parent }));
    return { loadBalancer, targetGroup, listener, attachments };
}
