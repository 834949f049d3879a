import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import { SessionHost } from '../../broker/cluster/session-host.js';
import type { DurablePersistence } from '../../broker/durable-persistence.js';
import type { MemoryPersistence } from '../../broker/memory-persistence.js';
import type { SensorCache } from '../../cache/sensor-cache.js';
import type { AgentConfig } from '../../config/schema.js';
import { AgentError, errorCatalog, type AgentErrorCode } from '../../errors.js';
import type { BrokerUnit } from '../../lifecycle/context.js';
import { SharedCounters } from '../../metrics/shared-counters.js';
import { violationLogBuffer } from '../../broker/security.js';
import { pipelineLogBuffer } from '../pipeline.js';
import type { DurableLog } from '../../wal/durable-log.js';
import { Channel } from './channel.js';
import type { MainApi, WorkerApi, WorkerInit, WorkerReady } from './protocol.js';
import type { LogBatch } from './worker-log.js';

export interface IngestWorkersDeps {
  config: AgentConfig;
  count: number;
  cache: SensorCache;
  /** The write-ahead log (ingest.durability = wal). */
  durable: DurableLog | undefined;
  /** The session store: DurablePersistence over `durable`, or MemoryPersistence. */
  persistence: MemoryPersistence;
  log: Logger;
  now: () => number;
  device: string;
  /** Commands (`edgeflow/<device>/...`) received by a worker. */
  command: (topic: string, payload: Uint8Array, clientId: string, user: string | null) => void;
  /** The upstream bridge's outbox (undefined: not bridged). */
  offer: (topic: string, payload: Uint8Array) => Promise<void> | undefined;
  /** A worker failed: crash-only, the agent exits at once (docs/ingest.md). */
  failed: (index: number, err: Error) => void;
  onSessionExpired?: () => void;
  script?: URL;
  /** Test hook, see AgentDeps.ingestWorkerPauseMidRecordMs. */
  pauseMidRecordMs?: number;
}

interface Slot {
  index: number;
  worker: Worker;
  channel: Channel<MainApi, WorkerApi>;
  ready: WorkerReady | undefined;
  /** Records acknowledged in this turn, sent as one note. */
  acks: number;
  stopped: boolean;
}

const defaultScript = new URL('./ingest-worker.js', import.meta.url);

/**
 * The ingest workers seen from the main thread: it starts them (the first binds the MQTT port,
 * the others join it with SO_REUSEPORT), writes their log batches into the group commit and
 * acknowledges each after its fsync, serves them the persistent sessions (SessionHost), hands
 * the workers' counters to /metrics, and stops them. To the rest of the agent it is the broker.
 */
export class IngestWorkers implements BrokerUnit {
  readonly counters: SharedCounters;
  readonly #deps: IngestWorkersDeps;
  readonly #slots: Slot[] = [];
  readonly #host: SessionHost;
  readonly #inflightTotal = new SharedArrayBuffer(4);
  readonly #subsEpoch = new SharedArrayBuffer(4);
  readonly #violationLog = violationLogBuffer();
  readonly #rejectLog = pipelineLogBuffer();
  #ackScheduled = false;
  #closing = false;

  private constructor(deps: IngestWorkersDeps) {
    this.#deps = deps;
    this.counters = new SharedCounters(deps.count);
    this.#host = new SessionHost({
      persistence: deps.persistence,
      parked: deps.durable?.incoming ?? new Map<string, Map<number, string>>(),
      links: {
        subsEpoch: new Int32Array(this.#subsEpoch),
        release: (w, c) => this.#slot(w).channel.call('release', c),
        broadcast: (change) => {
          for (const s of this.#slots) if (!s.stopped) s.channel.note('subs', [change]);
        },
      },
      log: deps.log,
      now: deps.now,
      sessionExpirySec: deps.config.mqtt.sessionExpirySec,
      ...(deps.onSessionExpired ? { onSessionExpired: deps.onSessionExpired } : {}),
    });
  }

