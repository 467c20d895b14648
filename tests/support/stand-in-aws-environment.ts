/**
 * The AWS settings of this process while a suite runs a provider in it
 * (rather than in Pulumi's provider host, which gets its own environment):
 * none of the machine's user (their credentials, profile, region or config
 * files) reaches the AWS SDK; AWS's documented example key pair is in the
 * environment, for a loopback stand-in API to check a request is signed; and a
 * credentials file of the suite's own holds one profile, `standInProfile`,
 * with the same keys. The instance metadata service is off, so the SDK's
 * credential chain never leaves the machine. Everything is put back, and the
 * file removed, after the suite.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exampleAwsCredentials } from "./engine-provider";

/** The profile the suite's credentials file holds. */
export const standInProfile = "etcd3-stand-in";

export interface StandInAwsEnvironment {
    /** Runs `use` with the example keys out of the environment: only a profile gives credentials then. */
    withoutEnvironmentKeys<T>(use: () => Promise<T>): Promise<T>;
}

/** Registers the suite's `before` and `after` hooks that set the environment up and put it back. */
export function useStandInAwsEnvironment(): StandInAwsEnvironment {
    let saved: NodeJS.ProcessEnv = {};
    let directory: string | undefined;
    const awsSettings = () => Object.keys(process.env).filter((name) => name.startsWith("AWS_"));
    before(() => {
        saved = Object.fromEntries(awsSettings().map((name) => [name, process.env[name]]));
        for (const name of awsSettings()) {
            delete process.env[name];
        }
        directory = fs.mkdtempSync(path.join(os.tmpdir(), "etcd3-aws-"));
        const credentials = path.join(directory, "credentials");
        fs.writeFileSync(credentials, `[${standInProfile}]\naws_access_key_id = ${exampleAwsCredentials.AWS_ACCESS_KEY_ID}\n` +
            `aws_secret_access_key = ${exampleAwsCredentials.AWS_SECRET_ACCESS_KEY}\n`);
        Object.assign(process.env, exampleAwsCredentials, {
            AWS_SHARED_CREDENTIALS_FILE: credentials,
            AWS_CONFIG_FILE: path.join(directory, "config"),
            AWS_EC2_METADATA_DISABLED: "true",
        });
    });
    after(() => {
        for (const name of awsSettings()) {
            delete process.env[name];
        }
        Object.assign(process.env, saved);
        if (directory) {
            fs.rmSync(directory, { recursive: true, force: true });
        }
    });
    return {
        async withoutEnvironmentKeys(use) {
            const keys = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
            delete process.env.AWS_ACCESS_KEY_ID;
            delete process.env.AWS_SECRET_ACCESS_KEY;
            try {
                return await use();
            } finally {
                Object.assign(process.env, keys);
            }
        },
    };
}
