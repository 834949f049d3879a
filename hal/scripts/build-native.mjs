#!/usr/bin/env node
// Builds the optional GPIO character-device addon (hal/native) with node-gyp.
// Never fails the install: if the toolchain or headers are missing, the cdev
// backend reports itself unavailable at run time with the reason, and every
// other part of the HAL keeps working. Prints one line either way.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const here = dirname(new URL(import.meta.url).pathname);
const nativeDir = join(here, '..', 'native');
const strict = process.argv.includes('--strict');

function nodeGypCommand() {
  // npm sets npm_config_node_gyp for lifecycle scripts; otherwise use npm's bundled
  // node-gyp next to the running npm (npx would try to download a newer one).
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) {
    return [process.execPath, process.env.npm_config_node_gyp];
  }
  const candidates = [];
  if (process.env.npm_execpath) {
    candidates.push(
      join(
        dirname(process.env.npm_execpath),
        '..',
        'node_modules',
        'node-gyp',
        'bin',
        'node-gyp.js',
      ),
    );
  }
  candidates.push(
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
  );
  for (const c of candidates) if (existsSync(c)) return [process.execPath, c];
  try {
    return [process.execPath, createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    return undefined;
  }
}

const cmd = nodeGypCommand();
let reason;
if (!cmd) {
  reason = 'node-gyp not found (it ships with npm)';
} else {
  // Build against the headers of the Node that runs us when they are installed next to
  // it (Debian's nodejs, official tarballs): no header download is needed or possible.
  const prefix = join(dirname(process.execPath), '..');
  const args = [cmd[1], 'rebuild'];
  if (
    !process.env.npm_config_nodedir &&
    existsSync(join(prefix, 'include', 'node', 'node_api.h'))
  ) {
    args.push(`--nodedir=${prefix}`);
  }
  const res = spawnSync(cmd[0], args, { cwd: nativeDir, encoding: 'utf8' });
  if (res.status !== 0) {
    const tail = `${res.stdout ?? ''}\n${res.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
    reason = `node-gyp rebuild failed (exit ${res.status}): ${tail}`;
  }
}
mkdirSync(join(nativeDir, 'build'), { recursive: true });
if (reason) {
  // The reason is kept so the run-time "unavailable" message can say why.
  writeFileSync(join(nativeDir, 'build', 'build-error.txt'), `${reason}\n`);
  console.log(
    `@edgeflow/hal: GPIO cdev addon not built; the cdev backend will be unavailable. ${reason.split('\n')[0]}`,
  );
  process.exit(strict ? 1 : 0);
}
console.log('@edgeflow/hal: GPIO cdev addon built (native/build/Release/edgeflow_gpio_cdev.node)');
