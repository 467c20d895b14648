/**
 * Plays a wrong health-check path in lib/loadbalancer.ts for the local boot's
 * tests (loaded by the component under mocks through
 * LocalClusterOptions.componentPatch): etcd answers it with 404, so on AWS no
 * target would ever become healthy and the load balancer would answer 503.
 */
import { loadBalancerSettings } from "../../lib/loadbalancer";

export const wrongPath = "/healthz";

(loadBalancerSettings.healthCheck as { path: string }).path = wrongPath;
