#!/usr/bin/env bash
# Tests the package the way users get it: `npm pack`, the tarball checked
# (scripts/check-package.ts), then installed into copies of examples/ outside
# the repository, once at the LOWEST and once at the NEWEST versions of the
# peer-dependency ranges in package.json, and every example's mocks test run
# against each. One shared install (npm workspaces) per range end.
#
#   bash scripts/test-examples.sh              # both ends
#   bash scripts/test-examples.sh newest       # one end: lowest or newest
#   KEEP=1 bash scripts/test-examples.sh       # keep the scratch directory
#
# Runs on the `node` on PATH (CI puts Node.js 22 there); needs this repository's
# own node_modules for the tarball check.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
ends=("$@")
if [ ${#ends[@]} -eq 0 ]; then ends=(lowest newest); fi

work="$(mktemp -d "${TMPDIR:-/tmp}/etcd3-cluster-examples.XXXXXX")"
if [ "${KEEP:-}" = "1" ]; then echo "scratch: $work"; else trap 'rm -rf "$work"' EXIT; fi
started=$SECONDS

echo "==> npm pack (Node.js $(node --version))"
npm pack --pack-destination "$work" >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; exit 1; }
tarball="$(ls "$work"/etcd3-cluster-*.tgz)"
npx ts-node --transpile-only scripts/check-package.ts "$tarball"

peers=(@pulumi/pulumi @pulumi/aws @pulumi/awsx @pulumi/tls)
range() { node -p "require('./package.json').peerDependencies['$1']"; }

passed=0
failed=0
failures=()
for end in "${ends[@]}"; do
    dir="$work/$end"
    mkdir -p "$dir/examples"
    declare -A versions=()
    for peer in "${peers[@]}"; do
        case "$end" in
            lowest) versions[$peer]="$(range "$peer" | sed -E 's/^[^0-9]*//')" ;;   # ^3.142.0 -> 3.142.0
            newest) versions[$peer]="$(range "$peer")" ;;                          # npm takes the newest in range
            *) echo "unknown range end: $end (lowest or newest)"; exit 2 ;;
        esac
    done

    # Copies of the examples that depend on the tarball and on this end of each peer range.
    for example in examples/*/; do
        name="$(basename "$example")"
        tar --exclude=node_modules -cf - -C examples "$name" | tar -xf - -C "$dir/examples"
        node - "$dir/examples/$name/package.json" "$tarball" "${versions[@pulumi/pulumi]}" "${versions[@pulumi/aws]}" "${versions[@pulumi/awsx]}" \
            "${versions[@pulumi/tls]}" <<'EOF'
const fs = require("fs");
const [file, tarball, pulumi, aws, awsx, tls] = process.argv.slice(2);
const manifest = JSON.parse(fs.readFileSync(file, "utf8"));
Object.assign(manifest.dependencies, {
    "etcd3-cluster": `file:${tarball}`, "@pulumi/pulumi": pulumi, "@pulumi/aws": aws, "@pulumi/awsx": awsx, "@pulumi/tls": tls,
});
fs.writeFileSync(file, JSON.stringify(manifest, null, 4) + "\n");
EOF
    done
    cat >"$dir/package.json" <<EOF
{ "name": "etcd3-cluster-examples-$end", "private": true, "workspaces": ["examples/*"] }
EOF
    echo "==> $end: npm install (${peers[*]} at ${versions[@pulumi/pulumi]} / ${versions[@pulumi/aws]} / ${versions[@pulumi/awsx]} / ${versions[@pulumi/tls]})"
    install_started=$SECONDS
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >"$dir/install.log" 2>&1) || { cat "$dir/install.log"; exit 1; }

    # One copy of each: a second @pulumi/pulumi is the hang this layout exists to prevent.
    for package in "${peers[@]}" etcd3-cluster typescript; do
        copies=$(find "$dir" -path "*/node_modules/$package/package.json" -exec node -p "require('{}').version" \; | sort | tr '\n' ' ')
        echo "    $package: ${copies:-missing}"
        if [ "$(wc -w <<<"$copies")" -ne 1 ]; then echo "    expected exactly one copy of $package"; exit 1; fi
    done
    echo "    installed in $((SECONDS - install_started)) s"

    # Types, once for all examples (the tsc of each example's own tsconfig, moduleResolution node), then the
    # entry points under the other module resolutions consumers use. The tests below then skip type checks.
    step_started=$SECONDS
    cat >"$dir/tsconfig.json" <<'EOF'
{ "extends": "./examples/new-vpc/tsconfig.json", "include": ["examples/*/*.ts"] }
EOF
    (cd "$dir" && node node_modules/typescript/bin/tsc --noEmit -p .) || { echo "    the examples do not type-check"; exit 1; }
    cat >"$dir/probe.ts" <<'EOF'
import { Etcd3Cluster, Etcd3ClusterArgs } from "etcd3-cluster";
import { outputValue, setEtcd3ClusterMocks } from "etcd3-cluster/testing";
const args: Etcd3ClusterArgs = { clusterSize: 3 };
export const probe = [Etcd3Cluster, args, outputValue, setEtcd3ClusterMocks];
EOF
    for resolution in node16 bundler; do
        module=$([ "$resolution" = bundler ] && echo esnext || echo node16)
        (cd "$dir" && node node_modules/typescript/bin/tsc --noEmit --strict --skipLibCheck --types node \
            --module "$module" --moduleResolution "$resolution" probe.ts) || { echo "    types fail with moduleResolution $resolution"; exit 1; }
    done
    echo "    examples type-check; both entry points resolve with moduleResolution node, node16 and bundler ($((SECONDS - step_started)) s)"

    for example in "$dir"/examples/*/; do
        name="$(basename "$example")"
        echo "==> $end: examples/$name"
        log="$dir/$name.log"
        if (cd "$dir" && TS_NODE_TRANSPILE_ONLY=true npm run test --workspace "examples/$name" --silent) 2>&1 | tee "$log"; then
            status=ok
        else
            status=failed
        fi
        passing=$(grep -oE '^ *[0-9]+ passing' "$log" | grep -oE '[0-9]+' || echo 0)
        failing=$(grep -oE '^ *[0-9]+ failing' "$log" | grep -oE '[0-9]+' || echo 0)
        passed=$((passed + passing))
        failed=$((failed + failing))
        if [ "$status" = failed ] && [ "$failing" = 0 ]; then failed=$((failed + 1)); fi
        if [ "$status" = failed ]; then failures+=("$end/$name"); fi
    done
    unset versions
done

echo "==> examples took $((SECONDS - started)) s"
if [ ${#failures[@]} -gt 0 ]; then echo "failed: ${failures[*]}"; fi
echo "examples: $passed passed, $failed failed"
[ ${#failures[@]} -eq 0 ]
