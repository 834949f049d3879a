import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { SharedShardedMap, ShardedMapError } from '../../src/index.js';

const record = { x: 'f64', label: 'str', tail: 'str' } as const;
type Rec = { x: number; label: string; tail: string };
const script = new URL('./fixtures/string-worker.js', import.meta.url);

function recordOf(i: number): Rec {
  return { x: i, label: `n${i}`.repeat(1 + (i % 3)), tail: 'é'.repeat(i % 5) + String(i) };
}

function isWhole(r: Rec): boolean {
  const want = recordOf(r.x);
  return r.label === want.label && r.tail === want.tail;
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ShardedMapError ? err.code : String(err);
  }
  return undefined;
}

test('str fields round-trip through set/get/update/compareAndSet/entries, UTF-8 included', () => {
  const map = new SharedShardedMap({ capacity: 100, shards: 4, record, stringBytes: 24 });
  const out: Rec = { x: 0, label: '', tail: '' };
  map.set('a', { x: 1, label: 'Cel', tail: 'mqtt:dev-1' });
  assert.equal(map.get('a', out), true);
  assert.deepEqual(out, { x: 1, label: 'Cel', tail: 'mqtt:dev-1' });
  map.set('b', { x: 2, label: '°C ✓', tail: '' });
  assert.equal(map.get('b', out), true);
  assert.deepEqual(out, { x: 2, label: '°C ✓', tail: '' });
  // Exactly the area: 24 bytes in all.
  map.set('c', { x: 3, label: 'x'.repeat(20), tail: 'é😀'.slice(0, 1) + 'y' });
  assert.equal(map.get('c', out), true);
  assert.equal(out.label.length + Buffer.byteLength(out.tail), 23);
  map.update('a', (r) => {
    r.x += 1;
    r.label = `${r.label}!`;
  });
  assert.equal(map.get('a', out), true);
  assert.deepEqual(out, { x: 2, label: 'Cel!', tail: 'mqtt:dev-1' });
  assert.equal(
    map.compareAndSet('a', { x: 2, label: 'Cel', tail: 'mqtt:dev-1' }, recordOf(5)),
    false,
  );
  assert.equal(
    map.compareAndSet('a', { x: 2, label: 'Cel!', tail: 'mqtt:dev-1' }, recordOf(5)),
    true,
  );
  assert.equal(map.get('a', out), true);
  assert.deepEqual(out, recordOf(5));
  const all = new Map([...map.entries()].map(([k, r]) => [k, { ...r }]));
  assert.deepEqual(all.get('b'), { x: 2, label: '°C ✓', tail: '' });
  assert.equal(all.size, 3);
});

test('strings that do not fit are refused with EDGEFLOW_MAP_VALUE_TOO_LONG, nothing written', () => {
  const map = new SharedShardedMap({ capacity: 16, shards: 1, record, stringBytes: 8 });
  map.set('k', { x: 1, label: 'abcd', tail: 'efgh' });
  const v0 = map.shardVersion(0);
  // 9 bytes: one too many; é is 2 bytes in UTF-8.
  assert.equal(
    code(() => map.set('k', { x: 2, label: 'abcd', tail: 'efghi' })),
    'EDGEFLOW_MAP_VALUE_TOO_LONG',
  );
  assert.equal(
    code(() => map.set('k2', { x: 2, label: 'abcdefg', tail: 'é' })),
    'EDGEFLOW_MAP_VALUE_TOO_LONG',
  );
  assert.equal(
    code(() => map.update('k', (r) => void (r.tail = 'too long now'))),
    'EDGEFLOW_MAP_VALUE_TOO_LONG',
  );
  assert.equal(
    code(() => map.compareAndSet('k', undefined, { x: 0, label: '123456789', tail: '' })),
    'EDGEFLOW_MAP_VALUE_TOO_LONG',
  );
  const out: Rec = { x: 0, label: '', tail: '' };
  assert.equal(map.get('k', out), true);
  assert.deepEqual(out, { x: 1, label: 'abcd', tail: 'efgh' });
  assert.equal(map.has('k2'), false);
  assert.equal(map.shardVersion(0), v0, 'a refused write never opened the seqlock');
  // The lock was released after the refused update: the next write goes through.
  map.set('k', { x: 9, label: '', tail: '' });
  assert.equal(map.get('k', out), true);
  assert.equal(out.x, 9);
});

test('bad string options and records are refused', () => {
  assert.equal(
    code(() => new SharedShardedMap({ capacity: 4, record: { a: 'f64' }, stringBytes: 8 })),
    'EDGEFLOW_MAP_BAD_OPTION',
  );
  assert.equal(
    code(() => new SharedShardedMap({ capacity: 4, record, stringBytes: 70_000 })),
    'EDGEFLOW_MAP_BAD_OPTION',
  );
  const map = new SharedShardedMap({ capacity: 4, shards: 1, record: { s: 'str' } });
  assert.equal(
    code(() => map.set('k', { s: 5 as unknown as string })),
    'EDGEFLOW_MAP_BAD_RECORD',
  );
  map.set('k', { s: 'only strings, default area 64' });
  const out = { s: '' };
  assert.equal(map.get('k', out), true);
  assert.equal(out.s, 'only strings, default area 64');
  assert.equal(
    code(() => SharedShardedMap.attach(map.buffer, { record: { s: 'str' }, stringBytes: 32 })),
    'EDGEFLOW_MAP_LAYOUT_MISMATCH',
  );
  const again = SharedShardedMap.attach<{ s: 'str' }>(map.buffer, { stringBytes: 64 });
  assert.equal(again.get('k', out), true);
  assert.equal(out.s, 'only strings, default area 64');
  again.close();
});

