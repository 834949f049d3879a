/**
 * Ingest benchmark: QoS 2 publishers (mqtt.js, in this process) -> embedded broker -> cache.
 * Modes: (a) durable (write-ahead log, group commit) and (b) in-memory; 1 and 10 publishers.
 * Prints msg/s, p50/p99 publish->cache latency and CPU µs/msg (of the whole process, so it
 * includes the publishers), and the ratio durable / in-memory from the same run.
 * `node dist/bench/ingest.bench.js [--quick]` (quick: 4k messages per case).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import pino from 'pino';
import { EmbeddedBroker } from '../src/broker/embedded-broker.js';
import { DurablePersistence } from '../src/broker/durable-persistence.js';
import { SensorCache } from '../src/cache/sensor-cache.js';
import type { Reading, ReadingInput } from '../src/cache/reading.js';
import { SnapshotStore } from '../src/cache/snapshot.js';
import { DurableIngest } from '../src/ingest/durable-ingest.js';
import { IngestPipeline } from '../src/ingest/pipeline.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { DurableLog } from '../src/wal/durable-log.js';

const quick = process.argv.includes('--quick');
const TOTAL = quick ? 4000 : 200_000;
const WINDOW = 100;
const log = pino({ level: 'silent' });

/** Records publish->cache latency: the payload's value is the send time (performance.now()). */
class TimedCache extends SensorCache {
  latencies: number[] = [];
  override store(key: string, input: ReadingInput, receivedAt?: number): Reading {
    this.latencies.push(performance.now() - (input.value as number));
    return super.store(key, input, receivedAt);
  }
}

interface Result {
  rate: number;
  p50: number;
  p99: number;
  cpuUs: number;
}

async function runCase(durable: boolean, publishers: number): Promise<Result> {
  const dir = await mkdtemp(join(tmpdir(), 'ef-bench-'));
  const cache = new TimedCache({ shards: 64 });
  const metrics = createMetrics({
    cacheSize: () => 0,
    mqttClients: () => 0,
    defaultMetrics: false,
  });
  const pipeline = new IngestPipeline(
    { sensorPrefix: 'sensors', maxPayloadBytes: 65536, rejectLogWindowSec: 60 } as never,
    { cache, metrics, log, now: Date.now, deadLetter: () => undefined },
  );
  let wal: DurableLog | undefined;
  let persistence: DurablePersistence | undefined;
  let ingest: DurableIngest | undefined;
  if (durable) {
    wal = (
      await DurableLog.open(
        { dir: join(dir, 'wal'), maxSegmentBytes: 64 << 20 },
        { cache, snapshots: new SnapshotStore(dir), log, now: Date.now },
      )
    ).durable;
    persistence = new DurablePersistence({ durable: wal });
    ingest = new DurableIngest(
      { pipeline, durable: wal, persistence, metrics, log, now: Date.now },
      60_000,
    );
  }
  cache.latencies = [];
  const broker = await EmbeddedBroker.start(
    { host: '127.0.0.1', port: 0, maxConnections: 100 },
    {
      log,
      ...(persistence ? { persistence } : {}),
      onPublish: (topic, payload, clientId, info) => {
        if (ingest) return ingest.handle(topic, payload, clientId, info);
        pipeline.handle(topic, payload, `mqtt:${clientId}`);
        return undefined;
      },
    },
  );
  const url = `mqtt://127.0.0.1:${broker.address.port}`;
  const clients = await Promise.all(
    Array.from({ length: publishers }, (_, i) =>
      mqtt.connectAsync(url, { clientId: `bench-${i}`, protocolVersion: 4, reconnectPeriod: 0 }),
    ),
  );
  const per = Math.floor(TOTAL / publishers);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    clients.map(
      (c, i) =>
        new Promise<void>((resolve, reject) => {
          let sent = 0;
          let done = 0;
          const pump = () => {
            while (sent < per && sent - done < WINDOW) {
              sent++;
              c.publish(
                `sensors/b${i}/s${sent % 100}`,
                String(performance.now()),
                { qos: 2 },
                (err) => {
                  if (err) return reject(err);
                  if (++done === per) resolve();
                  else pump();
                },
              );
            }
          };
          pump();
        }),
    ),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await Promise.all(clients.map((c) => c.endAsync()));
  await broker.close();
  await wal?.close();
  await rm(dir, { recursive: true, force: true });
  const lat = cache.latencies.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  const n = per * publishers;
  return { rate: n / secs, p50: q(0.5), p99: q(0.99), cpuUs: (cpu.user + cpu.system) / n };
}

const fmt = (r: Result) =>
  `${r.rate.toFixed(0).padStart(8)} msg/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms  ${r.cpuUs.toFixed(0).padStart(5)} µs/msg`;

process.stdout.write(`ingest bench: ${TOTAL} QoS 2 messages per case, window ${WINDOW}\n`);
for (const pubs of [1, 10]) {
  const mem = await runCase(false, pubs);
  process.stdout.write(`(b) in-memory, ${pubs} publisher(s): ${fmt(mem)}\n`);
  const dur = await runCase(true, pubs);
  process.stdout.write(`(a) durable,   ${pubs} publisher(s): ${fmt(dur)}\n`);
  process.stdout.write(`    ratio durable/in-memory msg/s: ${(dur.rate / mem.rate).toFixed(2)}\n`);
}
