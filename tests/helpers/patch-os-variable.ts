/**
 * Plays a bug in lib/os.ts for the local boot's tests: Fedora CoreOS's row
 * names a private-IP variable Afterburn does not write. Loaded by the
 * component under mocks (LocalClusterOptions.componentPatch) and by the test
 * itself, so a harness that took metadata names from the OS table would write
 * the wrong name too, and boot.
 */
import { operatingSystems } from "../../lib/os";

export const wrongVariable = "AFTERBURN_AWS_PRIVATE_IPV4";

const row = operatingSystems["fedora-coreos"] as { privateIpv4Variable: string };
const original = row.privateIpv4Variable;
row.privateIpv4Variable = wrongVariable;

/** Puts the OS table back (for the test's own process). */
export function undo(): void {
    row.privateIpv4Variable = original;
}
