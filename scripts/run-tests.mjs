#!/usr/bin/env node
// Runs the compiled tests of the chosen tiers across every workspace.
// Tier is chosen by file name: *.test.js = unit, *.int.test.js = integration,
// *.sys.test.js = system. Files are passed explicitly (an explicit list works on every
// Node version; directory and glob arguments changed meaning between releases).
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const tiers = process.argv.slice(2);
const known = ['unit', 'integration', 'system'];
if (tiers.length === 0 || tiers.some((t) => !known.includes(t))) {
  console.error(`usage: run-tests.mjs ${known.join('|')} [...]`);
  process.exit(2);
}

function tierOf(file) {
  if (file.endsWith('.int.test.js')) return 'integration';
  if (file.endsWith('.sys.test.js')) return 'system';
  if (file.endsWith('.test.js')) return 'unit';
  return undefined;
}

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (tiers.includes(tierOf(p) ?? '')) out.push(p);
  }
  return out;
}

const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const files = [];
for (const ws of workspaces) {
  const dist = join(root, ws, 'dist');
  if (existsSync(dist)) walk(dist, files);
}
files.sort();
if (files.length === 0) {
  console.error(`no compiled tests found for ${tiers.join(', ')}: run "npm run build" first`);
  process.exit(1);
}
console.log(`running ${files.length} test files (${tiers.join(', ')})`);
const extra = process.env.EDGEFLOW_TEST_ARGS ? process.env.EDGEFLOW_TEST_ARGS.split(' ') : [];
const res = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-timeout=600000', ...extra, ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(res.status ?? 1);
