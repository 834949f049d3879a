// Calibration worker: the box's own 1 → 2 thread scaling, without any map. `compute` is a
// register-only loop; `shared-reads` does random Atomics.load reads over a shared 16 MiB
// buffer (what a lock-free reader does, minus the map).
import { parentPort, workerData } from 'node:worker_threads';

const job = workerData as {
  kind: 'compute' | 'shared-reads';
  sab: SharedArrayBuffer;
  durationMs: number;
};
const a = new Int32Array(job.sab);
const mask = a.length - 1;
let x = 0;
let ops = 0;
let s = 12345;
const t0 = performance.now();
let t = t0;
while (t - t0 < job.durationMs) {
  if (job.kind === 'compute') {
    for (let i = 0; i < 65536; i++) x = (Math.imul(x, 31) + i) | 0;
  } else {
    for (let i = 0; i < 65536; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      x = (x + Atomics.load(a, s & mask)) | 0;
    }
  }
  ops += 65536;
  t = performance.now();
}
parentPort?.postMessage({ opsPerSec: (ops * 1000) / (t - t0), x });
