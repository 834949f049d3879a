import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { buildConnectOptions, describeConnection } from '../external/connect-options.js';
import { RateLimitedLog } from '../ingest/rate-limited-log.js';
import { AggregateForwarder } from './aggregate-forwarder.js';
import type { BridgeConfig } from './config.js';
import { registerBridgeMetrics, type BridgeMetrics } from './metrics.js';
import { Outbox, type OutboxEntry } from './outbox.js';
import { topicMatches } from './outbox-record.js';

export interface UpstreamBridgeDeps {
  log: Logger;
  env: NodeJS.ProcessEnv;
  now: () => number;
  /** `<dataDir>/outbox` */
  outboxDir: string;
  /** Where the edgeflow_bridge_* metrics go (none in unit tests). */
  registry?: Registry;
  connect?: (url: string, opts: IClientOptions) => MqttClient;
  /** How long `close` waits for in-flight messages to be acknowledged, ms. */
  closeGraceMs?: number;
  /** `mqtt.sensorPrefix` (default `sensors`): aggregation decodes readings like ingest. */
  sensorPrefix?: string;
  /** `mqtt.maxPayloadBytes` (default 65536). */
  maxPayloadBytes?: number;
  /** Timers of the aggregation windows (fake ones in tests). */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

const sleep = (ms: number) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    t.unref();
  });

/**
 * Store-and-forward to a cloud broker. Matching local messages go into the {@link Outbox}
 * (on disk before the local acknowledgement); one mqtt.js connection sends them in order, at
 * most `maxInflight` unacknowledged, and each is removed once PUBACK/PUBCOMP came back.
 *
 * Session handling: each start first wipes the upstream session (a clean connect, then
 * disconnect), then keeps a persistent session (`clean: false`) for the process's lifetime,
 * so that mqtt.js's in-memory resend after a reconnect finds the broker's state. After an
 * agent restart the previous mqtt.js state is gone, so the wipe makes the broker drop its half
 * (QoS 2 messages it holds un-released are never delivered) and the outbox sends every
 * unacknowledged record again: at least once, in order; a duplicate needs a crash (or a stop
 * during an outage) between the upstream delivery and the outbox index write.
 */
export class UpstreamBridge {
  readonly #cfg: BridgeConfig;
  readonly #deps: UpstreamBridgeDeps;
  readonly #outbox: Outbox;
  readonly #metrics: BridgeMetrics | undefined;
  readonly #errLog: RateLimitedLog;
  readonly #agg: AggregateForwarder | undefined;
  #client: MqttClient | undefined;
  #inflight = 0;
  #closed = false;
  #running: Promise<void> | undefined;
  #idle: (() => void) | undefined;

  private constructor(
    cfg: BridgeConfig,
    deps: UpstreamBridgeDeps,
    outbox: Outbox,
    agg: AggregateForwarder | undefined,
    m?: BridgeMetrics,
  ) {
    this.#cfg = cfg;
    this.#deps = deps;
    this.#outbox = outbox;
    this.#agg = agg;
    this.#metrics = m;
    this.#errLog = new RateLimitedLog(60_000, deps.now);
  }

  static async start(cfg: BridgeConfig, deps: UpstreamBridgeDeps): Promise<UpstreamBridge> {
    const opts = await buildConnectOptions(cfg, deps);
    const ref: { bridge?: UpstreamBridge } = {};
    const metrics =
      deps.registry === undefined
        ? undefined
        : registerBridgeMetrics(deps.registry, () => ref.bridge?.state, deps.now);
    const outbox = await Outbox.open(
      {
        dir: deps.outboxDir,
        maxBytes: cfg.outbox.maxBytes,
        segmentBytes: cfg.outbox.segmentBytes,
        whenFull: cfg.outbox.whenFull,
      },
      {
        log: deps.log.child({ component: 'outbox' }),
        now: deps.now,
        onDrop: (reason) => metrics?.dropped.inc({ reason }),
      },
    );
    const agg =
      cfg.aggregate.length === 0
        ? undefined
        : await AggregateForwarder.open(cfg.aggregate, {
            log: deps.log.child({ component: 'aggregate' }),
            now: deps.now,
            statePath: join(deps.outboxDir, 'aggregate.json'),
            sensorPrefix: deps.sensorPrefix ?? 'sensors',
            maxPayloadBytes: deps.maxPayloadBytes ?? 65536,
            append: (topic, payload) => outbox.append(topic, payload),
            metrics: metrics?.aggregate,
            ...(deps.setTimer !== undefined ? { setTimer: deps.setTimer } : {}),
            ...(deps.clearTimer !== undefined ? { clearTimer: deps.clearTimer } : {}),
          });
    const self = new UpstreamBridge(cfg, deps, outbox, agg, metrics);
    ref.bridge = self;
    outbox.onAppend = () => self.#pump();
    deps.log.info(
      { event: 'bridge.starting', ...describeConnection(cfg), backlog: outbox.backlogMessages },
      'upstream bridge starting',
    );
    self.#running = self.#run(opts);
    return self;
  }

