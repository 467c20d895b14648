#!/usr/bin/env bash
# Installs what the tests and `npm run local` need on a fresh Debian (bookworm)
# machine, then the npm dependencies: `bash scripts/setup.sh` from the
# repository root. System packages go in with sudo unless run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

# The etcd release the local cluster runs. Debian bookworm only carries 3.4 (end
# of life, no v2 discovery fallback=exit semantics we rely on); unstable's 3.5
# package runs on bookworm, so it is fetched from the machine's own Debian
# mirror and unpacked into /usr/local/bin rather than installed over the system.
ETCD_DEB_VERSION="${ETCD_DEB_VERSION:-3.5.30-2}"
# mount: losetup (the loop devices playing the member slots' EBS volumes); util-linux: blkid, findmnt;
# e2fsprogs: mkfs.ext4, which systemd's own systemd-makefs (package systemd) runs on a blank volume.
# openssl: the throwaway test CA and certificates of the TLS stand-ins (local/test-certificates.ts, the S3 stand-in's).
# jq: the README's access-control session reads its token with it, and its test runs the session as written.
SYSTEM_PACKAGES=(ignition haproxy etcd-discovery curl ca-certificates mount util-linux e2fsprogs systemd openssl jq)

echo "==> apt-get install ${SYSTEM_PACKAGES[*]}"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${SYSTEM_PACKAGES[@]}" >/dev/null

# Read whole before matching: under pipefail, a reader that stops early (grep -q, head) can fail the pipeline with
# etcd's SIGPIPE (exit 141) however the match went.
installed_etcd="$(/usr/local/bin/etcd --version 2>/dev/null || true)"
if [[ $installed_etcd != *"etcd Version: ${ETCD_DEB_VERSION%%-*}"* ]]; then
    echo "==> etcd ${ETCD_DEB_VERSION} from Debian unstable into /usr/local/bin"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/sources" "$work/lists/partial" "$work/cache/archives/partial"
    # Same mirror and keyring as the machine's own bookworm sources.
    mirror="$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' | awk '$2 == "bookworm" { print $1; exit }')"
    mirror="${mirror:-http://deb.debian.org/debian/}"
    cat > "$work/sources/unstable.sources" <<SOURCES
Types: deb
URIs: ${mirror%/}
Suites: unstable
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    apt_private=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$work/sources"
        -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache")
    apt-get "${apt_private[@]}" update -qq
    (cd "$work" && apt-get "${apt_private[@]}" download -qq "etcd-server=${ETCD_DEB_VERSION}" "etcd-client=${ETCD_DEB_VERSION}" 2>&1 | grep -v "unsandboxed" || true)
    for deb in "$work"/etcd-*.deb; do dpkg-deb -x "$deb" "$work/root"; done
    $sudo install -m 0755 "$work/root/usr/bin/etcd" "$work/root/usr/bin/etcdctl" "$work/root/usr/bin/etcdutl" /usr/local/bin/
fi
installed_etcd="$(/usr/local/bin/etcd --version)"
echo "${installed_etcd%%$'\n'*}"

echo "==> npm ci"
npm ci --no-audit --no-fund
