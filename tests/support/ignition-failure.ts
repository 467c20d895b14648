/** The Ignition builder's error for `options`, or "" when it builds: what a caller reads. */
import { buildIgnitionConfig, EtcdNodeIgnitionOptions } from "../../lib/ignition";

export function ignitionFailure(options: EtcdNodeIgnitionOptions): string {
    try {
        buildIgnitionConfig(options);
        return "";
    } catch (error) {
        return (error as Error).message;
    }
}
