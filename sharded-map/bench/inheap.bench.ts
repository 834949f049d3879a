// ShardedMap vs Map on get and set: integer keys, string keys hashed by the map, and string
// keys through the pre-hashed path. Rounds alternate Map and ShardedMap; the ratio reported is
// the median of the per-round ratios (the box is shared, so single runs are noisy).
import { hashKey, ShardedMap } from '../src/index.js';
import { emit, quick, sensorKey, uniformStream } from './lib.js';

const sizes = quick ? [100_000] : [100_000, 5_000_000];
const rounds = 3;
// Results feed this sink so the engine cannot drop the lookups as dead code.
let sink = 0;
const lookups = quick ? 1 << 17 : 1 << 19;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

for (const n of sizes) {
  const section = `ShardedMap(64) vs Map, ${n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`} entries`;
  const idx = uniformStream(n, lookups, n);
  const ints = Array.from({ length: n }, (_, i) => i * 7 + 1);
  const strs = Array.from({ length: n }, (_, i) => sensorKey(i));
  const hashes = Uint32Array.from(strs, (k) => hashKey(k));
  const im = new Map<number, number>();
  const is = new ShardedMap<number, number>({ shards: 64 });
  const sm = new Map<string, number>();
  const ss = new ShardedMap<string, number>({ shards: 64 });
  for (let i = 0; i < n; i++) {
    im.set(ints[i] as number, i);
    is.set(ints[i] as number, i);
    sm.set(strs[i] as string, i);
    ss.setHashed(strs[i] as string, hashes[i] as number, i);
  }
  const cases: [string, () => void, () => void, number][] = [
    [
      'int get',
      () => {
        let x = 0;
        for (let j = 0; j < lookups; j++) x += im.get(ints[idx[j] as number] as number) ?? 0;
        sink += x;
      },
      () => {
        let x = 0;
        for (let j = 0; j < lookups; j++) x += is.get(ints[idx[j] as number] as number) ?? 0;
        sink += x;
      },
      1.2,
    ],
    [
      'int set',
      () => {
        for (let j = 0; j < lookups; j++) im.set(ints[idx[j] as number] as number, j);
      },
      () => {
        for (let j = 0; j < lookups; j++) is.set(ints[idx[j] as number] as number, j);
      },
      1.2,
    ],
    [
      'string get (map hashes)',
      () => {
        let x = 0;
        for (let j = 0; j < lookups; j++) x += sm.get(strs[idx[j] as number] as string) ?? 0;
        sink += x;
      },
      () => {
        let x = 0;
        for (let j = 0; j < lookups; j++) x += ss.get(strs[idx[j] as number] as string) ?? 0;
        sink += x;
      },
      2.0,
    ],
    [
      'string set (map hashes)',
      () => {
        for (let j = 0; j < lookups; j++) sm.set(strs[idx[j] as number] as string, j);
      },
      () => {
        for (let j = 0; j < lookups; j++) ss.set(strs[idx[j] as number] as string, j);
      },
      2.0,
    ],
    [
      'string get (pre-hashed)',
      () => {
        let x = 0;
        for (let j = 0; j < lookups; j++) x += sm.get(strs[idx[j] as number] as string) ?? 0;
        sink += x;
      },
      () => {
        let x = 0;
        for (let j = 0; j < lookups; j++) {
          const i = idx[j] as number;
          x += ss.getHashed(strs[i] as string, hashes[i] as number) ?? 0;
        }
        sink += x;
      },
      1.2,
    ],
    [
      'string set (pre-hashed)',
      () => {
        for (let j = 0; j < lookups; j++) sm.set(strs[idx[j] as number] as string, j);
      },
      () => {
        for (let j = 0; j < lookups; j++) {
          const i = idx[j] as number;
          ss.setHashed(strs[i] as string, hashes[i] as number, j);
        }
      },
      1.2,
    ],
  ];
  for (const [name, base, ours, target] of cases) {
    base();
    ours();
    const ratios: number[] = [];
    let best = Infinity;
    for (let r = 0; r < rounds; r++) {
      const a = time(base);
      const b = time(ours);
      ratios.push(b / a);
      best = Math.min(best, b);
    }
    const ratio = median(ratios);
    emit({
      section,
      metric: `${name}: time ShardedMap / Map`,
      value: ratio,
      unit: 'x',
      target: `<= ${target}x`,
      met: ratio <= target,
      note: `ShardedMap ${((lookups * 1000) / best / 1e6).toFixed(2)}M ops/s`,
    });
  }
}

if (sink === -1) process.stderr.write('unreachable\n');
