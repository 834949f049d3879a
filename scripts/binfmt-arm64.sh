#!/usr/bin/env bash
# Lets this x86_64 machine run arm64 programs (qemu-user-static through binfmt_misc, with the F
# flag so the interpreter also works inside containers and chroots). Idempotent; needs root.
set -euo pipefail
[ "$(uname -m)" = aarch64 ] && exit 0
command -v qemu-aarch64-static >/dev/null || {
  echo "binfmt-arm64: qemu-user-static is missing: run scripts/install-deps.sh" >&2
  exit 1
}
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  # Debian's qemu-user-static ships the registration line (flags OPF).
  cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
fi
grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || echo 1 >/proc/sys/fs/binfmt_misc/qemu-aarch64
