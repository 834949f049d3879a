import { ByteReader, type ByteWriter } from './byte-writer.js';

/**
 * Write-ahead log records. Every accepted message writes one.
 *
 * - `p` (publish): a message from a client was accepted. With `c`/`m` it is a QoS 2 PUBLISH
 *   whose packet id `m` from client `c` is now "received" (the duplicate filter,
 *   [MQTT-4.3.3-2]); with `r` it carries the sensor readings applied to the cache (several for
 *   a SenML pack). Both halves
 *   are one record, so they become durable together.
 * - `r` (released): PUBREL for `m` from `c` arrived; the id may be reused by the client.
 * - `x` (clean): a clean-session connect dropped every incoming id of client `c`.
 * - session records ({@link SessionRecord}): the broker's persistent sessions.
 */
export type WalRecord =
  | {
      t: 'p';
      c?: string;
      m?: number;
      topic?: string;
      r?: WalReading[];
      /** The message's entries in subscribers' queues, durable with the packet id. */
      q?: { cs: string[]; pk: QueuedMessage };
    }
  | { t: 'r'; c: string; m: number }
  | { t: 'x'; c: string }
  | SessionRecord;

/**
 * Records of the broker's persistent (`clean: false`) sessions:
 * - `oe`: a message was queued for the subscribers `cs`;
 * - `ou`: the queued message (`bid`, `bc`) got packet id `m` towards client `c` (before it is
 *   sent: a retransmission after a crash reuses the id, so the subscriber sees a duplicate
 *   PUBLISH it recognises, never the same message under a new id);
 * - `ol`: PUBREC for `m` arrived, the entry became a PUBREL (before the PUBREL is sent);
 * - `od`: PUBACK/PUBCOMP for `m`: the entry is gone;
 * - `ox`: the client's whole queue dropped (its session expired);
 * - `sa` / `sr` / `sc`: subscriptions added / removed / all dropped;
 * - `rt`: a retained message stored (an empty payload deletes the topic's);
 * - `sn` / `sx`: the session of client `c` exists (a `clean: false` connect) / was discarded
 *   (a clean-session connect, expiry): CONNACK's session present [MQTT-3.2.2-2] covers a
 *   session with no subscriptions and no messages too (3.1.2.4).
 */
export type SessionRecord =
  | { t: 'oe'; cs: string[]; pk: QueuedMessage }
  | { t: 'ou'; c: string; bid: string; bc: number; m: number }
  | { t: 'ol'; c: string; m: number }
  | { t: 'od'; c: string; m: number }
  | { t: 'ox'; c: string }
  | { t: 'sa'; c: string; subs: SubscriptionRec[] }
  | { t: 'sr'; c: string; topics: string[] }
  | { t: 'sc'; c: string }
  | { t: 'rt'; pk: QueuedMessage }
  | { t: 'sn'; c: string }
  | { t: 'sx'; c: string };

/** A message as the session records keep it. */
export interface QueuedMessage {
  /** aedes broker id and counter: the message's identity in the queues. */
  bid: string;
  bc: number;
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  dup: boolean;
  /** Other packet fields (MQTT 5 properties…) as JSON, '' when none. */
  extra: string;
}

/** A subscription as aedes stores it. */
export interface SubscriptionRec {
  topic: string;
  qos: number;
  [option: string]: unknown;
}

/** A reading as stored in the log: replay re-applies it with the original receive time. */
export interface WalReading {
  k: string;
  v: number | string | boolean;
  u: string | null;
  ts: number;
  src: string;
  q: 'good' | 'stale' | 'bad';
  /** receivedAt, ms since the epoch */
  at: number;
}

const enc = new TextEncoder();

/**
 * The first byte of a frame holding a batch of binary records (one frame per group commit).
 * A frame starting with `{` is a single JSON record, the format of earlier versions: replay
 * still reads it.
 */
export const BATCH_V1 = 0x01;

/** Single JSON record (the earlier format; kept for tests and replay compatibility). */
export function encodeRecord(rec: WalRecord): Uint8Array {
  return enc.encode(JSON.stringify(rec));
}

const T_PUBLISH = 1;
const T_RELEASE = 2;
const T_CLEAN = 3;
const T_SESSION = 4;
// Append only: the index is the kind's byte on disk.
const SESSION_KINDS = ['oe', 'ou', 'ol', 'od', 'sa', 'sr', 'sc', 'rt', 'ox', 'sn', 'sx'] as const;
const V_NUMBER = 0;
const V_STRING = 1;
const V_TRUE = 2;
const V_FALSE = 3;
const QUALITY = ['good', 'stale', 'bad'] as const;
const NO_UNIT = 0xffffffff;

