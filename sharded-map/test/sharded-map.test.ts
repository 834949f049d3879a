import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashKey, ShardedMap, ShardedMapError } from '../src/index.js';

test('behaves as a Map for the ES interface', () => {
  const m = new ShardedMap<string, number>({ shards: 8 });
  assert.equal(m.set('a', 1), m);
  m.set('b', 2).set('a', 3);
  assert.equal(m.get('a'), 3);
  assert.equal(m.has('b'), true);
  assert.equal(m.size, 2);
  assert.equal(m.delete('b'), true);
  assert.equal(m.delete('b'), false);
  assert.deepEqual([...m], [['a', 3]]);
  assert.deepEqual([...m.keys()], ['a']);
  assert.deepEqual([...m.values()], [3]);
  const seen: [string, number][] = [];
  m.forEach(function (this: unknown, v, k, map) {
    assert.equal(map, m);
    assert.equal(this, 'ctx');
    seen.push([k, v]);
  }, 'ctx');
  assert.deepEqual(seen, [['a', 3]]);
  assert.equal(Object.prototype.toString.call(m), '[object ShardedMap]');
  m.clear();
  assert.equal(m.size, 0);
  const asMap: Map<string, number> = m;
  assert.equal(asMap.get('a'), undefined);
});

test('keeps SameValueZero key equality of Map', () => {
  const m = new ShardedMap<unknown, string>({ shards: 16 });
  const o = {};
  m.set(0, 'zero').set(NaN, 'nan').set(o, 'obj').set(1n, 'big').set(null, 'null');
  assert.equal(m.get(-0), 'zero');
  assert.equal(m.get(Number('x')), 'nan');
  assert.equal(m.get(o), 'obj');
  assert.equal(m.get({}), undefined);
  assert.equal(m.get(1n), 'big');
  assert.equal(m.get(null), 'null');
  assert.equal(m.get(undefined), undefined);
});

test('accepts initial entries', () => {
  const m = new ShardedMap<string, number>({ shards: 2 }, [
    ['x', 1],
    ['y', 2],
  ]);
  assert.equal(m.size, 2);
});

test('upsert methods: getOrInsert, getOrInsertComputed, update, compareAndSet', () => {
  const m = new ShardedMap<string, number | undefined>({ shards: 4 });
  assert.equal(m.getOrInsert('a', 1), 1);
  assert.equal(m.getOrInsert('a', 2), 1);
  m.set('u', undefined);
  assert.equal(m.getOrInsert('u', 5), undefined, 'present with value undefined is present');
  let calls = 0;
  assert.equal(
    m.getOrInsertComputed('b', (k) => (calls++, k.length)),
    1,
  );
  assert.equal(
    m.getOrInsertComputed('b', () => (calls++, 9)),
    1,
  );
  assert.equal(calls, 1);
  assert.throws(
    () =>
      m.getOrInsertComputed('c', () => {
        throw new Error('no');
      }),
    /no/,
  );
  assert.equal(m.has('c'), false);
  assert.equal(
    m.update('n', (cur, present) => (present ? (cur ?? 0) + 1 : 10)),
    10,
  );
  assert.equal(
    m.update('n', (cur) => (cur ?? 0) + 1),
    11,
  );
  assert.equal(m.compareAndSet('n', 10, 0), false);
  assert.equal(m.compareAndSet('n', 11, 12), true);
  assert.equal(m.get('n'), 12);
  assert.equal(m.compareAndSet('fresh', undefined, 1), true, 'absent counts as undefined');
  m.set('nan', NaN);
  assert.equal(m.compareAndSet('nan', NaN, 1), true);
});

test('the pre-hashed path agrees with the hashing path', () => {
  const m = new ShardedMap<string, number>({ shards: 64 });
  for (let i = 0; i < 1000; i++) {
    const k = `sensors/dev${i}/temp`;
    const h = m.hashKey(k);
    assert.equal(h, hashKey(k));
    m.setHashed(k, h, i);
  }
  for (let i = 0; i < 1000; i++) {
    const k = `sensors/dev${i}/temp`;
    assert.equal(m.get(k), i);
    assert.equal(m.getHashed(k, hashKey(k)), i);
    assert.equal(m.hasHashed(k, hashKey(k)), true);
  }
  assert.equal(m.deleteHashed('sensors/dev1/temp', hashKey('sensors/dev1/temp')), true);
  assert.equal(m.has('sensors/dev1/temp'), false);
});

test('custom hash: a forced-collision hasher still gives Map semantics', () => {
  const m = new ShardedMap<number, number>({ shards: 8, hash: () => 42 });
  for (let i = 0; i < 100; i++) m.set(i, i * 2);
  assert.equal(m.size, 100);
  assert.equal(m.get(50), 100);
  const s = m.stats();
  assert.equal(s.max, 100);
  assert.ok(s.cv > 1);
});

