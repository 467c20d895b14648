#!/usr/bin/bash
# Bound over /usr/bin/podman and /usr/bin/docker in a node script's mount
# namespace (local/node-shell.ts): the runtime it was called as, then its
# arguments, handed to the harness's stand-in, local/runtime-shim.cjs.
exec /mnt/node "$ETCD3_LOCAL_RUNTIME_SHIM" "${0##*/}" "$@"
