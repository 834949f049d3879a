#!/usr/bin/env node
// Builds the optional tpm2-tss addon. The addon is optional by design: on a machine without
// libtss2-dev, `npm ci` must still succeed, so a missing library prints ONE line and exits 0;
// load-binding.ts then reports "unavailable: install libtss2-dev" at run time.
// `--force` (npm run build:native) or EDGEFLOW_TPM_REQUIRE_NATIVE=1 turns any failure into exit 1
// (CI uses that to make sure the addon really builds where the library is installed).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--force') || process.env.EDGEFLOW_TPM_REQUIRE_NATIVE === '1';
const modules = ['tss2-esys', 'tss2-tctildr', 'tss2-mu', 'tss2-rc'];

function done(message, ok) {
  const line = `node-tpm2: ${message}`;
  if (ok) console.log(line);
  else console.warn(line);
  process.exit(!ok && strict ? 1 : 0);
}

const probe = spawnSync('pkg-config', ['--exists', ...modules], { stdio: 'ignore' });
if (probe.error || probe.status !== 0) {
  done(
    'native addon not built: pkg-config cannot find tss2-esys (apt-get install libtss2-dev pkg-config, then npm rebuild node-tpm2); TPM features will report unavailable',
    false,
  );
}

// Every `npm install` in the workspace reruns this script; an addon newer than its sources
// is kept (N-API is ABI-stable across Node versions), so installs do not rebuild it each time.
const built = join(pkgDir, 'build', 'Release', 'node_tpm2.node');
if (!process.argv.includes('--force') && existsSync(built)) {
  const sources = [
    join(pkgDir, 'binding.gyp'),
    ...readdirSync(join(pkgDir, 'native')).map((f) => join(pkgDir, 'native', f)),
  ];
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (statSync(built).mtimeMs >= newest)
    done('native addon up to date (build/Release/node_tpm2.node)', true);
}

// npm exports the path of its bundled node-gyp to scripts; prefer it (npx would download one).
const candidates = [
  process.env.npm_config_node_gyp,
  join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  ),
].filter((p) => typeof p === 'string' && existsSync(p));
const gyp = candidates[0];
const cmd = gyp ? process.execPath : 'node-gyp';
const args = gyp ? [gyp, 'rebuild'] : ['rebuild'];
// Use the headers of the running Node when they are installed (Debian/NodeSource ship them),
// so no header tarball is downloaded; npm passes its own nodedir setting through the env.
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const res = spawnSync(cmd, args, { cwd: pkgDir, stdio: 'inherit' });
if (res.error || res.status !== 0) {
  done(
    `native addon build failed (${res.error?.message ?? `exit ${res.status}`}); TPM features will report unavailable`,
    false,
  );
}
done('native addon built (build/Release/node_tpm2.node)', true);