  static async start(deps: IngestWorkersDeps): Promise<IngestWorkers> {
    const pool = new IngestWorkers(deps);
    try {
      await pool.#start();
    } catch (err) {
      await pool.close().catch(() => undefined);
      throw err;
    }
    deps.durable?.onCut(() => pool.#cut());
    return pool;
  }

  async #start(): Promise<void> {
    const { count, config } = this.#deps;
    await this.#host.init();
    // One port per pair of workers: their cluster emitters talk directly, in order.
    const peers: MessagePort[][] = Array.from({ length: count }, () => []);
    for (let a = 0; a < count; a++)
      for (let b = a + 1; b < count; b++) {
        const ch = new MessageChannel();
        (peers[a] as MessagePort[])[b] = ch.port1;
        (peers[b] as MessagePort[])[a] = ch.port2;
      }
    const loading: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const own = (peers[i] as MessagePort[]).filter((p): p is MessagePort => p !== undefined);
      loading.push(
        this.#spawn({
          index: i,
          workers: count,
          config,
          cache: this.#deps.cache.buffer,
          counters: this.counters.buffer,
          inflightTotal: this.#inflightTotal,
          violationLog: this.#violationLog,
          rejectLog: this.#rejectLog,
          peers: own,
          port: 0,
          tlsPort: undefined,
          // Filled in #spawn, at the moment the worker is registered for subscription changes.
          subs: [],
          subsEpoch: this.#subsEpoch,
          subsEpochAt: 0,
          device: this.#deps.device,
          logLevel: this.#deps.log.level,
          ...(this.#deps.pauseMidRecordMs !== undefined
            ? { pauseMidRecordMs: this.#deps.pauseMidRecordMs }
            : {}),
        }),
      );
    }
    await Promise.all(loading);
    // All loaded; now they listen together. The first binds the port (an ephemeral one when
    // configured 0), the others join it within a message's time.
    const [first, ...rest] = this.#slots;
    const listen = async (s: Slot, port: number, tlsPort: number | undefined) => {
      try {
        s.ready = await s.channel.call('listen', port, tlsPort);
      } catch (err) {
        // The worker's own error (EDGEFLOW_LISTEN_FAILED, ...) with its cause, as if the
        // broker had started on this thread; anything else names the worker.
        const code = (err as { code?: string }).code;
        if (code !== undefined && code in errorCatalog)
          throw new AgentError(code as AgentErrorCode, (err as Error).message, {
            cause: (err as Error).cause,
          });
        throw new AgentError(
          'EDGEFLOW_INGEST_WORKER_FAILED',
          `ingest worker ${s.index}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      return s.ready;
    };
    const fixed = config.mqtt.listen.port !== 0 && (config.mqtt.tls?.port ?? 1) !== 0;
    if (first === undefined) return;
    if (fixed) {
      await Promise.all(
        this.#slots.map((s) => listen(s, config.mqtt.listen.port, config.mqtt.tls?.port)),
      );
      return;
    }
    const bound = await listen(first, config.mqtt.listen.port, config.mqtt.tls?.port);
    await Promise.all(rest.map((s) => listen(s, bound.port, bound.tlsPort)));
  }

  /** Starts worker thread `init.index`; resolves once it loaded (it listens on `listen`). */
  async #spawn(init: WorkerInit): Promise<void> {
    // The replica's snapshot, the worker and its slot (which receives every later change) in one
    // synchronous step: no subscription change can fall between the snapshot and the slot.
    init.subs = this.#host.subscriptions();
    init.subsEpochAt = Atomics.load(new Int32Array(this.#subsEpoch), 0);
    const worker = new Worker(this.#deps.script ?? defaultScript, {
      workerData: init,
      transferList: init.peers,
      name: `ingest-${init.index}`,
    });
    let loaded: () => void = () => undefined;
    const prepared = new Promise<void>((resolve) => (loaded = resolve));
    const slot: Slot = {
      index: init.index,
      worker,
      channel: new Channel<MainApi, WorkerApi>(worker, this.#handlers(init.index, loaded)),
      ready: undefined,
      acks: 0,
      stopped: false,
    };
    this.#slots[init.index] = slot;
    const threadId = worker.threadId;
    worker.on('exit', (code) => this.#exited(slot, threadId, code));
    worker.on('error', (err: Error) => this.#errored(slot, err));
    // Exiting before it loaded.
    const exited = once(worker, 'exit').then(([code]) => {
      throw new AgentError(
        'EDGEFLOW_INGEST_WORKER_FAILED',
        `ingest worker ${init.index} exited with code ${String(code)} while starting`,
      );
    });
    exited.catch(() => undefined);
    await Promise.race([prepared, exited]);
  }

  #handlers(w: number, prepared: () => void): MainApi {
    const { log } = this.#deps;
    const workerLog = log.child({ component: 'ingest-worker', worker: w });
    return {
      ...this.#host.api(w),
      log: (batch) => this.#append(w, batch),
      park: (c, seq, ids) => this.#host.park(w, c, seq, ids),
      command: (topic, payload, clientId, user) =>
        this.#deps.command(topic, payload, clientId, user),
      offer: async (topic, payload) => {
        const p = this.#deps.offer(topic, payload);
        if (p === undefined) return false;
        await p;
        return true;
      },
      logLine: (line) => relayLog(workerLog, line),
      prepared,
    };
  }

  /** A worker's batch into the group commit; acknowledged (in order) after its fsync. */
  #append(w: number, batch: LogBatch): void {
    const slot = this.#slot(w);
    const durable = this.#deps.durable;
    const { bytes, queued, count } = batch;
    if (durable === undefined) {
      slot.channel.note('failed', [count, 'no write-ahead log (ingest.durability: memory)', 'EIO']);
      return;
    }
    durable.writeEncoded(
      bytes,
      () => {
        // The subscribers' queue entries the publishers' records hold: committed, and in the
        // session store's queues before the publisher's worker forwards the message.
        const p = this.#deps.persistence as DurablePersistence;
        for (const q of queued) {
          // Structured clone made the payload a Uint8Array: the session state (and the
          // snapshot, which writes it as base64) needs the Buffer.
          const u = q.pk.payload as Uint8Array;
          if (!Buffer.isBuffer(u)) q.pk.payload = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
          durable.sessions.apply({ t: 'oe', cs: q.cs, pk: q.pk });
          p.enqueueRecorded(q.cs, q.pk);
        }
      },
      (err) => {
        if (slot.stopped && err === undefined) return;
        if (err !== undefined) {
          this.#flushAcks();
          slot.channel.note('failed', [count, err.message, (err as NodeJS.ErrnoException).code]);
          return;
        }
        slot.acks += count;
        this.#scheduleAcks();
      },
    );
  }

  #scheduleAcks(): void {
    if (this.#ackScheduled) return;
    this.#ackScheduled = true;
    // Every batch of one group completes in one loop: one note per worker per group.
    queueMicrotask(() => this.#flushAcks());
  }

  #flushAcks(): void {
    this.#ackScheduled = false;
    for (const s of this.#slots) {
      if (s.acks === 0) continue;
      const n = s.acks;
      s.acks = 0;
      s.channel.note('committed', [n]);
    }
  }

  /** A checkpoint's cut: every worker applies what was acknowledged and tells its clients' ids. */
  async #cut(): Promise<Map<string, Map<number, string>>> {
    this.#flushAcks();
    const out = new Map<string, Map<number, string>>();
    const live = this.#slots.filter((s) => !s.stopped);
    for (const list of await Promise.all(live.map((s) => s.channel.call('cut'))))
      for (const [c, ids] of list) out.set(c, new Map(ids));
    return out;
  }

  #slot(w: number): Slot {
    const s = this.#slots[w];
    if (s === undefined) throw new Error(`no ingest worker ${w}`);
    return s;
  }

  #errored(slot: Slot, err: Error): void {
    // Before it is ready, a failure fails the agent's start instead (see #spawn).
    if (slot.stopped || slot.ready === undefined) return;
    this.#deps.failed(slot.index, err);
  }

  #exited(slot: Slot, threadId: number, code: number): void {
    // Whatever shard locks the thread held are released (readers and writers must not wait on
    // a dead thread), in every case.
    try {
      this.#deps.cache.map.releaseThread(threadId);
    } catch {
      /* the handle may be closed already (the agent stopped) */
    }
    slot.channel.close(new Error(`ingest worker ${slot.index} exited`));
    if (slot.stopped || this.#closing || slot.ready === undefined) return;
    slot.stopped = true;
    this.#deps.failed(
      slot.index,
      new Error(`ingest worker ${slot.index} exited with code ${code}`),
    );
  }

  get address(): AddressInfo {
    const r = this.#slots[0]?.ready;
    return { address: this.#deps.config.mqtt.listen.host, family: 'IPv4', port: r?.port ?? 0 };
  }

  get tlsAddress(): AddressInfo | undefined {
    const p = this.#slots[0]?.ready?.tlsPort;
    return p === undefined
      ? undefined
      : { address: this.#deps.config.mqtt.tls?.host ?? '', family: 'IPv4', port: p };
  }

  get listening(): boolean {
    return (
      this.#slots.length === this.#deps.count &&
      this.#slots.every((s) => s.ready !== undefined && !s.stopped)
    );
  }

  get connectedClients(): number {
    return this.counters.sum('mqtt_clients');
  }

  /** Incoming QoS 2 ids the workers hold (their shared count, exact at any time). */
  get inflightIncoming(): number {
    return Atomics.load(new Int32Array(this.#inflightTotal), 0);
  }

  /** The workers' cache read counters (main adds its own). */
  cacheCounters(): { readRetries: number; lockedReads: number; lockWaits: number } {
    return {
      readRetries: this.counters.sum('cache_read_retries'),
      lockedReads: this.counters.sum('cache_locked_reads'),
      lockWaits: this.counters.sum('cache_lock_waits'),
    };
  }

  publish(topic: string, payload: Buffer, retain = false): void {
    const s = this.#slots.find((x) => !x.stopped);
    s?.channel.note('publish', [topic, payload, retain]);
  }

  /** Stops every worker (listeners, clients, in-flight records); their clients' ids are parked. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#host.close();
    const parked = this.#deps.durable?.incoming;
    await Promise.all(
      this.#slots.map(async (s) => {
        if (s.stopped) return;
        try {
          const ids = await s.channel.call('stop');
          for (const [c, list] of ids) if (list.length > 0) parked?.set(c, new Map(list));
        } finally {
          s.stopped = true;
          await s.worker.terminate();
        }
      }),
    );
  }
}

/** A worker's pino line, written by the main thread's logger (one output, one format). */
function relayLog(log: Logger, line: string): void {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    log.warn({ event: 'ingest.worker_log_unreadable' }, line.slice(0, 200));
    return;
  }
  const { level, msg, time: _t, pid: _p, hostname: _h, ...fields } = rec;
  const name = log.levels.labels[Number(level)] ?? 'info';
  const fn = (log as unknown as Record<string, (o: object, m?: string) => void>)[name];
  fn?.call(log, fields, typeof msg === 'string' ? msg : undefined);
}
