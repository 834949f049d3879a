import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharedShardedMap, ShardedMapError } from '../../src/index.js';
import { S } from '../../src/shared/layout.js';
import { currentLockWord } from '../../src/shared/locks.js';

// White-box: reproduce what a writer that died half-way through an in-place update leaves in
// the buffer (lock held by its owner id, sequence odd, undo copy armed, record half written)
// and check that releaseThread() restores the old record and unblocks readers.
const record = { a: 'f64', b: 'f64' } as const;
const H = 0x00001234; // fixed hash: shard 0 (low bits), slot from the high bits

test('recovery restores a record torn by a writer that died mid-update', () => {
  const map = new SharedShardedMap({ capacity: 16, shards: 1, record }, { hash: () => H });
  map.set('k', { a: 1, b: 2 });
  const dead = SharedShardedMap.attach(map.buffer, {}, { threadId: 4242, hash: () => H });
  const i32 = new Int32Array(map.buffer);
  const f64 = new Float64Array(map.buffer);
  const hdr = (w: number): number => i32[w] as number;
  const sb = hdr(8); // H.shardBase
  const slots = hdr(3);
  const slot = (((H >>> 8) * slots) / 16777216) >>> 0;
  const slotBytes = hdr(5);
  const tagsOffset = Math.ceil((S.undo + 16) / 64) * 64;
  const slotsOffset = Math.ceil((tagsOffset + slots * 4) / 64) * 64;
  const base = sb + slotsOffset + slot * slotBytes;
  assert.equal(f64[base / 8], 1, 'located the slot');
  // The dead writer: lock, odd sequence, undo copy, then half of the new record.
  Atomics.store(i32, (sb + S.lock) / 4, currentLockWord(i32, dead.ownerId));
  const seq = i32[(sb + S.seq) / 4] as number;
  Atomics.store(i32, (sb + S.seq) / 4, seq + 1);
  new Uint8Array(map.buffer).copyWithin(sb + S.undo, base, base + 16);
  Atomics.store(i32, (sb + S.undoSlot) / 4, slot + 1);
  f64[base / 8] = 100; // a written, b not yet
  assert.equal(map.releaseThread(4242), 1);
  const out = { a: 0, b: 0 };
  assert.equal(map.get('k', out), true);
  assert.deepEqual(out, { a: 1, b: 2 });
  assert.equal((i32[(sb + S.seq) / 4] as number) & 1, 0, 'sequence even again');
  assert.equal(i32[(sb + S.lock) / 4], 0, 'lock free');
  map.set('k', { a: 3, b: 4 });
  assert.equal(map.size, 1);
  // The owner slot was freed: a new handle can take it.
  SharedShardedMap.attach(map.buffer).close();
});

test('releaseThread of a thread holding nothing recovers nothing', () => {
  const map = new SharedShardedMap({ capacity: 16, shards: 4, record });
  SharedShardedMap.attach(map.buffer, {}, { threadId: 77 });
  assert.equal(map.releaseThread(77), 0);
  assert.equal(map.releaseThread(78), 0);
});

test('a reused owner id gets a new epoch: its lock words differ from the previous holder', () => {
  const map = new SharedShardedMap({ capacity: 16, shards: 1, record });
  const i32 = new Int32Array(map.buffer);
  const x = SharedShardedMap.attach(map.buffer, {}, { threadId: 4242 });
  const wx = currentLockWord(i32, x.ownerId);
  x.close();
  const y = SharedShardedMap.attach(map.buffer, {}, { threadId: 4243 });
  assert.equal(y.ownerId, x.ownerId, 'the freed id is reused');
  assert.notEqual(currentLockWord(i32, y.ownerId), wx);
  // A lock word left by the freed incarnation is taken over; the new one is not disturbed.
  const sb = i32[8] as number;
  Atomics.store(i32, (sb + S.lock) / 4, wx);
  map.set('k', { a: 1, b: 1 });
  assert.equal(map.counters().recoveries, 1);
  assert.equal(map.releaseThread(4242), 0, 'the old thread id matches no live handle');
  y.set('k', { a: 2, b: 2 });
  assert.equal(y.counters().recoveries, 0);
  y.close();
});

test("releaseThread refuses the caller's own thread; close() refuses inside update()", () => {
  const map = new SharedShardedMap({ capacity: 16, shards: 1, record });
  assert.throws(
    () => map.releaseThread(map.threadId),
    (e: unknown) => e instanceof ShardedMapError && e.code === 'EDGEFLOW_MAP_BAD_OPTION',
  );
  assert.throws(
    () => map.update('k', () => map.close()),
    (e: unknown) => e instanceof ShardedMapError && e.code === 'EDGEFLOW_MAP_REENTRANT',
  );
  map.set('k', { a: 1, b: 1 });
});
