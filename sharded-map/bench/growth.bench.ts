// Growth stalls: insert 0 → N integer keys, time every batch of 1024 inserts. Map rehashes its
// whole table at each doubling; ShardedMap shards rehash alone, and staggered shard weights
// keep them from doing it in the same batch.
import { ShardedMap } from '../src/index.js';
import { emit, gc, quick } from './lib.js';

const sizes = quick ? [5_000_000] : [5_000_000, 10_000_000];
const BATCH = 1024;

function grow(make: () => Map<number, number>, n: number): { worst: number; p999: number } {
  gc();
  const m = make();
  const batches = Math.ceil(n / BATCH);
  const times = new Float64Array(batches);
  let k = 0;
  for (let b = 0; b < batches; b++) {
    const t = performance.now();
    for (let j = 0; j < BATCH; j++, k++) m.set(k, k);
    times[b] = performance.now() - t;
  }
  const sorted = Float64Array.from(times).sort();
  return {
    worst: sorted[batches - 1] as number,
    p999: sorted[Math.floor(batches * 0.999)] as number,
  };
}

for (const n of sizes) {
  const section = `Growth stall, 0 -> ${n / 1e6}M integer keys (batches of ${BATCH} inserts)`;
  const variants: [string, () => Map<number, number>][] = [
    ['Map', () => new Map()],
    ['ShardedMap(64, staggered)', () => new ShardedMap<number, number>({ shards: 64 })],
    [
      'ShardedMap(64, equal shards)',
      () => new ShardedMap<number, number>({ shards: 64, stagger: false }),
    ],
  ];
  // The equal-shards variant only illustrates why the stagger exists: once per run is enough.
  if (quick || n !== sizes[0]) variants.pop();
  const worst: Record<string, number> = {};
  for (const [name, make] of variants) {
    const r = grow(make, n);
    worst[name] = r.worst;
    emit({
      section,
      metric: `${name}: worst batch`,
      value: r.worst,
      unit: 'ms',
      note: `p99.9 ${r.p999.toFixed(3)} ms`,
    });
    emit({ section, metric: `${name}: p99.9 batch`, value: r.p999, unit: 'ms' });
  }
  const ratio = (worst['ShardedMap(64, staggered)'] as number) / (worst.Map as number);
  emit({
    section,
    metric: 'worst stall ShardedMap / Map',
    value: ratio,
    unit: 'x',
    target: '<= 0.1x',
    met: ratio <= 0.1,
  });
}
