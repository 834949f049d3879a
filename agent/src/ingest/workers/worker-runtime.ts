import type { MessagePort } from 'node:worker_threads';
import pino, { type Logger } from 'pino';
import { ClusterEmitter } from '../../broker/cluster/cluster-emitter.js';
import { WorkerPersistence } from '../../broker/cluster/worker-persistence.js';
import type { SubsChange } from '../../broker/cluster/session-api.js';
import type { EmbeddedBroker } from '../../broker/embedded-broker.js';
import { topicMatches } from '../../bridge/index.js';
import { SensorCache } from '../../cache/sensor-cache.js';
import type { SharedShardedMapDeps } from '@edgeflow/sharded-map';
import { startEmbeddedIngest } from '../../lifecycle/embedded-ingest.js';
import { rowCounters, SharedCounters, type CounterRow } from '../../metrics/shared-counters.js';
import { deadLetterBody } from '../dead-letter.js';
import { IngestPipeline } from '../pipeline.js';
import { Channel, type PortLike } from './channel.js';
import type { MainApi, WorkerApi, WorkerInit, WorkerReady } from './protocol.js';
import { WorkerLog } from './worker-log.js';

/** Stops a worker's runtime: what its clients' committed incoming ids were, for the snapshot. */
export type StopWorker = () => Promise<[string, [number, string][]][]>;

/**
 * One ingest worker: the embedded broker (aedes, on the shared port), decoding, the log
 * records of what it accepts (written by the main thread's log) and the readings in the shared
 * cache. Returns once it listens.
 */
export async function runIngestWorker(
  init: WorkerInit,
  port: PortLike & Pick<MessagePort, 'close'>,
): Promise<void> {
  // The handlers need what is built below; calls only come once the worker said it is ready,
  // but subscription changes come from the moment the main thread registered it.
  let rt: Runtime | undefined;
  const replica = new EarlyChanges();
  // Every worker loads first and listens when the main thread says so, all at once: the kernel
  // only spreads connections over the sockets bound at that moment, so a worker listening a
  // second before the others would take every client that reconnects after a restart.
  let resolveAt: (p: { port: number; tlsPort: number | undefined }) => void = () => undefined;
  const at = {
    promise: new Promise<{ port: number; tlsPort: number | undefined }>((r) => (resolveAt = r)),
    resolve: (p: { port: number; tlsPort: number | undefined }) => resolveAt(p),
  };
  const started: Promise<WorkerReady> = at.promise.then(async ({ port, tlsPort }) => {
    rt = await Runtime.start({ ...init, port, tlsPort }, channel, log, replica);
    return { port: rt.broker.address.port, tlsPort: rt.broker.tlsAddress?.port };
  });
  const channel: Channel<WorkerApi, MainApi> = new Channel<WorkerApi, MainApi>(port, {
    committed: (n) => rt?.log.committed(n),
    failed: (n, message, code) => rt?.log.failed(n, Object.assign(new Error(message), { code })),
    release: (c) => need(rt).release(c),
    subs: (change) => replica.apply(change),
    cut: () => [...need(rt).log.incoming].map(([c, ids]) => [c, [...ids]]),
    publish: (topic, payload, retain) =>
      rt?.broker.publish(
        topic,
        Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
        retain,
      ),
    stop: () => need(rt).stop(),
    listen: (port, tlsPort) => {
      at.resolve({ port, tlsPort });
      return started;
    },
  });
  const log = pino(
    { level: init.logLevel, base: { worker: init.index } },
    { write: (line: string) => channel.note('logLine', [line]) },
  );
  channel.note('prepared', []);
  // A failure goes back as the reply to `listen` (with its code); the thread stays until stopped.
  await started.catch(() => undefined);
}

/**
 * Subscription changes that arrive before the worker's persistence exists (the main thread
 * sends them from the moment it registered the worker): applied, in order, right after the
 * initial snapshot.
 */
class EarlyChanges {
  #target: WorkerPersistence | undefined;
  readonly #early: SubsChange[] = [];

