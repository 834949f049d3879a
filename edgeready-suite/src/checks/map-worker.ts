// Worker thread of ER-MAP-WORKERS: attaches to the SharedShardedMap the check created and
// runs one task on it, then posts its counts.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedShardedMap } from '@edgeflow/sharded-map';

const record = { a: 'f64', b: 'f64', c: 'f64', n: 'u32' } as const;

interface Job {
  buffer: SharedArrayBuffer;
  /** Int32 flag: writers set it to the number of finished writers. */
  control: SharedArrayBuffer;
  task: 'disjoint' | 'cas' | 'reader';
  id: number;
  n: number;
  writers: number;
}

const job = workerData as Job;
const map = SharedShardedMap.attach(job.buffer, { record });
const flag = new Int32Array(job.control);
const rec = { a: 0, b: 0, c: 0, n: 0 };
let reads = 0;
let torn = 0;

if (job.task === 'disjoint') {
  for (let i = 1; i <= job.n; i++) {
    // A consistent record: b = 2a, c = -a; a reader seeing anything else saw a torn write.
    map.set(`w${job.id}/k${i % 512}`, { a: i, b: 2 * i, c: -i, n: i });
  }
  Atomics.add(flag, 0, 1);
} else if (job.task === 'cas') {
  for (let i = 0; i < job.n; i++) {
    const key = `ctr/${i % 4}`;
    for (;;) {
      const present = map.get(key, rec);
      // When get() returns false, `rec` still holds the previous key's record: count from 0.
      // (Deriving from it made a worker that overtook the other insert ctr/k one too high.)
      const x = present ? rec.a + 1 : 1;
      const next = { a: x, b: 2 * x, c: -x, n: x };
      if (map.compareAndSet(key, present ? { ...rec } : undefined, next)) break;
    }
  }
  Atomics.add(flag, 0, 1);
} else {
  while (Atomics.load(flag, 0) < job.writers) {
    for (let w = 0; w < 2; w++) {
      for (let k = 0; k < 512; k += 7) {
        if (map.get(`w${w}/k${k}`, rec)) {
          reads++;
          if (rec.b !== 2 * rec.a || rec.c !== -rec.a || rec.n !== rec.a) torn++;
        }
      }
    }
  }
}
parentPort?.postMessage({ reads, torn, retries: map.counters().readRetries });
map.close();
