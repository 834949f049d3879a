import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createErrorClass } from '@edgeflow/core';
import { OtaError, errorCatalog } from '../src/errors.js';

test('every code is EDGEFLOW_OTA_* with a message that says what to do', () => {
  for (const [code, text] of Object.entries(errorCatalog)) {
    assert.match(code, /^EDGEFLOW_OTA_[A-Z_]+$/);
    assert.ok(text.length > 20, code);
  }
});

test('OtaError is branded: instanceof works on an error from another copy of the package', () => {
  const e = new OtaError('EDGEFLOW_OTA_BAD_SIGNATURE', 'x', { cause: new Error('y') });
  assert.ok(e instanceof OtaError);
  assert.ok(e instanceof Error);
  class CopiedOtaError extends createErrorClass('OtaError', errorCatalog) {}
  assert.ok(new CopiedOtaError('EDGEFLOW_OTA_IO', 'x') instanceof OtaError);
  assert.ok(!(new Error('z') instanceof OtaError));
  assert.equal((e.cause as Error).message, 'y');
});
