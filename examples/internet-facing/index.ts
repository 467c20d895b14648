/**
 * An etcd cluster reachable from outside its VPC: internet-facing load
 * balancers (the ALB for curl and REST, an NLB for gRPC clients), open only to
 * the CIDRs named, with a name in a Route53 hosted zone the account already
 * has. etcd here has no TLS and no authentication: name only addresses you trust.
 */
// #region cluster
import * as aws from "@pulumi/aws";
import { Etcd3Cluster } from "etcd3-cluster";

const zone = aws.route53.getZoneOutput({ name: "example.com" });
const cluster = new Etcd3Cluster("etcd3", {
    internetFacing: true,
    allowedCidrs: ["203.0.113.0/24"],   // required with internetFacing: who may reach the load balancers
    dnsName: "etcd.example.com",        // an alias record for the ALB ...
    hostedZoneId: zone.zoneId,          // ... in this hosted zone
    grpcLoadBalancer: true,             // a network load balancer on 2379 for etcdctl and client libraries
});

export const etcd3ClusterUrl = cluster.etcd3ClusterUrl;   // http://etcd.example.com
export const grpcEndpoint = cluster.grpcEndpoint;         // <NLB DNS name>:2379
// #endregion cluster
