import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HistoryRing, round } from '../../src/metrics/history.js';

const series = [
  { name: 'a', label: 'A', unit: '/s' },
  { name: 'b', label: 'B', unit: 'ms' },
];

test('samples land on a fixed grid; a missed interval stays a gap', () => {
  const r = new HistoryRing(series, { capacity: 10, intervalMs: 1000 });
  r.push(10_200, [1, 2]);
  r.push(11_900, [3, null]);
  r.push(14_100, [5, 6]);
  const w = r.window();
  assert.equal(w.start, 10_000);
  assert.equal(w.intervalMs, 1000);
  assert.deepEqual(w.values.a, [1, 3, null, null, 5]);
  assert.deepEqual(w.values.b, [2, null, null, null, 6]);
  assert.deepEqual(r.latest(), { t: 14_000, values: { a: 5, b: 6 } });
});

test('the ring holds at most its capacity, oldest dropped; time with no sample shows up to now', () => {
  const r = new HistoryRing(series, { capacity: 4, intervalMs: 1000 });
  for (let s = 0; s < 7; s++) r.push(s * 1000, [s, s * 10]);
  assert.deepEqual(r.window().values.a, [3, 4, 5, 6]);
  assert.equal(r.window().start, 3000);
  const later = r.window(8_500);
  assert.equal(later.start, 5000);
  assert.deepEqual(later.values.a, [5, 6, null, null]);
  // A jump longer than the ring clears every slot in between.
  r.push(100_000, [1, 1]);
  assert.deepEqual(r.window().values.a, [null, null, null, 1]);
});

test('a sample for an older slot (clock stepped back) is dropped; the same slot is overwritten', () => {
  const r = new HistoryRing(series, { capacity: 4, intervalMs: 1000 });
  r.push(5000, [1, 1]);
  r.push(4000, [9, 9]);
  r.push(5500, [2, 2]);
  assert.deepEqual(r.window().values.a, [2]);
});

test('memory is fixed: Float32 storage rounded to four significant digits on the way out', () => {
  const r = new HistoryRing(series, { capacity: 3600, intervalMs: 1000 });
  r.push(0, [123.456789, 0.000123456]);
  assert.deepEqual(r.latest()?.values, { a: 123.5, b: 0.0001235 });
  assert.equal(round(0), 0);
  assert.throws(() => new HistoryRing(series, { capacity: 0, intervalMs: 1000 }), RangeError);
});
