/**
 * The tls provider (@pulumi/tls) as the harness plays it under Pulumi mocks,
 * with real key material: a `PrivateKey` gets a new ECDSA P-256 key, and a
 * `SelfSignedCert` a certificate the openssl command line signs with the key
 * it is given, so that what the component stores from them (a CA a member's
 * etcd trusts, the key it signs with) works as the provider's would.
 *
 * The state is shaped as the provider's (terraform-provider-tls): a key's
 * `privateKeyPem` is SEC1 (`EC PRIVATE KEY`), as Go's
 * `x509.MarshalECPrivateKey` writes it, with `privateKeyPemPkcs8` and
 * `publicKeyPem` (SPKI) beside it, and its id the SHA-1 of its public key
 * PEM; a certificate is valid from now for `validityPeriodHours`
 * (`validityStartTime` and `validityEndTime` in RFC 3339), with a random
 * 128-bit serial as its id, its subject's organization and common name,
 * critical basic constraints (`CA:TRUE` for `isCaCertificate`, else
 * `CA:FALSE`), the critical key usages its `allowedUses` name, and, for a CA,
 * the subject key identifier the provider adds.
 *
 * Never kinder than the provider, and never silent about what it does not
 * play: any other algorithm or curve (the provider's default curve is P224),
 * `allowedUses` it does not map or the provider would refuse (it takes
 * snake_case names, `cert_signing`, not the `certSigning` its SDK docs show),
 * a subject field, input or key it does not play, and a CA without a subject
 * (which the provider refuses) are refused by name. The key's OpenSSH forms
 * and fingerprints are not in its state.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { openssl, opensslTime } from "./test-certificates";

export const tlsPrivateKeyType = "tls:index/privateKey:PrivateKey";
export const tlsSelfSignedCertType = "tls:index/selfSignedCert:SelfSignedCert";

/** The `allowedUses` played, as the provider names them, and the key usage each is in openssl's extension syntax. */
const keyUsages: Record<string, string> = {
    cert_signing: "keyCertSign",
    crl_signing: "cRLSign",
    digital_signature: "digitalSignature",
    key_encipherment: "keyEncipherment",
};

/** The subject fields played, and their attribute in an openssl `-subj`, in the order Go's pkix.Name writes them. */
const subjectFields: Array<[string, string]> = [["organization", "O"], ["commonName", "CN"]];

const playedInputs: Record<string, string[]> = {
    [tlsPrivateKeyType]: ["algorithm", "ecdsaCurve"],
    [tlsSelfSignedCertType]: ["privateKeyPem", "subject", "validityPeriodHours", "isCaCertificate", "allowedUses", "earlyRenewalHours"],
};

/** Throws, naming them, for inputs the harness does not play. */
function refuseUnplayedInputs(type: string, name: string, inputs: Record<string, unknown>): void {
    const unplayed = Object.keys(inputs).filter((input) => !playedInputs[type].includes(input));
    if (unplayed.length > 0) {
        throw new Error(`${type} "${name}": ${unplayed.join(", ")} not played by the harness's tls provider (it plays ${playedInputs[type].join(", ")})`);
    }
}

/** A new ECDSA P-256 key, in the provider's PEM forms. */
function privateKeyState(name: string, inputs: Record<string, unknown>): pulumi.runtime.MockResourceResult {
    refuseUnplayedInputs(tlsPrivateKeyType, name, inputs);
    if (inputs.algorithm !== "ECDSA" || inputs.ecdsaCurve !== "P256") {
        throw new Error(`${tlsPrivateKeyType} "${name}": algorithm ${JSON.stringify(inputs.algorithm)} with ecdsaCurve ${JSON.stringify(inputs.ecdsaCurve)} ` +
            "is not played by the harness's tls provider (it plays ECDSA with ecdsaCurve P256; the provider's default curve is P224)");
    }
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }).toString();
    return {
        id: crypto.createHash("sha1").update(publicKeyPem).digest("hex"),
        state: {
            ...inputs,
            privateKeyPem: privateKey.export({ type: "sec1", format: "pem" }).toString(),
            privateKeyPemPkcs8: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
            publicKeyPem,
        },
    };
}

/** An integer the provider takes for hours (at least `minimum`), or a refusal naming the input. */
function hours(where: string, input: string, value: unknown, minimum: number): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < minimum) {
        throw new Error(`${where}: ${input} ${JSON.stringify(value)} is not a whole number of hours of at least ${minimum}`);
    }
    return value;
}

/** The subject as openssl's `-subj` takes it, `/`, `+`, `=` and `\` escaped; throws for a field not played. */
function opensslSubject(where: string, subject: unknown): string {
    const fields = (subject ?? {}) as Record<string, unknown>;
    const unplayed = Object.keys(fields).filter((field) => !subjectFields.some(([played]) => played === field));
    if (unplayed.length > 0) {
        throw new Error(`${where}: subject ${unplayed.join(", ")} not played by the harness's tls provider (it plays organization, commonName)`);
    }
    return subjectFields.filter(([field]) => fields[field] !== undefined)
        .map(([field, attribute]) => `/${attribute}=${String(fields[field]).replace(/[\\/+=]/g, "\\$&")}`).join("");
}

/** RFC 3339 to the second, as the certificate holds it. */
const rfc3339 = (time: Date) => time.toISOString().replace(/\.\d{3}Z$/, "Z");

