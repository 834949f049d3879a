#!/usr/bin/env bash
# The README's test command (`npm run test:ci`): from a fresh clone on Debian 12 as root,
# install the system packages, install and build the workspaces, lint, then run every tier.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
bash scripts/install-deps.sh
# The packaging tier (issue 12), by EDGEFLOW_PACKAGE_TESTS (docs/install.md "Testing the packages"):
#   full (default) all of it: 1, and the arm64 .deb linted and its scenario under systemd on
#     emulated arm64 (issue 12's system tier: 2-4 min more than 1).
#   1     the bounded tier: the amd64 .deb built once and linted, installed and booted under
#     systemd (tests/system/package-amd64.sys.test.ts); the arm64 release cross-built and
#     smoke-tested on arm64 Node 24 under qemu-user; the unit tests on arm64 Node 24.
#   0     none of it.
packaging=${EDGEFLOW_PACKAGE_TESTS:-full}
case "$packaging" in 0 | 1 | full) ;; *)
  echo "test:ci: EDGEFLOW_PACKAGE_TESTS must be 0, 1 or full, not '$packaging'" >&2
  exit 2
  ;;
esac
export EDGEFLOW_PACKAGE_TESTS=$packaging
if [ "$packaging" != 0 ]; then
  # The Debian 12 root filesystems (cached by content; on a fresh machine mostly downloads and,
  # for arm64, emulated dpkg) are made while the rest runs.
  bash scripts/binfmt-arm64.sh
  mkdir -p build
  rootfs_arches=amd64
  [ "$packaging" = full ] && rootfs_arches="amd64 arm64"
  (for a in $rootfs_arches; do bash scripts/rootfs.sh "$a"; done) >build/rootfs.log 2>&1 &
  rootfs_pid=$!
fi
# Every tier and every native addon runs on Node 24, the runtime the packages ship, whatever the
# machine's /usr/bin/node is (Debian 12's is 20): the official build from npm, cached by version,
# first on PATH, and its headers for node-gyp (the machine's npmrc may preset nodedir=/usr).
node24=$(bash scripts/node-runtime.sh 24)
export PATH="$node24/bin:$PATH"
export npm_config_nodedir="$node24"
echo "test:ci: node $(node --version) from $node24, npm $(npm --version)"
# A TPM binding that fails to build must fail CI, not skip the TPM tests.
EDGEFLOW_TPM_REQUIRE_NATIVE=1 npm ci --no-audit --no-fund
# This is a fresh clone: the bins npm linked (tracked launchers, see agent/bin) must run.
npx --no-install edgeflow --help >/dev/null
npx --no-install edgeready --help >/dev/null
npm run lint
if [ "$packaging" != 0 ]; then
  # The packages the package system tests install (lintian must pass on those built here; the
  # tests build what else they need, gzip -1, from the same release trees).
  t0=$(date +%s)
  npm run package -- --arch amd64 --version 1.0.0
  if [ "$packaging" = full ]; then
    npm run package -- --arch arm64 --version 1.0.0
  else
    # Cross-built, then every workspace imported and the launchers run on arm64 Node 24.
    bash packaging/build-release.sh --arch arm64
  fi
  echo "test:ci: packages built in $(($(date +%s) - t0)) s"
  t0=$(date +%s)
  wait "$rootfs_pid" || { cat build/rootfs.log; exit 1; }
  echo "test:ci: root filesystems ready after $(($(date +%s) - t0)) s more"
fi
node scripts/run-tests.mjs unit integration system
bash scripts/test-node22.sh
if [ "$packaging" != 0 ]; then
  t0=$(date +%s)
  bash scripts/test-arm64.sh
  echo "test:ci: arm64 unit tests in $(($(date +%s) - t0)) s"
fi
echo "test:ci finished in $(($(date +%s) - start)) s"
