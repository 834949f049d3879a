/**
 * The system under test of the ingest benchmark, one per child process (fresh heap and JIT per
 * case; its CPU time is the "agent CPU" reported, publishers are other processes):
 *
 * - `durable` / `memory`: the real Agent (config as in production, HAL off), ingest.durability
 *   `wal` or `memory`; latency is measured where the reading is stored into the cache.
 * - `aedes-memory`: aedes 1.2 with its in-memory persistence and an in-process consumer (the
 *   `published` hook decodes and stores into a Map): the ceiling of the aedes design.
 * - `aedes-level`: the same with aedes-persistence-level (LevelDB, the only on-disk aedes
 *   persistence that needs no other server).
 * - `mqtt-sub`: an mqtt.js QoS 2 subscriber (clean: false) of an external broker (mosquitto).
 *
 * IPC: child -> {ready, port}; parent -> {reset, expect, memStages}; child -> {done, cpuUs, p50,
 * p99, p999, endUs, n, rss, heapUsed, stages?, wal?} once `expect` readings arrived (`endUs`: monotonic
 * time of the last reading; `stages`: memory breakdown, see ingest-memory.ts; `wal`: group commits of the durable agent
 * in total, over 10 ms and over 100 ms, from its edgeflow_wal_fsync_seconds histogram);
 * parent -> {stop}.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import mqtt from 'mqtt';
import pino from 'pino';
import { Agent } from '../src/lifecycle/agent.js';
import { validateConfig } from '../src/config/load.js';
import type { ReadingInput } from '../src/cache/reading.js';
import { memStage, type MemStage } from './ingest-memory.js';

type Kind = 'durable' | 'memory' | 'aedes-memory' | 'aedes-level' | 'mqtt-sub';
const kind = process.argv[2] as Kind;
const extUrl = process.argv[3];
const require = createRequire(import.meta.url);
/** When set, a CPU profile of the measured interval only (not start-up) is written there. */
const profileDir = process.env.EF_BENCH_PROFILE;
let session: Session | undefined;

/**
 * Latencies in µs, allocated at reset for the expected count (so that recording costs no
 * allocation, and the RSS runs do not carry a buffer sized for the largest case).
 */
let lat = new Float64Array(1);
let n = 0;
let expect = Infinity;
let cpu0 = process.cpuUsage();
let lastUs = 0;
let wantStages = false;
const stages: MemStage[] = [];
let peakRss = 0;
let peakTimer: NodeJS.Timeout | undefined;
/** The durable agent's WAL group-commit histogram (its own metric), for the measured interval. */
let walStats:
  | {
      reset: () => void;
      read: () => Promise<{ commits: number; over10ms: number; over100ms: number }>;
    }
  | undefined;