/** A certificate for the given key, self-signed by openssl as the provider's Go code would make it. */
async function selfSignedCertState(name: string, inputs: Record<string, unknown>): Promise<pulumi.runtime.MockResourceResult> {
    const where = `${tlsSelfSignedCertType} "${name}"`;
    refuseUnplayedInputs(tlsSelfSignedCertType, name, inputs);
    // The SDK marks privateKeyPem secret, so the mocks hand it over wrapped as a secret.
    const keyPem: unknown = pulumi.runtime.unwrapRpcSecret(inputs.privateKeyPem);
    if (typeof keyPem !== "string") {
        throw new Error(`${where}: privateKeyPem is ${JSON.stringify(keyPem)}, not a PEM key (is the key's state missing its privateKeyPem?)`);
    }
    let key: crypto.KeyObject;
    try {
        key = crypto.createPrivateKey(keyPem);
    } catch (error) {
        throw new Error(`${where}: privateKeyPem is not a private key PEM (${(error as Error).message})`);
    }
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
        throw new Error(`${where}: a ${key.asymmetricKeyType} private key other than ECDSA P-256 is not played by the harness's tls provider`);
    }
    const validityHours = hours(where, "validityPeriodHours", inputs.validityPeriodHours, 1);
    const earlyRenewalHours = inputs.earlyRenewalHours === undefined ? 0 : hours(where, "earlyRenewalHours", inputs.earlyRenewalHours, 0);
    const isCa = inputs.isCaCertificate === undefined ? false : inputs.isCaCertificate;
    if (typeof isCa !== "boolean") {
        throw new Error(`${where}: isCaCertificate ${JSON.stringify(isCa)} is not a boolean`);
    }
    const allowedUses = inputs.allowedUses;
    if (!Array.isArray(allowedUses)) {
        throw new Error(`${where}: allowedUses ${JSON.stringify(allowedUses)} is not a list, which the provider requires`);
    }
    const unplayedUses = allowedUses.filter((use) => !(use in keyUsages));
    if (unplayedUses.length > 0) {
        throw new Error(`${where}: allowedUses ${unplayedUses.map((use) => JSON.stringify(use)).join(", ")} not played by the harness's tls provider ` +
            `(it plays ${Object.keys(keyUsages).join(", ")}; the provider takes snake_case names only)`);
    }
    const subject = opensslSubject(where, inputs.subject);
    if (subject === "") {
        throw new Error(isCa ? `${where}: Invalid Certificate Subject: Must contain at least one Distinguished Name when creating Certificate Authority (CA)`
            : `${where}: a certificate without a subject is not played by the harness's tls provider`);
    }

    const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
    const notAfter = new Date(notBefore.getTime() + validityHours * 3_600_000);
    // 128 random bits, as the provider's serial; the top bit cleared keeps the DER integer positive without a sign byte.
    const serial = crypto.randomBytes(16);
    serial[0] &= 0x7f;
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-tls-provider-"));
    try {
        const keyFile = path.join(directory, "key.pem");
        fs.writeFileSync(keyFile, keyPem, { mode: 0o600 });
        fs.writeFileSync(path.join(directory, "index.txt"), "");
        fs.writeFileSync(path.join(directory, "serial"), `${serial.toString("hex")}\n`);
        fs.writeFileSync(path.join(directory, "openssl.cnf"), [
            "[ca]", "default_ca = provider", "[provider]",
            `database = ${path.join(directory, "index.txt")}`, `new_certs_dir = ${directory}`, `serial = ${path.join(directory, "serial")}`,
            "default_md = sha256", "policy = any_subject", "unique_subject = no", "copy_extensions = none", "email_in_dn = no",
            "[any_subject]", "organizationName = optional", "commonName = optional", "",
        ].join("\n"));
        const usages = allowedUses.map((use: string) => keyUsages[use]);
        fs.writeFileSync(path.join(directory, "extensions"), [
            `basicConstraints = critical, ${isCa ? "CA:TRUE" : "CA:FALSE"}`,
            ...(usages.length > 0 ? [`keyUsage = critical, ${[...new Set(usages)].join(", ")}`] : []),
            // Go's x509 gives a CA certificate the SHA-1 of its public key as its subject key identifier, as openssl's `hash` does.
            ...(isCa ? ["subjectKeyIdentifier = hash"] : []),
            "",
        ].join("\n"));
        await openssl(["req", "-new", "-key", keyFile, "-subj", subject, "-out", "request.csr"], directory);
        await openssl(["ca", "-config", "openssl.cnf", "-batch", "-notext", "-selfsign", "-keyfile", keyFile, "-preserveDN",
            "-in", "request.csr", "-out", "certificate.pem", "-extfile", "extensions",
            "-startdate", opensslTime(notBefore), "-enddate", opensslTime(notAfter)], directory);
        return {
            id: BigInt(`0x${serial.toString("hex")}`).toString(),
            state: {
                ...inputs,
                isCaCertificate: isCa,
                earlyRenewalHours,
                certPem: fs.readFileSync(path.join(directory, "certificate.pem"), "utf8"),
                keyAlgorithm: "ECDSA",
                validityStartTime: rfc3339(notBefore),
                validityEndTime: rfc3339(notAfter),
                readyForRenewal: Date.now() >= notAfter.getTime() - earlyRenewalHours * 3_600_000,
            },
        };
    } finally {
        fs.rmSync(directory, { recursive: true, force: true });
    }
}

/**
 * Pulumi mocks' `newResource` for the tls provider's `PrivateKey` and
 * `SelfSignedCert`, with real keys and certificates; undefined for any other
 * type, so that it serves as `Etcd3ClusterMockOptions.mocks.newResource`.
 * Throws, naming it, for an input it does not play.
 */
export async function newTlsResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult | undefined> {
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    switch (args.type) {
        case tlsPrivateKeyType:
            return privateKeyState(args.name, inputs);
        case tlsSelfSignedCertType:
            return selfSignedCertState(args.name, inputs);
        default:
            return undefined;
    }
}
