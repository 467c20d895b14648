/**
 * The S3 client the members' scripts share (snapshots.ts, restore.ts): bash,
 * coreutils and curl, the instance profile's credentials from IMDSv2, curl
 * signing each request itself (`--aws-sigv4`) to the bucket's virtual-hosted
 * HTTPS URL. Plain text in, a bash fragment out.
 */
import { instanceMetadataUrl } from "./bootstrap";

/** The SHA-256 of an empty body, the payload hash of a GET. */
export const emptyPayloadSha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** An AWS region name, as the members' settings carry it. */
export const isAwsRegion = (value: unknown): value is string => typeof value === "string" && /^[a-z]{2}(-[a-z]+)+-\d$/.test(value);

/**
 * Defines `s3 PATH-AND-QUERY PAYLOAD-SHA256 [CURL-ARGS...]`, one signed
 * request to the bucket named by the variable `bucketVariable` in the region
 * named by `regionVariable`; S3's error document is printed on failure. Also
 * `string NAME JSON`, a string of a JSON answer. Needs `set -euo pipefail`.
 */
export function s3ClientFragment(bucketVariable: string, regionVariable: string): string {
    return `string() { [[ $2 =~ \\"$1\\"[[:space:]]*:[[:space:]]*\\"([^\\"]*)\\" ]] && echo "\${BASH_REMATCH[1]}"; }
# The instance profile's credentials, through IMDSv2.
imds_token=$(curl --silent --show-error --fail --max-time 5 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "${instanceMetadataUrl}/latest/api/token")
imds() { curl --silent --show-error --fail --max-time 5 -H "X-aws-ec2-metadata-token: $imds_token" "${instanceMetadataUrl}/latest/meta-data/$1"; }
role=$(imds iam/security-credentials/)
credentials=$(imds "iam/security-credentials/$role")
# Given to curl on its standard input, not its command line, where any process could read them.
curl_config=$(printf 'user = "%s:%s"\\nheader = "x-amz-security-token: %s"\\n' \\
    "$(string AccessKeyId "$credentials")" "$(string SecretAccessKey "$credentials")" "$(string Token "$credentials")")
s3() {
    local target=$1 payload=$2
    shift 2
    curl --silent --show-error --fail-with-body --max-time 900 --config - --aws-sigv4 "aws:amz:\${${regionVariable}}:s3" -H "x-amz-content-sha256: $payload" \\
        "$@" "https://\${${bucketVariable}}.s3.\${${regionVariable}}.amazonaws.com/$target" <<< "$curl_config"
}`;
}
