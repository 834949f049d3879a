import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeStats, defaultShardCount, suggestShards } from '../src/index.js';

test('computeStats gives mean, max, min and CV', () => {
  const s = computeStats([10, 10, 10, 10]);
  assert.deepEqual([s.size, s.mean, s.max, s.min, s.cv], [40, 10, 10, 10, 0]);
  const t = computeStats([0, 20]);
  assert.equal(t.cv, 1);
  assert.equal(computeStats([0, 0]).cv, 0);
});

test('computeStats divides by the expected shares', () => {
  assert.equal(computeStats([10, 20], [1 / 3, 2 / 3]).cv, 0);
});

test("suggestShards applies the seed's rule within 8..1024", () => {
  const at = (shards: number, cv: number): number =>
    suggestShards({ ...computeStats(new Array<number>(shards).fill(1)), cv });
  assert.equal(at(64, 0.5), 128);
  assert.equal(at(64, 0.05), 32);
  assert.equal(at(64, 0.2), 64);
  assert.equal(at(1024, 0.9), 1024);
  assert.equal(at(8, 0.01), 8);
  assert.equal(at(16, 0.01), 8);
});

test('defaultShardCount is 64 or 16 per CPU, a power of two up to 1024', () => {
  assert.equal(defaultShardCount(1), 64);
  assert.equal(defaultShardCount(2), 64);
  assert.equal(defaultShardCount(8), 128);
  assert.equal(defaultShardCount(12), 256);
  assert.equal(defaultShardCount(512), 1024);
  assert.ok([64, 128, 256, 512, 1024].includes(defaultShardCount()));
});
