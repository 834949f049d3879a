// Shared helpers of the benchmarks: argument parsing, result rows, key streams, timing.
import { createRequire } from 'node:module';

/** One measured or derived figure. `target` is the goal, `met` whether it was reached. */
export interface Row {
  readonly section: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly target?: string;
  readonly met?: boolean;
  readonly note?: string;
}

export const quick = process.argv.includes('--quick');

/** Emits a row for the runner (stdout, one JSON line) and a readable line on stderr. */
export function emit(row: Row): void {
  process.stdout.write(`RESULT ${JSON.stringify(row)}\n`);
  const t =
    row.target === undefined
      ? ''
      : ` (target ${row.target}: ${row.met === true ? 'met' : 'NOT met'})`;
  process.stderr.write(`  ${row.section} | ${row.metric}: ${fmt(row.value)} ${row.unit}${t}\n`);
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (Math.abs(v) >= 100) return v.toFixed(0);
  return v.toFixed(v < 1 ? 3 : 2);
}

/**
 * Sensor-like keys, `sensors/dev123/temp`, as flat strings. Why flat: a template literal of
 * 13+ characters is a V8 cons string, slower to read character by character; real topics come
 * out of Buffer decoding as flat strings.
 */
export function sensorKey(i: number): string {
  const sensors = ['temp', 'hum', 'press', 'co2', 'lux', 'volt', 'amp', 'rssi'];
  return Buffer.from(
    `sensors/dev${(i >>> 3).toString()}/${sensors[i & 7] as string}`,
    'latin1',
  ).toString('latin1');
}

/** Deterministic xorshift32 stream of indices below `n`. */
export function uniformStream(n: number, length: number, seed = 0x9e3779b9): Uint32Array {
  const out = new Uint32Array(length);
  let x = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) % n;
  }
  return out;
}

/** Zipf(s) stream over `n` ranks (rank 0 hottest), by inverse CDF with binary search. */
export function zipfStream(n: number, s: number, length: number, seed = 12345): Uint32Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 1; k <= n; k++) {
    sum += 1 / k ** s;
    cdf[k - 1] = sum;
  }
  const u = uniformStream(2 ** 31, length, seed);
  const out = new Uint32Array(length);
  // Ranks are scattered over the key space so hot keys are not neighbours.
  const perm = (r: number): number => Math.imul(r, 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    const target = ((u[i] as number) / 2 ** 31) * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    out[i] = perm(lo) % n;
  }
  return out;
}

/** Runs `fn` repeatedly for at least `ms` milliseconds, returns operations per second. */
export function opsPerSec(ms: number, opsPerCall: number, fn: () => void): number {
  fn(); // warm-up
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    fn();
    calls++;
    t = performance.now();
  }
  return (calls * opsPerCall * 1000) / (t - t0);
}

/** Coefficient of variation of a list of counts. */
export function cv(counts: readonly number[]): number {
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  if (mean === 0) return 0;
  const v = counts.reduce((a, b) => a + (b - mean) ** 2, 0) / counts.length;
  return Math.sqrt(v) / mean;
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The npm `sharedmap` package (CommonJS, its own .d.ts is not valid TypeScript). */
export interface LegacySharedMap {
  set(key: string, value: string | number): void;
  get(key: string): string | undefined;
  readonly size: number;
  readonly storage: SharedArrayBuffer;
}
export type LegacySharedMapCtor = new (
  maxSize: number,
  keySize: number,
  objSize: number,
) => LegacySharedMap;

export function loadSharedMap(): LegacySharedMapCtor {
  const require = createRequire(import.meta.url);
  const mod = require('sharedmap') as { default?: LegacySharedMapCtor } | LegacySharedMapCtor;
  return typeof mod === 'function' ? mod : (mod.default as LegacySharedMapCtor);
}
