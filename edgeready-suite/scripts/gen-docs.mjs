#!/usr/bin/env node
// Regenerates the catalog section of docs/edgeready.md from the compiled catalog
// (run `npx tsc -b edgeready-suite` first). `--check` exits 1 when the file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { spliceCatalog } from '../dist/src/catalog/render.js';

const file = new URL('../../docs/edgeready.md', import.meta.url);
const before = readFileSync(file, 'utf8');
const after = spliceCatalog(before);
if (process.argv.includes('--check')) {
  if (before !== after) {
    console.error('docs/edgeready.md is out of date: node edgeready-suite/scripts/gen-docs.mjs');
    process.exit(1);
  }
  process.exit(0);
}
if (before !== after) writeFileSync(file, after);
console.log(`docs/edgeready.md: catalog ${before === after ? 'unchanged' : 'updated'}`);
