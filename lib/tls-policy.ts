/**
 * Elastic Load Balancing's TLS security policies, read from their names: pure
 * (no SDK), so the argument checks and the local harness read them alike.
 */

/** A TLS version as ELB policy names write it (`1-2` is TLS 1.2). */
export type TlsVersion = "1.0" | "1.1" | "1.2" | "1.3";

/**
 * The TLS versions an Elastic Load Balancing security policy accepts, read
 * from its name: the TLS 1.3 family (`ELBSecurityPolicy-TLS13-1-2-…`) from the
 * version it names up to 1.3, the forward-secrecy and TLS families
 * (`…-FS-1-2-…`, `…-TLS-1-1-…`) from the version named up to 1.2, each with its
 * variants (`Res`, `Ext1`, `FIPS`, `PQ`, ...) and date; the policies named by a
 * date alone (`ELBSecurityPolicy-2016-08`, `…-FS-2018-06`) from 1.0 to 1.2.
 * Undefined for a name that is no ELB policy's.
 */
export function sslPolicyTlsVersions(sslPolicy: string): { lowest: TlsVersion; highest: TlsVersion } | undefined {
    const named = /^ELBSecurityPolicy-(TLS13|FS|TLS)-1-([0-3])(-[A-Za-z0-9]+)*-\d{4}-\d{2}$/.exec(sslPolicy);
    if (named) {
        return { lowest: `1.${named[2]}` as TlsVersion, highest: named[1] === "TLS13" ? "1.3" : "1.2" };
    }
    return /^ELBSecurityPolicy-(FS-)?\d{4}-\d{2}$/.test(sslPolicy) ? { lowest: "1.0", highest: "1.2" } : undefined;
}
