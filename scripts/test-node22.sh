#!/usr/bin/env bash
# Runs the pure-JavaScript tests (no native addon: those are built for Node 24's ABI) under
# Node 22 LTS, the official build from the npm package node-linux-<arch>@22 (scripts/node-runtime.sh
# keeps it in ${EDGEFLOW_CACHE:-/var/cache/edgeflow}/node, outside the clone).
set -euo pipefail
cd "$(dirname "$0")/.."

bin="$(bash scripts/node-runtime.sh 22)/bin"
echo "test-node22: $("$bin/node" --version)"
mapfile -t files < <(find sharded-map/dist/test agent/dist/test -name '*.test.js' \
  ! -name '*.int.test.js' ! -name '*.sys.test.js' | sort)
files+=(tests/dist/integration/agent-e2e.int.test.js)
PATH="$bin:$PATH" "$bin/node" --test --test-reporter=spec "${files[@]}"