/**
 * Appends one record in the binary batch format: type byte, then the fields in a fixed order
 * (strings as u32 length + UTF-8, numbers as f64, packet ids as u16). About 5x cheaper than
 * JSON.stringify + TextEncoder, and no allocation per record.
 */
export function encodeRecordInto(w: ByteWriter, rec: WalRecord): void {
  if (rec.t === 'r') {
    w.u8(T_RELEASE);
    w.str(rec.c);
    w.u16(rec.m);
    return;
  }
  if (rec.t === 'x') {
    w.u8(T_CLEAN);
    w.str(rec.c);
    return;
  }
  if (rec.t !== 'p') {
    encodeSession(w, rec);
    return;
  }
  w.u8(T_PUBLISH);
  const hasId = rec.c !== undefined && rec.m !== undefined;
  const r = rec.r ?? [];
  w.u8((hasId ? 1 : 0) | (r.length > 0 ? 2 : 0) | (rec.q !== undefined ? 4 : 0));
  if (hasId) {
    w.str(rec.c as string);
    w.u16(rec.m as number);
    w.str(rec.topic ?? '');
  }
  if (rec.q !== undefined) {
    w.u32(rec.q.cs.length);
    for (const c of rec.q.cs) w.str(c);
    encodeMessage(w, rec.q.pk);
  }
  if (r.length === 0) return;
  w.u32(r.length);
  for (const x of r) {
    w.str(x.k);
    if (typeof x.v === 'number') {
      w.u8(V_NUMBER);
      w.f64(x.v);
    } else if (typeof x.v === 'string') {
      w.u8(V_STRING);
      w.str(x.v);
    } else w.u8(x.v ? V_TRUE : V_FALSE);
    if (x.u === null) w.u32(NO_UNIT);
    else w.str(x.u);
    w.f64(x.ts);
    w.str(x.src);
    w.u8(x.q === 'good' ? 0 : x.q === 'stale' ? 1 : 2);
    w.f64(x.at);
  }
}

function encodeMessage(w: ByteWriter, pk: QueuedMessage): void {
  w.str(pk.bid);
  w.f64(pk.bc);
  w.str(pk.topic);
  w.bytes(pk.payload);
  w.u8(pk.qos);
  w.u8((pk.retain ? 1 : 0) | (pk.dup ? 2 : 0));
  w.str(pk.extra);
}

function readMessage(r: ByteReader): QueuedMessage {
  const bid = r.str();
  const bc = r.f64();
  const topic = r.str();
  const payload = r.bytes();
  const qos = r.u8();
  const flags = r.u8();
  return {
    bid,
    bc,
    topic,
    payload,
    qos,
    retain: (flags & 1) !== 0,
    dup: (flags & 2) !== 0,
    extra: r.str(),
  };
}

function encodeSession(w: ByteWriter, rec: SessionRecord): void {
  w.u8(T_SESSION);
  w.u8(SESSION_KINDS.indexOf(rec.t));
  switch (rec.t) {
    case 'oe':
      w.u32(rec.cs.length);
      for (const c of rec.cs) w.str(c);
      encodeMessage(w, rec.pk);
      return;
    case 'ou':
      w.str(rec.c);
      w.str(rec.bid);
      w.f64(rec.bc);
      w.u16(rec.m);
      return;
    case 'ol':
    case 'od':
      w.str(rec.c);
      w.u16(rec.m);
      return;
    case 'sa':
      w.str(rec.c);
      w.str(JSON.stringify(rec.subs));
      return;
    case 'sr':
      w.str(rec.c);
      w.str(JSON.stringify(rec.topics));
      return;
    case 'sc':
    case 'ox':
    case 'sn':
    case 'sx':
      w.str(rec.c);
      return;
    case 'rt':
      encodeMessage(w, rec.pk);
      return;
  }
}

