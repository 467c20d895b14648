export { Etcd3Cluster } from "./cluster";
export {
    Etcd3ClusterArgs, Etcd3ClusterArgumentError, NatGatewayStrategy, ArgumentDefinition, ArgumentType, ConfigReader,
    ResolvedEtcd3ClusterArgs, argumentDefinitions, argumentDefaults, argsFromConfig, resolveArgs,
} from "./args";
export { Etcd3ClusterOutputs, outputNames } from "./outputs";
export { MemberPlan, planMembers, memberIgnitionOptions } from "./plan";
export { DiscoveryUrl, DiscoveryUrlArgs } from "./discovery";
export { DiscoveryRequestOptions, requestDiscoveryUrl, isDiscoveryUrl, defaultDiscoveryService } from "./discovery-request";
export { EtcdNodeIgnitionOptions, IgnitionConfig, buildIgnitionConfig, renderUserData, ignitionSpecVersion } from "./ignition";
export { OperatingSystem, operatingSystems } from "./os";
export { clientPort, peerPort, defaultEtcdVersion, supportedClusterSizes } from "./etcd";
export { loadBalancerSettings } from "./loadbalancer";
