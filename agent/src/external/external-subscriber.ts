import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from 'pino';
import type { PublishInfo } from '../ingest/durable-ingest.js';
import { RateLimitedLog } from '../ingest/rate-limited-log.js';
import type { ExternalBrokerConfig } from './config.js';
import { buildConnectOptions, describeConnection } from './connect-options.js';
import { DurableIncomingStore, type IncomingLog } from './durable-incoming-store.js';

export interface ExternalSubscriberDeps {
  log: Logger;
  env: NodeJS.ProcessEnv;
  now: () => number;
  /** The write-ahead log; undefined with `ingest.durability: memory`. */
  durable: IncomingLog | undefined;
  ingest: (
    topic: string,
    payload: Uint8Array,
    logId: string,
    info: PublishInfo,
  ) => Promise<void> | undefined;
  beforeIngest?: (topic: string, payload: Uint8Array) => Promise<void> | undefined;
  onDuplicate: () => void;
  /** A message could not be made durable (the connection is cut and the broker resends). */
  onError?: () => void;
  rejectLogWindowMs: number;
  /** Injected for tests; mqtt.connect by default. */
  connect?: (url: string, opts: IClientOptions) => MqttClient;
}

interface Connection {
  client: MqttClient;
  store: DurableIncomingStore;
  logId: string;
}

/**
 * Subscribes to an existing broker with mqtt.js (QoS 2, persistent session, the
 * write-ahead-log-backed incoming store) and feeds the durable ingest path. With
 * `connections > 1`, each connection subscribes to `$share/<group>/<filter>`: mqtt.js handles
 * the packets of one connection one after the other (the next PUBLISH is parsed only after the
 * previous PUBREC was written, so one fsync per message), and several connections let one
 * group commit cover several messages.
 */
export class ExternalSubscriber {
  readonly #cfg: ExternalBrokerConfig;
  readonly #deps: ExternalSubscriberDeps;
  readonly #conns: Connection[] = [];
  readonly #errLog: RateLimitedLog;

  private constructor(cfg: ExternalBrokerConfig, deps: ExternalSubscriberDeps) {
    this.#cfg = cfg;
    this.#deps = deps;
    this.#errLog = new RateLimitedLog(deps.rejectLogWindowMs, deps.now);
  }

  /**
   * Resolves once the connections are created (not connected: a broker that is down at start
   * is retried with backoff and shown by readiness, it does not stop the agent).
   */
  static async start(
    cfg: ExternalBrokerConfig,
    deps: ExternalSubscriberDeps,
  ): Promise<ExternalSubscriber> {
    const base = await buildConnectOptions(cfg, deps);
    const sub = new ExternalSubscriber(cfg, deps);
    for (let i = 0; i < cfg.connections; i++) sub.#open(base, i);
    deps.log.info(
      { event: 'external.starting', ...describeConnection(cfg), connections: cfg.connections },
      'subscribing to the external broker',
    );
    return sub;
  }

  /** Connections currently up. */
  get connected(): number {
    return this.#conns.filter((c) => c.client.connected).length;
  }

  get connections(): number {
    return this.#conns.length;
  }