test('scanShard visits every entry without the lock; shardVersion moves on every write', () => {
  const map = new SharedShardedMap({ capacity: 1000, shards: 8, record, stringBytes: 32 });
  for (let i = 0; i < 500; i++) map.set(`k${i}`, recordOf(i));
  const seen = new Map<string, Rec>();
  map.scan((k, r) => seen.set(k, r));
  assert.equal(seen.size, 500);
  for (let i = 0; i < 500; i++) assert.deepEqual(seen.get(`k${i}`), recordOf(i));
  const s = map.shardIndexOf('k7');
  const before = map.shardVersion(s);
  assert.equal(before % 2, 0);
  map.set('k7', recordOf(7));
  assert.notEqual(map.shardVersion(s), before);
  const other = (s + 1) % 8;
  const v = map.shardVersion(other);
  map.set('k7', recordOf(8));
  assert.equal(map.shardVersion(other), v, 'a write leaves other shards alone');
});

function start(
  buffer: SharedArrayBuffer,
  control: SharedArrayBuffer,
  task: string,
  id: number,
  n: number,
): Worker {
  return new Worker(script, { workerData: { buffer, control, task, id, n } });
}

test('lock-free readers never see a torn string record while two workers write', async () => {
  const map = new SharedShardedMap({ capacity: 64, shards: 1, record, stringBytes: 48 });
  const control = new SharedArrayBuffer(16);
  const ws = [0, 1].map((id) => start(map.buffer, control, 'writer', id, 20_000));
  const done = Promise.all(ws.map((w) => once(w, 'message')));
  let finished = false;
  void done.then(() => (finished = true));
  const out: Rec = { x: 0, label: '', tail: '' };
  let reads = 0;
  let torn = 0;
  let scanned = 0;
  while (!finished || reads < 2000) {
    for (let k = 0; k < 4; k++) {
      if (map.get(`k${k}`, out)) {
        reads++;
        if (!isWhole(out)) torn++;
      }
    }
    map.scanShard(0, (_k, r) => {
      scanned++;
      if (!isWhole(r)) torn++;
    });
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(ws.map((w) => w.terminate()));
  assert.equal(torn, 0);
  assert.ok(reads >= 2000 && scanned > 0);
});

test('a reader never returns while a writer is inside the record; with unvalidatedReads it does', async () => {
  for (const unvalidated of [false, true]) {
    const map = new SharedShardedMap({ capacity: 16, shards: 1, record, stringBytes: 48 });
    const control = new SharedArrayBuffer(16);
    const ctl = new Int32Array(control);
    // The writer holds its second write open for 300 ms (or until released).
    const w = start(map.buffer, control, 'pausing-writer', 0, 300);
    while (Atomics.load(ctl, 1) !== 1) await new Promise((r) => setTimeout(r, 2));
    const reader = SharedShardedMap.attach<typeof record>(
      map.buffer,
      {},
      { unvalidatedReads: unvalidated },
    );
    const out: Rec = { x: 0, label: '', tail: '' };
    // A validating reader retries, then waits on the shard lock until the write is over.
    const got = reader.get('hot', out);
    const returnedInside = Atomics.load(ctl, 1) === 1;
    Atomics.store(ctl, 2, 1);
    Atomics.notify(ctl, 2);
    await once(w, 'message');
    await w.terminate();
    assert.equal(got, true);
    assert.equal(returnedInside, unvalidated);
    if (!unvalidated) {
      assert.deepEqual(out, recordOf(2));
      assert.ok(reader.counters().readRetries >= 256 && reader.counters().lockedReads === 1);
    }
    reader.close();
  }
});

test('half-way through a record (numbers new, strings old) a reader waits; without the check it returns the mix', async () => {
  for (const unvalidated of [false, true]) {
    const map = new SharedShardedMap({ capacity: 16, shards: 1, record, stringBytes: 48 });
    const control = new SharedArrayBuffer(16);
    const ctl = new Int32Array(control);
    const w = start(map.buffer, control, 'mid-record-writer', 0, 300);
    while (Atomics.load(ctl, 1) !== 1) await new Promise((r) => setTimeout(r, 2));
    const reader = SharedShardedMap.attach<typeof record>(
      map.buffer,
      {},
      { unvalidatedReads: unvalidated },
    );
    const out: Rec = { x: 0, label: '', tail: '' };
    assert.equal(reader.get('hot', out), true);
    Atomics.store(ctl, 2, 1);
    Atomics.notify(ctl, 2);
    await once(w, 'message');
    await w.terminate();
    if (unvalidated)
      assert.deepEqual(out, { ...recordOf(1), x: 2 }, 'x of record 2, strings of record 1');
    else assert.deepEqual(out, recordOf(2));
    reader.close();
  }
});
