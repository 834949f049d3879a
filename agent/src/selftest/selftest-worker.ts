// Worker thread of the shared-map self-test: attaches to the agent's SharedShardedMap and runs
// one task on the self-test's own keys, then posts its counts.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { SharedShardedMap } from '@edgeflow/sharded-map';
import { counterOf, recordFor } from './record-codec.js';
import { C, type Job } from './selftest-protocol.js';

type MapClass = typeof SharedShardedMap;
const job = workerData as Job;
const mod = (await import(job.mapModule ?? '@edgeflow/sharded-map')) as {
  SharedShardedMap: MapClass;
};
const ctl = new Int32Array(job.control);
const key = (k: number, w = job.id): string => `${job.prefix}w${w}/k${k}`;
const probeKey = `${job.prefix}probe`;

// The probe writer holds its write open (shard lock held, sequence odd) until the reader says
// its read returned, or holdMs: a reader that returns meanwhile read a record being written.
const hook =
  job.task === 'probe-writer'
    ? (step: 'mid-write' | 'end-write' | 'mid-record'): void => {
        if (step !== 'mid-write') return;
        Atomics.store(ctl, C.readDone, 0);
        Atomics.store(ctl, C.inWrite, 1);
        Atomics.notify(ctl, C.inWrite);
        Atomics.wait(ctl, C.readDone, 0, job.holdMs);
        Atomics.store(ctl, C.inWrite, 0);
      }
    : undefined;
const map = mod.SharedShardedMap.attach(
  job.buffer,
  { record: job.layout },
  {
    threadId,
    ...(hook ? { inCriticalSection: hook } : {}),
  },
);
const out = {} as Record<string, number>;
let reads = 0;
let torn = 0;

if (job.task === 'disjoint') {
  for (let i = 1; i <= job.n; i++) map.set(key(i % job.keys), recordFor(job.layout, i));
  Atomics.add(ctl, C.writers, 1);
} else if (job.task === 'cas') {
  for (let i = 0; i < job.n; i++) {
    const k = `${job.prefix}ctr/${i % 4}`;
    for (;;) {
      const present = map.get(k, out);
      const cur = present ? counterOf(job.layout, out) : 0;
      if (cur === undefined) {
        torn++;
        continue;
      }
      const expected = present ? { ...out } : undefined;
      if (map.compareAndSet(k, expected, recordFor(job.layout, cur + 1))) break;
    }
  }
  Atomics.add(ctl, C.writers, 1);
} else if (job.task === 'reader') {
  while (Atomics.load(ctl, C.writers) < job.writers) {
    for (let w = 0; w < 2; w++)
      for (let k = 0; k < job.keys; k += 7)
        if (map.get(key(k, w), out)) {
          reads++;
          if (counterOf(job.layout, out) === undefined) torn++;
        }
  }
} else if (job.task === 'probe-writer') {
  // Insert first: the map reports 'mid-write' for in-place updates (an insert publishes its
  // slot last and is invisible until then), so every probe round updates an existing record.
  map.set(probeKey, recordFor(job.layout, 0));
  for (let r = 1; r <= job.n; r++) {
    // Wait for the reader to be ready for this round, then write (the hook holds it open).
    while (Atomics.load(ctl, C.round) !== r) Atomics.wait(ctl, C.round, r - 1, 50);
    map.set(probeKey, recordFor(job.layout, r));
  }
} else {
  for (let r = 1; r <= job.n; r++) {
    Atomics.store(ctl, C.round, r);
    Atomics.notify(ctl, C.round);
    // Wait until the writer is inside its write, then read: a seqlock reader must not return
    // before the writer leaves.
    while (Atomics.load(ctl, C.inWrite) !== 1) Atomics.wait(ctl, C.inWrite, 0, 50);
    Atomics.add(ctl, C.attempts, 1);
    const present = map.get(probeKey, out);
    if (Atomics.load(ctl, C.inWrite) === 1) {
      Atomics.add(ctl, C.returnedInside, 1);
      Atomics.store(ctl, C.readDone, 1);
      Atomics.notify(ctl, C.readDone);
    }
    if (present && counterOf(job.layout, out) === undefined) torn++;
    // The next round starts once this write is over.
    while (Atomics.load(ctl, C.inWrite) === 1) Atomics.wait(ctl, C.inWrite, 1, 50);
  }
}
parentPort?.postMessage({ reads, torn, retries: map.counters().readRetries });
map.close();
