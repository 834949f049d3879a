import type { SubscriptionRec } from '../../wal/records.js';

/**
 * A packet as it crosses between threads: the aedes-packet fields, the payload as bytes
 * (structured clone turns a Buffer into a Uint8Array: {@link revive} turns it back).
 */
export interface PacketWire {
  cmd: string;
  topic?: string;
  payload?: Uint8Array;
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  brokerId?: string;
  brokerCounter?: number;
  messageId?: number;
  [extra: string]: unknown;
}

/** What a worker gets when it takes a client over (see SessionHost.claim). */
export interface ClaimGrant {
  /** The client's committed incoming QoS 2 ids: [packet id, topic]. */
  incoming: [number, string][];
  /** Packet ids in flight towards the client (its queue), so new ones skip them. */
  outIds: number[];
  /** Numbers this grant: a worker's later "client left" names it, a stale one is ignored. */
  seq: number;
}

/** A change of the persistent subscriptions, sent to every worker's replica. */
export type SubsChange =
  | { t: 'add'; c: string; subs: SubscriptionRec[] }
  | { t: 'remove'; c: string; topics: string[] }
  | { t: 'clean'; c: string };

/**
 * The persistent sessions, served by the main thread to the ingest workers (the "session
 * persistence every worker can use", like aedes-persistence-redis for brokers in several
 * processes). Each method is the aedes persistence method of the same purpose.
 */
export interface SessionApi {
  [method: string]: (...args: never[]) => unknown;
  claim(clientId: string): Promise<ClaimGrant>;
  subscribe(clientId: string, subs: SubscriptionRec[]): Promise<void>;
  unsubscribe(clientId: string, topics: string[]): Promise<void>;
  cleanSubscriptions(clientId: string): Promise<void>;
  sessionPresent(clientId: string): Promise<boolean>;
  storeRetained(packet: PacketWire): Promise<void>;
  retained(patterns: string[]): Promise<PacketWire[]>;
  enqueue(clientIds: string[], packet: PacketWire): Promise<void>;
  unqueue(clientIds: string[], brokerId: string, brokerCounter: number): void;
  update(clientId: string, packet: PacketWire): Promise<void>;
  clear(clientId: string, messageId: number | undefined): Promise<PacketWire | undefined>;
  stream(clientId: string): Promise<PacketWire[]>;
}

/** A structured-cloned packet as aedes wants it (payload a Buffer again). */
export function revive<P extends PacketWire>(p: P): P {
  const u = p.payload;
  if (u !== undefined && !Buffer.isBuffer(u))
    p.payload = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  return p;
}

/** The own enumerable fields of an aedes packet as a plain object (cloneable). */
export function toWire(p: object): PacketWire {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined || typeof v === 'function') continue;
    out[k] = v;
  }
  return out as PacketWire;
}
