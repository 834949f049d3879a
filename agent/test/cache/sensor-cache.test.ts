import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SensorCache } from '../../src/cache/sensor-cache.js';
import { SnapshotStore } from '../../src/cache/snapshot.js';

const input = (value: number, ts: number) =>
  ({ value, unit: 'Cel', ts, source: 'test', quality: 'good' }) as const;

test('seq counts every reading applied for a key', () => {
  const c = new SensorCache({ shards: 8, now: () => 5 });
  assert.equal(c.store('d/t', input(1, 100)).seq, 1);
  assert.equal(c.store('d/t', input(2, 200)).seq, 2);
  assert.equal(c.store('d/h', input(3, 200)).seq, 1);
  assert.equal(c.size, 2);
  assert.deepEqual(c.get('d/t'), { key: 'd/t', ...input(2, 200), seq: 2, receivedAt: 5 });
});

test('an older reading is counted but does not replace a newer value', () => {
  const c = new SensorCache({ shards: 8 });
  c.store('d/t', input(2, 200));
  const r = c.store('d/t', input(1, 100));
  assert.equal(r.seq, 2);
  assert.equal(r.value, 2);
  assert.equal(r.ts, 200);
});

test('list filters by key prefix and sorts by key', () => {
  const c = new SensorCache({ shards: 4 });
  for (const k of ['b/x', 'a/y', 'a/x', 'c/z']) c.store(k, input(1, 1));
  assert.deepEqual(
    c.list('a/').map((r) => r.key),
    ['a/x', 'a/y'],
  );
  assert.deepEqual(
    c.list().map((r) => r.key),
    ['a/x', 'a/y', 'b/x', 'c/z'],
  );
});

test('page: key order from `after`, at most `limit`, the total and whether more follow', () => {
  const c = new SensorCache({ shards: 16, capacity: 20_000 });
  const reading = { value: 1, unit: null, ts: 1, source: 't', quality: 'good' as const };
  for (let i = 0; i < 10_000; i++) c.store(`p${i % 7}/s${i}`, reading);
  c.store('#selftest/x', reading);
  const all = c.list().map((r) => r.key);
  assert.equal(all.length, 10_000, 'internal keys are left out');
  // Paging through all of it with an odd size gives exactly the list, in order, in bounded pages.
  const paged: string[] = [];
  let after: string | undefined;
  for (;;) {
    const p = c.page('', after, 333);
    assert.ok(p.readings.length <= 333);
    assert.equal(p.total, 10_000);
    paged.push(...p.readings.map((r) => r.key));
    if (!p.more) break;
    after = p.readings.at(-1)?.key;
  }
  assert.deepEqual(paged, all);
  const p3 = c.page('p3/', undefined, 5);
  assert.deepEqual(
    p3.readings.map((r) => r.key),
    c
      .list('p3/')
      .slice(0, 5)
      .map((r) => r.key),
  );
  assert.equal(p3.total, c.list('p3/').length);
  assert.equal(p3.more, true);
  const tail = c.page('p3/', c.list('p3/').at(-2)?.key, 5);
  assert.deepEqual(
    tail.readings.map((r) => r.key),
    [c.list('p3/').at(-1)?.key],
  );
  assert.equal(tail.more, false);
  assert.deepEqual(c.page('none/', undefined, 5), { readings: [], total: 0, more: false });
  assert.throws(() => c.page('', undefined, 0), RangeError);
});

test('snapshots round-trip and keep seq', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-snap-'));
  const c = new SensorCache({ shards: 4 });
  c.store('d/t', input(1, 1));
  c.store('d/t', input(2, 2));
  const store = new SnapshotStore(dir);
  assert.equal(await store.save(c.values(), 10), 1);
  const res = await store.load(11);
  assert.equal(res.kind, 'loaded');
  const c2 = new SensorCache({ shards: 16 });
  if (res.kind === 'loaded') c2.restore(res.readings);
  assert.equal(c2.get('d/t')?.seq, 2);
  assert.equal(c2.store('d/t', input(3, 3)).seq, 3);
});

test('a corrupt snapshot is moved aside, not deleted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-snap-'));
  const store = new SnapshotStore(dir);
  await mkdir(join(dir, 'cache'));
  await writeFile(
    store.path,
    '{"format":"edgeflow-cache-snapshot","version":1,"readings":[{"key":1}]}',
  );
  const res = await store.load(42);
  assert.equal(res.kind, 'corrupt');
  if (res.kind === 'corrupt') {
    assert.match(res.reason, /readings\[0\] is malformed/);
    assert.match(await readFile(res.movedTo, 'utf8'), /"key":1/);
  }
  assert.deepEqual((await readdir(join(dir, 'cache'))).sort(), ['snapshot.json.42.corrupt']);
  assert.equal((await store.load(43)).kind, 'absent');
});
