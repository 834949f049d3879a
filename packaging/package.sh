#!/usr/bin/env bash
# `npm run package -- --arch amd64|arm64 [--version X.Y.Z] [--out DIR] [--no-lintian] [--tarball]`:
# the release tree (bundled Node 24, production dependencies, native addons built for the arch),
# then edgeflow_<version>_<arch>.deb, then lintian; --tarball also writes the same files as
# edgeflow_<version>_<arch>.tar.xz for systems without dpkg (docs/install.md). Prints the .deb path last.
set -euo pipefail
cd "$(dirname "$0")/.."
. packaging/lib/common.sh

arch= version= out= lint=1 tarball=
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=${2:-} && shift 2 ;;
    --arch=*) arch=${1#--arch=} && shift ;;
    --version) version=${2:-} && shift 2 ;;
    --version=*) version=${1#--version=} && shift ;;
    --out) out=${2:-} && shift 2 ;;
    --no-lintian) lint= && shift ;;
    --tarball) tarball=1 && shift ;;
    *) die "unknown option '$1' (usage: npm run package -- --arch amd64|arm64 [--version X.Y.Z] [--out DIR] [--no-lintian] [--tarball])" ;;
  esac
done
[ -n "$arch" ] || die "--arch amd64|arm64 is required"
set_arch "$arch"
out=${out:-build/package/$DEB_ARCH}
start=$(date +%s)
bash packaging/build-release.sh --arch "$DEB_ARCH" --out "$out"
deb=$(bash packaging/build-deb.sh --arch "$DEB_ARCH" --out "$out" ${version:+--version "$version"} | tail -1)
if [ -n "$lint" ]; then
  # Errors fail the build; each accepted warning is overridden with its reason
  # (packaging/debian/edgeflow.lintian-overrides).
  lintian --fail-on error "$deb"
fi
if [ -n "$tarball" ]; then
  dpkg-deb --fsys-tarfile "$deb" | xz -T0 -6 >"${deb%.deb}.tar.xz"
  echo "package: ${deb%.deb}.tar.xz"
fi
echo "package: $(du -k "$deb" | cut -f1) KiB, installed $(dpkg-deb -f "$deb" Installed-Size) KiB, built in $(($(date +%s) - start)) s"
echo "$deb"
