// Skewed load: a Zipf(1.2) key stream next to a uniform one. Per-shard CV of the accesses and
// throughput for ShardedMap (one thread, 50/50 get/set) and SharedShardedMap (2 workers, 50/50).
import type { SharedShardedMap } from '../src/index.js';
import { ShardedMap } from '../src/index.js';
import { cv, emit, opsPerSec, quick, sensorKey, uniformStream, zipfStream } from './lib.js';
import { buildSsm, runWorkers } from './shared-run.js';

const keys = quick ? 200_000 : 1_000_000;
const len = 1 << 18;
const section = `Skew: Zipf(1.2) vs uniform, ${keys / 1000}k keys, 64 shards, 50/50 get/set`;
const names = Array.from({ length: keys }, (_, i) => sensorKey(i));
const streams = { uniform: uniformStream(keys, len, 99), zipf: zipfStream(keys, 1.2, len, 99) };

const inHeap = new ShardedMap<string, number>({ shards: 64 });
for (let i = 0; i < keys; i++) inHeap.set(names[i] as string, i);
const shared: SharedShardedMap = buildSsm(keys, 64);

for (const [kind, stream] of Object.entries(streams)) {
  const heapCounts = new Array<number>(64).fill(0);
  const sharedCounts = new Array<number>(64).fill(0);
  for (let j = 0; j < len; j++) {
    const k = names[stream[j] as number] as string;
    heapCounts[inHeap.shardIndexOf(k)]! += 1;
    sharedCounts[shared.shardIndexOf(k)]! += 1;
  }
  const shares = inHeap.stats().sizes.map((s) => s / keys);
  const normalised = heapCounts.map((c, i) => c / (shares[i] as number));
  emit({
    section,
    metric: `${kind}: per-shard access CV (ShardedMap, stagger removed)`,
    value: cv(normalised),
    unit: '',
  });
  emit({
    section,
    metric: `${kind}: per-shard access CV (SharedShardedMap)`,
    value: cv(sharedCounts),
    unit: '',
  });
  const ops = opsPerSec(quick ? 300 : 1000, len, () => {
    for (let j = 0; j < len; j++) {
      const k = names[stream[j] as number] as string;
      if (j & 1) inHeap.set(k, j);
      else inHeap.get(k);
    }
  });
  emit({ section, metric: `${kind}: ShardedMap 1 thread`, value: ops, unit: 'ops/s' });
  const r = await runWorkers('ssm', shared, 2, {
    keys,
    getPercent: 50,
    durationMs: quick ? 400 : 1000,
    stream: kind === 'zipf' ? 'zipf' : 'uniform',
  });
  emit({
    section,
    metric: `${kind}: SharedShardedMap 2 workers`,
    value: r.opsPerSec,
    unit: 'ops/s',
    note: `read retries ${(r.retryRate * 100).toFixed(2)}%, lock waits ${r.lockWaits}`,
  });
}
