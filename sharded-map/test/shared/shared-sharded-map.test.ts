import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharedShardedMap, ShardedMapError, type MapErrorCode } from '../../src/index.js';
import { LAYOUT_VERSION } from '../../src/shared/layout.js';

const record = { value: 'f64', ts: 'f64', seq: 'u32', flags: 'u16' } as const;
const rec = (value: number, seq = 0) => ({ value, ts: value * 2, seq, flags: 1 });
const out = () => ({ value: 0, ts: 0, seq: 0, flags: 0 });

function code(c: MapErrorCode) {
  return (e: unknown) => e instanceof ShardedMapError && e.code === c;
}

test('stores, reads into a caller object, deletes', () => {
  const m = new SharedShardedMap({ capacity: 100, shards: 4, record });
  m.set('sensors/dev1/temp', { value: 21.5, ts: 1700000000123.5, seq: 7, flags: 3 });
  const o = out();
  assert.equal(m.get('sensors/dev1/temp', o), true);
  assert.deepEqual(o, { value: 21.5, ts: 1700000000123.5, seq: 7, flags: 3 });
  assert.equal(m.get('absent', o), false);
  assert.equal(m.has('sensors/dev1/temp'), true);
  assert.equal(m.size, 1);
  assert.equal(m.delete('sensors/dev1/temp'), true);
  assert.equal(m.delete('sensors/dev1/temp'), false);
  assert.equal(m.has('sensors/dev1/temp'), false);
  assert.equal(m.size, 0);
});

test('every field type round-trips with its coercion', () => {
  const layout = {
    a: 'f64',
    b: 'f32',
    c: 'i32',
    d: 'u32',
    e: 'i16',
    f: 'u16',
    g: 'i8',
    h: 'u8',
  } as const;
  const m = new SharedShardedMap({ capacity: 10, shards: 1, record: layout });
  m.set('k', { a: NaN, b: 1.1, c: -5, d: 2 ** 32 - 1, e: -300, f: 70000, g: -1, h: 257 });
  const o = { a: 0, b: 0, c: 0, d: 0, e: 0, f: 0, g: 0, h: 0 };
  m.get('k', o);
  assert.deepEqual(o, {
    a: NaN,
    b: Math.fround(1.1),
    c: -5,
    d: 2 ** 32 - 1,
    e: -300,
    f: 70000 & 0xffff,
    g: -1,
    h: 1,
  });
  assert.equal(
    m.compareAndSet('k', { ...o, f: 70000, h: 257 }, { ...o, c: 9 }),
    true,
    'CAS compares after coercion, NaN equals NaN',
  );
});

test('key byte limits count UTF-8 bytes', () => {
  const m = new SharedShardedMap({ capacity: 10, shards: 2, maxKeyBytes: 8, record });
  m.set('éé😀', rec(1)); // 2 + 2 + 4 = 8 bytes
  m.set('', rec(2));
  m.set('\u{d800}x', rec(3)); // lone surrogate → U+FFFD (3 bytes)
  const o = out();
  assert.equal(m.get('éé😀', o), true);
  assert.equal(o.value, 1);
  assert.equal(m.get('', o), true);
  assert.equal(o.value, 2);
  assert.deepEqual(new Set(m.keys()), new Set(['éé😀', '', '\u{fffd}x']));
  assert.throws(() => m.set('123456789', rec(1)), code('EDGEFLOW_MAP_KEY_TOO_LONG'));
  assert.throws(() => m.get('ééé😀', o), code('EDGEFLOW_MAP_KEY_TOO_LONG'));
});

