/**
 * Throwaway TLS certificates for the harness's stand-ins: a test certificate
 * authority, and leaf certificates it issues for given DNS names and IP
 * addresses, made by the openssl command line (Node's crypto signs and
 * verifies, but cannot issue a certificate). A client trusts the stand-ins by
 * trusting the CA's certificate in place of the public CAs a node's system
 * trust store holds (curl's `CURL_CA_BUNDLE`).
 *
 * Every file is written in the directory the caller gives, which the caller
 * removes; nothing else on the test host is touched. Keys are EC P-256: a
 * certificate authority a test makes is ready in milliseconds, where an RSA key
 * takes seconds on a loaded machine. Validity is exact to the second
 * (`openssl ca -startdate/-enddate`), so a test can make a certificate that
 * expires within seconds, or one that has already expired.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { promisify } from "util";

const run = promisify(execFile);

/** From when to when a certificate is valid; by default from an hour ago (clocks may differ a little) for a day. */
export interface CertificateValidity {
    notBefore?: Date;
    notAfter?: Date;
}

/** A certificate and its private key, as PEM text and as the files that hold it. */
export interface IssuedCertificate {
    certificateFile: string;
    keyFile: string;
    /** PEM. */
    certificate: string;
    /** PEM (PKCS#8). */
    key: string;
}

/** What a leaf certificate is for. */
export interface LeafCertificateOptions extends CertificateValidity {
    /** The subject's common name; by default the first DNS name, else the first IP address. */
    commonName?: string;
    /** Subject alternative names: the names a TLS client checks (`*.example.com` wildcards as in any certificate). */
    dnsNames?: readonly string[];
    ipAddresses?: readonly string[];
    /** Extended key usages; by default a server's only. A member of an etcd cluster, server and client to its peers, needs both. */
    usages?: readonly ("serverAuth" | "clientAuth")[];
}

/** A certificate authority that lives in one directory. */
export interface TestCertificateAuthority extends IssuedCertificate {
    /** Where its files and those of every certificate it issues are. */
    directory: string;
    /**
     * Issues a leaf certificate, written as `NAME.crt` and `NAME.key` in the
     * CA's directory. Calls are serialized (`openssl ca` keeps one serial
     * file and one database).
     */
    issue(name: string, options: LeafCertificateOptions): Promise<IssuedCertificate>;
    /**
     * Issues an intermediate CA's certificate (CA:TRUE, no path length
     * limit below it), written as `NAME.crt` and `NAME.key` in the CA's
     * directory; serialized with `issue`.
     */
    issueCertificateAuthority(name: string, options: IntermediateCaOptions): Promise<IssuedCertificate>;
}

/** What an intermediate CA is made with. */
export interface IntermediateCaOptions extends CertificateValidity {
    commonName: string;
    /** Default `ec`. */
    keyAlgorithm?: TestKeyAlgorithm;
}

/** The time as `openssl ca -startdate` takes it: YYYYMMDDHHMMSSZ. */
export function opensslTime(time: Date): string {
    return time.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:T]/g, "");
}

/** Runs the openssl CLI in `cwd`, bounded; its error names the subcommand and what openssl said. */
export async function openssl(args: string[], cwd: string): Promise<void> {
    try {
        await run("openssl", args, { cwd, timeout: 30_000 });
    } catch (error) {
        const { stderr } = error as { stderr?: string };
        throw new Error(`openssl ${args[0]} failed: ${stderr?.trim() || (error as Error).message}`);
    }
}

/** A new EC P-256 private key at `keyFile`. */
/** The keys a test certificate may have: EC P-256 (the default, fast) or RSA 2048. */
export type TestKeyAlgorithm = "ec" | "rsa";

const keyOptions: Record<TestKeyAlgorithm, string[]> = {
    ec: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    rsa: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
};

const newKey = (keyFile: string, cwd: string, algorithm: TestKeyAlgorithm = "ec") => openssl(["genpkey", ...keyOptions[algorithm], "-out", keyFile], cwd);

/** A name usable as a file name and in a certificate subject without quoting. */
function checkName(name: string, what: string): void {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
        throw new Error(`${what} ${JSON.stringify(name)}: letters, digits, '.', '_' and '-' only, starting with a letter or digit`);
    }
}

/** A CA certificate's extensions, the test CA's and the intermediates it issues. */
const caExtensions = ["basicConstraints = critical, CA:TRUE", "keyUsage = critical, keyCertSign, cRLSign", "subjectKeyIdentifier = hash"];

/** `openssl ca`'s configuration: a database in `state`, any subject, the extensions of each call's own file. */
function caConfiguration(directory: string, state: string): string {
    return [
        "[ca]",
        "default_ca = test_ca",
        "[test_ca]",
        `database = ${path.join(state, "index.txt")}`,
        `new_certs_dir = ${state}`,
        `serial = ${path.join(state, "serial")}`,
        `certificate = ${path.join(directory, "ca.crt")}`,
        `private_key = ${path.join(directory, "ca.key")}`,
        "default_md = sha256",
        "policy = any_subject",
        // One CA may issue several certificates for the same name (a renewed one, an expired one beside a valid one).
        "unique_subject = no",
        "copy_extensions = none",
        "[any_subject]",
        "commonName = supplied",
        "",
    ].join("\n");
}

/**
 * Creates a certificate authority in `directory` (which must exist; the
 * caller removes it): `ca.crt` and `ca.key`, and the state `openssl ca`
 * keeps, in `.ca-state`.
 */
