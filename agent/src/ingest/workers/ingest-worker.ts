// The script each ingest worker thread runs (see worker-pool.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerInit } from './protocol.js';
import { runIngestWorker } from './worker-runtime.js';

if (parentPort === null) throw new Error('ingest-worker.js runs in a worker thread');
await runIngestWorker(workerData as WorkerInit, parentPort);
