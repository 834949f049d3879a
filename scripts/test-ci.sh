#!/usr/bin/env bash
# The README's test command (`npm run test:ci`): from a fresh clone on Debian 12 as root,
# install the system packages, install and build the workspaces, lint, then run every tier.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
bash scripts/install-deps.sh
# A TPM binding that fails to build must fail CI, not skip the TPM tests.
EDGEFLOW_TPM_REQUIRE_NATIVE=1 npm ci --no-audit --no-fund
npm run lint
node scripts/run-tests.mjs unit integration system
bash scripts/test-node22.sh
echo "test:ci finished in $(( $(date +%s) - start )) s"
