#!/usr/bin/env bash
# Builds the release tree for one architecture: the one tree the .deb ships under
# /opt/edgeflow/releases/<version>/ and an OTA bundle carries as its payload (packaging/README.md).
#   packaging/build-release.sh --arch amd64|arm64 [--out DIR]     (default build/package/<arch>)
# Writes DIR/release (the release tree) and DIR/tool (the OTA tool for /opt/edgeflow/tool).
# Cross builds every native addon with Debian's cross toolchain (crossbuild-essential-arm64) and
# the target's libraries from multiarch (libtss2-dev:arm64, libsystemd-dev:arm64), against the
# headers of the bundled Node (node-linux-<arch>@24).
set -euo pipefail
cd "$(dirname "$0")/.."
. packaging/lib/common.sh

arch= out=
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=${2:-} && shift 2 ;;
    --arch=*) arch=${1#--arch=} && shift ;;
    --out) out=${2:-} && shift 2 ;;
    *) die "unknown option '$1' (usage: build-release.sh --arch amd64|arm64 [--out DIR])" ;;
  esac
done
[ -n "$arch" ] || die "--arch amd64|arm64 is required"
set_arch "$arch"
out=${out:-build/package/$DEB_ARCH}
repo=$PWD

runtime=$(bash scripts/node-runtime.sh 24 "$NODE_ARCH")
hostnode=$(bash scripts/node-runtime.sh 24)
export PATH="$hostnode/bin:$PATH"
# npm's own node-gyp (npx would try to download one).
gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
[ -f "$gyp" ] || die "node-gyp not found next to npm ($gyp)"

echo "build-release: $DEB_ARCH, node $("$hostnode/bin/node" --version) (target runtime $runtime)"
npm run build --silent

# The workspaces that run on a device: all but tests/.
mapfile -t WORKSPACES < <(node -p 'require("./package.json").workspaces.filter((w) => w !== "tests").join("\n")')