  apply(change: SubsChange): Promise<void> {
    if (this.#target !== undefined) return this.#target.applySubs(change);
    this.#early.push(change);
    return Promise.resolve();
  }

  async attach(p: WorkerPersistence): Promise<void> {
    // Until none is left: one may arrive while another is applied.
    for (let c = this.#early.shift(); c !== undefined; c = this.#early.shift())
      await p.applySubs(c);
    this.#target = p;
  }
}

/** The test hook of WorkerInit.pauseMidRecordMs, as the cache map's critical-section hook. */
function pauseHook(ms: number | undefined): SharedShardedMapDeps {
  if (ms === undefined) return {};
  const sleep = new Int32Array(new SharedArrayBuffer(4));
  return {
    inCriticalSection: (step) => {
      if (step === 'mid-record') Atomics.wait(sleep, 0, 0, ms);
    },
  };
}

/** The worker's persistence, its limits and its replica of the persistent subscriptions. */
async function workerPersistence(
  init: WorkerInit,
  channel: Channel<WorkerApi, MainApi>,
  log: Logger,
  metrics: ReturnType<typeof rowCounters>,
  workerLog: WorkerLog,
  replica: EarlyChanges,
): Promise<WorkerPersistence> {
  const { limits } = init.config.mqtt;
  const persistence = new WorkerPersistence({
    durable: workerLog,
    onDuplicate: () => metrics.ingestDuplicates.inc(),
    onSessionError: (err) => {
      metrics.walErrors.inc();
      log.warn(
        { event: 'wal.session_append_failed', err: err.message },
        'a session change could not be logged',
      );
    },
  });
  persistence.sessionHost = channel;
  persistence.limitInflight({
    perClient: limits.maxInflight,
    total: limits.maxInflightTotal,
    shared: new Int32Array(init.inflightTotal),
  });
  persistence.followSubscriptions(new Int32Array(init.subsEpoch), init.subsEpochAt);
  for (const [c, subs] of init.subs) await persistence.applySubs({ t: 'add', c, subs }, false);
  await replica.attach(persistence);
  return persistence;
}

function need(rt: Runtime | undefined): Runtime {
  if (rt === undefined) throw new Error('ingest worker is not started');
  return rt;
}

/** The running parts of one worker and the client moves between workers. */
class Runtime {
  readonly #seqs = new Map<string, number>();
  /** Client moves out of this worker run one after the other per client. */
  readonly #leaving = new Map<string, Promise<unknown>>();
  readonly #timer: NodeJS.Timeout;
  #stopped = false;

  private constructor(
    readonly broker: EmbeddedBroker,
    readonly log: WorkerLog,
    readonly persistence: WorkerPersistence,
    readonly cache: SensorCache,
    readonly row: CounterRow,
    readonly channel: Channel<WorkerApi, MainApi>,
    readonly logger: Logger,
  ) {
    broker.onDisconnect((c) => this.#left(c));
    broker.onClientCount((n) => row.set('mqtt_clients', n));
    // Gauges and the cache handle's counters, for /metrics (summed by the main thread).
    this.#timer = setInterval(() => this.#publishGauges(), 1000);
    this.#timer.unref();
  }

  static async start(
    init: WorkerInit,
    channel: Channel<WorkerApi, MainApi>,
    log: Logger,
    replica: EarlyChanges,
  ): Promise<Runtime> {
    const { config } = init;
    const wal = config.ingest.durability === 'wal';
    const cache = new SensorCache({ buffer: init.cache }, pauseHook(init.pauseMidRecordMs));
    const row = new SharedCounters(init.counters).row(init.index);
    const metrics = rowCounters(row);
    // With the log: records go to the main thread's group commit. Without: a log that keeps
    // nothing and acknowledges at once (the same bookkeeping of client moves).
    const workerLog: WorkerLog = new WorkerLog({
      send: wal
        ? (b) => channel.note('log', [b], [b.bytes.buffer as ArrayBuffer])
        : (b) => setImmediate(() => workerLog.committed(b.count)),
    });
    // The broker and the runtime exist only once the broker started; callbacks reach them here.
    const ref: { broker?: EmbeddedBroker; rt?: Runtime } = {};
    const pipeline = new IngestPipeline(
      {
        sensorPrefix: config.mqtt.sensorPrefix,
        maxPayloadBytes: config.mqtt.maxPayloadBytes,
        rejectLogWindowMs: config.ingest.rejectLogWindowSec * 1000,
        rejectLog: init.rejectLog,
      },
      {
        cache,
        metrics,
        log: log.child({ component: 'ingest' }),
        now: Date.now,
        deadLetter: (topic, payload, reason, detail, code) =>
          ref.broker?.publish(
            config.mqtt.deadLetterTopic,
            deadLetterBody(topic, payload, { code, reason, detail }),
          ),
      },
    );
    const persistence = await workerPersistence(init, channel, log, metrics, workerLog, replica);
    const broker = await startEmbeddedIngest({
      config,
      durable: wal ? workerLog : undefined,
      pipeline,
      metrics,
      log,
      now: Date.now,
      command: (topic, payload, clientId, user) => {
        if (!topic.startsWith(`edgeflow/${init.device}/`)) return false;
        channel.note('command', [topic, payload, clientId, user]);
        return true;
      },
      offer: bridgeOffer(init, channel),
      cluster: {
        persistence,
        port: init.port,
        tlsPort: init.tlsPort,
        mq: new ClusterEmitter(init.peers, { concurrency: 100 }),
        beforeConnect: (c) => need(ref.rt).#claim(c),
        violationLog: init.violationLog,
      },
    });
    ref.broker = broker;
    ref.rt = new Runtime(broker, workerLog, persistence, cache, row, channel, log);
    return ref.rt;
  }

  /** Takes client `c` over before aedes handles its CONNECT (see SessionHost). */
  async #claim(c: string): Promise<void> {
    // An empty id gets a fresh random one from aedes: nobody else can hold it.
    if (c === '') return;
    const grant = await this.channel.call('claim', c);
    this.persistence.adoptClient(c, grant);
    this.log.adopt(c, grant.incoming);
    this.#seqs.set(c, grant.seq);
  }

  /** Runs `fn` after every earlier move of client `c` out of this worker. */
  #serialize<T>(c: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#leaving.get(c) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#leaving.set(c, tail);
    void tail.then(() => {
      if (this.#leaving.get(c) === tail) this.#leaving.delete(c);
    });
    return next;
  }

  /**
   * Settles client `c`'s records and forgets it here; its incoming ids. Taken from the
   * persistence once every record is settled: then they are exactly the committed ones (a failed
   * record's id was forgotten), with the log and without it.
   */
  async #forget(c: string): Promise<[number, string][]> {
    await this.log.release(c);
    const ids = this.persistence.incomingIds(c);
    this.persistence.dropClient(c);
    return ids;
  }

  /** The main thread moves client `c` to another worker (or back here). */
  release(c: string): Promise<[number, string][]> {
    return this.#serialize(c, async () => {
      await this.broker.disconnect(c);
      this.#seqs.delete(c);
      return this.#forget(c);
    });
  }

  /** Client `c` disconnected: park its ids with the main thread (unless it moved meanwhile). */
  #left(c: string): void {
    if (this.#stopped) return;
    const seq = this.#seqs.get(c);
    if (seq === undefined) return;
    void this.#serialize(c, async () => {
      // Claimed again (or moved) since: the newer owner's state is not ours to drop.
      if (this.#seqs.get(c) !== seq) return;
      const ids = await this.#forget(c);
      if (this.#seqs.get(c) !== seq) return;
      this.#seqs.delete(c);
      this.channel.note('park', [c, seq, ids]);
    });
  }

  #publishGauges(): void {
    const k = this.cache.counters();
    this.row.set('cache_read_retries', k.readRetries);
    this.row.set('cache_locked_reads', k.lockedReads);
    this.row.set('cache_lock_waits', k.lockWaits);
  }

  /** Closes the broker (in-flight handlers finish), settles the log; the clients' ids. */
  async stop(): Promise<[string, [number, string][]][]> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.broker.close();
    // Clients that left before the stop are parked first (their notes precede the reply).
    await Promise.all([...this.#leaving.values()]);
    await this.log.settled();
    this.log.close();
    this.#publishGauges();
    this.row.set('mqtt_clients', 0);
    const out: [string, [number, string][]][] = [...this.#seqs.keys()].map((c) => [
      c,
      this.persistence.incomingIds(c),
    ]);
    this.cache.close();
    return out;
  }
}

/** Bridged topics go to the main thread's outbox before the message is acknowledged. */
function bridgeOffer(
  init: WorkerInit,
  channel: Channel<WorkerApi, MainApi>,
): (topic: string, payload: Uint8Array) => Promise<void> | undefined {
  const bridge = init.config.bridge;
  if (bridge === undefined) return () => undefined;
  const filters = [...bridge.topics, ...bridge.aggregate.map((r) => r.match)];
  return (topic, payload) => {
    if (!filters.some((f) => topicMatches(f, topic))) return undefined;
    return channel.call('offer', topic, payload).then(() => undefined);
  };
}
