import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { validateConfig } from '../../src/config/load.js';

const doc = readFileSync(new URL('../../../../docs/configuration.md', import.meta.url), 'utf8');

test('docs/configuration.md shows exactly the schema defaults', () => {
  const block = /## Keys and defaults[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'the defaults block is present');
  const documented = parse(block) as unknown;
  assert.deepEqual(validateConfig(documented, 'docs'), validateConfig({}, 'defaults'));
  assert.deepEqual(documented, JSON.parse(JSON.stringify(validateConfig({}, 'defaults'))));
});
