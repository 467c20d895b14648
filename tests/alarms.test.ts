/**
 * lib/alarms.ts called directly under the suite's Pulumi mocks, on load
 * balancers made by lib/loadbalancer.ts: every alarm, compared whole, for one
 * and two load balancers, with and without a topic, 3 and 5 members.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, RegisteredResource, resourcesOf, settle, uniqueName, valueOf } from "./support/pulumi-mocks";

installMocks();
import { alarmRules, createAlarms } from "../lib/alarms";
import { createLoadBalancer, LoadBalancerKind } from "../lib/loadbalancer";

const tags = { ecosystem: "kv", team: "db" };
const topicArn = "arn:aws:sns:eu-west-2:111122223333:etcd-pager";
const alarmType = "aws:cloudwatch/metricAlarm:MetricAlarm";

interface Scenario {
    kinds: LoadBalancerKind[];
    clusterSize: number;
    topicArn?: string;
}

/** Builds the load balancers and the alarms of a fresh cluster name; returns the name and what createAlarms returned. */
async function build(scenario: Scenario) {
    const name = uniqueName();
    const parent = new pulumi.ComponentResource("test:index:Parent", name);
    const balancers = scenario.kinds.map((kind) => createLoadBalancer(name, kind, {
        internetFacing: false, subnetIds: ["subnet-a"], securityGroupId: `sg-${kind}`, vpcId: "vpc-1", membersServeTls: false,
    }, tags, parent));
    const members = Array.from({ length: scenario.clusterSize }, (_, index) => ({ name: `kv-${index}`, instanceId: pulumi.output(`i-${index}`) }));
    const alarms = createAlarms(name, { balancers, members, clusterSize: scenario.clusterSize, topicArn: scenario.topicArn }, tags, parent);
    await settle();
    return { name, alarms };
}

/** The alarms registered for cluster `name`, by resource name less the cluster's name. */
function alarmsOf(name: string): Record<string, RegisteredResource["inputs"]> {
    return Object.fromEntries(resourcesOf(name, alarmType).map((r) => [r.name.slice(name.length + 1), r.inputs]));
}

/** An alarm as the tuple (namespace, metric, dimensions, statistic, comparison, threshold, periods, missing data, actions). */
function tuple(inputs: RegisteredResource["inputs"]): unknown[] {
    return [
        inputs.namespace, inputs.metricName, inputs.dimensions, inputs.statistic, inputs.comparisonOperator, inputs.threshold,
        `${inputs.datapointsToAlarm} of ${inputs.evaluationPeriods} x ${inputs.period} s`, inputs.treatMissingData,
        { alarmActions: inputs.alarmActions, okActions: inputs.okActions },
    ];
}

const tuplesOf = (name: string) => Object.fromEntries(Object.entries(alarmsOf(name)).map(([key, inputs]) => [key, tuple(inputs)]));
const lbDimensions = (name: string, kind: LoadBalancerKind) => ({
    TargetGroup: `targetgroup/${name}-${kind}-tg/1234567890abcdef`,
    LoadBalancer: `${kind === "alb" ? "app" : "net"}/${name}-${kind}/1234567890abcdef`,
});
const none = { alarmActions: undefined, okActions: undefined };
const topic = { alarmActions: [topicArn], okActions: [topicArn] };

