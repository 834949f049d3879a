#!/usr/bin/env bash
# Fetches the kernel the HAL system tier boots and builds gpio-sim.ko for it.
#
# The version is whatever Debian's `linux-image-amd64` resolves to right now (never
# hard-coded: old ABIs disappear from the mirror). Packages are fetched with
# `apt-get download` (nothing is installed); the result is cached outside the clone, by content
# (the package version and this recipe), and reused by every clone on the machine:
#   ${EDGEFLOW_CACHE:-/var/cache/edgeflow}/qemu-kernel/<abi>_<version>-<sha256 of kernel.sh>/
# holding vmlinuz, config and the modules the guest loads. Prints that directory.
#
# gpio-sim is not built by Debian (CONFIG_GPIO_SIM unset) and neither is irq_sim, so
# both are compiled out of tree from the matching linux-source package, as one module.
# irq_sim.c calls handle_simple_irq(irq_to_desc(n)); irq_to_desc is not exported to
# modules on 6.1, so that call becomes the exported generic_handle_irq(n).
set -euo pipefail

cache=${EDGEFLOW_CACHE:-/var/cache/edgeflow}/qemu-kernel
mkdir -p "$cache"
log() { echo "kernel.sh: $*" >&2; }

img=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
if [ -z "$img" ]; then
  log "apt does not know linux-image-amd64: run apt-get update (Debian 12 sources needed)"
  exit 1
fi
abi=${img#linux-image-}                # e.g. 6.1.0-56-amd64
series=$(echo "$abi" | cut -d. -f1,2)  # e.g. 6.1
ver=$(apt-cache show --no-all-versions "$img" | awk '/^Version:/{print $2; exit}')
recipe=$(sha256sum "$0" | cut -c1-12)
out="$cache/${abi}_${ver}-$recipe"
if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi

exec 9>"$cache/.lock"
flock 9
if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi
log "preparing $abi ($ver) in $out"
work="$cache/work-${abi}_${ver}-$recipe"
rm -rf "$work" "$out"
mkdir -p "$work/dl" "$work/root" "$work/src" "$work/mod" "$out/modules"

pkgs=(
  "$img=$ver"
  "linux-headers-$abi=$ver"
  "linux-headers-${abi%-amd64}-common=$ver"
  "linux-kbuild-$series=$ver"
  "linux-source-$series=$ver"
)
fetch() { (cd "$work/dl" && apt-get -q -o APT::Sandbox::User=root download "${pkgs[@]}" >&2); }
if ! fetch; then
  # Stale lists name a version the mirror no longer has: refresh once and retry.
  log "download failed; refreshing apt lists and retrying"
  flock /tmp/edgeflow-apt.lock apt-get update -qq >&2
  fetch
fi

for deb in "$work"/dl/linux-headers-*.deb "$work"/dl/linux-kbuild-*.deb; do
  dpkg-deb -x "$deb" "$work/root"
done
# From the image only the kernel, its config and three modules (not ~400 MB of modules).
dpkg-deb --fsys-tarfile "$work"/dl/linux-image-*.deb |
  tar -x -C "$work/root" --wildcards './boot/*' '*/configfs.ko*' '*/i2c-dev.ko*' '*/i2c-stub.ko*'
# The headers Makefile includes the -common tree by absolute /usr/src path: point it here.
hdr="$work/root/usr/src/linux-headers-$abi"
sed -i "s#^include /usr/src/#include $work/root/usr/src/#" "$hdr/Makefile"

# Only three files of the ~140 MB source tarball are needed.
srcdir="linux-source-$series"
dpkg-deb --fsys-tarfile "$work"/dl/linux-source-*.deb |
  tar -xO "./usr/src/$srcdir.tar.xz" | xz -dc -T0 |
  tar -x -C "$work/src" "$srcdir/drivers/gpio/gpio-sim.c" "$srcdir/drivers/gpio/gpiolib.h" \
    "$srcdir/kernel/irq/irq_sim.c"
cp "$work/src/$srcdir/drivers/gpio/gpio-sim.c" "$work/mod/gpio-sim-main.c"
cp "$work/src/$srcdir/drivers/gpio/gpiolib.h" "$work/mod/gpiolib.h"
sed 's/handle_simple_irq(irq_to_desc(\([a-z_]*\)));/generic_handle_irq(\1);/' \
  "$work/src/$srcdir/kernel/irq/irq_sim.c" >"$work/mod/irq_sim.c"
if grep -q 'irq_to_desc' "$work/mod/irq_sim.c"; then
  log "irq_sim.c of $ver still calls irq_to_desc: update the patch in kernel.sh"
  exit 1
fi
printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-main.o irq_sim.o\n' >"$work/mod/Kbuild"
make -s -C "$hdr" M="$work/mod" modules >&2 2> >(grep -v 'Skipping BTF' >&2)
cp "$work/mod/gpio-sim.ko" "$out/modules/"

cp "$work/root/boot/vmlinuz-$abi" "$out/vmlinuz"
cp "$work/root/boot/config-$abi" "$out/config"
# i2c-dev gives /dev/i2c-N, i2c-stub the SMBus register images, configfs the gpio-sim setup.
for m in configfs i2c-dev i2c-stub; do
  ko=$(find "$work/root/lib/modules/$abi" -name "$m.ko*" | head -n1)
  if [ -z "$ko" ]; then
    log "module $m not in linux-image-$abi (built in?)"
    continue
  fi
  case "$ko" in
    *.xz) xz -dc "$ko" >"$out/modules/$m.ko" ;;
    *.zst) zstd -qdc "$ko" >"$out/modules/$m.ko" ;;
    *) cp "$ko" "$out/modules/$m.ko" ;;
  esac
done
echo "$abi $ver" >"$out/version"
rm -rf "$work"
touch "$out/.complete"
log "ready: $out"
echo "$out"
