import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { SensorCache } from '../../src/cache/sensor-cache.js';

const script = new URL('./fixtures/store-worker.js', import.meta.url);

test('one key written from two threads at once keeps an exact seq (shared cache)', async () => {
  const cache = new SensorCache({ shards: 4, capacity: 64 });
  const n = 20_000;
  const workers = [0, 1].map(
    (id) => new Worker(script, { workerData: { buffer: cache.buffer, key: 'dev/hot', n, id } }),
  );
  // The main thread reads meanwhile: every reading it sees is whole (unit and ts match value).
  let reads = 0;
  const done = Promise.all(workers.map((w) => once(w, 'message')));
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    const r = cache.get('dev/hot');
    if (r !== undefined) {
      reads++;
      assert.equal(r.unit, `u${String(r.value)}`);
      assert.equal(r.ts, 1_700_000_000_000 + (r.value as number));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(workers.map((w) => w.terminate()));
  const r = cache.get('dev/hot');
  assert.equal(r?.seq, 2 * n, 'every store counted once');
  // Both writers' last readings carry the same, newest ts: the later arrival shows.
  assert.equal(r?.value, n);
  assert.ok(reads > 0);
});

test('a reading whose text does not fit is refused before it is stored, never cut short', () => {
  const cache = new SensorCache({ shards: 2, capacity: 16, stringBytes: 64 });
  const input = {
    value: 'x'.repeat(60),
    unit: 'u',
    ts: 1,
    source: 'mqtt:c',
    quality: 'good',
  } as const;
  const refused = cache.fits('d/s', input);
  assert.equal(refused?.reason, 'reading_too_large');
  assert.match(refused?.detail ?? '', /needs 67 bytes.*keeps 64 per sensor \(cache\.stringBytes\)/);
  assert.throws(() => cache.store('d/s', input), { code: 'EDGEFLOW_INGEST_READING_TOO_LARGE' });
  assert.equal(cache.get('d/s'), undefined);
  assert.equal(cache.fits('d/s', { ...input, value: 'x'.repeat(57) }), undefined);
  assert.equal(cache.store('d/s', { ...input, value: 'x'.repeat(57) }).value, 'x'.repeat(57));
});

test('a full cache refuses a new sensor with EDGEFLOW_CACHE_FULL and keeps the others', () => {
  const cache = new SensorCache({ shards: 1, capacity: 16 });
  const input = { value: 1, unit: null, ts: 1, source: 's', quality: 'good' } as const;
  let stored = 0;
  let err: unknown;
  for (let i = 0; i < 100 && err === undefined; i++) {
    try {
      cache.store(`d/s${i}`, input);
      stored++;
    } catch (e) {
      err = e;
    }
  }
  assert.equal((err as { code?: string }).code, 'EDGEFLOW_CACHE_FULL');
  assert.match((err as Error).message, /raise cache\.capacity/);
  assert.equal(cache.size, stored);
  assert.equal(cache.store('d/s0', input).seq, 2, 'known sensors still update');
});

test('every field of a reading round-trips, a unit of "" is not a missing unit', () => {
  const cache = new SensorCache({ shards: 2, capacity: 16 });
  const base = { ts: 5, source: 'hal:bme280', quality: 'stale' } as const;
  cache.store('a/n', { ...base, value: -0.5, unit: 'Cel' }, 9);
  cache.store('a/s', { ...base, value: 'open ✓', unit: '' }, 9);
  cache.store('a/t', { ...base, value: true, unit: null }, 9);
  cache.store('a/f', { ...base, value: false, unit: null }, 9);
  assert.deepEqual(cache.get('a/n'), {
    key: 'a/n',
    value: -0.5,
    unit: 'Cel',
    ...base,
    seq: 1,
    receivedAt: 9,
  });
  assert.deepEqual(cache.get('a/s'), {
    key: 'a/s',
    value: 'open ✓',
    unit: '',
    ...base,
    seq: 1,
    receivedAt: 9,
  });
  assert.equal(cache.get('a/t')?.value, true);
  assert.equal(cache.get('a/t')?.unit, null);
  assert.equal(cache.get('a/f')?.value, false);
  assert.deepEqual(
    cache.list('a/').map((r) => r.key),
    ['a/f', 'a/n', 'a/s', 'a/t'],
  );
});

test('changedSince reads only the shards written to since the last call', () => {
  const cache = new SensorCache({ shards: 8, capacity: 256 });
  const input = { value: 1, unit: null, ts: 1, source: 's', quality: 'good' } as const;
  for (let i = 0; i < 64; i++) cache.store(`d/s${i}`, input);
  const versions: number[] = [];
  const seen: string[] = [];
  cache.changedSince(versions, (r) => seen.push(r.key));
  assert.equal(seen.length, 64);
  seen.length = 0;
  cache.changedSince(versions, (r) => seen.push(r.key));
  assert.equal(seen.length, 0, 'nothing written: nothing read');
  cache.store('d/s3', input);
  cache.changedSince(versions, (r) => seen.push(r.key));
  assert.ok(seen.includes('d/s3'));
  assert.ok(seen.length < 64, `only the written shard (${seen.length} readings)`);
});
