#!/usr/bin/env bash
# Prints a digest of the committed files a release tree is built from (everything but tests and
# docs): two trees with the same digest have the same content, whatever commit they came from.
# The package system tests use it to reuse packages `npm run package` built (build.json "source").
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -s -- . ':!tests' ':!*/test/*' ':!docs' ':!*.md' | sha256sum | cut -c1-16
