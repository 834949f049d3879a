import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShardedMap } from '../src/index.js';

// Integration tier: ~0.6 GB of heap and several seconds. A single Map throws
// "RangeError: Map maximum size exceeded" at 2^24 entries; 64 shards hold 64x that.
test('ShardedMap holds more than 2^24 entries', () => {
  const n = 2 ** 24 + 1000;
  const m = new ShardedMap<number, number>({ shards: 64 });
  for (let i = 0; i < n; i++) m.set(i, i);
  assert.equal(m.size, n);
  assert.equal(m.get(n - 1), n - 1);
  assert.equal(m.get(2 ** 24), 2 ** 24);
  const single = new Map<number, number>();
  assert.throws(() => {
    for (let i = 0; i < n; i++) single.set(i, i);
  }, RangeError);
});
