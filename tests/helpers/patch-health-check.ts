/**
 * Plays a bug between lib/loadbalancer.ts's table and the target groups for
 * the local boot's tests: loaded only by the component under mocks
 * (LocalClusterOptions.componentPatch), it changes the health check the
 * target groups are created with, so the registered resources and the table
 * the test process sees disagree. The local load balancers must follow the
 * resources.
 */
import { loadBalancerSettings } from "../../lib/loadbalancer";

export const patched = { intervalSeconds: 10, healthyThreshold: 3 };

Object.assign(loadBalancerSettings.healthCheck as { intervalSeconds: number; healthyThreshold: number }, patched);
