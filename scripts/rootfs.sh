#!/usr/bin/env bash
# Prints the directory of a Debian 12 root filesystem for the package system tests, built once with
# mmdebstrap and cached by content: ${EDGEFLOW_CACHE:-/var/cache/edgeflow}/rootfs/<sha256 of
# suite, arch, variant, package list, this script's recipe>/. Tests boot it with systemd-nspawn
# --volatile=overlay, so the cached tree is never changed.
# Usage: rootfs.sh amd64|arm64      (arm64 runs its maintainer scripts under qemu-user: binfmt_misc)
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${1:?usage: rootfs.sh amd64|arm64}
suite=bookworm
mirror=http://deb.debian.org/debian
# What the .deb's Depends pull in, plus what the tests drive it with: mosquitto_pub (a QoS 2
# reading), curl (the HTTP API), swtpm (a TPM for node-tpm2 on arm64), the TCTIs tctildr loads.
packages=(systemd systemd-sysv dbus init-system-helpers ca-certificates mosquitto-clients curl
  libstdc++6 libsystemd0 libtss2-esys-3.0.2-0 libtss2-mu0 libtss2-rc0 libtss2-tctildr0
  libtss2-tcti-device0 libtss2-tcti-swtpm0 swtpm)
case "$arch" in amd64 | arm64) ;; *) echo "rootfs: arch must be amd64 or arm64" >&2; exit 2 ;; esac

recipe="$suite $arch minbase $mirror ${packages[*]} v1"
key=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)
cache=${EDGEFLOW_CACHE:-/var/cache/edgeflow}/rootfs
dir=$cache/$suite-$arch-$key
if [ ! -f "$dir/.complete" ]; then
  if [ "$arch" != "$(dpkg --print-architecture)" ]; then bash scripts/binfmt-arm64.sh; fi
  mkdir -p "$cache"
  exec 9>"$cache/.lock-$arch"
  flock 9
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir" "$dir.tmp"
    echo "rootfs: building $suite $arch ($key) with mmdebstrap" >&2
    start=$(date +%s)
    # The host's apt settings (a mirror whose Release files may be old) apply inside too.
    nice -n 10 mmdebstrap --quiet --variant=minbase --architectures="$arch" \
      --aptopt='Acquire::Check-Valid-Until "false"' --aptopt='Acquire::Check-Date "false"' \
      --include="$(
        IFS=,
        echo "${packages[*]}"
      )" \
      --customize-hook='echo edgeflow-test > "$1/etc/hostname"' \
      --customize-hook='rm -f "$1/etc/machine-id" && touch "$1/etc/machine-id"' \
      "$suite" "$dir.tmp" "$mirror" >&2
    echo "$recipe" >"$dir.tmp/.complete"
    mv "$dir.tmp" "$dir"
    echo "rootfs: $arch built in $(($(date +%s) - start)) s" >&2
  fi
fi
echo "$dir"
