import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ShardedMap } from '../src/index.js';

type Key = string | number;
type Op =
  | { op: 'set'; k: Key; v: number }
  | { op: 'delete'; k: Key }
  | { op: 'get'; k: Key }
  | { op: 'getOrInsert'; k: Key; v: number }
  | { op: 'update'; k: Key }
  | { op: 'cas'; k: Key; expected: number | undefined; v: number }
  | { op: 'clear' }
  | { op: 'reshard'; shards: number };

// Few distinct keys so that sequences hit existing entries often.
const key = fc.oneof(
  fc.integer({ min: -20, max: 20 }),
  fc.constantFrom('a', 'b', 'sensors/dev1/temp', 'é', '', '-0'),
  fc.constantFrom(0.5, -0, NaN, 2 ** 40),
);
const val = fc.integer({ min: 0, max: 5 });
const ops = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), k: key, v: val }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), k: key }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), k: key }) },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('getOrInsert' as const), k: key, v: val }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('update' as const), k: key }) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('cas' as const),
        k: key,
        expected: fc.option(val, { nil: undefined }),
        v: val,
      }),
    },
    { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('reshard' as const),
        shards: fc.constantFrom(1, 2, 8, 64),
      }),
    },
  ),
  { maxLength: 120 },
);

function run(seq: readonly Op[], make: (shards: number) => ShardedMap<Key, number>): void {
  const model = new Map<Key, number>();
  let m = make(4);
  for (const o of seq) {
    switch (o.op) {
      case 'set':
        m.set(o.k, o.v);
        model.set(o.k, o.v);
        break;
      case 'delete':
        assert.equal(m.delete(o.k), model.delete(o.k));
        break;
      case 'get':
        assert.equal(m.get(o.k), model.get(o.k));
        assert.equal(m.has(o.k), model.has(o.k));
        break;
      case 'getOrInsert': {
        const want = model.has(o.k) ? model.get(o.k) : (model.set(o.k, o.v), o.v);
        assert.equal(m.getOrInsert(o.k, o.v), want);
        break;
      }
      case 'update': {
        const next = (model.get(o.k) ?? 0) + 1;
        model.set(o.k, next);
        assert.equal(
          m.update(o.k, (c) => (c ?? 0) + 1),
          next,
        );
        break;
      }
      case 'cas': {
        const ok = model.get(o.k) === o.expected;
        if (ok) model.set(o.k, o.v);
        assert.equal(m.compareAndSet(o.k, o.expected, o.v), ok);
        break;
      }
      case 'clear':
        m.clear();
        model.clear();
        break;
      case 'reshard':
        m = m.resharded(o.shards);
        break;
    }
    assert.equal(m.size, model.size);
  }
  assert.deepEqual(new Map(m), model);
}

test('ShardedMap matches Map on random operation sequences', () => {
  fc.assert(
    fc.property(ops, (seq) => run(seq, (shards) => new ShardedMap<Key, number>({ shards }))),
    { numRuns: 300 },
  );
});

test('ShardedMap matches Map with a forced-collision hasher', () => {
  fc.assert(
    fc.property(ops, (seq) =>
      run(seq, (shards) => new ShardedMap<Key, number>({ shards, hash: () => 0xdeadbeef })),
    ),
    { numRuns: 200 },
  );
});

test('ShardedMap matches Map without stagger', () => {
  fc.assert(
    fc.property(ops, (seq) =>
      run(seq, (shards) => new ShardedMap<Key, number>({ shards, stagger: false })),
    ),
    { numRuns: 100 },
  );
});
