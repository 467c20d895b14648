/**
 * CloudWatch alarms that tell an operator about a member before quorum is at
 * risk: per load balancer, a member failing its health checks and fewer
 * healthy members than the cluster has; per member, its instance failing
 * EC2's status checks. What each alarm watches and when it fires is one row
 * of `alarmRules`; the README lists the alarms from it.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ClusterLoadBalancer, LoadBalancerKind } from "./loadbalancer";

/** One alarm of each load balancer, or of each member. */
export interface AlarmRule {
    /** Whose alarm it is: one per load balancer, or one per member. */
    per: "load balancer" | "member";
    /** The end of the alarm's resource name: `<cluster>-<kind>-<suffix>` or `<cluster>-<member>-<suffix>`. */
    suffix: string;
    metricName: string;
    statistic: "Maximum" | "Minimum";
    comparisonOperator: "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
    /** The threshold, or "clusterSize": as many as the cluster has members. */
    threshold: number | "clusterSize";
    periodSeconds: number;
    /** The alarm fires when `datapointsToAlarm` of the last `evaluationPeriods` periods breach. */
    evaluationPeriods: number;
    datapointsToAlarm: number;
    /** What a period without data counts as. */
    treatMissingData: "breaching" | "notBreaching";
    /** One sentence: what fired and what to do first. */
    description: (alarm: AlarmFacts) => string;
}

/** What an alarm's description may say. */
export interface AlarmFacts {
    /** The load balancer's kind or the member's name. */
    subject: string;
    /** How long the condition has lasted when the alarm fires. */
    minutes: number;
    threshold: number;
}

/** Every alarm the cluster has, in the order they are created. */
export const alarmRules: readonly AlarmRule[] = [
    {
        per: "load balancer",
        suffix: "unhealthy-members",
        metricName: "UnHealthyHostCount",
        statistic: "Maximum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        periodSeconds: 60,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        // No data says nothing about an unhealthy member; an absent one is the missing-members alarm's.
        treatMissingData: "notBreaching",
        description: ({ subject, minutes }) => `A member has failed the ${subject.toUpperCase()}'s /health check for ${minutes} minutes: ` +
            "find it among the target group's unhealthy targets and read its etcd-member.service journal first.",
    },
    {
        per: "load balancer",
        suffix: "missing-members",
        metricName: "HealthyHostCount",
        statistic: "Minimum",
        comparisonOperator: "LessThanThreshold",
        threshold: "clusterSize",
        periodSeconds: 60,
        // Longer than one member's replacement in a roll (a few minutes), so a roll stays quiet.
        evaluationPeriods: 10,
        datapointsToAlarm: 10,
        // Breaching: no HealthyHostCount at all means no healthy member reported, the worst case, not the all-clear.
        treatMissingData: "breaching",
        description: ({ subject, minutes, threshold }) => `Fewer than ${threshold} members have been healthy behind the ${subject.toUpperCase()} ` +
            `for ${minutes} minutes: check first that every member's instance is running and registered in the target group.`,
    },
    {
        per: "member",
        suffix: "status-check",
        metricName: "StatusCheckFailed",
        statistic: "Maximum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        periodSeconds: 60,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        // A stopped or terminated instance reports nothing; the missing-members alarm speaks for it.
        treatMissingData: "notBreaching",
        description: ({ subject, minutes }) => `etcd member ${subject}'s instance has failed EC2 status checks for ${minutes} minutes: ` +
            "look at its status checks first; if the system check fails, stop and start it to move it to a new host.",
    },
];

/** The CloudWatch namespace of each kind of load balancer's metrics. */
export const loadBalancerMetricNamespaces: Readonly<Record<LoadBalancerKind, string>> = {
    alb: "AWS/ApplicationELB",
    nlb: "AWS/NetworkELB",
};

export interface AlarmOptions {
    /** The cluster's load balancers. */
    balancers: ClusterLoadBalancer[];
    /** Each member by its etcd name and its instance's id (changes when a member's instance is replaced: the alarm updates in place). */
    members: { name: string; instanceId: pulumi.Input<string> }[];
    /** How many members the cluster has (its clusterSize). */
    clusterSize: number;
    /** SNS topic ARN notified when an alarm fires and when it clears; none: alarms only show in CloudWatch. */
    topicArn?: pulumi.Input<string>;
}

/**
 * Creates `alarmRules`' alarms: each load balancer's, then each member's.
 * They are auto-named from their resource names, since alarm names must be
 * unique in a region and account, which two stacks may share.
 */
export function createAlarms(
    name: string,
    options: AlarmOptions,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): aws.cloudwatch.MetricAlarm[] {
    // Notified both ways, so the operator also hears that it cleared.
    const actions = options.topicArn === undefined ? {} : { alarmActions: [options.topicArn], okActions: [options.topicArn] };
    const alarm = (rule: AlarmRule, subject: string, namespace: string, dimensions: Record<string, pulumi.Input<string>>) => {
        const threshold = rule.threshold === "clusterSize" ? options.clusterSize : rule.threshold;
        const minutes = rule.evaluationPeriods * rule.periodSeconds / 60;
        return new aws.cloudwatch.MetricAlarm(`${name}-${subject}-${rule.suffix}`, {
            namespace,
            metricName: rule.metricName,
            dimensions,
            statistic: rule.statistic,
            comparisonOperator: rule.comparisonOperator,
            threshold,
            period: rule.periodSeconds,
            evaluationPeriods: rule.evaluationPeriods,
            datapointsToAlarm: rule.datapointsToAlarm,
            treatMissingData: rule.treatMissingData,
            alarmDescription: rule.description({ subject, minutes, threshold }),
            ...actions,
            tags,
        }, { parent });
    };
    const rulesPer = (per: AlarmRule["per"]) => alarmRules.filter((rule) => rule.per === per);
    return [
        ...options.balancers.flatMap((balancer) => rulesPer("load balancer").map((rule) =>
            alarm(rule, balancer.kind, loadBalancerMetricNamespaces[balancer.kind], {
                TargetGroup: balancer.targetGroup.arnSuffix,
                LoadBalancer: balancer.loadBalancer.arnSuffix,
            }))),
        ...options.members.flatMap((member) => rulesPer("member").map((rule) =>
            alarm(rule, member.name, "AWS/EC2", { InstanceId: member.instanceId }))),
    ];
}
