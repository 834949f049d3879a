import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SensorCache } from '../../../src/cache/sensor-cache.js';
import { SPARK_KEYS, SPARK_POINTS, SensorWatch } from '../../../src/http/console/sensor-watch.js';

const put = (c: SensorCache, key: string, value: number | string, ts: number, at: number) =>
  c.store(key, { value, unit: null, ts, source: 's', quality: 'good' }, at);

test('a scan returns every reading first, then only the keys whose seq moved', () => {
  const c = new SensorCache({ shards: 4 });
  put(c, 'a/1', 1, 100, 110);
  put(c, 'b/1', 'x', 100, 130);
  const w = new SensorWatch(c);
  assert.deepEqual(
    w
      .scan()
      .map((r) => r.key)
      .sort(),
    ['a/1', 'b/1'],
  );
  assert.deepEqual(w.scan(), []);
  put(c, 'a/1', 2, 200, 205);
  put(c, 'a/1', 3, 150, 210); // older measurement: counted (seq moves), value kept
  const changed = w.scan();
  assert.deepEqual(
    changed.map((r) => [r.key, r.value, r.seq]),
    [['a/1', 2, 3]],
  );
  // one delay per changed key and scan (receive − measurement time of what the cache shows)
  assert.deepEqual(
    w.drainDelays().sort((x, y) => x - y),
    [10, 10, 30],
  );
  assert.deepEqual(w.drainDelays(), []);
});

test('sparklines keep SPARK_POINTS numeric points per key, for at most SPARK_KEYS keys', () => {
  const c = new SensorCache({ shards: 16 });
  const w = new SensorWatch(c);
  for (let i = 0; i < SPARK_POINTS + 5; i++) {
    put(c, 'a/1', i, i, i);
    w.scan();
  }
  const pts = w.history(['a/1'])['a/1'] ?? [];
  assert.equal(pts.length, SPARK_POINTS);
  assert.deepEqual(pts[0], [5, 5]);
  assert.deepEqual(pts.at(-1), [SPARK_POINTS + 4, SPARK_POINTS + 4]);
  for (let k = 0; k < SPARK_KEYS + 10; k++) put(c, `k/${k}`, k, 1, 2);
  w.scan();
  const kept = Object.keys(w.history(Array.from({ length: SPARK_KEYS + 10 }, (_, k) => `k/${k}`)));
  assert.equal(kept.length, SPARK_KEYS - 1, 'a/1 holds one of the slots');
  assert.deepEqual(
    { n: w.snapshot().sensors.length, total: w.snapshot().total, cut: w.snapshot().truncated },
    { n: SPARK_KEYS + 11, total: SPARK_KEYS + 11, cut: false },
  );
  const small = w.snapshot(100);
  assert.equal(small.sensors.length, 100, 'a snapshot holds at most its limit');
  assert.equal(small.truncated, true);
  assert.equal(small.total, SPARK_KEYS + 11);
  assert.deepEqual(
    small.sensors.map((t) => t[0]),
    c
      .list()
      .slice(0, 100)
      .map((r) => r.key),
    'the first by key',
  );
});

test('the delay sample per interval is bounded however many readings changed', () => {
  const c = new SensorCache({ shards: 16 });
  for (let k = 0; k < 10_000; k++) put(c, `d/${k}`, k, 0, 7);
  const w = new SensorWatch(c);
  w.scan();
  const d = w.drainDelays();
  assert.equal(d.length, 4096);
  assert.ok(d.every((x) => x === 7));
});
