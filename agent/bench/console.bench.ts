/**
 * The console's in-process costs, measured without the box's noise from other processes
 * (tests/bench/console.bench.ts measures the whole agent with a browser): one live tick of the
 * Sensors stream (scan N sensors, a quarter changed, serialise the changes), the first event
 * of a stream (the snapshot), one health sample, and the size of a full hour of history as the
 * Overview fetches it. Baseline of the same run: one pass of `cache.list()` (what
 * `GET /v1/sensors` does per request) over the same cache. Nothing is asserted.
 *
 *   node agent/dist/bench/console.bench.js [--sensors=1000] [--ticks=400]
 */
import { gzipSync } from 'node:zlib';
import { loadavg, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { SensorCache } from '../src/cache/sensor-cache.js';
import { SensorWatch, toTuple } from '../src/http/console/sensor-watch.js';
import { HEALTH_SERIES, HistorySampler } from '../src/metrics/history-sampler.js';
import { HistoryRing } from '../src/metrics/history.js';
import { createMetrics } from '../src/metrics/metrics.js';

/** Results go to stdout (a bench prints; it asserts nothing). */
const out = (line: string): void => void process.stdout.write(`${line}\n`);

const { values: args } = parseArgs({
  options: {
    sensors: { type: 'string', default: '1000' },
    ticks: { type: 'string', default: '400' },
  },
});
const N = Number(args.sensors);
const TICKS = Number(args.ticks);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const us = (ns: bigint) => Number(ns) / 1000;

function fill(cache: SensorCache, round: number, share = 1): void {
  const step = Math.round(1 / share);
  for (let i = round % step; i < N; i += step) {
    cache.store(`bench${Math.floor(i / 100)}/s${i % 100}`, {
      value: 20 + ((i + round) % 100) / 10,
      unit: 'Cel',
      ts: Date.now() - 3,
      source: `mqtt:bench-${i % 4}`,
      quality: 'good',
    });
  }
}

async function main(): Promise<void> {
  out(
    `# console in-process bench ${new Date().toISOString()}  ${cpus()[0]?.model ?? '?'} x${cpus().length}  Node ${process.version}  load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const cache = new SensorCache({ shards: 64 });
  fill(cache, 0);
  const watch = new SensorWatch(cache);
  watch.scan();
  // A tick at 1,000 msg/s over 1,000 sensors: 250 ms of changes = a quarter of the keys.
  const tick: number[] = [];
  const list: number[] = [];
  let bytes = 0;
  for (let t = 1; t <= TICKS; t++) {
    fill(cache, t, 0.25);
    const t0 = process.hrtime.bigint();
    const changed = watch.scan();
    const text = JSON.stringify({ changed: changed.map(toTuple) });
    tick.push(us(process.hrtime.bigint() - t0));
    bytes += text.length;
    watch.drainDelays();
    const l0 = process.hrtime.bigint();
    cache.list('');
    list.push(us(process.hrtime.bigint() - l0));
  }
  const perTick = median(tick);
  out(`\n## Sensors stream, ${N} sensors, ${N / 4} changed per 250 ms tick, median of ${TICKS}`);
  out(
    `  one tick (scan + serialise): ${perTick.toFixed(0)} µs = ${((perTick * 4) / 1e4).toFixed(2)} % of one core at 4 ticks/s`,
  );
  out(
    `  event size ${(bytes / TICKS / 1024).toFixed(1)} KiB per tick (${(((bytes / TICKS) * 4) / 1024).toFixed(0)} KiB/s before TCP)`,
  );
  out(
    `  baseline, one GET /v1/sensors list() over the same cache: ${median(list).toFixed(0)} µs; tick/list ${(perTick / median(list)).toFixed(2)}x`,
  );
  const idle = median(tick); // with nobody streaming the scan runs once a second
  out(`  console closed: one scan a second ≤ ${(idle / 1e4).toFixed(3)} % of one core`);

  const s0 = process.hrtime.bigint();
  const snap = JSON.stringify(watch.snapshot());
  out(
    `  first event of a stream (snapshot): ${(snap.length / 1024).toFixed(0)} KiB in ${us(process.hrtime.bigint() - s0).toFixed(0)} µs`,
  );

  // One health sample (prom-client reads, process figures, statfs every 5th).
  const metrics = createMetrics({
    cacheSize: () => N,
    mqttClients: () => 4,
    defaultMetrics: false,
  });
  const sampler = new HistorySampler(
    { metrics, dataDir: '/', drainDelays: () => [], now: Date.now, log: pino({ level: 'silent' }) },
    { capacity: 3600, intervalMs: 1000 },
  );
  const sample: number[] = [];
  for (let i = 0; i < 200; i++) {
    metrics.ingestMessages.inc({ source: 'mqtt' }, 1000);
    metrics.walFsyncSeconds.observe(0.002);
    const t0 = process.hrtime.bigint();
    await sampler.sample();
    sample.push(us(process.hrtime.bigint() - t0));
  }
  sampler.stop();
  out(`\n## Health ring: one sample ${median(sample).toFixed(0)} µs (once a second)`);

  // A full hour, as GET /v1/console/overview sends it.
  const ring = new HistoryRing(HEALTH_SERIES, { capacity: 3600, intervalMs: 1000 });
  const start = Date.now() - 3600_000;
  for (let i = 0; i < 3600; i++)
    ring.push(
      start + i * 1000,
      HEALTH_SERIES.map((_, k) => 1000 * Math.abs(Math.sin(i / 50 + k)) + Math.random()),
    );
  const hour = JSON.stringify(ring.window(Date.now()));
  out(
    `  a full hour of ${HEALTH_SERIES.length} series: ${(hour.length / 1024).toFixed(0)} KiB JSON, ${(gzipSync(hour).length / 1024).toFixed(0)} KiB gzipped; memory ${(3600 * HEALTH_SERIES.length * 4) / 1024} KiB`,
  );
}

await main();
