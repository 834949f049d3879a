#!/usr/bin/env bash
# Puts `promtool` (the Prometheus exposition-format linter, used by the metrics test) into
# ${EDGEFLOW_CACHE:-/var/cache/edgeflow}/promtool/<package version>/promtool.
# Debian ships it only inside the `prometheus` server package, whose install would start a
# Prometheus server on :9090; the .deb is downloaded with apt-get and only promtool is unpacked.
# Reused when present; prints the binary's path.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  command -v promtool
  exit 0
fi
cache="${EDGEFLOW_CACHE:-/var/cache/edgeflow}/promtool"
version="$(apt-cache policy prometheus 2>/dev/null | awk '/Candidate:/ { print $2 }')"
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  apt-get update -qq
  version="$(apt-cache policy prometheus | awk '/Candidate:/ { print $2 }')"
fi
dir="$cache/${version//[^A-Za-z0-9.+~-]/_}"
if [ ! -x "$dir/promtool" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  chmod 0755 "$work" # apt's _apt user downloads into it
  (cd "$work" && apt-get download -qq "prometheus=$version" >/dev/null 2>&1)
  dpkg-deb --fsys-tarfile "$work"/prometheus_*.deb | tar -x -C "$work" ./usr/bin/promtool
  mkdir -p "$dir"
  mv "$work/usr/bin/promtool" "$dir/promtool.new"
  mv "$dir/promtool.new" "$dir/promtool"
fi
echo "$dir/promtool"
