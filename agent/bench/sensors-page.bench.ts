/**
 * `GET /v1/sensors` over a large cache: one page as the route builds it now (SensorCache.page:
 * one scan keeping at most 2 × limit readings, then the JSON of the page) against the whole list
 * as the route built it before paging (list() of every reading, sorted, and its JSON), in the
 * same run, alternating rounds. Prints time and answer size; asserts nothing.
 *
 *   node agent/dist/bench/sensors-page.bench.js [--sensors=100000] [--rounds=7]
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { SensorCache } from '../src/cache/sensor-cache.js';

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const { values: args } = parseArgs({
  options: {
    sensors: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '7' },
  },
});
const N = Number(args.sensors);
const ROUNDS = Number(args.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const cache = new SensorCache({ shards: 64, capacity: N });
for (let i = 0; i < N; i++)
  cache.store(`bench${Math.floor(i / 100)}/s${i % 100}`, {
    value: 20 + (i % 100) / 10,
    unit: 'Cel',
    ts: Date.now(),
    source: `mqtt:bench-${i % 4}`,
    quality: 'good',
  });

const variants: [string, () => string][] = [
  ['whole list (before paging)', () => JSON.stringify({ readings: cache.list('') })],
  ['page of 1,000 (the default)', () => JSON.stringify(cache.page('', undefined, 1000))],
  ['page of 5,000 (the maximum)', () => JSON.stringify(cache.page('', undefined, 5000))],
  ['page of 1,000 from the middle', () => JSON.stringify(cache.page('', 'bench500', 1000))],
];
out(
  `# GET /v1/sensors, ${N} sensors, ${cpus()[0]?.model ?? '?'} x${cpus().length}, Node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const ms = variants.map(() => [] as number[]);
const bytes = variants.map(() => 0);
for (let r = 0; r < ROUNDS; r++)
  variants.forEach(([, f], i) => {
    const t0 = process.hrtime.bigint();
    bytes[i] = f().length;
    ms[i]?.push(Number(process.hrtime.bigint() - t0) / 1e6);
  });
const base = median(ms[0] ?? []);
variants.forEach(([name], i) => {
  const m = median(ms[i] ?? []);
  out(
    `  ${name}: ${m.toFixed(1)} ms (${(m / base).toFixed(2)}x), answer ${((bytes[i] ?? 0) / 1024).toFixed(0)} KiB`,
  );
});
