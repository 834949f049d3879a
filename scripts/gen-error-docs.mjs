#!/usr/bin/env node
// Generates docs/errors.md from every package's `errorCatalog` (src/errors.ts, compiled).
// `--check` exits 1 when the file on disk differs (the sync test and CI use it).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

export async function render() {
  const sections = [];
  for (const ws of workspaces) {
    const file = join(root, ws, 'dist', 'src', 'errors.js');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8'));
    const mod = await import(pathToFileURL(file).href);
    if (!mod.errorCatalog) throw new Error(`${ws}/src/errors.ts does not export errorCatalog`);
    const rows = Object.entries(mod.errorCatalog)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, text]) => `| \`${code}\` | ${String(text).replace(/\|/g, '\\|')} |`);
    sections.push(
      `## ${pkg.name}\n\n| code | meaning and what to do |\n|---|---|\n${rows.join('\n')}\n`,
    );
  }
  return (
    '# Error codes\n\n' +
    'Every error EdgeFlow reports carries one of these stable codes (in logs as `code`, in HTTP\n' +
    'error bodies as `error.code`, on the CLI before the message). This file is generated from\n' +
    "the packages' `src/errors.ts` by `node scripts/gen-error-docs.mjs`; a test keeps them in sync.\n\n" +
    sections.join('\n')
  );
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = join(root, 'docs', 'errors.md');
  const text = await render();
  if (process.argv.includes('--check')) {
    const current = existsSync(out) ? readFileSync(out, 'utf8') : '';
    if (current !== text) {
      console.error('docs/errors.md is out of date: run node scripts/gen-error-docs.mjs');
      process.exit(1);
    }
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${out}`);
  }
}
