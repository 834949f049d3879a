import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../../scripts/gen-error-docs.mjs', import.meta.url));

test('docs/errors.md lists exactly the codes of every package errorCatalog', () => {
  const res = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
});
