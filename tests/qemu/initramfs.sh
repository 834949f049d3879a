#!/usr/bin/env bash
# Builds the guest initramfs (uncompressed newc cpio: unpacking gzip under TCG costs
# more than copying the bytes) for the HAL system tier:
#   /init                    tests/qemu/guest/init
#   /bin                     static busybox + applet links, the host's node and its libraries
#   /lib/modules/*.ko        from kernel.sh (configfs, i2c-dev, i2c-stub, gpio-sim)
#   /etc/kernel-config       the kernel's config (the tests check CONFIG_GPIO_SYSFS)
#   /ef/hal                  built @edgeflow/hal (dist + the cdev addon)
#   /ef/node_modules         hal's runtime dependency closure (zod, onoff, i2c-bus, ...)
#   /ef/tests/dist/qemu      compiled in-guest test files
# usage: initramfs.sh <kernel-dir from kernel.sh> <out.cpio>
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kdir=$1
out=$2
log() { echo "initramfs.sh: $*" >&2; }

busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  log "needs a static busybox: apt-get install busybox-static"
  exit 1
fi
node=$(readlink -f "$(command -v node)")
for f in "$repo/hal/dist/src/index.js" "$repo/tests/dist/qemu/guest"; do
  [ -e "$f" ] || { log "missing $f: run npm run build"; exit 1; }
done

stage=$(mktemp -d "$(dirname "$out")/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,etc,lib/modules,ef/tests}

cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$stage/bin/$applet"
done
cp "$node" "$stage/bin/node"

# Shared libraries of node and of the native addons, at their host paths (elf-libs.sh).
# shellcheck source=elf-libs.sh
. "$here/elf-libs.sh"
copy_libs "$node" || exit 1

cp "$kdir"/modules/*.ko "$stage/lib/modules/"
cp "$kdir/config" "$stage/etc/kernel-config"
cp "$here/guest/init" "$stage/init"
chmod 755 "$stage/init"

# @edgeflow/hal as built, plus the runtime dependency closure from the hoisted node_modules.
mkdir -p "$stage/ef/hal/native/build/Release" "$stage/ef/node_modules/@edgeflow"
cp "$repo/hal/package.json" "$stage/ef/hal/"
cp -r "$repo/hal/dist" "$stage/ef/hal/dist"
addon="$repo/hal/native/build/Release/edgeflow_gpio_cdev.node"
[ -f "$addon" ] && cp "$addon" "$stage/ef/hal/native/build/Release/"
ln -s ../../hal "$stage/ef/node_modules/@edgeflow/hal"
deps=$(
  cd "$repo" && node -e '
    const { readFileSync, existsSync } = require("node:fs");
    const seen = new Set();
    const visit = (name) => {
      if (seen.has(name) || !existsSync(`node_modules/${name}/package.json`)) return;
      seen.add(name);
      const p = JSON.parse(readFileSync(`node_modules/${name}/package.json`, "utf8"));
      for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) visit(d);
    };
    const hal = JSON.parse(readFileSync("hal/package.json", "utf8"));
    for (const d of Object.keys({ ...hal.dependencies, ...hal.optionalDependencies })) visit(d);
    console.log([...seen].join("\n"));
  '
)
for d in $deps; do
  mkdir -p "$stage/ef/node_modules/$(dirname "$d")"
  # -L: workspace packages (@edgeflow/core) are symlinks into the repo, dangling in the guest.
  cp -rL "$repo/node_modules/$d" "$stage/ef/node_modules/$d"
done
while read -r addon_file; do copy_libs "$addon_file" || exit 1; done < <(find "$stage/ef" -name '*.node')

mkdir -p "$stage/ef/tests/dist/qemu"
cp "$repo/tests/package.json" "$stage/ef/tests/"
cp -r "$repo/tests/dist/qemu/guest" "$stage/ef/tests/dist/qemu/guest"

(cd "$stage" && find . -mindepth 1 | cpio -o -H newc --quiet) >"$out.new"
mv "$out.new" "$out"
log "wrote $out ($(du -h "$out" | cut -f1)); packages: $(echo "$deps" | tr '\n' ' ')"