export async function createTestCertificateAuthority(
    directory: string, options: CertificateValidity & { commonName?: string } = {},
): Promise<TestCertificateAuthority> {
    const commonName = options.commonName ?? "etcd3-cluster local test CA";
    if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/.test(commonName)) {
        throw new Error(`CA common name ${JSON.stringify(commonName)}: letters, digits, spaces, '.', '_' and '-' only`);
    }
    const state = path.join(directory, ".ca-state");
    fs.mkdirSync(state);
    fs.writeFileSync(path.join(state, "index.txt"), "");
    fs.writeFileSync(path.join(state, "serial"), "1000\n");
    const configFile = path.join(state, "openssl.cnf");
    fs.writeFileSync(configFile, caConfiguration(directory, state));

    /** Signs `csr` into `certificateFile` with the extensions given, valid as asked. */
    const sign = async (csr: string, certificateFile: string, extensions: string[], validity: CertificateValidity, selfSign: boolean) => {
        const notBefore = validity.notBefore ?? new Date(Date.now() - 3_600_000);
        const notAfter = validity.notAfter ?? new Date(Date.now() + 86_400_000);
        if (notAfter.getTime() <= notBefore.getTime()) {
            throw new Error(`a certificate valid from ${notBefore.toISOString()} to ${notAfter.toISOString()} is never valid`);
        }
        const extensionsFile = `${certificateFile}.extensions`;
        fs.writeFileSync(extensionsFile, `${extensions.join("\n")}\n`);
        await openssl(["ca", "-config", configFile, "-batch", "-notext", "-in", csr, "-out", certificateFile, "-extfile", extensionsFile,
            "-startdate", opensslTime(notBefore), "-enddate", opensslTime(notAfter),
            ...(selfSign ? ["-selfsign", "-keyfile", path.join(directory, "ca.key")] : [])], directory);
        fs.rmSync(extensionsFile);
        fs.rmSync(csr);
    };

    const caKey = path.join(directory, "ca.key");
    const caCertificate = path.join(directory, "ca.crt");
    await newKey(caKey, directory);
    await openssl(["req", "-new", "-key", caKey, "-subj", `/CN=${commonName}`, "-out", path.join(state, "ca.csr")], directory);
    await sign(path.join(state, "ca.csr"), caCertificate, caExtensions, options, true);

    /** Issues `NAME.crt` and `NAME.key` in the CA's directory, for `commonName`, with `extensions`. */
    const issueSigned = async (name: string, commonName: string, extensions: string[], validity: CertificateValidity, algorithm?: TestKeyAlgorithm) => {
        const keyFile = path.join(directory, `${name}.key`);
        const certificateFile = path.join(directory, `${name}.crt`);
        const csr = path.join(state, `${name}.csr`);
        await newKey(keyFile, directory, algorithm);
        await openssl(["req", "-new", "-key", keyFile, "-subj", `/CN=${commonName}`, "-out", csr], directory);
        await sign(csr, certificateFile, [...extensions, "authorityKeyIdentifier = keyid"], validity, false);
        return { certificateFile, keyFile, certificate: fs.readFileSync(certificateFile, "utf8"), key: fs.readFileSync(keyFile, "utf8") };
    };

    const issueLeaf = async (name: string, leaf: LeafCertificateOptions): Promise<IssuedCertificate> => {
        checkName(name, "certificate name");
        const dnsNames = leaf.dnsNames ?? [];
        const ipAddresses = leaf.ipAddresses ?? [];
        for (const address of ipAddresses) {
            if (net.isIP(address) === 0) {
                throw new Error(`${address} is not an IP address`);
            }
        }
        for (const dnsName of dnsNames) {
            if (!/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(dnsName)) {
                throw new Error(`${dnsName} is not a DNS name a certificate can carry`);
            }
        }
        if (dnsNames.length + ipAddresses.length === 0) {
            throw new Error(`certificate ${name}: give at least one DNS name or IP address (TLS clients check the subject alternative names only)`);
        }
        const commonName = leaf.commonName ?? dnsNames[0] ?? ipAddresses[0];
        checkName(commonName.replace(/^\*\./, "wildcard."), "common name");
        const alternativeNames = [...dnsNames.map((dnsName) => `DNS:${dnsName}`), ...ipAddresses.map((address) => `IP:${address}`)];
        return issueSigned(name, commonName, [
            "basicConstraints = critical, CA:FALSE",
            "keyUsage = critical, digitalSignature, keyEncipherment",
            `extendedKeyUsage = ${(leaf.usages ?? ["serverAuth"]).join(", ")}`,
            `subjectAltName = ${alternativeNames.join(", ")}`,
        ], leaf);
    };

    const issueIntermediate = async (name: string, options: IntermediateCaOptions): Promise<IssuedCertificate> => {
        checkName(name, "certificate name");
        checkName(options.commonName.replace(/ /g, "_"), "common name");
        return issueSigned(name, options.commonName, caExtensions, options, options.keyAlgorithm);
    };

    let queue: Promise<unknown> = Promise.resolve();
    /** Runs `issueNow` after every earlier call (`openssl ca` keeps one serial file and one database). */
    const serialized = <T>(issueNow: () => Promise<T>): Promise<T> => {
        const issued = queue.then(issueNow);
        queue = issued.catch(() => undefined);
        return issued;
    };

    return {
        directory,
        certificateFile: caCertificate,
        keyFile: caKey,
        certificate: fs.readFileSync(caCertificate, "utf8"),
        key: fs.readFileSync(caKey, "utf8"),
        issue: (name, leaf) => serialized(() => issueLeaf(name, leaf)),
        issueCertificateAuthority: (name, options) => serialized(() => issueIntermediate(name, options)),
    };
}