# stage_tree DIR WS...: package.json + the files npm would publish (package.json "files"), minus
# type declarations and source maps, for every workspace; then production dependencies exactly
# as package-lock.json pins them, without running any install script (native parts come next).
stage_tree() {
  local dir=$1 ws f
  shift
  # The selected workspaces and every workspace they depend on (ota needs core).
  mapfile -t sel < <(node -e '
    const fs = require("fs");
    const root = require("./package.json");
    const byName = new Map(root.workspaces.map((w) => [JSON.parse(fs.readFileSync(w + "/package.json")).name, w]));
    const out = new Set(), todo = process.argv.slice(1);
    while (todo.length) {
      const w = todo.pop();
      if (out.has(w)) continue;
      out.add(w);
      const p = JSON.parse(fs.readFileSync(w + "/package.json"));
      for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies }))
        if (byName.has(d)) todo.push(byName.get(d));
    }
    console.log([...out].join("\n"));' "$@")
  set -- "${sel[@]}"
  rm -rf "$dir" && mkdir -p "$dir"
  cp package.json package-lock.json "$dir/"
  # npm ci checks every workspace of the lock file exists; unused ones get only a manifest.
  for ws in $(node -p 'require("./package.json").workspaces.join(" ")'); do
    mkdir -p "$dir/$ws" && cp "$ws/package.json" "$dir/$ws/"
  done
  for ws in "$@"; do
    npm pack --dry-run --json --ignore-scripts --workspace="$ws" 2>/dev/null |
      node -e 'for (const f of JSON.parse(require("fs").readFileSync(0, "utf8"))[0].files) console.log(f.path)' |
      grep -Ev '\.d\.ts$|\.map$|^bin/.*\.mjs$' | while read -r f; do
        mkdir -p "$dir/$ws/$(dirname "$f")" && cp "$ws/$f" "$dir/$ws/$f"
      done
  done
  local flags=()
  for ws in "$@"; do flags+=("--workspace=$ws"); done
  (cd "$dir" && npm ci --silent --omit=dev --ignore-scripts --no-audit --no-fund "${flags[@]}")
  # Manifests of workspaces not staged are not part of the tree.
  for ws in $(node -p 'require("./package.json").workspaces.join(" ")'); do
    [[ " $* " == *" $ws "* ]] || [[ " $* " == *" $ws/"* ]] || rm -rf "${dir:?}/$ws"
  done
  rm -f "$dir/node_modules/.package-lock.json"
  # The repository's patches of dependencies (patch-package, run by the root postinstall that
  # --ignore-scripts skipped), applied to the packages the tree has.
  if [ -d patches ] && ls "$dir/node_modules" | grep -q .; then
    mkdir -p "$dir/patches"
    for f in patches/*.patch; do
      [ -d "$dir/node_modules/$(basename "$f" | sed 's/+[^+]*$//; s/+/\//')" ] && cp "$f" "$dir/patches/"
    done
    if ls "$dir/patches" | grep -q .; then
      (cd "$dir" && node "$repo/node_modules/patch-package/index.js" --error-on-fail >/dev/null) ||
        die "patch-package failed in $dir"
    fi
    rm -rf "$dir/patches"
  fi
  prune_modules "$dir/node_modules"
}

# prune_modules DIR: drops from the dependencies what Node never loads at run time (tests, docs,
# examples, type declarations, TypeScript sources, dotfiles, build files of other tools) and the
# executable bits (nothing in node_modules is run as a program; bins are not linked).
prune_modules() {
  local nm=$1
  rm -rf "$nm/.bin"
  # Package top level only (node_modules/<pkg>/<dir>, node_modules/@scope/<pkg>/<dir>): deeper,
  # such names can be code (yaml's dist/doc is). Test suites, fixtures and dot directories (CI,
  # git hooks, editor settings) are never loaded; fastify's integration/test.sh failed lintian.
  local dirs
  mapfile -t dirs < <({
    find "$nm" -mindepth 2 -maxdepth 2 -type d -not -path "$nm/@*"
    find "$nm" -mindepth 3 -maxdepth 3 -type d -path "$nm/@*/*/*"
  } | grep -E '/(test|tests|__tests__|integration|integration-test|fixture|fixtures|specs|example|examples|docs|benchmark|benchmarks|\.[^/]+)$' || true)
  # Listed first, removed after: find must not walk what is being deleted.
  [ ${#dirs[@]} -eq 0 ] || rm -rf "${dirs[@]}"
  find "$nm" -type f \( -name '.*' -o -name '*.md' -o -name '*.markdown' -o -name '*.d.ts' \
    -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.ts' -o -name '*.html' \
    -o -name Makefile -o -name '*.sh' -o -name 'tsconfig*.json' -o -name '*.tsbuildinfo' \) -delete
  find "$nm" -type f ! -name '*.node' -perm /111 -exec chmod a-x {} +
}

# build_native DIR: every binding.gyp under DIR is built for the target (or uses a prebuild for
# it), keeping only build/Release/*.node, stripped; any other .node file is an error.
build_native() {
  local dir=$1 gypfile pkg pc
  pc=/usr/lib/$TRIPLET/pkgconfig:/usr/share/pkgconfig
  find "$dir" -name binding.gyp -not -path '*/node-addon-api/*' -not -path '*/nan/*' |
    sort | while read -r gypfile; do
    pkg=$(dirname "$gypfile")
    if [ -d "$pkg/prebuilds/linux-$NODE_ARCH" ]; then
      # node-gyp-build packages (serialport's bindings, classic-level) ship the target's binary;
      # the other platforms' prebuilds are dead weight on a board.
      find "$pkg/prebuilds" -mindepth 1 -maxdepth 1 ! -name "linux-$NODE_ARCH" -exec rm -rf {} +
      # Debian is glibc: musl builds (serialport ships both) would need a libc.so it has not.
      find "$pkg/prebuilds/linux-$NODE_ARCH" -name '*musl*' -exec rm -rf {} +
      echo "build-release: ${pkg#"$dir"/}: prebuild for linux-$NODE_ARCH"
      continue
    fi
    echo "build-release: ${pkg#"$dir"/}: node-gyp --arch=$NODE_ARCH"
    (cd "$pkg" && CC=${CROSS}gcc CXX=${CROSS}g++ AR=${CROSS}ar LINK=${CROSS}g++ \
      PKG_CONFIG_LIBDIR=$pc PKG_CONFIG_PATH= \
      node "$gyp" rebuild --silent --arch="$NODE_ARCH" --nodedir="$runtime" >build.log 2>&1) ||
      { tail -30 "$pkg/build.log" >&2; die "native build failed in $pkg"; }
    rm -f "$pkg/build.log"
    find "$pkg/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
    find "$pkg/build/Release" -mindepth 1 ! -name '*.node' -exec rm -rf {} +
  done
  find "$dir" -name '*.node' -type f | while read -r f; do
    require_elf "$f"
    "${CROSS}strip" --strip-unneeded "$f"
  done
}

# launcher FILE ENTRY: a POSIX sh launcher that runs ENTRY (relative to the tree) on the tree's
# own runtime, wherever the tree is reached from (/usr/bin/edgeflow -> current -> releases/<v>).
# exec keeps the PID: under Type=notify the main PID must be node itself.
launcher() {
  mkdir -p "$(dirname "$1")"
  cat >"$1" <<EOF
#!/bin/sh
# EdgeFlow launcher: runs $2 on the Node.js runtime bundled in this tree.
here=\$(dirname "\$(readlink -f "\$0")")/..
exec "\$here/node/bin/node" "\$here/$2" "\$@"
EOF
  chmod 0755 "$1"
}

# add_runtime DIR: the bundled Node (stripped: the official binary carries debug info) and its license.
add_runtime() {
  mkdir -p "$1/node/bin"
  "${CROSS}strip" --strip-unneeded -o "$1/node/bin/node" "$runtime/bin/node"
  chmod 0755 "$1/node/bin/node"
  cp "$runtime/LICENSE" "$1/node/LICENSE"
  require_elf "$1/node/bin/node"
}

# Staged outside the repository: Node resolves packages up the directory tree, and the smoke test
# below must not find the repository's own node_modules.
stage=$(mktemp -d /tmp/edgeflow-package.XXXXXX)
trap 'rm -rf "$stage"' EXIT INT TERM
release=$stage/release tool=$stage/tool
mkdir -p "$out"
stage_tree "$release" "${WORKSPACES[@]}"
build_native "$release"
# The GPIO cdev addon lives in hal/native (its sources are staged by hal's "files").
[ -f "$release/hal/native/build/Release/edgeflow_gpio_cdev.node" ] || die "GPIO cdev addon not built"
[ -f "$release/hal/node-tpm2/build/Release/node_tpm2.node" ] || die "node-tpm2 addon not built"
add_runtime "$release"
launcher "$release/bin/edgeflow" agent/dist/src/cli.js
launcher "$release/bin/edgeready" edgeready-suite/dist/src/cli.js

# The OTA tool: ota and its dependencies only, with its own runtime (the .deb hardlinks it to the
# release's, so it costs no space), outside every release so no release can break its rollback.
stage_tree "$tool" ota
build_native "$tool"
add_runtime "$tool"
launcher "$tool/bin/edgeflow-ota" ota/dist/src/bin.js

# Smoke test on the target's own runtime (arm64 under qemu-user): every workspace's entry point
# imports (a pruned file a module needs fails here, not on a board) and the launchers run.
[ -z "$CROSS" ] || bash scripts/binfmt-arm64.sh
(cd "$release" && ./node/bin/node --input-type=module -e '
  const { readFileSync } = await import("node:fs");
  for (const ws of process.argv.slice(1)) {
    const p = JSON.parse(readFileSync(`${ws}/package.json`, "utf8"));
    if (p.exports?.["."]) await import(p.name);
  }' "${WORKSPACES[@]}") || die "a workspace of the release tree does not import on its runtime"
"$release/bin/edgeflow" --help >/dev/null || die "bin/edgeflow --help failed"
"$release/bin/edgeready" --help >/dev/null || die "bin/edgeready --help failed"
"$tool/bin/edgeflow-ota" --help >/dev/null || die "tool bin/edgeflow-ota --help failed"

commit=$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
source=$(bash packaging/source-digest.sh)
for t in "$release" "$tool"; do
  rm -f "$t/package-lock.json"
  node -e '
    const [file, arch, node, commit, source] = process.argv.slice(1);
    const b = { name: "edgeflow", arch, node, commit, source };
    require("fs").writeFileSync(file, JSON.stringify(b, null, 2) + "\n");
  ' "$t/build.json" "$DEB_ARCH" "$("$hostnode/bin/node" --version)" "$commit" "$source"
done
rm -rf "$out/release" "$out/tool"
mv "$release" "$out/release"
mv "$tool" "$out/tool"
echo "build-release: $(du -sh "$out/release" | cut -f1) release tree in $out/release, $(du -sh "$out/tool" | cut -f1) tool in $out/tool"
