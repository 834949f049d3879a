import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { catalog } from '../../src/catalog/catalog.js';
import { spliceCatalog, renderList } from '../../src/catalog/render.js';
import { implementations } from '../../src/checks/registry.js';

test('IDs are unique, prefixed by their category, and each has an implementation', () => {
  const ids = catalog.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const c of catalog) {
    assert.match(c.id, new RegExp(`^ER-${c.category}-[A-Z0-9-]+$`));
    assert.ok(implementations[c.id], `${c.id} has no implementation`);
    assert.ok(c.phases.length > 0);
  }
  assert.deepEqual(Object.keys(implementations).sort(), [...ids].sort());
});

test('the catalog covers every category the issue names', () => {
  const cats = new Set(catalog.map((c) => c.category));
  for (const c of ['HW', 'DT', 'TPM', 'MQTT', 'MAP', 'OTA', 'SYS', 'RES'])
    assert.ok(cats.has(c as never), c);
});

test('docs/edgeready.md is generated from the catalog (run scripts/gen-docs.mjs)', () => {
  const doc = readFileSync(new URL('../../../../docs/edgeready.md', import.meta.url), 'utf8');
  assert.equal(doc, spliceCatalog(doc));
  for (const c of catalog) assert.ok(doc.includes(`\`${c.id}\``), c.id);
});

test('list prints one line per check, --long adds the criteria', () => {
  assert.equal(renderList(false).trim().split('\n').length, catalog.length);
  assert.match(renderList(true), /pass: {8}/);
});
