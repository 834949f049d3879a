import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { SharedShardedMap } from '@edgeflow/sharded-map';
import { metricSum } from '../agent/agent-http.js';
import { fail, pass, type CheckImpl } from './types.js';

const record = { a: 'f64', b: 'f64', c: 'f64', n: 'u32' } as const;
const script = new URL('./map-worker.js', import.meta.url);

interface Reply {
  reads: number;
  torn: number;
  retries: number;
}

/** Sizes of one ER-MAP-WORKERS round (small enough for a periodic round on a busy board). */
export interface MapLoad {
  readonly writes: number;
  readonly casOps: number;
}

/** ER-MAP-WORKERS: two disjoint writers, two CAS incrementers and a reader on one shared map. */
export function mapWorkersCheck(load: MapLoad = { writes: 20_000, casOps: 4_000 }): CheckImpl {
  return async () => {
    const map = new SharedShardedMap({ capacity: 4096, shards: 16, record, maxOwners: 16 });
    const control = new SharedArrayBuffer(4);
    const start = (task: string, id: number, n: number): Worker => {
      const w = new Worker(script, {
        workerData: { buffer: map.buffer, control, task, id, n, writers: 4 },
      });
      // A worker that dies inside a shard lock must not stall that shard for the others.
      const threadId = w.threadId;
      w.once('exit', () => {
        try {
          map.releaseThread(threadId);
        } catch {
          // the check already closed the map: nothing left to recover
        }
      });
      return w;
    };
    const workers = [
      start('reader', 9, 0),
      start('disjoint', 0, load.writes),
      start('disjoint', 1, load.writes),
      start('cas', 0, load.casOps),
      start('cas', 1, load.casOps),
    ];
    const replies = await Promise.all(
      workers.map(async (w) => {
        const [msg] = (await once(w, 'message')) as [Reply];
        await w.terminate();
        return msg;
      }),
    );
    const out = { a: 0, b: 0, c: 0, n: 0 };
    let lost = 0;
    for (let w = 0; w < 2; w++) {
      for (let k = 0; k < 512; k++) {
        const last = load.writes - ((load.writes - k + 512) % 512);
        if (last <= 0) continue;
        if (!map.get(`w${w}/k${k}`, out) || out.a !== last) lost++;
      }
    }
    let casSum = 0;
    for (let k = 0; k < 4; k++) if (map.get(`ctr/${k}`, out)) casSum += out.a;
    const expectedCas = 2 * load.casOps;
    const torn = replies.reduce((a, r) => a + r.torn, 0);
    const ev = {
      workers: workers.length,
      writesPerWriter: load.writes,
      casOpsPerWorker: load.casOps,
      lostUpdates: lost,
      casSum,
      expectedCasSum: expectedCas,
      readerReads: replies[0]?.reads ?? 0,
      tornReads: torn,
      readRetries: replies.reduce((a, r) => a + r.retries, 0),
      size: map.size,
    };
    map.close();
    if (lost > 0 || casSum !== expectedCas || torn > 0)
      return fail(
        `${lost} lost update(s), CAS sum ${casSum}/${expectedCas}, ${torn} torn read(s)`,
        ev,
      );
    return pass(
      `5 workers: no lost update, CAS sum ${casSum} exact, ${ev.readerReads} reads none torn`,
      ev,
    );
  };
}

/** ER-MAP-AGENT-CACHE: listing, gauge and single reads agree under load. */
export const agentCacheCheck: CheckImpl = async (ctx) => {
  const m1 = metricSum(await ctx.agent.metrics(), 'edgeflow_cache_entries');
  const all = await ctx.agent.sensors();
  const m2 = metricSum(await ctx.agent.metrics(), 'edgeflow_cache_entries');
  const sample = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / 16)) === 0);
  const mismatches: string[] = [];
  for (const r of sample) {
    const one = await ctx.agent.sensor(r.key);
    if (!one) mismatches.push(`${r.key}: listed but GET answers 404`);
    else if (one.seq < r.seq) mismatches.push(`${r.key}: GET seq ${one.seq} < listed ${r.seq}`);
  }
  const ev = {
    listed: all.length,
    gaugeBefore: m1 ?? null,
    gaugeAfter: m2 ?? null,
    sampled: sample.length,
    mismatches,
  };
  if (m1 === undefined || m2 === undefined)
    return fail('edgeflow_cache_entries is not exported', ev);
  // Keys can only be added between the reads (none are deleted during a run).
  if (all.length < m1 || all.length > m2)
    mismatches.push(`listing has ${all.length} keys, gauge went ${m1} -> ${m2}`);
  return mismatches.length > 0
    ? fail(`${mismatches.length} inconsistency(ies): ${mismatches[0]}`, ev)
    : pass(`${all.length} keys listed = gauge; ${sample.length} single reads agree`, ev);
};