function readSession(r: ByteReader): SessionRecord {
  const kind = SESSION_KINDS[r.u8()];
  switch (kind) {
    case 'oe': {
      const n = r.u32();
      const cs: string[] = [];
      for (let i = 0; i < n; i++) cs.push(r.str());
      return { t: 'oe', cs, pk: readMessage(r) };
    }
    case 'ou':
      return { t: 'ou', c: r.str(), bid: r.str(), bc: r.f64(), m: r.u16() };
    case 'ol':
    case 'od':
      return { t: kind, c: r.str(), m: r.u16() };
    case 'sa': {
      const c = r.str();
      const subs = JSON.parse(r.str()) as unknown;
      if (!Array.isArray(subs)) throw new RangeError('subscriptions are not a list');
      return { t: 'sa', c, subs: subs as SubscriptionRec[] };
    }
    case 'sr': {
      const c = r.str();
      const topics = JSON.parse(r.str()) as unknown;
      if (!Array.isArray(topics)) throw new RangeError('topics are not a list');
      return { t: 'sr', c, topics: topics as string[] };
    }
    case 'sc':
    case 'ox':
    case 'sn':
    case 'sx':
      return { t: kind, c: r.str() };
    case 'rt':
      return { t: 'rt', pk: readMessage(r) };
    default:
      throw new RangeError('unknown session record kind');
  }
}

function readRecord(r: ByteReader): WalRecord {
  const t = r.u8();
  if (t === T_RELEASE) return { t: 'r', c: r.str(), m: r.u16() };
  if (t === T_CLEAN) return { t: 'x', c: r.str() };
  if (t === T_SESSION) return readSession(r);
  if (t !== T_PUBLISH) throw new RangeError(`unknown record type ${t}`);
  const flags = r.u8();
  const rec: WalRecord = { t: 'p' };
  if ((flags & 1) !== 0) {
    rec.c = r.str();
    rec.m = r.u16();
    rec.topic = r.str();
  }
  if ((flags & 4) !== 0) {
    const n = r.u32();
    const cs: string[] = [];
    for (let i = 0; i < n; i++) cs.push(r.str());
    rec.q = { cs, pk: readMessage(r) };
  }
  if ((flags & 2) !== 0) {
    const n = r.u32();
    const out: WalReading[] = [];
    for (let i = 0; i < n; i++) {
      const k = r.str();
      const tag = r.u8();
      let v: number | string | boolean;
      if (tag === V_NUMBER) v = r.f64();
      else if (tag === V_STRING) v = r.str();
      else if (tag === V_TRUE || tag === V_FALSE) v = tag === V_TRUE;
      else throw new RangeError(`unknown value tag ${tag}`);
      const ulen = r.u32();
      let u: string | null = null;
      if (ulen !== NO_UNIT) {
        r.off -= 4;
        u = r.str();
      }
      const ts = r.f64();
      const src = r.str();
      const q = QUALITY[r.u8()];
      if (q === undefined) throw new RangeError('unknown quality');
      out.push({ k, v, u, ts, src, q, at: r.f64() });
    }
    rec.r = out;
  }
  return rec;
}

/**
 * Decodes one frame's payload into its records: a binary batch ({@link BATCH_V1}) or a single
 * JSON record (earlier format). A batch is all or nothing (it was committed by one fsync):
 * undefined when it does not parse.
 */
export function decodeFramePayload(payload: Buffer): WalRecord[] | undefined {
  if (payload[0] !== BATCH_V1) {
    const one = decodeRecord(payload);
    return one === undefined ? undefined : [one];
  }
  const r = new ByteReader(payload, 1);
  const out: WalRecord[] = [];
  try {
    while (!r.done) out.push(readRecord(r));
  } catch {
    return undefined;
  }
  return out;
}

function isReading(r: unknown): r is WalReading {
  if (typeof r !== 'object' || r === null) return false;
  const o = r as Record<string, unknown>;
  return (
    typeof o.k === 'string' &&
    (typeof o.v === 'number' || typeof o.v === 'string' || typeof o.v === 'boolean') &&
    (typeof o.u === 'string' || o.u === null) &&
    typeof o.ts === 'number' &&
    typeof o.src === 'string' &&
    (o.q === 'good' || o.q === 'stale' || o.q === 'bad') &&
    typeof o.at === 'number'
  );
}

/** Parses one record; undefined when it is not a record this version understands. */
export function decodeRecord(payload: Uint8Array): WalRecord | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const o = doc as Record<string, unknown>;
  const idOk = (c: unknown, m: unknown) =>
    typeof c === 'string' && typeof m === 'number' && Number.isInteger(m);
  switch (o.t) {
    case 'p':
      if (o.r !== undefined && !(Array.isArray(o.r) && o.r.every(isReading))) return undefined;
      if ((o.c !== undefined || o.m !== undefined) && !idOk(o.c, o.m)) return undefined;
      return o as WalRecord;
    case 'r':
      return idOk(o.c, o.m) ? (o as WalRecord) : undefined;
    case 'x':
      return typeof o.c === 'string' ? (o as WalRecord) : undefined;
    default:
      return undefined;
  }
}
