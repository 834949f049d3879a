import { Readable } from 'node:stream';
import type { IStore } from 'mqtt';
import type { PublishInfo } from '../ingest/durable-ingest.js';

type Packet = Parameters<IStore['put']>[0];
type PacketCallback = Parameters<IStore['get']>[1];
type IPublishPacket = Extract<Packet, { cmd: 'publish' }>;

/** What the store needs from the write-ahead log (absent with `ingest.durability: memory`). */
export interface IncomingLog {
  readonly incoming: ReadonlyMap<string, ReadonlyMap<number, string>>;
  append(rec: { t: 'r'; c: string; m: number } | { t: 'x'; c: string }): Promise<void>;
  knowsClient(c: string): boolean;
}

export interface DurableIncomingStoreDeps {
  /** The id under which this connection's packet ids are logged (`ext:<clientId>`). */
  logId: string;
  log: IncomingLog | undefined;
  /**
   * Makes one new message durable and applies it (DurableIngest.handle with the log, the
   * in-memory pipeline without); resolves when it may be acknowledged.
   */
  ingest: (
    topic: string,
    payload: Uint8Array,
    logId: string,
    info: PublishInfo,
  ) => Promise<void> | undefined;
  /** Runs before `ingest` for a new message (the bridge's outbox); resolves when durable. */
  beforeIngest?: ((topic: string, payload: Uint8Array) => Promise<void> | undefined) | undefined;
  onDuplicate: () => void;
  /** A message could not be made durable: the connection must be cut so the broker resends. */
  onFailure: (err: Error) => void;
}

/**
 * mqtt.js incoming store for QoS 2, backed by the agent's write-ahead log.
 *
 * mqtt.js (5.16) receives a QoS 2 PUBLISH as: `incomingStore.put(packet)` → PUBREC; and on
 * PUBREL: `incomingStore.get` → `handleMessage` → `del` → PUBCOMP. Its default store is in
 * memory, so a message acknowledged with PUBREC but not yet released is gone after a crash
 * (at most once). Here `put` IS the durable ingest: one log record holds "packet id P of this
 * connection received" and the decoded readings, fsynced before `put` calls back (so before
 * PUBREC), and the readings reach the cache at that moment ([MQTT-4.3.3] method A: deliver on
 * PUBLISH, remember the id until PUBREL). A retransmitted PUBLISH whose id is still recorded
 * is acknowledged without being applied again; the PUBREL is logged (`handleRelease`) before
 * PUBCOMP, so that the broker may reuse the id. Nothing else needs to be kept: the payload is
 * already in the cache, so `get` answers from the recorded ids.
 */
export class DurableIncomingStore implements IStore {
  readonly #deps: DurableIncomingStoreDeps;
  /** Ids received in this process when there is no log (at most once across a crash). */
  readonly #memory = new Map<number, string>();
  /** Records being made durable, by packet id: a retransmission waits for the first. */
  readonly #pending = new Map<number, Promise<void>>();
  #reset: Promise<void> | undefined;

  constructor(deps: DurableIncomingStoreDeps) {
    this.#deps = deps;
  }

  /** Whether packet id `m` is recorded as received and not yet released. */
  isReceived(m: number): boolean {
    const { log, logId } = this.#deps;
    if (log === undefined) return this.#memory.has(m);
    return log.incoming.get(logId)?.has(m) ?? false;
  }

  /**
   * Set once the client's PUBREC is gated on {@link gate} (see pipelinePubrec in
   * external-subscriber.ts): `put` then calls back at once, so that mqtt.js reads the next
   * PUBLISH while this one is being made durable, and many messages share one group commit.
   * Without the gate `put` calls back only once the record is on disk (one fsync per message:
   * mqtt.js handles one packet at a time).
   */
  pipelined = false;
  /** Durability of the PUBLISH with packet id m, while it is being made durable. */
  readonly #gates = new Map<number, Promise<void>>();

