import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { RecordLayout, SharedShardedMap } from '@edgeflow/sharded-map';
import { counterOf } from './record-codec.js';
import { C, type Job } from './selftest-protocol.js';

/** The cache's shared map, as the self-test sees it. */
export interface SelfTestTarget<L extends RecordLayout = RecordLayout> {
  /** A handle on the map in this thread (the workers attach to its buffer). */
  readonly map: SharedShardedMap<L>;
  readonly layout: L;
  /** A key prefix no sensor can have; the self-test deletes its keys when done. */
  readonly prefix: string;
}

/** Sizes of one self-test (small enough for a periodic EdgeReady round on a busy board). */
export interface SelfTestOptions {
  readonly writes?: number;
  readonly casOps?: number;
  readonly keys?: number;
  readonly probes?: number;
  /** How long the probe writer holds a write open waiting for a reader, ms. */
  readonly probeHoldMs?: number;
  /** Test hook: the module the workers load the map class from (a broken map, in a test). */
  readonly mapModule?: string;
}

/** What POST /v1/selftest/shared-map answers (ER-MAP-WORKERS judges it). */
export interface SelfTestReport {
  readonly kind: 'shared-sharded-map';
  readonly workers: number;
  readonly writesPerWriter: number;
  readonly casOpsPerWorker: number;
  readonly lostUpdates: number;
  readonly casSum: number;
  readonly expectedCasSum: number;
  readonly readerReads: number;
  readonly tornReads: number;
  readonly readRetries: number;
  readonly probe: { readonly attempts: number; readonly returnedInsideWrite: number };
}

interface Reply {
  reads: number;
  torn: number;
  retries: number;
}

const script = new URL('./selftest-worker.js', import.meta.url);

/**
 * Exercises the agent's own SharedShardedMap with worker threads on keys of its own: two
 * disjoint writers (no update may be lost), two compareAndSet incrementers (their sum must be
 * exact), a reader (no torn record), and a seqlock probe: a writer holds a write open (shard
 * lock held, sequence odd) while a reader reads that key; a read that returns before the
 * write ends saw a record being written. The probe is deterministic: it does not rely on a
 * torn read happening to be caught.
 */
export async function runSharedMapSelfTest<L extends RecordLayout>(
  target: SelfTestTarget<L>,
  o: SelfTestOptions = {},
): Promise<SelfTestReport> {
  const writes = o.writes ?? 20_000;
  const casOps = o.casOps ?? 4_000;
  const keys = o.keys ?? 256;
  const probes = o.probes ?? 3;
  const control = new SharedArrayBuffer(4 * 8);
  const start = (task: Job['task'], id: number, n: number): Worker => {
    const job: Job = {
      buffer: target.map.buffer,
      control,
      layout: target.layout,
      prefix: target.prefix,
      task,
      id,
      n,
      keys,
      writers: 4,
      holdMs: o.probeHoldMs ?? 500,
      ...(o.mapModule ? { mapModule: o.mapModule } : {}),
    };
    const w = new Worker(script, { workerData: job });
    // A worker that dies inside a shard lock must not stall that shard for the others.
    const tid = w.threadId;
    w.once('exit', () => {
      try {
        target.map.releaseThread(tid);
      } catch {
        /* nothing to recover */
      }
    });
    return w;
  };
  const workers = [
    start('reader', 9, 0),
    start('disjoint', 0, writes),
    start('disjoint', 1, writes),
    start('cas', 0, casOps),
    start('cas', 1, casOps),
    start('probe-writer', 0, probes),
    start('probe-reader', 0, probes),
  ];
  const replies = await Promise.all(
    workers.map(async (w) => {
      const [msg] = (await once(w, 'message')) as [Reply];
      await w.terminate();
      return msg;
    }),
  );
  const { lost, casSum } = countResults(target, writes, keys);
  const ctl = new Int32Array(control);
  const report: SelfTestReport = {
    kind: 'shared-sharded-map',
    workers: workers.length,
    writesPerWriter: writes,
    casOpsPerWorker: casOps,
    lostUpdates: lost,
    casSum,
    expectedCasSum: 2 * casOps,
    readerReads: replies[0]?.reads ?? 0,
    tornReads: replies.reduce((a, r) => a + r.torn, 0),
    readRetries: replies.reduce((a, r) => a + r.retries, 0),
    probe: {
      attempts: Atomics.load(ctl, C.attempts),
      returnedInsideWrite: Atomics.load(ctl, C.returnedInside),
    },
  };
  removeKeys(target, keys);
  return report;
}

/** Updates lost by the disjoint writers, and the sum of the CAS counters, read back. */
function countResults<L extends RecordLayout>(
  target: SelfTestTarget<L>,
  writes: number,
  keys: number,
): { lost: number; casSum: number } {
  const out = {} as Record<string, number>;
  // undefined: absent; NaN: present but torn (its fields disagree).
  const read = (key: string): number | undefined =>
    target.map.get(`${target.prefix}${key}`, out as never)
      ? (counterOf(target.layout, out) ?? NaN)
      : undefined;
  let lost = 0;
  for (let w = 0; w < 2; w++)
    for (let k = 0; k < keys; k++) {
      const last = writes - ((writes - k + keys) % keys);
      if (last > 0 && read(`w${w}/k${k}`) !== last) lost++;
    }
  let casSum = 0;
  for (let k = 0; k < 4; k++) casSum += read(`ctr/${k}`) ?? 0;
  return { lost, casSum };
}

/** The self-test leaves none of its keys in the cache. */
function removeKeys<L extends RecordLayout>(target: SelfTestTarget<L>, keys: number): void {
  for (let w = 0; w < 2; w++)
    for (let k = 0; k < keys; k++) target.map.delete(`${target.prefix}w${w}/k${k}`);
  for (let k = 0; k < 4; k++) target.map.delete(`${target.prefix}ctr/${k}`);
  target.map.delete(`${target.prefix}probe`);
}