  #filters(): string[] {
    const { topics, connections, shareGroup } = this.#cfg;
    return connections > 1 ? topics.map((t) => `$share/${shareGroup}/${t}`) : topics;
  }

  #open(base: IClientOptions, i: number): void {
    const { log } = this.#deps;
    const clientId = this.#cfg.connections > 1 ? `${this.#cfg.clientId}-${i}` : this.#cfg.clientId;
    const logId = `ext:${clientId}`;
    const holder: { client?: MqttClient } = {};
    const store = new DurableIncomingStore({
      logId,
      log: this.#deps.durable,
      ingest: this.#deps.ingest,
      beforeIngest: this.#deps.beforeIngest,
      onDuplicate: this.#deps.onDuplicate,
      onFailure: (err) => {
        this.#deps.onError?.();
        const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
        this.#errLog.warn(
          log,
          code,
          { event: 'external.ingest_failed', code, err: err.message, clientId },
          'message not acknowledged: cutting the connection so that the broker resends it',
        );
        holder.client?.stream.destroy();
      },
    });
    const opts: IClientOptions = {
      ...base,
      clientId,
      incomingStore: store,
      // Jitter: a fleet must not reconnect in lockstep after an outage.
      reconnectPeriod: Math.round(this.#cfg.reconnectMs * (1 + Math.random())),
    };
    const connect = this.#deps.connect ?? ((url, o) => mqtt.connect(url, o));
    const c = connect(this.#cfg.url, opts);
    holder.client = c;
    store.pipelined = pipelinePubrec(c, store);
    // QoS 0/1 messages, and the PUBREL half of QoS 2 (the stub packet from the store's get).
    c.handleMessage = (packet, done) => {
      const work =
        packet.qos === 2 && packet.messageId !== undefined
          ? store.handleRelease(packet.messageId)
          : this.#receiveLowQos(packet.topic, packet.payload, logId, packet.qos);
      if (work === undefined) return done();
      work.then(
        () => done(),
        (err: unknown) => {
          done(err as Error);
          c.stream.destroy();
        },
      );
    };
    c.on('connect', (connack) => this.#onConnect(c, store, clientId, connack.sessionPresent));
    c.on('close', () =>
      log.debug({ event: 'external.disconnected', clientId }, 'external broker connection closed'),
    );
    c.on('error', (err) =>
      this.#errLog.warn(
        log,
        `conn:${err.message}`,
        { event: 'external.connection_error', clientId, err: err.message },
        'external broker connection error',
      ),
    );
    this.#conns.push({ client: c, store, logId });
  }

  /** A connection (re)established: session check, subscription (on every connect). */
  #onConnect(
    c: MqttClient,
    store: DurableIncomingStore,
    clientId: string,
    sessionPresent: boolean,
  ): void {
    const { log } = this.#deps;
    if (!sessionPresent) store.sessionLost();
    log.info(
      { event: 'external.connected', clientId, sessionPresent },
      'connected to the external broker',
    );
    // On every connect: harmless when the session kept the subscription, needed when not.
    c.subscribe(this.#filters(), { qos: this.#cfg.qos }, (err, granted) => {
      if (err !== null && err !== undefined) {
        log.error(
          { event: 'external.subscribe_failed', clientId, err: err.message },
          'subscribe failed',
        );
        return;
      }
      for (const g of granted ?? []) {
        if (g.qos === 128 || g.qos < this.#cfg.qos) {
          log.error(
            { event: 'external.subscribe_refused', clientId, topic: g.topic, granted: g.qos },
            'the broker refused the subscription or granted a lower QoS',
          );
        }
      }
    });
  }

  #receiveLowQos(
    topic: string,
    payload: Buffer | string,
    logId: string,
    qos: number,
  ): Promise<void> | undefined {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const info: PublishInfo = { qos: qos === 1 ? 1 : 0, messageId: undefined };
    const before = this.#deps.beforeIngest?.(topic, bytes);
    if (before === undefined) return this.#deps.ingest(topic, bytes, logId, info);
    return before.then(() => this.#deps.ingest(topic, bytes, logId, info));
  }

  /**
   * Disconnects without unsubscribing: the broker keeps the session and queues for us. Waits
   * for the in-progress messages of each connection to be acknowledged or dropped.
   */
  async close(): Promise<void> {
    await Promise.all(this.#conns.map((c) => c.client.endAsync(false)));
  }
}

/**
 * Lets mqtt.js read the next packet while a QoS 2 PUBLISH is being made durable: its PUBREC
 * (which mqtt.js sends from the store's `put` callback and waits for before the next packet)
 * is held until that message's record is on disk, while mqtt.js is told at once that it was
 * sent. PUBRECs still leave only after their fsync and in log order. Returns false (and
 * changes nothing: one fsync per message) if this mqtt.js has no `_sendPacket` to wrap.
 * Contract `pubrec-pipeline` (agent/src/broker/internals.ts) fails the build if mqtt.js
 * stops sending PUBREC through `_sendPacket`; the upstream hook that would remove this: an
 * incoming store whose `put` completion gates only the PUBREC, not reading the next packet.
 */
export function pipelinePubrec(
  client: MqttClient,
  store: Pick<DurableIncomingStore, 'gate'>,
): boolean {
  type Send = (packet: Packet, cb?: (err?: Error) => void, ...rest: unknown[]) => void;
  const c = client as unknown as { _sendPacket?: Send };
  const send = c._sendPacket;
  if (typeof send !== 'function') return false;
  c._sendPacket = function (this: unknown, packet, cb, ...rest) {
    const gate =
      packet.cmd === 'pubrec' && packet.messageId !== undefined
        ? store.gate(packet.messageId)
        : undefined;
    if (gate === undefined) return send.call(this, packet, cb, ...rest);
    cb?.();
    gate.then(
      () => send.call(this, packet, undefined, ...rest),
      () => undefined, // not durable: the store's onFailure cut the connection; no PUBREC
    );
  };
  return true;
}
