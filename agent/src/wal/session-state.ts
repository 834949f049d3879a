import { OutgoingStore } from '../broker/outgoing-store.js';
import type { QueuedMessage, SessionRecord, SubscriptionRec } from './records.js';

/** A queued message or a PUBREL marker, as the broker's persistence streams it back to aedes. */
export interface QueuedPacket {
  cmd: string;
  brokerId?: string | undefined;
  brokerCounter?: number | undefined;
  messageId?: number | undefined;
  topic?: string;
  payload?: Buffer;
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  [extra: string]: unknown;
}

/** The JSON form in the snapshot (payloads in base64). */
export interface SessionSnapshot {
  subs: [string, SubscriptionRec[]][];
  retained: SerializedPacket[];
  outgoing: [string, SerializedPacket[]][];
  /** Client ids whose session exists (absent in snapshots of earlier versions). */
  sessions?: string[];
}

type SerializedPacket = Omit<QueuedPacket, 'payload'> & { payload?: string };

/** A queued message of a record as the packet aedes gets (extra fields: MQTT 5 properties…). */
export function packetOf(pk: QueuedMessage): QueuedPacket {
  const extra = pk.extra === '' ? {} : (JSON.parse(pk.extra, reviveBuffers) as object);
  return {
    ...extra,
    cmd: 'publish',
    brokerId: pk.bid,
    brokerCounter: pk.bc,
    topic: pk.topic,
    payload: pk.payload,
    qos: pk.qos,
    retain: pk.retain,
    dup: pk.dup,
  };
}

const PACKET_FIELDS = new Set([
  'cmd',
  'brokerId',
  'brokerCounter',
  'topic',
  'payload',
  'qos',
  'retain',
  'dup',
  'messageId',
  'length',
]);

/** The record form of a packet aedes handed to the persistence. */
export function queuedMessageOf(p: Record<string, unknown>): QueuedMessage {
  const extra: Record<string, unknown> = {};
  let hasExtra = false;
  for (const k of Object.keys(p)) {
    if (PACKET_FIELDS.has(k) || p[k] === undefined) continue;
    extra[k] = p[k];
    hasExtra = true;
  }
  const payload = p.payload;
  return {
    bid: typeof p.brokerId === 'string' ? p.brokerId : '',
    bc: typeof p.brokerCounter === 'number' ? p.brokerCounter : 0,
    topic: typeof p.topic === 'string' ? p.topic : '',
    payload: Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(typeof payload === 'string' ? payload : ''),
    qos: typeof p.qos === 'number' ? p.qos : 0,
    retain: p.retain === true,
    dup: p.dup === true,
    extra: hasExtra ? JSON.stringify(extra) : '',
  };
}

function reviveBuffers(_k: string, v: unknown): unknown {
  if (
    typeof v === 'object' &&
    v !== null &&
    (v as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((v as { data?: unknown }).data)
  )
    return Buffer.from((v as { data: number[] }).data);
  return v;
}

function serialize(p: QueuedPacket): SerializedPacket {
  const { payload, ...rest } = p;
  return payload === undefined ? rest : { ...rest, payload: payload.toString('base64') };
}

function deserialize(p: SerializedPacket): QueuedPacket {
  const { payload, ...rest } = p;
  const out: QueuedPacket = { ...rest, cmd: typeof p.cmd === 'string' ? p.cmd : 'publish' };
  if (payload !== undefined) out.payload = Buffer.from(payload, 'base64');
  return out;
}

/**
 * The committed state of the broker's persistent sessions: subscriptions of `clean: false`
 * clients, retained messages and the outgoing queues. The write-ahead log applies each session
 * record here once its fsync returned (and on replay), and the snapshot stores it, so after a
 * SIGKILL the broker restarts with exactly what it had acknowledged.
 */
export class SessionState {
  readonly subs = new Map<string, Map<string, SubscriptionRec>>();
  readonly retained = new Map<string, QueuedPacket>();
  readonly outgoing = new OutgoingStore<QueuedPacket>();
  /** Clients whose session exists, whatever it holds (records `sn` / `sx`). */
  readonly sessions = new Set<string>();

  apply(rec: SessionRecord): void {
    switch (rec.t) {
      case 'oe':
        for (const c of rec.cs) this.outgoing.enqueue(c, packetOf(rec.pk));
        return;
      case 'ou':
        this.outgoing.update(rec.c, {
          cmd: 'publish',
          brokerId: rec.bid,
          brokerCounter: rec.bc,
          messageId: rec.m,
        });
        return;
      case 'ol':
        this.outgoing.update(rec.c, { cmd: 'pubrel', messageId: rec.m });
        return;
      case 'od':
        this.outgoing.clear(rec.c, rec.m);
        return;
      case 'ox':
        this.outgoing.drop(rec.c);
        return;
      case 'sa': {
        let m = this.subs.get(rec.c);
        if (m === undefined) this.subs.set(rec.c, (m = new Map<string, SubscriptionRec>()));
        for (const s of rec.subs) m.set(s.topic, s);
        return;
      }
      case 'sr': {
        const m = this.subs.get(rec.c);
        for (const t of rec.topics) m?.delete(t);
        if (m?.size === 0) this.subs.delete(rec.c);
        return;
      }
      case 'sc':
        this.subs.delete(rec.c);
        return;
      case 'rt':
        if (rec.pk.payload.length === 0) this.retained.delete(rec.pk.topic);
        else this.retained.set(rec.pk.topic, packetOf(rec.pk));
        return;
      case 'sn':
        this.sessions.add(rec.c);
        return;
      case 'sx':
        this.sessions.delete(rec.c);
        return;
    }
  }

  toJSON(): SessionSnapshot {
    return {
      subs: [...this.subs].map(([c, m]) => [c, [...m.values()]]),
      retained: [...this.retained.values()].map(serialize),
      outgoing: [...this.outgoing.queues()].map(([c, q]) => [c, q.map(serialize)]),
      sessions: [...this.sessions],
    };
  }

  restore(snap: SessionSnapshot): void {
    for (const [c, subs] of snap.subs) this.subs.set(c, new Map(subs.map((s) => [s.topic, s])));
    for (const p of snap.retained) {
      const packet = deserialize(p);
      if (packet.topic !== undefined) this.retained.set(packet.topic, packet);
    }
    for (const [c, q] of snap.outgoing) for (const p of q) this.outgoing.enqueue(c, deserialize(p));
    for (const c of Array.isArray(snap.sessions) ? snap.sessions : []) this.sessions.add(c);
  }
}

/** Checks the shape of a snapshot's session part (written by {@link SessionState.toJSON}). */
export function parseSessionSnapshot(v: unknown): SessionSnapshot | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (!Array.isArray(o.subs) || !Array.isArray(o.retained) || !Array.isArray(o.outgoing))
    return undefined;
  return o as unknown as SessionSnapshot;
}
