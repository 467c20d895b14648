/**
 * An etcd cluster reachable from outside its VPC: internet-facing load
 * balancers (the ALB for curl and REST, an NLB for gRPC clients), open only to
 * the CIDRs named, with a name in a Route53 hosted zone the account already
 * has and HTTPS with an ACM certificate for it. etcd here has no
 * authentication, TLS ends at the ALB, and the NLB carries plain gRPC: name
 * only addresses you trust.
 */
// #region cluster
import * as aws from "@pulumi/aws";
import { Etcd3Cluster } from "etcd3-cluster";

const zone = aws.route53.getZoneOutput({ name: "example.com" });
// An issued ACM certificate for the name, in the cluster's region.
const certificate = aws.acm.getCertificateOutput({ domain: "etcd.example.com", statuses: ["ISSUED"], mostRecent: true });
const cluster = new Etcd3Cluster("etcd3", {
    internetFacing: true,
    allowedCidrs: ["203.0.113.0/24"],   // required with internetFacing: who may reach the load balancers
    dnsName: "etcd.example.com",        // an alias record for the ALB ...
    hostedZoneId: zone.zoneId,          // ... in this hosted zone
    certificateArn: certificate.arn,    // HTTPS on 443 with it; port 80 redirects there
    grpcLoadBalancer: true,             // a network load balancer on 2379 for etcdctl and client libraries
});

export const etcd3ClusterUrl = cluster.etcd3ClusterUrl;   // https://etcd.example.com
export const grpcEndpoint = cluster.grpcEndpoint;         // <NLB DNS name>:2379
// #endregion cluster
