import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyHistogram, quantile } from '../../src/load/histogram.js';
import { fieldPoints, linearTrend, summarize, type Sample } from '../../src/sample/series.js';

test('least-squares slope per hour, warm-up excluded', () => {
  // RSS jumps during warm-up, then grows 10 MiB/h.
  const s: Sample[] = [];
  for (let i = 0; i <= 100; i++) {
    const hours = i / 100;
    s.push({ t: i, a: hours * 3_600_000, seg: 0, rss: i < 5 ? 1e6 : 100e6 + 10 * 1048576 * hours });
  }
  const fit = linearTrend(fieldPoints(s, 'rss'));
  assert.ok(fit);
  assert.ok(Math.abs(fit.slope - 10 * 1048576) < 1, String(fit.slope));
  const sum = summarize(s, 'rss');
  assert.equal(sum?.n, 101);
  assert.equal(summarize(s, 'tempC'), undefined);
  assert.equal(linearTrend([{ x: 0, y: 1 }]), undefined);
});

test('histogram quantiles are bucket upper bounds, capped by the max', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 1000; i++) h.record(i / 10);
  const p99 = h.quantile(0.99) ?? 0;
  assert.ok(p99 >= 99 && p99 <= 100 * 1.2, String(p99));
  assert.equal(h.quantile(1), 100);
  const copy = new LatencyHistogram(h.toJSON().counts, h.toJSON().max);
  assert.equal(copy.total, 1000);
  assert.equal(copy.quantile(0.5), h.quantile(0.5));
  assert.equal(new LatencyHistogram().quantile(0.5), undefined);
  assert.equal(quantile([5, 1, 3], 0.5), 3);
});
