/**
 * Write-ahead log records. Field names are short because every accepted message writes one.
 *
 * - `p` (publish): a message from a client was accepted. With `c`/`m` it is a QoS 2 PUBLISH
 *   whose packet id `m` from client `c` is now "received" (the duplicate filter,
 *   [MQTT-4.3.3-2]); with `r` it carries the sensor readings applied to the cache (several for
 *   a SenML pack). Both halves
 *   are one record, so they become durable together.
 * - `r` (released): PUBREL for `m` from `c` arrived; the id may be reused by the client.
 * - `x` (clean): a clean-session connect dropped every incoming id of client `c`.
 */
export type WalRecord =
  | { t: 'p'; c?: string; m?: number; topic?: string; r?: WalReading[] }
  | { t: 'r'; c: string; m: number }
  | { t: 'x'; c: string };

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

export function encodeRecord(rec: WalRecord): Uint8Array {
  return enc.encode(JSON.stringify(rec));
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