describe("the alarms (lib/alarms.ts)", () => {
    it("lists each alarm's metric, threshold and periods in one table", () => {
        expect(alarmRules.map(({ description: _description, ...rule }) => rule)).to.deep.equal([
            {
                per: "load balancer", suffix: "unhealthy-members", metricName: "UnHealthyHostCount", statistic: "Maximum",
                comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1, periodSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 3,
                treatMissingData: "notBreaching",
            },
            {
                per: "load balancer", suffix: "missing-members", metricName: "HealthyHostCount", statistic: "Minimum",
                comparisonOperator: "LessThanThreshold", threshold: "clusterSize", periodSeconds: 60, evaluationPeriods: 10, datapointsToAlarm: 10,
                treatMissingData: "breaching",
            },
            {
                per: "member", suffix: "status-check", metricName: "StatusCheckFailed", statistic: "Maximum",
                comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1, periodSeconds: 60, evaluationPeriods: 2, datapointsToAlarm: 2,
                treatMissingData: "notBreaching",
            },
        ]);
    });

    it("ALB only, 3 members, no topic: every alarm's inputs whole, auto-named, described, tagged, without actions", async () => {
        const { name } = await build({ kinds: ["alb"], clusterSize: 3 });
        const status = (index: number) => ({
            namespace: "AWS/EC2", metricName: "StatusCheckFailed", dimensions: { InstanceId: `i-${index}` },
            statistic: "Maximum", comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1,
            period: 60, evaluationPeriods: 2, datapointsToAlarm: 2, treatMissingData: "notBreaching",
            alarmDescription: `etcd member kv-${index}'s instance has failed EC2 status checks for 2 minutes: ` +
                "look at its status checks first; if the system check fails, stop and start it to move it to a new host.",
            tags,
        });
        expect(alarmsOf(name)).to.deep.equal({
            "alb-unhealthy-members": {
                namespace: "AWS/ApplicationELB", metricName: "UnHealthyHostCount", dimensions: lbDimensions(name, "alb"),
                statistic: "Maximum", comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1,
                period: 60, evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: "notBreaching",
                alarmDescription: "A member has failed the ALB's /health check for 3 minutes: " +
                    "find it among the target group's unhealthy targets and read its etcd-member.service journal first.",
                tags,
            },
            "alb-missing-members": {
                namespace: "AWS/ApplicationELB", metricName: "HealthyHostCount", dimensions: lbDimensions(name, "alb"),
                statistic: "Minimum", comparisonOperator: "LessThanThreshold", threshold: 3,
                period: 60, evaluationPeriods: 10, datapointsToAlarm: 10, treatMissingData: "breaching",
                alarmDescription: "Fewer than 3 members have been healthy behind the ALB for 10 minutes: " +
                    "check first that every member's instance is running and registered in the target group.",
                tags,
            },
            "kv-0-status-check": status(0),
            "kv-1-status-check": status(1),
            "kv-2-status-check": status(2),
        });
    });

    it("ALB and NLB, 5 members, with a topic: each load balancer's two alarms in its namespace and each member's, all notifying the topic", async () => {
        const { name } = await build({ kinds: ["alb", "nlb"], clusterSize: 5, topicArn });
        const status = (index: number) => [
            "AWS/EC2", "StatusCheckFailed", { InstanceId: `i-${index}` }, "Maximum", "GreaterThanOrEqualToThreshold", 1, "2 of 2 x 60 s", "notBreaching", topic,
        ];
        expect(tuplesOf(name)).to.deep.equal({
            "alb-unhealthy-members": [
                "AWS/ApplicationELB", "UnHealthyHostCount", lbDimensions(name, "alb"), "Maximum", "GreaterThanOrEqualToThreshold", 1,
                "3 of 3 x 60 s", "notBreaching", topic,
            ],
            "alb-missing-members": [
                "AWS/ApplicationELB", "HealthyHostCount", lbDimensions(name, "alb"), "Minimum", "LessThanThreshold", 5,
                "10 of 10 x 60 s", "breaching", topic,
            ],
            "nlb-unhealthy-members": [
                "AWS/NetworkELB", "UnHealthyHostCount", lbDimensions(name, "nlb"), "Maximum", "GreaterThanOrEqualToThreshold", 1,
                "3 of 3 x 60 s", "notBreaching", topic,
            ],
            "nlb-missing-members": [
                "AWS/NetworkELB", "HealthyHostCount", lbDimensions(name, "nlb"), "Minimum", "LessThanThreshold", 5,
                "10 of 10 x 60 s", "breaching", topic,
            ],
            "kv-0-status-check": status(0),
            "kv-1-status-check": status(1),
            "kv-2-status-check": status(2),
            "kv-3-status-check": status(3),
            "kv-4-status-check": status(4),
        });
    });

    it("ALB only, 3 members, with a topic: every alarm notifies the topic when it fires and when it clears", async () => {
        const { name } = await build({ kinds: ["alb"], clusterSize: 3, topicArn });
        const actions = Object.fromEntries(Object.entries(tuplesOf(name)).map(([key, row]) => [key, row[8]]));
        expect(actions).to.deep.equal({
            "alb-unhealthy-members": topic, "alb-missing-members": topic,
            "kv-0-status-check": topic, "kv-1-status-check": topic, "kv-2-status-check": topic,
        });
    });

    it("ALB and NLB, no topic: no alarm has actions", async () => {
        const { name } = await build({ kinds: ["alb", "nlb"], clusterSize: 3 });
        const actions = Object.fromEntries(Object.entries(tuplesOf(name)).map(([key, row]) => [key, row[8]]));
        expect(actions).to.deep.equal({
            "alb-unhealthy-members": none, "alb-missing-members": none, "nlb-unhealthy-members": none, "nlb-missing-members": none,
            "kv-0-status-check": none, "kv-1-status-check": none, "kv-2-status-check": none,
        });
    });

    it("describes the NLB's alarms as the NLB's", async () => {
        const { name } = await build({ kinds: ["alb", "nlb"], clusterSize: 5 });
        const alarms = alarmsOf(name);
        expect([alarms["nlb-unhealthy-members"].alarmDescription, alarms["nlb-missing-members"].alarmDescription]).to.deep.equal([
            "A member has failed the NLB's /health check for 3 minutes: " +
                "find it among the target group's unhealthy targets and read its etcd-member.service journal first.",
            "Fewer than 5 members have been healthy behind the NLB for 10 minutes: " +
                "check first that every member's instance is running and registered in the target group.",
        ]);
    });

    it("returns the alarms it made, the load balancers' first, each a child of the parent", async () => {
        const { name, alarms } = await build({ kinds: ["alb", "nlb"], clusterSize: 3 });
        const urns = await Promise.all(alarms.map((alarm) => valueOf(alarm.urn)));
        const urn = (suffix: string) => `urn:pulumi:test::etcd3-cluster::test:index:Parent$${alarmType}::${name}-${suffix}`;
        expect(urns).to.deep.equal([
            urn("alb-unhealthy-members"), urn("alb-missing-members"), urn("nlb-unhealthy-members"), urn("nlb-missing-members"),
            urn("kv-0-status-check"), urn("kv-1-status-check"), urn("kv-2-status-check"),
        ]);
    });
});
