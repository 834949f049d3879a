import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { type SharedMapCounters, SharedShardedMap } from '../../src/index.js';

// Stress test of the shard locks under CPU contention: more worker threads than cores (the CI
// box has 2), and lock holders that sleep inside the critical section, longer than
// lockTimeoutMs, as a thread descheduled by a loaded scheduler does. A live holder must never
// lose its lock: every increment is applied exactly once, no handle recovers a shard, no
// release reports a lost lock, no reader sees a torn record.
const record = { a: 'f64', b: 'f64', c: 'f64', n: 'u32' } as const;
const script = new URL('./fixtures/stress-worker.js', import.meta.url);

interface Reply {
  lockLost?: number;
  torn?: number;
  reads?: number;
  counters: SharedMapCounters;
}

async function run(
  incrementers: number,
  n: number,
  opts: { shards: number; keys: number; pauseEvery: number; pauseMs: number; lease: number },
): Promise<{ sum: number; lockLost: number; recoveries: number; torn: number; reads: number }> {
  const map = new SharedShardedMap({
    capacity: 64,
    shards: opts.shards,
    record,
    lockTimeoutMs: opts.lease,
  });
  const control = new SharedArrayBuffer(8);
  const common = { buffer: map.buffer, control, n, incrementers, ...opts };
  const workers = [
    new Worker(script, { workerData: { ...common, task: 'reader' } }),
    ...Array.from(
      { length: incrementers },
      () => new Worker(script, { workerData: { ...common, task: 'cas' } }),
    ),
  ];
  const replies = await Promise.all(
    workers.map(async (w) => {
      const [msg] = (await once(w, 'message')) as [Reply];
      await w.terminate();
      return msg;
    }),
  );
  const out = { a: 0, b: 0, c: 0, n: 0 };
  let sum = 0;
  for (let k = 0; k < opts.keys; k++) if (map.get(`ctr/${k}`, out)) sum += out.n;
  map.close();
  return {
    sum,
    lockLost: replies.reduce((s, r) => s + (r.lockLost ?? 0), 0),
    recoveries: replies.reduce((s, r) => s + r.counters.recoveries, 0),
    torn: replies.reduce((s, r) => s + (r.torn ?? 0), 0),
    reads: replies[0]?.reads ?? 0,
  };
}

test('CAS increments from 4 workers on 2 cores, holders pausing past the lease, apply once', async () => {
  const n = 400;
  const r = await run(4, n, { shards: 1, keys: 3, pauseEvery: 20, pauseMs: 30, lease: 10 });
  assert.deepEqual(
    { sum: r.sum, lockLost: r.lockLost, recoveries: r.recoveries, torn: r.torn },
    { sum: 4 * n, lockLost: 0, recoveries: 0, torn: 0 },
  );
  assert.ok(r.reads > 0);
});

test('CAS increments from 6 workers over 2 shards with short pauses apply once', async () => {
  const n = 600;
  const r = await run(6, n, { shards: 2, keys: 4, pauseEvery: 50, pauseMs: 5, lease: 1 });
  assert.deepEqual(
    { sum: r.sum, lockLost: r.lockLost, recoveries: r.recoveries, torn: r.torn },
    { sum: 6 * n, lockLost: 0, recoveries: 0, torn: 0 },
  );
});
