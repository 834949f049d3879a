# Shared by the packaging scripts (sourced, not run). Architecture names and helpers.

# die MESSAGE: one line on stderr naming the script, exit 1.
die() {
  echo "${0##*/}: $*" >&2
  exit 1
}

# set_arch DEB_ARCH: sets DEB_ARCH, NODE_ARCH (npm/Node name), TRIPLET (GNU) and ELF_MACHINE
# (what readelf -h prints) for amd64 or arm64; anything else is refused.
set_arch() {
  case "$1" in
    amd64) NODE_ARCH=x64 TRIPLET=x86_64-linux-gnu ELF_MACHINE='Advanced Micro Devices X86-64' ;;
    arm64) NODE_ARCH=arm64 TRIPLET=aarch64-linux-gnu ELF_MACHINE='AArch64' ;;
    *) die "--arch must be amd64 or arm64, not '$1'" ;;
  esac
  DEB_ARCH=$1
  # The host's own toolchain for its own arch, the cross toolchain otherwise.
  if [ "$(dpkg --print-architecture)" = "$DEB_ARCH" ]; then CROSS=; else CROSS=$TRIPLET-; fi
}

# elf_machine FILE: the Machine line of an ELF header ("AArch64", "Advanced Micro Devices X86-64").
elf_machine() {
  LC_ALL=C readelf -h "$1" | sed -n 's/^ *Machine: *//p'
}

# require_elf FILE: fails unless FILE is an ELF object for the target architecture.
require_elf() {
  local m
  m=$(elf_machine "$1") || die "$1 is not an ELF object"
  [ "$m" = "$ELF_MACHINE" ] || die "$1 is built for '$m', not $DEB_ARCH ('$ELF_MACHINE')"
}

# repo_version: the version in the root package.json.
repo_version() {
  node -p 'require("./package.json").version'
}
