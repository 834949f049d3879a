// Worker side of the SharedArrayBuffer benchmarks: attaches to the map, waits for the start
// signal, runs a get/set mix for a fixed time and reports its counts.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedShardedMap } from '../src/index.js';
import {
  type LegacySharedMap,
  loadSharedMap,
  sensorKey,
  uniformStream,
  zipfStream,
} from './lib.js';

export interface WorkerJob {
  readonly impl: 'ssm' | 'legacy';
  readonly map: SharedArrayBuffer | object;
  readonly control: SharedArrayBuffer; // [0] ready count, [1] start flag
  readonly keys: number;
  readonly getPercent: number;
  readonly durationMs: number;
  readonly seed: number;
  readonly stream: 'uniform' | 'zipf';
}

export interface WorkerResult {
  readonly ops: number;
  readonly gets: number;
  readonly ms: number;
  readonly readRetries: number;
  readonly lockedReads: number;
  readonly lockWaits: number;
}

const job = workerData as WorkerJob;
const port = parentPort;
if (port === null) throw new Error('shared-worker must run in a worker thread');
const ctl = new Int32Array(job.control);
const keys = Array.from({ length: job.keys }, (_, i) => sensorKey(i));
const len = 1 << 20;
const stream =
  job.stream === 'zipf'
    ? zipfStream(job.keys, 1.2, len, job.seed)
    : uniformStream(job.keys, len, job.seed);
const coin = uniformStream(100, len, job.seed ^ 0x5555);

let getOp: (k: string) => void;
let setOp: (k: string, i: number) => void;
let counters = (): Omit<WorkerResult, 'ops' | 'gets' | 'ms'> => ({
  readRetries: 0,
  lockedReads: 0,
  lockWaits: 0,
});
if (job.impl === 'ssm') {
  const map = SharedShardedMap.attach<{ value: 'f64'; ts: 'f64'; seq: 'u32'; flags: 'u16' }>(
    job.map as SharedArrayBuffer,
  );
  const out = { value: 0, ts: 0, seq: 0, flags: 0 };
  const rec = { value: 0, ts: 0, seq: 0, flags: 0 };
  getOp = (k) => void map.get(k, out);
  setOp = (k, i) => {
    rec.value = i;
    rec.ts = i;
    rec.seq = i;
    map.set(k, rec);
  };
  counters = () => map.counters();
} else {
  const Legacy = loadSharedMap();
  const map = job.map as LegacySharedMap;
  Object.setPrototypeOf(map, Legacy.prototype as object);
  getOp = (k) => void map.get(k);
  setOp = (k) => map.set(k, '21.5;1700000000000;7;0');
}

let p = 0;
let gets = 0;
function batch(): void {
  for (let b = 0; b < 1024; b++) {
    const i = stream[p] as number;
    if ((coin[p] as number) < job.getPercent) {
      getOp(keys[i] as string);
      gets++;
    } else {
      setOp(keys[i] as string, p);
    }
    p = (p + 1) & (len - 1);
  }
}

// Warm-up before the start signal: JIT tiers up, caches fill. Why:
// every run starts fresh workers, and on a busy box the cold phase of two workers otherwise
// eats a large part of a short measuring window.
for (let w = 0, n = job.durationMs < 1000 ? 64 : 256; w < n; w++) batch();
gets = 0;
const base = counters();

Atomics.add(ctl, 0, 1);
Atomics.notify(ctl, 0);
Atomics.wait(ctl, 1, 0);

let ops = 0;
const t0 = performance.now();
let t = t0;
while (t - t0 < job.durationMs) {
  batch();
  ops += 1024;
  t = performance.now();
}
const end = counters();
const result: WorkerResult = {
  ops,
  gets,
  ms: t - t0,
  readRetries: end.readRetries - base.readRetries,
  lockedReads: end.lockedReads - base.lockedReads,
  lockWaits: end.lockWaits - base.lockWaits,
};
port.postMessage(result);
