/**
 * Heap bytes per cached sensor, as the MQTT ingest path builds readings today (the reading's
 * `source` is `mqtt:${clientId}`, a new string per message, so every cached reading holds its
 * own copy) against the baseline of one shared `source` string per client, in the same run.
 *
 * `node --expose-gc dist/bench/cache-memory.bench.js [--sensors=100000] [--clients=10]`
 * Each variant runs twice, alternating; the heap is measured after a full GC.
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { SensorCache } from '../src/cache/sensor-cache.js';

const { values: opt } = parseArgs({
  options: {
    sensors: { type: 'string', default: '100000' },
    clients: { type: 'string', default: '10' },
  },
  strict: true,
});
const SENSORS = Number(opt.sensors);
const CLIENTS = Number(opt.clients);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('run with node --expose-gc\n');
  process.exit(2);
}

/** Fills a cache the way the ingest pipeline does (topic -> key, JSON payload, spread input). */
function fill(shared: boolean): { cache: SensorCache; bytes: number } {
  const sources = Array.from({ length: CLIENTS }, (_, i) => `mqtt:bench-${i}`);
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const cache = new SensorCache({ shards: 16 });
  for (let k = 0; k < SENSORS; k++) {
    const client = `bench-${k % CLIENTS}`;
    const topic = `sensors/d${Math.floor(k / 100)}/s${k % 100}`;
    const [, device, sensor] = topic.split('/');
    const doc = JSON.parse(`{"v":${1e12 + k},"u":"us"}`) as { v: number; u: string };
    const reading = { value: doc.v, unit: doc.u, ts: Date.now(), quality: 'good' as const };
    const source = shared ? (sources[k % CLIENTS] as string) : `mqtt:${client}`;
    cache.store(`${device}/${sensor}`, { ...reading, source });
  }
  gc?.();
  return { cache, bytes: process.memoryUsage().heapUsed - before };
}

const w = (s: string) => process.stdout.write(s);
w(
  `cache memory bench: ${SENSORS} sensors, ${CLIENTS} clients, node ${process.version}, ` +
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n\n| variant | run | heap bytes / sensor |\n|---|---:|---:|\n`,
);
const per: Record<string, number[]> = { 'per-message source (today)': [], 'shared source': [] };
for (let run = 1; run <= 2; run++) {
  for (const shared of [false, true]) {
    const { cache, bytes } = fill(shared);
    const name = shared ? 'shared source' : 'per-message source (today)';
    // Read the size after measuring: keeps the cache alive until then.
    const b = bytes / cache.size;
    per[name]?.push(b);
    w(`| ${name} | ${run} | ${b.toFixed(0)} |\n`);
  }
}
const mean = (xs: number[] | undefined) =>
  (xs ?? []).reduce((a, b) => a + b, 0) / (xs?.length ?? 1);
const today = mean(per['per-message source (today)']);
const shared = mean(per['shared source']);
w(
  `\nratio shared / today = ${(shared / today).toFixed(2)}; ` +
    `${(((today - shared) * SENSORS) / 2 ** 20).toFixed(1)} MiB less at ${SENSORS} sensors\n`,
);
