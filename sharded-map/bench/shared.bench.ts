// SharedShardedMap vs the npm `sharedmap` package, 1 and 2 workers, 50/50 and 95/5 get/set;
// 64 shards vs 1 shard (one global lock); seqlock retry rates.
import { emit, quick } from './lib.js';
import { buildLegacy, buildSsm, calibrate, runWorkers } from './shared-run.js';

const keys = quick ? 200_000 : 1_000_000;
const durationMs = quick ? 400 : 1000;
const section = `SharedShardedMap vs sharedmap (${keys / 1000}k string keys)`;

// What this box gives two threads at all, measured now: if these are far below 2x, the box
// (other load, shared cores) and not the map limits the 1 -> 2 worker scaling.
for (const kind of ['compute', 'shared-reads'] as const) {
  const c1 = await calibrate(kind, 1, durationMs);
  const c2 = await calibrate(kind, 2, durationMs);
  emit({
    section,
    metric: `box calibration: ${kind} loop, 1 -> 2 threads`,
    value: c2 / c1,
    unit: 'x',
    note: 'no map involved; the ceiling for any scaling figure below',
  });
}

const ssm = buildSsm(keys, 64);
const one = buildSsm(keys, 1);
const legacy = buildLegacy(keys);

// The box is shared with other work: each figure is the best of `rounds` runs, and the two
// maps alternate, so a burst of outside load hits both rather than one.
const rounds = quick ? 1 : 2;
async function best(
  impl: 'ssm' | 'legacy',
  map: Parameters<typeof runWorkers>[1],
  workers: number,
  job: Parameters<typeof runWorkers>[3],
): Promise<Awaited<ReturnType<typeof runWorkers>>> {
  let top = await runWorkers(impl, map, workers, job);
  for (let r = 1; r < rounds; r++) {
    const next = await runWorkers(impl, map, workers, job);
    if (next.opsPerSec > top.opsPerSec) top = next;
  }
  return top;
}

const at: Record<string, number> = {};
for (const getPercent of [50, 95]) {
  const job = { keys, getPercent, durationMs, stream: 'uniform' as const };
  const mix = `${getPercent}/${100 - getPercent}`;
  for (const workers of [1, 2]) {
    const s = await best('ssm', ssm, workers, job);
    const l = await best('legacy', legacy, workers, job);
    at[`ssm${workers}/${getPercent}`] = s.opsPerSec;
    emit({
      section,
      metric: `SharedShardedMap(64) ${workers}w ${mix}`,
      value: s.opsPerSec,
      unit: 'ops/s',
    });
    emit({ section, metric: `sharedmap ${workers}w ${mix}`, value: l.opsPerSec, unit: 'ops/s' });
    const ratio = s.opsPerSec / l.opsPerSec;
    const want = workers === 2 ? 5 : 4;
    emit({
      section,
      metric: `ratio vs sharedmap, ${workers}w ${mix}`,
      value: ratio,
      unit: 'x',
      target: `>= ${want}x`,
      met: ratio >= want,
    });
    if (workers === 2) {
      emit({
        section,
        metric: `seqlock read retries, 2w ${mix}`,
        value: s.retryRate * 100,
        unit: '% of gets',
        ...(getPercent === 50 ? { target: '<= 5%', met: s.retryRate <= 0.05 } : {}),
        note: `locked reads ${s.lockedReads}, lock waits ${s.lockWaits}`,
      });
      const g = await best('ssm', one, 2, job);
      emit({
        section,
        metric: `SharedShardedMap(1 shard) 2w ${mix}`,
        value: g.opsPerSec,
        unit: 'ops/s',
      });
      emit({
        section,
        metric: `64 shards vs 1 shard, 2w ${mix}`,
        value: s.opsPerSec / g.opsPerSec,
        unit: 'x',
      });
      emit({
        section,
        metric: `1 shard: read retries / lock waits, 2w ${mix}`,
        value: g.retryRate * 100,
        unit: '% of gets',
        note: `lock waits ${g.lockWaits}, locked reads ${g.lockedReads}`,
      });
    }
  }
  const scaling = (at[`ssm2/${getPercent}`] as number) / (at[`ssm1/${getPercent}`] as number);
  emit({
    section,
    metric: `scaling 1 -> 2 workers ${mix}`,
    value: scaling,
    unit: 'x',
    target: '>= 1.9x',
    met: scaling >= 1.9,
  });
}
