/**
 * An etcd cluster on Flatcar Container Linux instead of Fedora CoreOS, on
 * Graviton (arm64) instances: the instance type's architecture selects the
 * image, and the members run etcd with docker, as Flatcar ships it.
 */
import { Etcd3Cluster } from "etcd3-cluster";

// #region cluster
const cluster = new Etcd3Cluster("etcd3", {
    os: "flatcar",
    instanceType: "t4g.small",   // Graviton: the latest stable arm64 Flatcar image
});
// #endregion cluster

export const etcd3ClusterUrl = cluster.etcd3ClusterUrl;
export const instanceIds = cluster.instanceIds;
