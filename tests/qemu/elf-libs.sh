# Sourced by initramfs.sh (and its test): copies the shared libraries an ELF file needs into a
# staging root, at their host paths. Needs: $stage (the root), log().
#
# Packages ship prebuilds for other platforms next to the host's (@serialport/bindings-cpp:
# arm64, armv7, darwin, windows, musl): ldd cannot read or resolve those, and they have no host
# libraries to copy, so they are skipped — decided by the file's ELF machine and C library, not
# by ldd failing. A file of the host's platform that ldd cannot resolve is an error: the guest
# would fail to load it, far from here.

# The platform of a file: ELF e_machine as 4 hex digits in file order ("3e00" x86-64, "b700"
# aarch64) and its C library (musl when it needs libc.musl-*, else gnu); "not-elf" for Mach-O
# and PE prebuilds or a truncated file.
elf_platform() {
  if [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" != 7f454c46 ]; then
    echo not-elf
    return
  fi
  local libc=gnu
  if grep -aq 'libc\.musl-' "$1"; then libc=musl; fi
  echo "$(od -An -tx1 -j 18 -N 2 "$1" | tr -d ' \n')/$libc"
}

host_platform=$(elf_platform "$(readlink -f "$(command -v node)")")

copy_libs() {
  local platform out
  platform=$(elf_platform "$1")
  if [ "$platform" != "$host_platform" ]; then
    log "skipping $1 ($platform, not the host's $host_platform: a prebuild for another platform)"
    return 0
  fi
  if ! out=$(ldd "$1" 2>&1); then
    log "ldd failed on $1, a file for this platform: $out"
    return 1
  fi
  if grep -q 'not found' <<<"$out"; then
    log "$1 needs libraries this host does not have: $(grep 'not found' <<<"$out" | tr -s ' \t\n' ' ')"
    return 1
  fi
  awk '/=> \//{print $3} /^[ \t]*\//{print $1}' <<<"$out" | while read -r lib; do
    [ -e "$stage$lib" ] && continue
    mkdir -p "$stage$(dirname "$lib")"
    cp -L "$lib" "$stage$lib"
  done
}
