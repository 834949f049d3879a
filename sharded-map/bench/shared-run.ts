// Main-thread side of the SharedArrayBuffer benchmarks: builds the maps, starts N workers
// together, sums their throughput.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { SharedShardedMap } from '../src/index.js';
import { type LegacySharedMap, loadSharedMap, sensorKey } from './lib.js';
import type { WorkerJob, WorkerResult } from './shared-worker.js';

export const RECORD = { value: 'f64', ts: 'f64', seq: 'u32', flags: 'u16' } as const;

export function buildSsm(keys: number, shards: number): SharedShardedMap<typeof RECORD> {
  const map = new SharedShardedMap({ capacity: keys, shards, record: RECORD, maxKeyBytes: 64 });
  const rec = { value: 1, ts: 2, seq: 3, flags: 0 };
  for (let i = 0; i < keys; i++) map.set(sensorKey(i), rec);
  return map;
}

export function buildLegacy(keys: number): LegacySharedMap {
  const Legacy = loadSharedMap();
  // 32 UTF-16 units per key (keys are <= 24), 24 per value string, 10% spare slots.
  const map = new Legacy(Math.ceil(keys / 0.9), 32, 24);
  for (let i = 0; i < keys; i++) map.set(sensorKey(i), '21.5;1700000000000;7;0');
  return map;
}

export interface RunResult {
  readonly opsPerSec: number;
  readonly retryRate: number;
  readonly lockedReads: number;
  readonly lockWaits: number;
}

const script = new URL('./shared-worker.js', import.meta.url);

export async function runWorkers(
  impl: 'ssm' | 'legacy',
  map: SharedShardedMap | LegacySharedMap,
  workers: number,
  job: Pick<WorkerJob, 'keys' | 'getPercent' | 'durationMs' | 'stream'>,
): Promise<RunResult> {
  const control = new SharedArrayBuffer(8);
  const ctl = new Int32Array(control);
  const shared = impl === 'ssm' ? (map as SharedShardedMap).buffer : map;
  const ws = Array.from(
    { length: workers },
    (_, i) =>
      new Worker(script, {
        workerData: {
          ...job,
          impl,
          map: shared,
          control,
          seed: 0x1234567 + i * 7919,
        } satisfies WorkerJob,
      }),
  );
  const results = ws.map(async (w) => ((await once(w, 'message')) as [WorkerResult])[0]);
  while (Atomics.load(ctl, 0) < workers) Atomics.wait(ctl, 0, Atomics.load(ctl, 0), 50);
  Atomics.store(ctl, 1, 1);
  Atomics.notify(ctl, 1);
  const rs = await Promise.all(results);
  await Promise.all(ws.map((w) => w.terminate()));
  let opsPerSec = 0;
  let gets = 0;
  let retries = 0;
  let lockedReads = 0;
  let lockWaits = 0;
  for (const r of rs) {
    opsPerSec += (r.ops * 1000) / r.ms;
    gets += r.gets;
    retries += r.readRetries;
    lockedReads += r.lockedReads;
    lockWaits += r.lockWaits;
  }
  return { opsPerSec, retryRate: gets === 0 ? 0 : retries / gets, lockedReads, lockWaits };
}

const calibrateScript = new URL('./calibrate-worker.js', import.meta.url);

/** Throughput of `workers` threads running a calibration loop (no map), summed. */
export async function calibrate(
  kind: 'compute' | 'shared-reads',
  workers: number,
  durationMs: number,
): Promise<number> {
  const sab = new SharedArrayBuffer(16 << 20);
  const ws = Array.from(
    { length: workers },
    () => new Worker(calibrateScript, { workerData: { kind, sab, durationMs } }),
  );
  const rs = await Promise.all(
    ws.map(async (w) => ((await once(w, 'message')) as [{ opsPerSec: number }])[0]),
  );
  await Promise.all(ws.map((w) => w.terminate()));
  return rs.reduce((sum, r) => sum + r.opsPerSec, 0);
}
