import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { createMetrics } from '../../src/metrics/metrics.js';
import { HistorySampler } from '../../src/metrics/history-sampler.js';

test('rates, CPU, memory, fsync p99, delays and disk use come out of one sample interval', async () => {
  const metrics = createMetrics({
    cacheSize: () => 0,
    mqttClients: () => 0,
    defaultMetrics: false,
  });
  let ns = 0n;
  let cpu = { user: 0, system: 0 };
  let now = 1_000_000;
  let delays: number[] = [];
  const sampler = new HistorySampler(
    {
      metrics,
      dataDir: '/',
      drainDelays: () => {
        const d = delays;
        delays = [];
        return d;
      },
      now: () => now,
      log: pino({ level: 'silent' }),
      process: {
        cpuUsage: () => cpu,
        memoryUsage: () => ({ rss: 64 * 1048576, heapUsed: 16 * 1048576 }),
        hrtime: { bigint: () => ns },
      },
      statfs: () => Promise.resolve({ blocks: 1000, bfree: 400, bavail: 300 }),
    },
    { capacity: 60, intervalMs: 1000 },
  );
  assert.equal(await sampler.sample(), undefined, 'the first call only sets the baseline');
  metrics.ingestMessages.inc({ source: 'mqtt' }, 150);
  metrics.ingestMessages.inc({ source: 'hal' }, 50);
  metrics.ingestRejected.inc({ reason: 'bad_json' }, 4);
  for (let i = 0; i < 99; i++) metrics.walFsyncSeconds.observe(0.0015);
  metrics.walFsyncSeconds.observe(0.3);
  delays = Array.from({ length: 100 }, (_, i) => i + 1);
  ns += 2_000_000_000n; // 2 s
  cpu = { user: 300_000, system: 100_000 }; // 0.4 s of CPU
  now += 2000;
  const s = await sampler.sample();
  sampler.stop();
  assert.ok(s);
  assert.equal(s.t, 1_002_000);
  assert.equal(s.values.ingestRate, 100);
  assert.equal(s.values.rejectedRate, 2);
  assert.equal(s.values.cpuPercent, 20);
  assert.equal(s.values.rssMiB, 64);
  assert.equal(s.values.heapMiB, 16);
  assert.equal(s.values.delayP99Ms, 99);
  // 99 of 100 in (1, 2] ms: the 99th percentile interpolates to the bucket's top
  assert.equal(s.values.walFsyncP99Ms, 2);
  assert.equal(s.values.diskUsedPercent, 66.67);
  assert.deepEqual(sampler.ring.window().values.ingestRate, [100]);
});
