#!/usr/bin/env bash
# Builds edgeflow_<version>_<arch>.deb with Debian's tools (dpkg-buildpackage + debhelper, from
# packaging/debian) out of the release tree and tool that packaging/build-release.sh wrote.
#   packaging/build-deb.sh --arch amd64|arm64 [--version V] [--out DIR] [--fast]
# (default build/package/<arch>; --fast: gzip -1 instead of xz, for packages only tests install)
set -euo pipefail
cd "$(dirname "$0")/.."
. packaging/lib/common.sh

arch= version= out= compress=-Zxz
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=${2:-} && shift 2 ;;
    --version) version=${2:-} && shift 2 ;;
    --out) out=${2:-} && shift 2 ;;
    --fast) compress='-Zgzip -z1' && shift ;;
    *) die "unknown option '$1' (usage: build-deb.sh --arch amd64|arm64 [--version V] [--out DIR] [--fast])" ;;
  esac
done
[ -n "$arch" ] || die "--arch amd64|arm64 is required"
set_arch "$arch"
out=$(realpath -m "${out:-build/package/$DEB_ARCH}")
version=${version:-$(repo_version)}
# Debian and SemVer agree on X.Y.Z; a SemVer pre-release (1.2.0-rc.1) sorts after 1.2.0 in Debian.
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--version must be X.Y.Z, not '$version'"
[ -x "$out/release/bin/edgeflow" ] && [ -x "$out/tool/bin/edgeflow-ota" ] ||
  die "no release tree in $out: run packaging/build-release.sh --arch $DEB_ARCH first"

repo=$PWD
src=$out/src-$version
rm -rf "$src" && mkdir -p "$src"
cp -a packaging/debian "$src/debian"
sed -i "s/@VERSION@/$version/" "$src/debian/edgeflow.postinst"
# dh_installsysusers installs it and creates the group in postinst (systemd-sysusers).
cp systemd/sysusers.d/edgeflow.conf "$src/debian/edgeflow.sysusers"
# The changelog carries the version; its date (the last commit's) becomes SOURCE_DATE_EPOCH,
# so two builds of one commit are identical.
date=$(git log -1 --format=%cD 2>/dev/null || date -R)
cat >"$src/debian/changelog" <<CHANGELOG
edgeflow ($version) stable; urgency=medium

  * Release $version built from commit $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown).

 -- EdgeFlow maintainers <maintainers@edgeflow.example.org>  $date
CHANGELOG

echo "build-deb: edgeflow $version $DEB_ARCH"
(cd "$src" && RELEASE_DIR=$out/release TOOL_DIR=$out/tool REPO_DIR=$repo \
  EDGEFLOW_VERSION=$version EDGEFLOW_DEB_COMPRESS=$compress dpkg-buildpackage -b -a"$DEB_ARCH" -d --no-sign >"$out/build-$version.log" 2>&1) ||
  { tail -40 "$out/build-$version.log" >&2; die "dpkg-buildpackage failed (log: $out/build-$version.log)"; }
rm -rf "$src"
deb=$out/edgeflow_${version}_$DEB_ARCH.deb
[ -f "$deb" ] || die "dpkg-buildpackage did not write $deb"
echo "$deb"