test('wrong key types and bad records are typed errors', () => {
  const m = new SharedShardedMap({ capacity: 10, shards: 2, record });
  for (const k of [1, null, undefined, {}, Symbol('s')]) {
    assert.throws(() => m.get(k as string, out()), code('EDGEFLOW_MAP_BAD_KEY'));
    assert.throws(() => m.set(k as string, rec(1)), code('EDGEFLOW_MAP_BAD_KEY'));
  }
  assert.throws(() => m.set('k', { value: 1 } as never), code('EDGEFLOW_MAP_BAD_RECORD'));
  assert.throws(
    () => m.set('k', { ...rec(1), seq: '1' } as never),
    code('EDGEFLOW_MAP_BAD_RECORD'),
  );
  assert.throws(() => m.set('k', null as never), code('EDGEFLOW_MAP_BAD_RECORD'));
  assert.throws(
    () => m.update('k', (r) => void ((r as Record<string, unknown>).value = 'x')),
    code('EDGEFLOW_MAP_BAD_RECORD'),
  );
  assert.equal(m.has('k'), false);
});

test('bad options are typed errors naming the option', () => {
  const bad: object[] = [
    { capacity: 10, shards: 3, record },
    { capacity: 10, shards: 2048, record },
    { capacity: 0, record },
    { capacity: 1.5, record },
    { capacity: 10, maxKeyBytes: 0, record },
    { capacity: 10, loadFactor: 1, record },
    { capacity: 10, record: {} },
    { capacity: 10, record: { 'bad name': 'f64' } },
    { capacity: 10, record: { __proto__x: 'f128' } },
    { capacity: 10, record: { constructor: 'u8' } },
    { capacity: 10, maxOwners: 0, record },
  ];
  for (const o of bad) {
    assert.throws(
      () => new SharedShardedMap(o as never),
      code('EDGEFLOW_MAP_BAD_OPTION'),
      JSON.stringify(o),
    );
  }
});

test('a full shard is EDGEFLOW_MAP_FULL and overwrites nothing', () => {
  const m = new SharedShardedMap({ capacity: 4, shards: 1, record });
  const slots = m.slotsPerShard;
  for (let i = 0; i < slots - 1; i++) m.set(`k${i}`, rec(i));
  assert.throws(() => m.set('one-too-many', rec(-1)), code('EDGEFLOW_MAP_FULL'));
  const o = out();
  for (let i = 0; i < slots - 1; i++) {
    assert.equal(m.get(`k${i}`, o), true);
    assert.equal(o.value, i);
  }
  m.set('k0', rec(100)); // updating an existing key still works
  assert.equal(m.delete('k1'), true);
  m.set('now-fits', rec(5));
  assert.equal(m.size, slots - 1);
});

test('attach shares the data and refuses foreign buffers', () => {
  const m = new SharedShardedMap({ capacity: 100, shards: 8, record });
  m.set('x', rec(3));
  const a = SharedShardedMap.attach<typeof record>(m.buffer, {
    record,
    shards: 8,
    maxKeyBytes: 64,
  });
  assert.notEqual(a.ownerId, m.ownerId);
  const o = out();
  assert.equal(a.get('x', o), true);
  assert.equal(o.value, 3);
  assert.throws(
    () => SharedShardedMap.attach(new ArrayBuffer(4096) as never),
    code('EDGEFLOW_MAP_BAD_BUFFER'),
  );
  assert.throws(
    () => SharedShardedMap.attach(new SharedArrayBuffer(16)),
    code('EDGEFLOW_MAP_BAD_BUFFER'),
  );
  assert.throws(
    () => SharedShardedMap.attach(new SharedArrayBuffer(8192)),
    code('EDGEFLOW_MAP_BAD_BUFFER'),
  );
  const truncated = new SharedArrayBuffer(m.buffer.byteLength - 64);
  new Uint8Array(truncated).set(new Uint8Array(m.buffer, 0, truncated.byteLength));
  assert.throws(() => SharedShardedMap.attach(truncated), code('EDGEFLOW_MAP_BAD_BUFFER'));
  const copy = new SharedArrayBuffer(m.buffer.byteLength);
  new Uint8Array(copy).set(new Uint8Array(m.buffer));
  new Int32Array(copy)[1] = 99;
  assert.throws(() => SharedShardedMap.attach(copy), code('EDGEFLOW_MAP_BAD_VERSION'));
  new Int32Array(copy)[1] = LAYOUT_VERSION;
  const bytes = new Uint8Array(copy);
  bytes[130] = (bytes[130] as number) ^ 1; // layout JSON
  assert.throws(() => SharedShardedMap.attach(copy), code('EDGEFLOW_MAP_BAD_BUFFER'));
  assert.throws(
    () => SharedShardedMap.attach(m.buffer, { record: { value: 'f64' } }),
    code('EDGEFLOW_MAP_LAYOUT_MISMATCH'),
  );
  assert.throws(
    () => SharedShardedMap.attach(m.buffer, { shards: 4 }),
    code('EDGEFLOW_MAP_LAYOUT_MISMATCH'),
  );
  a.close();
  assert.throws(() => a.get('x', o), code('EDGEFLOW_MAP_CLOSED'));
});

