/**
 * An etcd cluster reachable from outside its VPC: internet-facing load
 * balancers (the ALB for curl and REST, an NLB for gRPC clients), open only to
 * the CIDRs named, with a Route53 name for the URL. etcd here has no TLS and
 * no authentication: name only addresses you trust.
 */
import { Etcd3Cluster } from "etcd3-cluster";

// #region cluster
const cluster = new Etcd3Cluster("etcd3", {
    internetFacing: true,
    allowedCidrs: ["203.0.113.0/24"],            // required with internetFacing: who may reach the load balancers
    dnsName: "etcd.example.com",                 // an alias record for the ALB in this hosted zone
    hostedZoneId: "Z0123456789EXAMPLE",
    grpcLoadBalancer: true,                      // a network load balancer on 2379 for etcdctl and client libraries
});

export const etcd3ClusterUrl = cluster.etcd3ClusterUrl;   // http://etcd.example.com
export const grpcEndpoint = cluster.grpcEndpoint;         // <NLB DNS name>:2379
// #endregion cluster
