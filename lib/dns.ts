/** The optional Route53 name for the cluster URL: an alias record to the ALB. */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export function createDnsRecord(
    name: string,
    dns: { name: string; hostedZoneId: pulumi.Input<string> },
    loadBalancer: aws.lb.LoadBalancer,
    parent: pulumi.Resource,
): aws.route53.Record {
    return new aws.route53.Record(`${name}-dns`, {
        zoneId: dns.hostedZoneId,
        name: dns.name,
        type: "A",
        aliases: [{ name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: true }],
    }, { parent });
}