  /** The promise PUBREC for packet id `m` must wait for (undefined: nothing pending). */
  gate(m: number): Promise<void> | undefined {
    return this.#gates.get(m);
  }

  put(packet: Packet, cb: (err?: Error) => void): this {
    if (packet.cmd !== 'publish' || packet.qos !== 2 || packet.messageId === undefined) {
      cb();
      return this;
    }
    const m = packet.messageId;
    const work = this.#receive(packet);
    this.#gates.set(m, work);
    const settled = () => {
      if (this.#gates.get(m) === work) this.#gates.delete(m);
    };
    work.then(
      () => {
        settled();
        if (!this.pipelined) cb();
      },
      (err: unknown) => {
        settled();
        this.#deps.onFailure(err as Error);
      },
    );
    if (this.pipelined) cb();
    return this;
  }

  async #receive(packet: IPublishPacket): Promise<void> {
    const m = packet.messageId as number;
    if (this.#reset !== undefined) await this.#reset;
    const earlier = this.#pending.get(m);
    if (earlier !== undefined) await earlier.catch(() => undefined);
    if (this.isReceived(m)) {
      this.#deps.onDuplicate();
      return;
    }
    const payload =
      typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const work = this.#ingest(packet.topic, payload, m);
    this.#pending.set(m, work);
    try {
      await work;
    } finally {
      if (this.#pending.get(m) === work) this.#pending.delete(m);
    }
  }

  async #ingest(topic: string, payload: Uint8Array, m: number): Promise<void> {
    const deps = this.#deps;
    await deps.beforeIngest?.(topic, payload);
    await deps.ingest(topic, payload, deps.logId, { qos: 2, messageId: m });
    if (deps.log === undefined) this.#memory.set(m, topic);
  }

  /** PUBREL for `m`: the id is released durably; resolves when PUBCOMP may be sent. */
  async handleRelease(m: number): Promise<void> {
    const { log, logId } = this.#deps;
    if (log === undefined) {
      this.#memory.delete(m);
      return;
    }
    if (!this.isReceived(m)) return;
    await log.append({ t: 'r', c: logId, m });
  }

  /**
   * The broker had no session for us (CONNACK session present = 0): every recorded id is
   * stale and the broker may reuse it for new messages, so drop them durably before the next
   * PUBLISH is looked up.
   */
  sessionLost(): void {
    const { log, logId } = this.#deps;
    this.#memory.clear();
    if (log === undefined || !log.knowsClient(logId)) return;
    const p = log.append({ t: 'x', c: logId });
    this.#reset = p.finally(() => {
      if (this.#reset === guarded) this.#reset = undefined;
    });
    const guarded = this.#reset;
    // A failure here surfaces on the next PUBLISH, which then cuts the connection.
    guarded.catch(() => undefined);
  }

  get(packet: Pick<Packet, 'messageId'>, cb: PacketCallback): this {
    const m = packet.messageId;
    if (m === undefined || !this.isReceived(m)) {
      // Unknown id: its release was already logged (PUBCOMP lost): mqtt.js answers PUBCOMP.
      cb(new Error(`no incoming QoS 2 message ${String(m)}`));
      return this;
    }
    const topic = this.#deps.log?.incoming.get(this.#deps.logId)?.get(m) ?? this.#memory.get(m);
    const stub: IPublishPacket = {
      cmd: 'publish',
      qos: 2,
      messageId: m,
      topic: topic ?? '',
      payload: Buffer.alloc(0),
      dup: false,
      retain: false,
    };
    cb(undefined, stub);
    return this;
  }

  del(_packet: Pick<Packet, 'messageId'>, cb: PacketCallback): this {
    // The release was logged in handleRelease (before mqtt.js calls del and sends PUBCOMP).
    cb();
    return this;
  }

  createStream(): never {
    // mqtt.js only streams the outgoing store (to resend after reconnect).
    return Readable.from([]) as never;
  }

  close(cb: (err?: Error) => void): void {
    cb();
  }
}
