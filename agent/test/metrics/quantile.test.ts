import assert from 'node:assert/strict';
import { test } from 'node:test';
import { histogramQuantile, sampleQuantile } from '../../src/metrics/quantile.js';

const bounds = [0.001, 0.01, 0.1, Infinity];

test('histogramQuantile interpolates inside the bucket, as PromQL histogram_quantile', () => {
  // 100 observations: 50 <= 1 ms, 40 in (1, 10] ms, 10 in (10, 100] ms
  const cum = [50, 90, 100, 100];
  assert.equal(histogramQuantile(0.5, bounds, cum), 0.001);
  assert.ok(Math.abs((histogramQuantile(0.7, bounds, cum) ?? 0) - 0.0055) < 1e-12);
  assert.ok(Math.abs((histogramQuantile(0.99, bounds, cum) ?? 0) - 0.091) < 1e-12);
});

test('no observation is null; a quantile in +Inf reports the highest finite bound', () => {
  assert.equal(histogramQuantile(0.99, bounds, [0, 0, 0, 0]), null);
  assert.equal(histogramQuantile(0.99, bounds, [0, 0, 1, 100]), 0.1);
});

test('sampleQuantile is the nearest-rank quantile', () => {
  assert.equal(sampleQuantile(0.99, []), null);
  const v = Array.from({ length: 200 }, (_, i) => 200 - i);
  assert.equal(sampleQuantile(0.99, v), 198);
  assert.equal(sampleQuantile(0.5, [3, 1, 2]), 2);
});
