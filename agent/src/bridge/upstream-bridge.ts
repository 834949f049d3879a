import { join } from 'node:path';
import mqtt, { UniqueMessageIdProvider, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { buildConnectOptions, describeConnection } from '../external/connect-options.js';
import { RateLimitedLog } from '../ingest/rate-limited-log.js';
import { AggregateForwarder } from './aggregate-forwarder.js';
import type { BridgeConfig } from './config.js';
import { InflightStore, type InflightKey } from './inflight-store.js';
import { recordKey } from './inflight-record.js';
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
  /**
   * `keep` (default): keep the upstream session across restarts, with the in-flight packet
   * ids on disk (QoS 2 exactly once). `wipe`: the previous behaviour (wipe the session at
   * each start, resend unacknowledged records as new; at least once), kept for comparison.
   */
  session?: 'keep' | 'wipe';
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
 * Session handling (`session: 'keep'`): the upstream session is kept (`clean: false`, same
 * client id) across restarts, and an {@link InflightStore} on disk says which packet id each
 * in-flight outbox record was sent with and whether its PUBREC came back. After a restart,
 * mqtt.js resends those (PUBLISH with DUP, or PUBREL) before anything new, so a QoS 2 message
 * reaches the broker's subscribers once. If the broker lost the session (session present =
 * 0) they are sent again as new: at least once. QoS 1 is at least once in any case (a
 * resent PUBLISH is a new message to the broker). `session: 'wipe'` is the old behaviour:
 * wipe the session at start, resend every unacknowledged record as new.
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
  /**
   * The current connection emitted 'connect': mqtt.js has resent its store. Until then a new
   * publish would take a packet id from the cleared id provider that may still belong to an
   * exchange being resumed (the broker would take it for a resend and drop it), and would
   * overtake the resumed exchanges (out of order).
   */
  #ready = false;
  #store: InflightStore | undefined;
  /** Records in flight upstream (sent now or resent from the in-flight log), by `seg:idx`. */
  readonly #inflightByKey = new Map<string, OutboxEntry>();
  /** Records resent by mqtt.js from the in-flight log: not sent again by the pump. */
  readonly #resending = new Set<string>();

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
    if ((deps.session ?? 'keep') === 'keep') await self.#openInflight();
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
    const store = this.#store;
    // 1. Wipe the previous incarnation's session, retrying while the broker is unreachable.
    // With a kept session only when no in-flight log exists (first start, or an agent that
    // wiped): the broker may hold packet ids we know nothing about and would take a new
    // PUBLISH with such an id for a resend of the old one.
    for (let attempt = 0; !this.#closed && (store === undefined || store.fresh); attempt++) {
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
      ...(store !== undefined
        ? { outgoingStore: store, messageIdProvider: new UniqueMessageIdProvider() }
        : {}),
    });
    this.#client = client;
    // 'packetreceive' comes before mqtt.js handles the CONNACK and resends its store.
    client.on('packetreceive', (p) => {
      if (p.cmd !== 'connack' || p.sessionPresent || store === undefined) return;
      const n = store.restartAsNew();
      if (n > 0)
        log.warn(
          { event: 'bridge.session_lost', resent: n },
          'upstream broker lost our session; in-flight messages are sent again as new (at least once)',
        );
    });
    client.on('connect', () => {
      this.#ready = true;
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
    client.on('close', () => {
      this.#ready = false;
      log.debug({ event: 'bridge.disconnected' }, 'upstream connection closed');
    });
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
    if (client === undefined || !client.connected || !this.#ready || this.#closed) return;
    while (this.#inflight < this.#cfg.maxInflight) {
      const e = this.#outbox.takeNext();
      if (e === undefined) break;
      if (this.#resending.has(recordKey(e.seg, e.idx))) continue;
      this.#send(client, e);
    }
  }

  #send(client: MqttClient, e: OutboxEntry): void {
    this.#inflight++;
    const store = this.#store;
    const key = recordKey(e.seg, e.idx);
    if (store !== undefined) {
      this.#inflightByKey.set(key, e);
      store.expect(e, this.#cfg.qos);
    }
    client.publish(
      `${this.#cfg.topicPrefix}${e.topic}`,
      e.payload,
      { qos: this.#cfg.qos },
      (err) => {
        this.#inflight--;
        if (store === undefined) {
          // Only end() fails a publish (mqtt.js resends across reconnects): the record stays
          // in the outbox and is sent again by the next start.
          if (err === undefined || err === null) {
            this.#outbox.ack(e);
            this.#metrics?.forwarded.inc();
          }
        } else if (err !== undefined && err !== null) {
          // end() before it was stored, or (MQTT 5) the broker refused it: a refusal is final
          // (the store's del acked it); otherwise the in-flight log or the outbox resends it.
          store.unexpect(e);
          this.#errLog.warn(
            this.#deps.log,
            `pub:${err.message}`,
            { event: 'bridge.publish_failed', err: err.message },
            'upstream publish failed',
          );
        }
        if (this.#inflight === 0) this.#idle?.();
        this.#pump();
      },
    );
  }

  /**
   * Opens the in-flight log and reconciles it with the outbox: records it says were
   * acknowledged are acked; records in flight are resent by mqtt.js from the log (PUBLISH
   * with DUP, or PUBREL) and skipped by the pump; the rest are sent as new after them.
   */
  async #openInflight(): Promise<void> {
    const outbox = this.#outbox;
    const store = await InflightStore.open(this.#deps.outboxDir, {
      log: this.#deps.log.child({ component: 'inflight' }),
      onComplete: (k) => this.#completed(k),
      covered: (k) => outbox.isSavedAsDelivered(k),
    });
    const byKey = new Map(outbox.undelivered().map((e) => [recordKey(e.seg, e.idx), e]));
    let acked = 0;
    for (const [k, e] of byKey) {
      if (store.completed(e)) {
        outbox.ack(e);
        byKey.delete(k);
        acked++;
      }
    }
    for (const l of store.live) {
      const k = recordKey(l.key.seg, l.key.idx);
      const e = byKey.get(k);
      if (e === undefined) {
        // Not in the outbox any more: delivered (the index says so; a PUBREL left is harmless,
        // answered by PUBCOMP) or dropped by `drop-oldest` while in flight. QoS 1: the broker
        // keeps nothing per id, forget it. QoS 2 without PUBREC on record can only be a drop;
        // the broker may hold that id awaiting PUBREL and would take a later PUBLISH with the
        // same id for a resend and drop it [MQTT-4.3.3]: release it (PUBREL) instead.
        if (l.state === 'publish') {
          if (l.qos === 1) store.forget(l.mid);
          else l.state = 'pubrel';
        }
        continue;
      }
      l.packet = {
        cmd: 'publish',
        topic: `${this.#cfg.topicPrefix}${e.topic}`,
        payload: e.payload,
        qos: l.qos,
        retain: false,
        dup: true,
        messageId: l.mid,
      };
      this.#inflightByKey.set(k, e);
      this.#resending.add(k);
    }
    await outbox.flushIndex();
    await store.compact();
    this.#store = store;
    this.#deps.log.info(
      { event: 'bridge.inflight_recovered', resend: this.#resending.size, acked },
      'upstream in-flight state recovered',
    );
  }

  /** The in-flight log's del: PUBACK/PUBCOMP for this record (once per exchange). */
  #completed(k: InflightKey): void {
    const key = recordKey(k.seg, k.idx);
    const e = this.#inflightByKey.get(key);
    if (e === undefined) return;
    this.#inflightByKey.delete(key);
    this.#resending.delete(key);
    this.#outbox.ack(e);
    this.#metrics?.forwarded.inc();
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
    await this.#store?.shutdown();
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
