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
# As little as the tests need: every package costs its download and, for arm64, its maintainer
# scripts under emulation (the old minbase + swtpm + curl list took 1,101 s on arm64 at load 13;
# this one ~100-160 s, 53 s CPU). Essential packages, systemd as init, what the .deb's Depends
# pull in (libstdc++, libsystemd, the tss2 libraries) and the TCTIs tctildr loads. amd64 adds
# the clients the tests drive the box with from inside (mosquitto_pub, curl); on arm64 the tests
# run the host's (and a host swtpm) in the box's network namespace (tests/system/helpers).
packages=(systemd systemd-sysv libstdc++6 libtss2-esys-3.0.2-0 libtss2-mu0 libtss2-rc0
  libtss2-tctildr0 libtss2-tcti-device0 libtss2-tcti-swtpm0)
case "$arch" in
  amd64) packages+=(mosquitto-clients curl) ;;
  arm64) ;;
  *) echo "rootfs: arch must be amd64 or arm64" >&2; exit 2 ;;
esac
variant=essential

recipe="$suite $arch $variant $mirror ${packages[*]} v2"
key=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)
cache=${EDGEFLOW_CACHE:-/var/cache/edgeflow}/rootfs
dir=$cache/$suite-$arch-$key
if [ ! -f "$dir/.complete" ]; then
  if [ "$arch" != "$(dpkg --print-architecture)" ]; then bash scripts/binfmt-arm64.sh; fi
  mkdir -p "$cache"
  exec 9>"$cache/.lock-$arch"
  flock 9
  if [ ! -f "$dir/.complete" ]; then
    # A build killed half-way leaves mmdebstrap's mounts (/proc, /sys, device binds) inside
    # $dir.tmp: unmount them first and never let rm cross into another file system (the host's).
    mounts=$(findmnt -rn -o TARGET | grep -F "$dir.tmp/" || true)
    if [ -n "$mounts" ]; then echo "$mounts" | sort -r | xargs -n1 umount -l; fi
    rm -rf --one-file-system "$dir" "$dir.tmp"
    echo "rootfs: building $suite $arch ($key) with mmdebstrap" >&2
    start=$(date +%s)
    # The host's apt settings (a mirror whose Release files may be old) apply inside too.
    nice -n 10 mmdebstrap --quiet --variant="$variant" --architectures="$arch" \
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
