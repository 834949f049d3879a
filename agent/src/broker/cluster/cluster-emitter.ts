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

/** What a worker sends its peers over their MessagePort. */
type PeerMsg =
  { t: 'sub'; filter: string } | { t: 'unsub'; filter: string } | { t: 'pub'; packet: WirePacket };

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
 */
export class ClusterEmitter {
  readonly #local: Local;
  readonly #peers: { port: PeerPort; filters: FilterSet }[];
  readonly #mine = new FilterSet();
  #closed = false;

  constructor(peers: readonly PeerPort[], opts: { concurrency: number }) {
    // [MQTT-4.7.1-3]: aedes creates its own emitter with matchEmptyLevels, so does this.
    this.#local = MQEmitter({ concurrency: opts.concurrency, matchEmptyLevels: true });
    this.#peers = peers.map((port) => ({ port, filters: new FilterSet() }));
    for (const peer of this.#peers) {
      peer.port.on('message', (m) => this.#fromPeer(peer.filters, m as PeerMsg));
    }
  }

  get current(): number {
    return this.#local.current;
  }

  on(topic: string, notify: Notify, done?: () => void): this {
    this.#local.on(topic, notify, done);
    if (this.#mine.add(topic)) this.#tell({ t: 'sub', filter: topic });
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
    this.#local.close(cb);
    return this;
  }

  #tell(msg: PeerMsg): void {
    for (const peer of this.#peers) peer.port.postMessage(msg);
  }

  #fromPeer(filters: FilterSet, msg: PeerMsg): void {
    if (msg.t === 'sub') filters.add(msg.filter);
    else if (msg.t === 'unsub') filters.remove(msg.filter);
    else if (!this.#closed) this.#local.emit(fromWire(msg.packet));
  }
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