function record(payloadValue: number): void {
  lastUs = Number(process.hrtime.bigint() / 1000n);
  lat[n % lat.length] = lastUs - payloadValue;
  if (++n === expect) finish();
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function finish(): void {
  const c = process.cpuUsage(cpu0);
  const endUs = lastUs;
  if (peakTimer !== undefined) clearInterval(peakTimer);
  if (wantStages) stages.push(memStage('end of burst (no GC)'));
  const sorted = lat.subarray(0, Math.min(n, lat.length)).sort();
  const q = (p: number) =>
    (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN) / 1000;
  const stats = { p50: q(0.5), p99: q(0.99), p999: q(0.999) };
  void (async () => {
    // Settle before measuring memory: the last acknowledgements are still being written.
    await sleep(200);
    await stopProfile();
    const wal = await walStats?.read();
    gc();
    // V8 releases the pages a GC freed from a background thread: reading right after gc()
    // catches it half-way (rss, smaps and /proc/self/status then disagree by tens of MiB).
    await sleep(500);
    const m = process.memoryUsage();
    if (wantStages) {
      stages.push(memStage('+0.7 s, after GC'));
      // Idle: V8's memory reducer and glibc's trimming get their chance.
      await sleep(5000);
      gc();
      await sleep(500);
      stages.push(memStage('+6 s idle, after GC'));
      // The sampler may miss the top (it runs between busy turns): the end of the burst counts.
      const top = Math.max(peakRss, ...stages.map((st) => st.rss));
      stages.push({ ...memStage('peak (RSS only; sampled every 100 ms)'), rss: top });
    }
    process.send?.({
      done: true,
      n,
      cpuUs: c.user + c.system,
      ...stats,
      endUs,
      rss: m.rss,
      heapUsed: m.heapUsed,
      ...(wantStages ? { stages } : {}),
      ...(wal !== undefined ? { wal } : {}),
    });
  })();
}

/** Parses the bench payload `{"v":<µs>,...}` the cheap way (the consumer's own decode is timed). */
function sendTime(payload: Uint8Array): number {
  return (JSON.parse(Buffer.from(payload).toString()) as { v: number }).v;
}

async function startProfile(): Promise<void> {
  if (profileDir === undefined) return;
  session = new Session();
  session.connect();
  if (process.env.EF_BENCH_HEAP === '1') {
    // Allocation sites, including objects a scavenge already collected (GC pressure).
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    return;
  }
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}

async function stopProfile(): Promise<void> {
  if (session === undefined || profileDir === undefined) return;
  if (process.env.EF_BENCH_HEAP === '1') {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    await writeFile(
      join(profileDir, `${kind}-${process.pid}.heapprofile`),
      JSON.stringify(profile),
    );
  } else {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(join(profileDir, `${kind}-${process.pid}.cpuprofile`), JSON.stringify(profile));
  }
  session.disconnect();
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startAgent(
  durability: 'wal' | 'memory',
): Promise<{ port: number; stop: () => Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ef-bench-'));
  const config = validateConfig(
    {
      dataDir,
      log: { level: 'warn' },
      mqtt: { listen: { port: await freePort() }, maxConnections: 1000 },
      http: { listen: { port: await freePort() } },
      cache: { snapshotIntervalSec: 0 },
      hal: { board: 'sim', demo: false },
      attestation: { enabled: false },
      ingest: { durability },
    },
    'bench',
  );
  const agent = await Agent.start(config, {
    log: pino({ level: 'warn' }),
    now: Date.now,
    notifier: { active: false, ready() {}, stopping() {}, watchdog() {}, status() {} },
    env: {},
    pid: process.pid,
    defaultMetrics: true,
  });
  // Measure where the reading lands in the cache (after the fsync on the durable path).
  const cache = agent.cache;
  const store = cache.store.bind(cache);
  cache.store = (key: string, input: ReadingInput, at?: number) => {
    const r = store(key, input, at);
    record(input.value as number);
    return r;
  };
  const fsyncHist = agent.metrics.walFsyncSeconds;
  walStats = {
    reset: () => fsyncHist.reset(),
    read: async () => {
      // Cumulative buckets (le) -> group commits in total, over 10 ms, over 100 ms.
      const { values } = await fsyncHist.get();
      const le = (b: number) =>
        values.find((v) => v.metricName?.endsWith('_bucket') === true && v.labels.le === b)
          ?.value ?? 0;
      const n = values.find((v) => v.metricName?.endsWith('_count') === true)?.value ?? 0;
      return { commits: n, over10ms: n - le(0.01), over100ms: n - le(0.1) };
    },
  };
  return {
    port: agent.addresses.mqtt?.port ?? 0,
    stop: async () => {
      await agent.stop('bench done');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function startAedes(level: boolean): Promise<{ port: number; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ef-bench-aedes-'));
  let persistence: unknown;
  let db: { close(): Promise<void> } | undefined;
  if (level) {
    const { Level } = require('level') as { Level: new (p: string) => { close(): Promise<void> } };
    const AsyncLevel = require('aedes-persistence-level/asyncPersistence.js') as new (
      db: unknown,
    ) => unknown;
    db = new Level(join(dir, 'db'));
    persistence = new AsyncLevel(db);
  }
  const cache = new Map<string, { v: number; u: string | undefined; seq: number }>();
  const aedes = await Aedes.createBroker({
    ...(persistence !== undefined ? { persistence } : {}),
    published(packet: AedesPublishPacket, client: Client | null, done: (e?: Error | null) => void) {
      if (client === null) return done(null);
      const doc = JSON.parse(Buffer.from(packet.payload as Uint8Array).toString()) as {
        v: number;
        u?: string;
      };
      const prev = cache.get(packet.topic);
      cache.set(packet.topic, { v: doc.v, u: doc.u, seq: (prev?.seq ?? 0) + 1 });
      record(doc.v);
      done(null);
    },
  });
  const server = createServer({ noDelay: true }, aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    stop: async () => {
      server.close();
      await new Promise<void>((r) => aedes.close(() => r()));
      await db?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function startSubscriber(url: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const client = await mqtt.connectAsync(url, {
    clientId: 'bench-sub',
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const cache = new Map<string, number>();
  client.on('message', (topic, payload) => {
    const v = sendTime(payload);
    cache.set(topic, v);
    record(v);
  });
  await client.subscribeAsync('sensors/#', { qos: 2 });
  return { port: 0, stop: () => client.endAsync() };
}

const sut =
  kind === 'durable' || kind === 'memory'
    ? await startAgent(kind === 'durable' ? 'wal' : 'memory')
    : kind === 'mqtt-sub'
      ? await startSubscriber(extUrl ?? 'mqtt://127.0.0.1:1883')
      : await startAedes(kind === 'aedes-level');

process.on(
  'message',
  (m: { reset?: boolean; expect?: number; memStages?: boolean; stop?: boolean }) => {
    if (m.reset === true) {
      n = 0;
      expect = m.expect ?? Infinity;
      lat = new Float64Array(Math.min(Number.isFinite(expect) ? expect : 1 << 21, 1 << 21));
      wantStages = m.memStages === true;
      walStats?.reset();
      if (wantStages) {
        gc();
        stages.push(memStage('started, before the first message (after GC)'));
        peakRss = process.memoryUsage.rss();
        peakTimer = setInterval(() => {
          peakRss = Math.max(peakRss, process.memoryUsage.rss());
        }, 100);
      }
      void startProfile().then(() => {
        cpu0 = process.cpuUsage();
        process.send?.({ started: true });
      });
    }
    if (m.stop === true) {
      void sut.stop().finally(() => process.exit(0));
    }
  },
);
(globalThis as { gc?: () => void }).gc?.();
process.send?.({ ready: true, port: sut.port, rss: process.memoryUsage().rss });
