import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SharedShardedMap, ShardedMapError, type SharedShardedMapDeps } from '../../src/index.js';

const record = { value: 'f64', n: 'u32' } as const;
type Op =
  | { op: 'set'; k: string; v: number }
  | { op: 'delete'; k: string }
  | { op: 'get'; k: string }
  | { op: 'update'; k: string }
  | { op: 'cas'; k: string; expected: number | undefined; v: number }
  | { op: 'clear' }
  | { op: 'reshard'; shards: number };

const key = fc.constantFrom(
  'a',
  'b',
  'c',
  'sensors/dev1/temp',
  'sensors/dev2/temp',
  'é',
  '',
  'k😀',
);
const val = fc.integer({ min: 0, max: 4 });
const ops = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), k: key, v: val }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('delete' as const), k: key }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), k: key }) },
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
        shards: fc.constantFrom(1, 2, 4),
      }),
    },
  ),
  { maxLength: 150 },
);

function run(seq: readonly Op[], deps: SharedShardedMapDeps): void {
  const model = new Map<string, number>();
  // Capacity 8 → a handful of slots per shard: probing wraps and tombstones pile up.
  let m = new SharedShardedMap({ capacity: 8, shards: 2, record, loadFactor: 0.95 }, deps);
  const out = { value: 0, n: 0 };
  for (const o of seq) {
    switch (o.op) {
      case 'set':
        try {
          m.set(o.k, { value: o.v, n: o.v });
          model.set(o.k, o.v);
        } catch (e) {
          assert.ok(e instanceof ShardedMapError && e.code === 'EDGEFLOW_MAP_FULL');
          assert.equal(model.has(o.k), false, 'FULL only for new keys');
        }
        break;
      case 'delete':
        assert.equal(m.delete(o.k), model.delete(o.k));
        break;
      case 'get': {
        const found = m.get(o.k, out);
        assert.equal(found, model.has(o.k));
        if (found) assert.equal(out.value, model.get(o.k));
        break;
      }
      case 'update':
        try {
          m.update(o.k, (r) => {
            r.value += 1;
            r.n = r.value;
          });
          model.set(o.k, (model.get(o.k) ?? 0) + 1);
        } catch (e) {
          assert.ok(e instanceof ShardedMapError && e.code === 'EDGEFLOW_MAP_FULL');
        }
        break;
      case 'cas': {
        const cur = model.get(o.k);
        const want = cur === o.expected;
        const exp = o.expected === undefined ? undefined : { value: o.expected, n: o.expected };
        let did: boolean;
        try {
          did = m.compareAndSet(o.k, exp, { value: o.v, n: o.v });
        } catch (e) {
          assert.ok(e instanceof ShardedMapError && e.code === 'EDGEFLOW_MAP_FULL');
          break;
        }
        assert.equal(did, want);
        if (want) model.set(o.k, o.v);
        break;
      }
      case 'clear':
        m.clear();
        model.clear();
        break;
      case 'reshard':
        m = m.resharded(o.shards, { capacity: 16 });
        break;
    }
    assert.equal(m.size, model.size);
  }
  const got = new Map([...m].map(([k, r]) => [k, r.value]));
  assert.deepEqual(got, model);
}

test('SharedShardedMap matches Map on random operation sequences', () => {
  fc.assert(
    fc.property(ops, (seq) => run(seq, {})),
    { numRuns: 300 },
  );
});

test('SharedShardedMap matches Map with a forced-collision hasher', () => {
  fc.assert(
    fc.property(ops, (seq) => run(seq, { hash: () => 0x12345678 })),
    { numRuns: 300 },
  );
});

test('SharedShardedMap matches Map with a two-value hasher (partial collisions)', () => {
  fc.assert(
    fc.property(ops, (seq) => run(seq, { hash: (k) => (k.length & 1 ? 7 : 0x80000007) })),
    {
      numRuns: 200,
    },
  );
});