test('owner slots run out and are freed by close', () => {
  const m = new SharedShardedMap({ capacity: 10, shards: 1, maxOwners: 2, record });
  const a = SharedShardedMap.attach(m.buffer);
  assert.throws(() => SharedShardedMap.attach(m.buffer), code('EDGEFLOW_MAP_TOO_MANY_OWNERS'));
  a.close();
  SharedShardedMap.attach(m.buffer).close();
});

test('update and compareAndSet', () => {
  const m = new SharedShardedMap({ capacity: 10, shards: 2, record });
  assert.equal(
    m.update('c', (r, present) => {
      assert.equal(present, false);
      assert.equal(r.value, 0);
      r.value = 1;
    }),
    false,
  );
  assert.equal(
    m.update('c', (r) => {
      r.value += 1;
    }),
    true,
  );
  assert.equal(
    m.update('c', () => false),
    true,
    'returning false writes nothing',
  );
  const o = out();
  m.get('c', o);
  assert.equal(o.value, 2);
  assert.equal(m.compareAndSet('c', { ...o, value: 1 }, rec(9)), false);
  assert.equal(m.compareAndSet('c', o, rec(9)), true);
  assert.equal(m.compareAndSet('new', undefined, rec(1)), true);
  assert.equal(m.compareAndSet('new', undefined, rec(2)), false);
  assert.equal(m.compareAndSet('gone', rec(1), rec(2)), false);
  assert.throws(() => m.update('c', () => void m.set('c', rec(0))), code('EDGEFLOW_MAP_REENTRANT'));
  assert.equal(
    m.update('c', () => false),
    true,
    'lock released after the reentrant error',
  );
});

test('clear, entries, stats, forEachSlice, counters', async () => {
  const m = new SharedShardedMap({ capacity: 1000, shards: 8, record });
  for (let i = 0; i < 500; i++) m.set(`k${i}`, rec(i));
  const s = m.stats();
  assert.equal(s.size, 500);
  assert.equal(s.shards, 8);
  assert.ok(s.cv < 0.35);
  const seen = new Map<string, number>();
  await m.forEachSlice((r, k) => seen.set(k, r.value));
  assert.equal(seen.size, 500);
  assert.equal(seen.get('k42'), 42);
  assert.equal([...m].length, 500);
  m.clear();
  assert.equal(m.size, 0);
  assert.equal(m.has('k1'), false);
  assert.deepEqual(m.counters(), { readRetries: 0, lockedReads: 0, lockWaits: 0, recoveries: 0 });
});

test('tombstones are reused and cleaned up under churn', () => {
  const m = new SharedShardedMap({ capacity: 64, shards: 1, record });
  const o = out();
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 60; i++) m.set(`r${round}k${i}`, rec(i));
    for (let i = 0; i < 60; i++) assert.equal(m.delete(`r${round}k${i}`), true);
  }
  assert.equal(m.size, 0);
  for (let i = 0; i < m.slotsPerShard - 1; i++) m.set(`f${i}`, rec(i));
  for (let i = 0; i < m.slotsPerShard - 1; i++) assert.equal(m.get(`f${i}`, o) && o.value, i);
});
