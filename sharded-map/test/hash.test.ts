import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fnv1a32, hashKey, hashNumber, mix32 } from '../src/index.js';

test('fnv1a32 matches the published FNV-1a 32-bit vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('numbers hash consistently with SameValueZero', () => {
  assert.equal(hashNumber(0), hashNumber(-0));
  assert.equal(hashNumber(NaN), hashNumber(-NaN));
  assert.equal(hashNumber(1.5), hashNumber(1.5));
  assert.notEqual(hashNumber(1), hashNumber(2));
  assert.equal(hashKey(7), Math.imul(7, 0x9e3779b1) >>> 0);
  assert.notEqual(mix32(7), 7);
});

test('hashKey is an unsigned 32-bit integer for every key type', () => {
  const o = {};
  const keys: unknown[] = [
    'x',
    1,
    2.5,
    2n ** 70n,
    true,
    false,
    undefined,
    null,
    Symbol('s'),
    o,
    () => 1,
  ];
  for (const k of keys) {
    const h = hashKey(k);
    assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32, String(k));
    assert.equal(hashKey(k), h, 'stable');
  }
  assert.equal(hashKey(o), hashKey(o));
  assert.notEqual(hashKey({}), hashKey({}));
});