test('rejects bad options with EDGEFLOW_MAP_BAD_OPTION', () => {
  for (const shards of [0, 3, 6, 2048, 1.5, -4, NaN]) {
    assert.throws(
      () => new ShardedMap({ shards }),
      (e: unknown) => e instanceof ShardedMapError && e.code === 'EDGEFLOW_MAP_BAD_OPTION',
      String(shards),
    );
  }
  assert.throws(
    () => new ShardedMap({ hash: 5 as unknown as () => number }),
    (e: unknown) => e instanceof ShardedMapError && e.code === 'EDGEFLOW_MAP_BAD_OPTION',
  );
});

test('stats: staggered shards still report a small CV for a uniform hash', () => {
  const m = new ShardedMap<number, number>({ shards: 64 });
  for (let i = 0; i < 100_000; i++) m.set(i, i);
  const s = m.stats();
  assert.equal(s.size, 100_000);
  assert.equal(s.sizes.length, 64);
  assert.ok(s.cv < 0.1, `cv ${s.cv}`);
  assert.ok(s.max > s.min * 1.5, 'sizes are staggered');
  const flat = new ShardedMap<number, number>({ shards: 64, stagger: false });
  for (let i = 0; i < 100_000; i++) flat.set(i, i);
  assert.ok(flat.stats().max < flat.stats().min * 1.2);
});

test('resharded copies every entry into a new shard count', () => {
  const m = new ShardedMap<string, number>({ shards: 4 });
  for (let i = 0; i < 500; i++) m.set(`k${i}`, i);
  const r = m.resharded(32);
  assert.equal(r.shardCount, 32);
  assert.deepEqual(new Map(r), new Map(m));
  assert.throws(() => m.resharded(7), ShardedMapError);
});

test('forEachSlice yields between shards and visits stable keys once', async () => {
  const m = new ShardedMap<number, number>({ shards: 8 });
  for (let i = 0; i < 200; i++) m.set(i, i);
  const seen = new Map<number, number>();
  let pauses = 0;
  await m.forEachSlice(
    (v, k) => {
      seen.set(k, (seen.get(k) ?? 0) + 1);
      if (k < 1000) assert.equal(v, k);
    },
    {
      yieldFn: () => {
        pauses++;
        m.set(1000 + pauses, 0); // concurrent inserts between slices
        m.delete(pauses); // and deletes
        return Promise.resolve();
      },
    },
  );
  assert.equal(pauses, 7);
  for (let i = 8; i < 200; i++) assert.equal(seen.get(i), 1, `key ${i}`);
  for (const n of seen.values()) assert.equal(n, 1);
});

test('forEachSlice stops with the abort reason', async () => {
  const m = new ShardedMap<number, number>({ shards: 4 }, [[1, 1]]);
  const ac = new AbortController();
  await assert.rejects(
    m.forEachSlice(() => {}, {
      signal: ac.signal,
      yieldFn: () => Promise.resolve(ac.abort(new Error('stop'))),
    }),
    /stop/,
  );
});

test('async iteration visits every entry', async () => {
  const m = new ShardedMap<number, number>({ shards: 16 });
  for (let i = 0; i < 300; i++) m.set(i, -i);
  const got = new Map<number, number>();
  for await (const [k, v] of m) got.set(k, v);
  assert.deepEqual(got, new Map(m));
});

test('reshardedAsync replays writes made while it copies', async () => {
  const m = new ShardedMap<number, number>({ shards: 8 });
  for (let i = 0; i < 100; i++) m.set(i, i);
  let turn = 0;
  const p = m.reshardedAsync(2, {
    yieldFn: () => {
      turn++;
      m.set(turn, -turn); // overwrite
      m.delete(50 + turn); // delete
      m.set(500 + turn, 1); // insert
      return Promise.resolve();
    },
  });
  await assert.rejects(m.reshardedAsync(4), ShardedMapError);
  const r = await p;
  assert.equal(r.shardCount, 2);
  assert.deepEqual(new Map(r), new Map(m));
  m.set(999, 9); // no journal after completion
  assert.equal(r.has(999), false);
});

test('reshardedAsync after a clear during the copy', async () => {
  const m = new ShardedMap<number, number>({ shards: 4 });
  for (let i = 0; i < 50; i++) m.set(i, i);
  const r = await m.reshardedAsync(8, {
    yieldFn: () => {
      m.clear();
      m.set(7, 7);
      return Promise.resolve();
    },
  });
  assert.deepEqual([...r], [[7, 7]]);
});
