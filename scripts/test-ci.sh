#!/usr/bin/env bash
# The README's test command (`npm run test:ci`): from a fresh clone on Debian 12 as root,
# install the system packages, install and build the workspaces, lint, then run every tier.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
bash scripts/install-deps.sh
# The packaging tier (issue 12): the .deb packages built and linted, installed and booted under
# systemd (amd64, and arm64 under qemu-user), and the unit tests on arm64 Node 24. Opt-in for now
# (EDGEFLOW_PACKAGE_TESTS=1): it adds 20-35 min on this 2-core machine (docs/install.md).
packaging=${EDGEFLOW_PACKAGE_TESTS:-0}
export EDGEFLOW_PACKAGE_TESTS=$packaging
if [ "$packaging" = 1 ]; then
  # The Debian 12 root filesystems (cached by content; on a fresh machine mostly downloads and,
  # for arm64, emulated dpkg) are made while the rest runs.
  bash scripts/binfmt-arm64.sh
  mkdir -p build
  (bash scripts/rootfs.sh amd64 && bash scripts/rootfs.sh arm64) >build/rootfs.log 2>&1 &
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
if [ "$packaging" = 1 ]; then
  # The two Debian packages (lintian must pass); the package system tests below install them.
  t0=$(date +%s)
  npm run package -- --arch amd64 --version 1.0.0
  npm run package -- --arch arm64 --version 1.0.0
  echo "test:ci: packages built in $(($(date +%s) - t0)) s"
  t0=$(date +%s)
  wait "$rootfs_pid" || { cat build/rootfs.log; exit 1; }
  echo "test:ci: root filesystems ready after $(($(date +%s) - t0)) s more"
fi
node scripts/run-tests.mjs unit integration system
bash scripts/test-node22.sh
if [ "$packaging" = 1 ]; then
  t0=$(date +%s)
  bash scripts/test-arm64.sh
  echo "test:ci: arm64 unit tests in $(($(date +%s) - t0)) s"
fi
echo "test:ci finished in $(($(date +%s) - start)) s"
