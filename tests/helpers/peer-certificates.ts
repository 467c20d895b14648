/**
 * Certificates a peer of the local cluster's members would present, issued
 * by a CA given as PEM text (one the component stored, or the user's own).
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";

const run = promisify(execFile);

/** A client certificate for 127.0.0.1 issued by the CA whose certificate (the first in `caPem`) and key are given: what a peer would present. */
export async function issueFrom(directory: string, label: string, caPem: string, caKeyPem: string): Promise<{ certificate: string; key: string }> {
    const file = (name: string) => path.join(directory, `${label}.${name}`);
    fs.writeFileSync(file("ca.crt"), caPem);
    fs.writeFileSync(file("ca.key"), caKeyPem, { mode: 0o600 });
    fs.writeFileSync(file("extensions"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
    await run("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file("key")], { timeout: 10_000 });
    await run("openssl", ["req", "-new", "-key", file("key"), "-subj", `/CN=${label}`, "-out", file("csr")], { timeout: 10_000 });
    await run("openssl", ["x509", "-req", "-in", file("csr"), "-CA", file("ca.crt"), "-CAkey", file("ca.key"), "-set_serial", "1", "-days", "1",
        "-extfile", file("extensions"), "-out", file("crt")], { timeout: 10_000 });
    return { certificate: file("crt"), key: file("key") };
}

