#!/usr/bin/env node
// Generates docs/errors.md from every package's `errorCatalog` (src/errors.ts, compiled).
// `--check` exits 1 when the file on disk differs (the sync test and CI use it).
// `--check-raised` exits 1 when a documented code appears in no source outside its catalog:
// a code nothing can raise is a promise the docs make and the code does not keep.
import { readFileSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const workspacesOf = (base) =>
  JSON.parse(readFileSync(join(base, 'package.json'), 'utf8')).workspaces;

/**
 * The compiled catalog of each workspace that has one (`src/errors.ts`): [{ ws, file }]. A
 * catalog that is not built is an error, not a package left out of the docs.
 */
function catalogFiles(base) {
  const out = [];
  for (const ws of workspacesOf(base)) {
    if (!existsSync(join(base, ws, 'src', 'errors.ts'))) continue;
    const file = join(base, ws, 'dist', 'src', 'errors.js');
    if (!existsSync(file))
      throw new Error(
        `${ws}/src/errors.ts is not built (${relative(base, file)} is missing): run npm run build first`,
      );
    out.push({ ws, file });
  }
  return out;
}

export async function render(base = root) {
  const sections = [];
  for (const { ws, file } of catalogFiles(base)) {
    const pkg = JSON.parse(readFileSync(join(base, ws, 'package.json'), 'utf8'));
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

/** Every workspace's compiled catalog: [{ workspace, codes }]. */
export async function catalogs(base = root) {
  const out = [];
  for (const { ws, file } of catalogFiles(base)) {
    const mod = await import(pathToFileURL(file).href);
    out.push({ workspace: ws, codes: Object.keys(mod.errorCatalog ?? {}) });
  }
  return out;
}

/** `.ts` files below each workspace's `src/` (tests and builds do not raise errors). */
export function sourceFiles() {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(p);
    }
  };
  for (const ws of workspacesOf(root))
    if (existsSync(join(root, ws, 'src'))) walk(join(root, ws, 'src'));
  return files;
}

/**
 * What a source says once comments and the catalog literal are gone: a code only counts where
 * code uses it (`new OtaError('EDGEFLOW_OTA_IO', ...)`, a mapping table, a thrown usage error).
 */
export function codeText(source) {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
    .replace(/export const errorCatalog = \{[\s\S]*?\n\} as const;/, '');
}

/**
 * Documented codes that no source outside the catalogs names. `files` maps a path to its text
 * (a test passes its own); by default every workspace's sources.
 */
export async function unraisedCodes(
  files = new Map(sourceFiles().map((f) => [relative(root, f), readFileSync(f, 'utf8')])),
  cats = undefined,
) {
  const all = [...files.values()].map(codeText).join('\n');
  const unraised = [];
  for (const { workspace, codes } of cats ?? (await catalogs())) {
    for (const code of codes) {
      if (!new RegExp(`\\b${code}\\b`).test(all)) unraised.push({ workspace, code });
    }
  }
  return unraised;
}

/** The command line: generate, --check or --check-raised. */
async function main() {
  if (process.argv.includes('--check-raised')) {
    const unraised = await unraisedCodes();
    for (const u of unraised)
      console.error(
        `${u.code} (${u.workspace}/src/errors.ts): documented, but no source raises it`,
      );
    process.exit(unraised.length === 0 ? 0 : 1);
  }
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

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`gen-error-docs: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
