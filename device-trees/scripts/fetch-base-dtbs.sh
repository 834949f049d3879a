#!/usr/bin/env bash
# Fetches the base DTBs the overlays are validated against, into device-trees/.cache/base/
# (git-ignored). Only Debian's apt is used, through a private apt state that leaves the system's
# package lists alone:
#   debian/   DTBs exactly as shipped in Debian's arm64 kernel package (linux-image-<ver>-arm64)
#   rebuilt/  the same kernel version's .dts (linux-source-<ver>) compiled here: with -@ for the
#             rk3588 boards (Debian builds theirs without __symbols__), and the tegra234 Orin
#             devkit, which Debian does not ship as a DTB at all.
# Idempotent: a complete cache (.complete) is reused. Needs: apt-get, dpkg-deb, xz, cpp, dtc.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache="$here/.cache"
out="$cache/base"
[ -f "$out/.complete" ] && { echo "fetch-base-dtbs: cached in $out ($(cat "$out/.complete"))"; exit 0; }

for tool in apt-get dpkg-deb xz cpp dtc; do
  command -v "$tool" >/dev/null || { echo "fetch-base-dtbs: $tool missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done

apt_dir="$cache/apt"
rm -rf "$apt_dir" "$out.tmp"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs" "$out.tmp/debian" "$out.tmp/rebuilt"
# Debian 13 (trixie) carries Linux 6.12 for its whole life; its arm64 main index is ~10 MB.
echo "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "Dir::State::status=/dev/null"
  -o "APT::Architectures=arm64" -o "APT::Architecture=arm64" -o "Debug::NoLocking=1"
)
apt-get -qq "${apt_opts[@]}" update
ver=$(apt-cache "${apt_opts[@]}" show linux-image-arm64 | sed -n 's/^Depends: \(linux-image-[^ ]*-arm64\) (= \([^)]*\)).*/\1 \2/p' | head -n1)
image_pkg=${ver% *}
deb_ver=${ver#* }
major=$(echo "$deb_ver" | cut -d. -f1,2)
[ -n "$image_pkg" ] && [ -n "$deb_ver" ] || { echo "fetch-base-dtbs: cannot resolve linux-image-arm64 in trixie" >&2; exit 1; }
echo "fetch-base-dtbs: $image_pkg $deb_ver and linux-source-$major $deb_ver"
# apt-get download writes into the current directory; as root it warns that _apt cannot reach it.
(cd "$apt_dir/debs" && apt-get -qq "${apt_opts[@]}" download "$image_pkg=$deb_ver" "linux-source-$major=$deb_ver" 2>&1 | grep -v 'unsandboxed' || true)
image_deb=$(ls "$apt_dir"/debs/linux-image-*.deb)
source_deb=$(ls "$apt_dir"/debs/linux-source-*.deb)

dpkg-deb --fsys-tarfile "$image_deb" | tar -x -C "$out.tmp" --wildcards \
  '*/rockchip/rk3588-rock-5b.dtb' '*/rockchip/rk3588s-orangepi-5.dtb' '*/broadcom/bcm2712-rpi-5-b.dtb'
find "$out.tmp/usr" -name '*.dtb' -exec mv {} "$out.tmp/debian/" \;
rm -rf "$out.tmp/usr"

src="$out.tmp/src"
mkdir -p "$src"
dpkg-deb --fsys-tarfile "$source_deb" | tar -xO "./usr/src/linux-source-$major.tar.xz" | xz -dc -T2 |
  tar -x -C "$src" --strip-components=1 --wildcards \
    "linux-source-$major/arch/arm64/boot/dts/rockchip/*" "linux-source-$major/arch/arm64/boot/dts/nvidia/*" \
    "linux-source-$major/include/dt-bindings/*" "linux-source-$major/include/uapi/linux/input-event-codes.h"

build() { # build <vendor-dir> <name> <output> [dtc flags]
  local dir=$1 name=$2 dst=$3
  shift 3
  cpp -nostdinc -undef -x assembler-with-cpp -D__DTS__ -I "$src/include" -I "$src/arch/arm64/boot/dts" \
    -I "$src/arch/arm64/boot/dts/$dir" "$src/arch/arm64/boot/dts/$dir/$name.dts" -o "$out.tmp/$name.pp"
  dtc -q "$@" -I dts -O dtb -o "$dst" "$out.tmp/$name.pp"
  rm -f "$out.tmp/$name.pp"
}
for b in rk3588-rock-5b rk3588s-orangepi-5; do
  build rockchip "$b" "$out.tmp/rebuilt/$b.dtb" -@
  build rockchip "$b" "$out.tmp/rebuilt/$b.nosym.dtb"
done
build nvidia 'tegra234-p3768-0000+p3767-0005' "$out.tmp/rebuilt/tegra234-p3768-0000+p3767-0005.dtb" -@

rm -rf "$src" "$apt_dir"
echo "$image_pkg $deb_ver" >"$out.tmp/.complete"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "fetch-base-dtbs: done: $(ls "$out/debian" "$out/rebuilt" | tr '\n' ' ')"
