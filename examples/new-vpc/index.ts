/**
 * An etcd cluster in a VPC of its own, sized and addressed from stack config:
 *   pulumi config set vpcCidr 10.42.0.0/16
 *   pulumi config set clusterSize 5
 */
// #region program
import * as pulumi from "@pulumi/pulumi";
import { Etcd3Cluster } from "etcd3-cluster";

const config = new pulumi.Config();
const cluster = new Etcd3Cluster("etcd3", {
    vpcCidr: config.get("vpcCidr"),              // a new VPC with public and private subnets
    clusterSize: config.getNumber("clusterSize"), // 1, 3, 5 or 7; Pulumi.yaml has the defaults
});

export const etcd3ClusterUrl = cluster.etcd3ClusterUrl;       // http://<ALB DNS name>
export const etcd3DiscoveryUrl = cluster.etcd3DiscoveryUrl;   // https://discovery.etcd.io/<32 hex>
export const clientEndpoints = cluster.clientEndpoints;       // http://<private IP>:2379 per member
// #endregion program
