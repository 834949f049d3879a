import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OtaError, errorCatalog } from '../src/errors.js';

test('every code is EDGEFLOW_OTA_* with a message that says what to do', () => {
  for (const [code, text] of Object.entries(errorCatalog)) {
    assert.match(code, /^EDGEFLOW_OTA_[A-Z_]+$/);
    assert.ok(text.length > 20, code);
  }
});

test('OtaError is branded: instanceof works on a structural copy', () => {
  const e = new OtaError('EDGEFLOW_OTA_BAD_SIGNATURE', 'x', { cause: new Error('y') });
  assert.ok(e instanceof OtaError);
  assert.ok(e instanceof Error);
  const copy: unknown = Object.assign(Object.create(null) as object, {
    [Symbol.for('edgeflow.ota.OtaError')]: true,
  });
  assert.ok(copy instanceof OtaError);
  assert.ok(!(new Error('z') instanceof OtaError));
  assert.equal((e.cause as Error).message, 'y');
});
