// SharedShardedMap vs the npm `sharedmap` package, 1 and 2 workers, 50/50 and 95/5 get/set;
// 64 shards vs 1 shard (one global lock); seqlock retry rates.
import { emit, quick } from './lib.js';
import { buildLegacy, buildSsm, runWorkers } from './shared-run.js';

const keys = quick ? 200_000 : 1_000_000;
const durationMs = quick ? 600 : 2000;
const section = `SharedShardedMap vs sharedmap (${keys / 1000}k string keys)`;

const ssm = buildSsm(keys, 64);
const one = buildSsm(keys, 1);
const legacy = buildLegacy(keys);

const at: Record<string, number> = {};
for (const getPercent of [50, 95]) {
  const job = { keys, getPercent, durationMs, stream: 'uniform' as const };
  const mix = `${getPercent}/${100 - getPercent}`;
  for (const workers of [1, 2]) {
    const s = await runWorkers('ssm', ssm, workers, job);
    const l = await runWorkers('legacy', legacy, workers, job);
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
      const g = await runWorkers('ssm', one, 2, job);
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
