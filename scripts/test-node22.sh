#!/usr/bin/env bash
# Runs the pure-JavaScript tests (no native addon: those are built for the installed Node's
# ABI) under Node 22 LTS, from the npm package node-linux-<arch>@22 (cached in .cache/).
set -euo pipefail
cd "$(dirname "$0")/.."

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "test-node22: no Node 22 package for $(uname -m)" >&2; exit 1 ;;
esac
dir=.cache/node22
if [ ! -x "$dir/node_modules/node-linux-$arch/bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock "node-linux-$arch@22" >/dev/null
fi
bin="$PWD/$dir/node_modules/node-linux-$arch/bin"
echo "test-node22: $("$bin/node" --version)"
mapfile -t files < <(find sharded-map/dist/test agent/dist/test -name '*.test.js' \
  ! -name '*.int.test.js' ! -name '*.sys.test.js' | sort)
files+=(tests/dist/integration/agent-e2e.int.test.js)
PATH="$bin:$PATH" "$bin/node" --test --test-reporter=spec "${files[@]}"
