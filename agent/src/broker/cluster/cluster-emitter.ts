import MQEmitter from 'mqemitter';
import { FilterSet } from './topic-filter.js';

/** The packet fields that travel between workers (aedes-packet's, plus what aedes adds). */
export interface WirePacket {
  cmd: string;
  topic: string;
  payload: Uint8Array;
  qos: number;
  retain: boolean;
  dup: boolean;
  brokerId?: string;
  brokerCounter?: number;
  messageId?: number;
  clientId?: string;
  nl?: boolean;
  properties?: unknown;
  messageExpiry?: number;
}

/**
 * What a worker sends its peers over their MessagePort. A `sub` is numbered and answered with
 * an `ack` of its number once the peer forwards matching messages (see {@link ClusterEmitter.on}).
 */
type PeerMsg =
  | { t: 'sub'; filter: string; n: number }
  | { t: 'ack'; n: number }
  | { t: 'unsub'; filter: string }
  | { t: 'pub'; packet: WirePacket };

/** A MessagePort to one other worker. */
export interface PeerPort {
  postMessage(msg: unknown): void;
  on(event: 'message', fn: (msg: unknown) => void): unknown;
}

type Notify = (packet: object, cb: () => void) => void;
type Local = ReturnType<typeof MQEmitter>;

const PACKET_FIELDS = [
  'cmd',
  'topic',
  'qos',
  'retain',
  'dup',
  'brokerId',
  'brokerCounter',
  'messageId',
  'clientId',
  'nl',
  'properties',
  'messageExpiry',
] as const;

/**
 * aedes's message bus (an mqemitter) spread over the ingest workers, the way aedes clusters
 * across processes with mqemitter-redis, but over MessagePorts: each worker's aedes emits into
 * this, which delivers to the worker's own subscribers (a real mqemitter) and posts the packet
 * to each other worker whose subscribers' filters match the topic. Workers tell each other
 * which filters their clients hold (`sub`/`unsub` with use counts), so a sensor message that
 * nobody on another worker subscribed to never leaves its thread.
 *
 * Order: one port per pair of workers, and a port delivers in order, so the messages of one
 * publisher reach every subscriber in the order it published them, whichever worker either is
 * on. Delivery to another worker is not awaited (the emit callback is the local delivery's, as
 * with mqemitter-redis): what must survive a crash is in the persistent sessions' queues,
 * recorded before aedes forwards the message.
 *
 * A subscription is complete (the `done` of {@link on}, which aedes waits for before SUBACK and
 * before a reconnecting client's queue replay) only once every peer acknowledged the filter:
 * from then on a peer forwards every matching message it emits, and whatever it emitted before
 * was already in the persistent queues (queued before it is emitted), so the replay that
 * follows holds it. Completing at once left a gap: a message a peer emitted before it heard of
 * the filter was neither forwarded nor in the replay, and reached the subscriber only with its
 * next connection, after later ones [MQTT-4.6.0-6] (a clean subscriber lost it after SUBACK).
 */
export class ClusterEmitter {
  readonly #local: Local;
  readonly #peers: Peer[];
  readonly #mine = new FilterSet();
  /** How many `sub` messages this emitter sent (each peer acknowledges them in order). */
  #told = 0;
  /** Subscriptions waiting for every peer to acknowledge `sub` number `n`. */
  #waiting: { n: number; done: () => void }[] = [];
  #closed = false;

  constructor(peers: readonly PeerPort[], opts: { concurrency: number }) {
    // [MQTT-4.7.1-3]: aedes creates its own emitter with matchEmptyLevels, so does this.
    this.#local = MQEmitter({ concurrency: opts.concurrency, matchEmptyLevels: true });
    this.#peers = peers.map((port) => ({ port, filters: new FilterSet(), acked: 0 }));
    for (const peer of this.#peers) {
      peer.port.on('message', (m) => this.#fromPeer(peer, m as PeerMsg));
    }
  }

  get current(): number {
    return this.#local.current;
  }

  /**
   * Subscribes locally and tells the peers; `done` once every peer acknowledged (a filter this
   * worker already held may still be on its way to them: every `sub` sent so far counts).
   */
  on(topic: string, notify: Notify, done?: () => void): this {
    if (this.#mine.add(topic)) {
      const n = ++this.#told;
      for (const peer of this.#peers)
        peer.port.postMessage({ t: 'sub', filter: topic, n } satisfies PeerMsg);
    }
    const n = this.#told;
    this.#local.on(topic, notify, done === undefined ? undefined : () => this.#whenAcked(n, done));
    return this;
  }

  removeListener(topic: string, notify: Notify, done?: () => void): this {
    this.#local.removeListener(topic, notify, done);
    if (this.#mine.remove(topic)) this.#tell({ t: 'unsub', filter: topic });
    return this;
  }

  emit(packet: WirePacket, cb?: (err?: Error) => void): this {
    // Sent to peers even when closing: aedes's last publishes (its clients' wills) still go out.
    {
      let wire: WirePacket | undefined;
      for (const peer of this.#peers) {
        if (!peer.filters.matches(packet.topic)) continue;
        wire ??= toWire(packet);
        peer.port.postMessage({ t: 'pub', packet: wire } satisfies PeerMsg);
      }
    }
    this.#local.emit(packet, cb);
    return this;
  }

  close(cb: () => void): this {
    this.#closed = true;
    // Peers stopping may never answer: nothing waits for them past close.
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w.done();
    this.#local.close(cb);
    return this;
  }

  #tell(msg: PeerMsg): void {
    for (const peer of this.#peers) peer.port.postMessage(msg);
  }

  #whenAcked(n: number, done: () => void): void {
    if (this.#closed || this.#peers.every((p) => p.acked >= n)) done();
    else this.#waiting.push({ n, done });
  }

  #fromPeer(peer: Peer, msg: PeerMsg): void {
    if (msg.t === 'sub') {
      // Added before the ack goes: every message this worker emits from now on is forwarded.
      peer.filters.add(msg.filter);
      peer.port.postMessage({ t: 'ack', n: msg.n } satisfies PeerMsg);
    } else if (msg.t === 'ack') {
      peer.acked = msg.n;
      if (this.#waiting.length === 0) return;
      const ready = this.#waiting.filter((w) => this.#peers.every((p) => p.acked >= w.n));
      this.#waiting = this.#waiting.filter((w) => !ready.includes(w));
      for (const w of ready) w.done();
    } else if (msg.t === 'unsub') peer.filters.remove(msg.filter);
    else if (!this.#closed) this.#local.emit(fromWire(msg.packet));
  }
}

interface Peer {
  port: PeerPort;
  /** The filters the peer's clients hold. */
  filters: FilterSet;
  /** The highest `sub` number of this emitter the peer acknowledged. */
  acked: number;
}

/** The fields of an aedes packet a peer needs (a plain object: structured clone keeps it). */
function toWire(p: WirePacket): WirePacket {
  const out: Record<string, unknown> = {};
  for (const k of PACKET_FIELDS) if (p[k] !== undefined) out[k] = p[k];
  out.payload = p.payload;
  return out as unknown as WirePacket;
}

/** Structured clone turns a Buffer into a Uint8Array: aedes writes Buffers. */
function fromWire(p: WirePacket): WirePacket {
  const u = p.payload;
  p.payload = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  return p;
}