  get state(): {
    backlogMessages: number;
    backlogBytes: number;
    oldestAt: number | undefined;
    connected: boolean;
    openWindows: number;
  } {
    return {
      backlogMessages: this.#outbox.backlogMessages,
      backlogBytes: this.#outbox.backlogBytes,
      oldestAt: this.#outbox.oldestAt,
      connected: this.#client?.connected ?? false,
      openWindows: this.#agg?.openWindows ?? 0,
    };
  }

  /**
   * Offers a local message. Undefined when no bridge filter matches or when an aggregate rule
   * took it (its readings are in a window in memory: nothing to wait for); else resolves once
   * the message is in the outbox on disk (with `whenFull: block`, only when there is room).
   */
  offer(topic: string, payload: Uint8Array): Promise<void> | undefined {
    if (this.#closed || this.#agg?.offer(topic, payload) === true) return undefined;
    if (!this.#cfg.topics.some((f) => topicMatches(f, topic))) return undefined;
    return this.#outbox.append(
      topic,
      Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
    );
  }

  async #run(base: IClientOptions): Promise<void> {
    const connect = this.#deps.connect ?? ((url, o) => mqtt.connect(url, o));
    const { log } = this.#deps;
    // 1. Wipe the previous incarnation's session, retrying while the broker is unreachable.
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        await this.#wipe(connect, base);
        break;
      } catch (err) {
        this.#errLog.warn(
          log,
          'wipe',
          { event: 'bridge.connect_failed', err: (err as Error).message },
          'upstream broker unreachable; retrying',
        );
        const delay = Math.min(30_000, this.#cfg.reconnectMs * 2 ** Math.min(attempt, 4));
        await sleep(delay * (0.5 + Math.random()));
      }
    }
    if (this.#closed) return;
    // 2. The persistent session for this process.
    const client = connect(this.#cfg.url, {
      ...base,
      clean: false,
      reconnectPeriod: Math.round(this.#cfg.reconnectMs * (1 + Math.random())),
    });
    this.#client = client;
    client.on('connect', () => {
      log.info(
        { event: 'bridge.connected', backlog: this.#outbox.backlogMessages },
        'upstream connected',
      );
      this.#pump();
    });
    client.on('error', (err) =>
      this.#errLog.warn(
        log,
        `conn:${err.message}`,
        { event: 'bridge.connection_error', err: err.message },
        'upstream connection error',
      ),
    );
    client.on('close', () =>
      log.debug({ event: 'bridge.disconnected' }, 'upstream connection closed'),
    );
  }

  #wipe(connect: NonNullable<UpstreamBridgeDeps['connect']>, base: IClientOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const opts: IClientOptions = { ...base, clean: true, reconnectPeriod: 0 };
      if (opts.properties !== undefined)
        opts.properties = { ...opts.properties, sessionExpiryInterval: 0 };
      const c = connect(this.#cfg.url, opts);
      const fail = (err: Error) => {
        c.end(true);
        reject(err);
      };
      c.once('error', fail);
      c.once('close', () => fail(new Error('connection closed before CONNACK')));
      c.once('connect', () => {
        c.removeAllListeners('close');
        c.removeAllListeners('error');
        c.on('error', () => undefined);
        c.end(false, {}, () => resolve());
      });
    });
  }

  #pump(): void {
    const client = this.#client;
    if (client === undefined || !client.connected || this.#closed) return;
    while (this.#inflight < this.#cfg.maxInflight) {
      const e = this.#outbox.takeNext();
      if (e === undefined) break;
      this.#send(client, e);
    }
  }

  #send(client: MqttClient, e: OutboxEntry): void {
    this.#inflight++;
    client.publish(
      `${this.#cfg.topicPrefix}${e.topic}`,
      e.payload,
      { qos: this.#cfg.qos },
      (err) => {
        this.#inflight--;
        // Only end() fails a publish (mqtt.js resends across reconnects): the record stays in
        // the outbox and is sent again by the next start.
        if (err === undefined || err === null) {
          this.#outbox.ack(e);
          this.#metrics?.forwarded.inc();
        }
        if (this.#inflight === 0) this.#idle?.();
        this.#pump();
      },
    );
  }

  /** Stops sending, waits briefly for in-flight acknowledgements, then closes the outbox. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#agg?.stop(); // summaries of the windows that have ended go into the outbox now
    await this.#running;
    const client = this.#client;
    if (client !== undefined) {
      if (this.#inflight > 0 && client.connected) {
        await Promise.race([
          new Promise<void>((r) => (this.#idle = r)),
          sleep(this.#deps.closeGraceMs ?? 2000),
        ]);
      }
      await client.endAsync(true);
    }
    await this.#outbox.close();
    await this.#agg
      ?.checkpoint()
      .catch((err: unknown) =>
        this.#deps.log.error(
          { event: 'bridge.aggregate_checkpoint_failed', err },
          'open aggregation windows could not be saved; the next start marks them partial',
        ),
      );
  }
}
