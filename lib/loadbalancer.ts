/**
 * The application load balancer in front of the members: listener 80 → target
 * group HTTP 2379, health-checked on etcd's /health.
 */
import { clientPort } from "./etcd";

/**
 * What the ALB listens on and how its target group judges members. An ALB
 * keeps sending a dead member its share of requests until the member is marked
 * unhealthy, and it does not retry on another target, so the health-check
 * timing is the cluster's failover time: AWS's minimum interval (5 s) and
 * thresholds of 2 mark a dead member in about 10 s instead of the default 60 s.
 * etcd answers /health with 503 when it has no leader, so a member cut off
 * from quorum is taken out as well.
 */
export const loadBalancerSettings = {
    listenerPort: 80,
    targetPort: clientPort,
    healthCheck: {
        path: "/health",
        intervalSeconds: 5,
        timeoutSeconds: 3,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
        matcher: "200",
    },
    /** Seconds a deregistered member keeps its in-flight requests; etcd requests are short. */
    deregistrationDelaySeconds: 10,
} as const;
