/**
 * How well this machine runs two threads at once, measured the moment the benchmark runs: an
 * ingest-like loop (JSON.parse of a small payload, a Map write, a few short-lived objects) on
 * one worker thread, then on two at once, for the same time. On a shared or oversubscribed
 * machine two busy threads do not get twice the work done, and each operation costs more CPU;
 * the ratios bound what any two-thread figure of the same run can show (workers.bench.ts).
 */
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';

const LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const m = new Map();
const payloads = Array.from({ length: 64 }, (_, i) => '{"v":' + (i / 2) + ',"u":"Cel","t":' + (1700000000000 + i) + '}');
const end = Date.now() + workerData.ms;
const cpu0 = process.threadCpuUsage();
let ops = 0;
while (Date.now() < end) {
  for (let i = 0; i < 1000; i++) {
    const r = JSON.parse(payloads[i & 63]);
    m.set('k' + (i & 1023), { value: r.v, unit: r.u, ts: r.t, seq: ops + i });
  }
  ops += 1000;
}
const c = process.threadCpuUsage(cpu0);
parentPort.postMessage({ ops, cpuUs: c.user + c.system });
`;

async function run(
  threads: number,
  ms: number,
): Promise<{ opsPerSec: number; cpuNsPerOp: number }> {
  const ws = Array.from(
    { length: threads },
    () => new Worker(LOOP, { eval: true, workerData: { ms } }),
  );
  const res = (await Promise.all(ws.map((w) => once(w, 'message')))) as [
    { ops: number; cpuUs: number },
  ][];
  await Promise.all(ws.map((w) => w.terminate()));
  const ops = res.reduce((a, [r]) => a + r.ops, 0);
  const cpu = res.reduce((a, [r]) => a + r.cpuUs, 0);
  return { opsPerSec: (ops * 1000) / ms, cpuNsPerOp: (cpu * 1000) / ops };
}

/** Two threads vs one: throughput ratio and CPU-per-operation ratio. */
export async function calibrateThreads(
  ms = 2000,
): Promise<{ throughput: number; cpuPerOp: number }> {
  const one = await run(1, ms);
  const two = await run(2, ms);
  return { throughput: two.opsPerSec / one.opsPerSec, cpuPerOp: two.cpuNsPerOp / one.cpuNsPerOp };
}
