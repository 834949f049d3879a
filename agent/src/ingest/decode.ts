import type { ReadingInput } from '../cache/reading.js';
import { decodeSenml } from './senml.js';

export type RejectReason =
  | 'bad_topic'
  | 'too_large'
  | 'not_utf8'
  | 'empty'
  | 'bad_json'
  | 'bad_shape'
  | 'not_finite'
  | 'bad_timestamp'
  /** Decoded fine, but its text does not fit the cache's string area (cache.stringBytes). */
  | 'reading_too_large';

/** Every {@link RejectReason}, for metrics exported at 0 from the start. */
export const REJECT_REASONS: readonly RejectReason[] = [
  'bad_topic',
  'too_large',
  'not_utf8',
  'empty',
  'bad_json',
  'bad_shape',
  'not_finite',
  'bad_timestamp',
  'reading_too_large',
];

export type DecodeResult =
  | { ok: true; reading: Omit<ReadingInput, 'source'> }
  | { ok: false; reason: RejectReason; detail: string };

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const MAX_UNIT = 32;
const MAX_STRING = 1024;
/** Timestamps below this are seconds (SenML style); at or above, milliseconds. 1e11 s is year 5138. */
const SECONDS_LIMIT = 1e11;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(
  reason: RejectReason,
  detail: string,
): { ok: false; reason: RejectReason; detail: string } {
  return { ok: false, reason, detail };
}

function toMillis(t: unknown, now: number): number | string {
  if (t === undefined) return now;
  if (typeof t !== 'number' || !Number.isFinite(t)) return 't must be a finite number';
  if (t <= 0) return 't must be positive (seconds or milliseconds since the epoch)';
  return t < SECONDS_LIMIT ? Math.round(t * 1000) : Math.round(t);
}

/**
 * Decodes one sensor payload. Accepted forms:
 * - a bare number (`21.5`), `true`/`false`;
 * - JSON `{"v": 21.5, "u": "Cel", "t": 1732700000}` (`v` number, string or boolean; `u`, `t`
 *   optional; `t` in seconds or milliseconds since the epoch).
 * NaN and Infinity are rejected: they cannot be compared, summed or forwarded as JSON.
 */
export function decodePayload(payload: Uint8Array, now: number, maxBytes: number): DecodeResult {
  if (payload.length > maxBytes) return fail('too_large', `${payload.length} bytes > ${maxBytes}`);
  if (payload.length === 0) return fail('empty', 'empty payload');
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return fail('not_utf8', 'payload is not valid UTF-8');
  }
  const trimmed = text.trim();
  if (NUMBER.test(trimmed)) {
    const value = Number(trimmed);
    if (!Number.isFinite(value)) return fail('not_finite', 'number out of range');
    return { ok: true, reading: { value, unit: null, ts: now, quality: 'good' } };
  }
  if (trimmed === 'true' || trimmed === 'false') {
    return {
      ok: true,
      reading: { value: trimmed === 'true', unit: null, ts: now, quality: 'good' },
    };
  }
  if (/^(nan|[+-]?inf(inity)?)$/i.test(trimmed))
    return fail('not_finite', `${trimmed} is not a finite number`);
  if (trimmed[0] !== '{')
    return fail('bad_shape', 'expected a number, true/false or a JSON object {v,u,t}');
  let doc: unknown;
  try {
    doc = JSON.parse(trimmed);
  } catch (err) {
    return fail('bad_json', (err as Error).message);
  }
  return decodeObject(doc as Record<string, unknown>, now);
}

function decodeObject(o: Record<string, unknown>, now: number): DecodeResult {
  for (const k in o) {
    if (k !== 'v' && k !== 'u' && k !== 't')
      return fail('bad_shape', `unknown field ${JSON.stringify(k)}; allowed: v, u, t`);
  }
  const v = o.v;
  if (v === undefined) return fail('bad_shape', 'missing field v');
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return fail('not_finite', 'v must be finite');
  } else if (typeof v === 'string') {
    if (v.length > MAX_STRING)
      return fail('bad_shape', `v is longer than ${MAX_STRING} characters`);
  } else if (typeof v !== 'boolean') {
    return fail('bad_shape', 'v must be a number, string or boolean');
  }
  const u = o.u;
  if (u !== undefined && (typeof u !== 'string' || u.length > MAX_UNIT)) {
    return fail('bad_shape', `u must be a string of at most ${MAX_UNIT} characters`);
  }
  const ts = toMillis(o.t, now);
  if (typeof ts === 'string') return fail('bad_timestamp', ts);
  return { ok: true, reading: { value: v, unit: u ?? null, ts, quality: 'good' } };
}

/** One decoded reading and the SenML name it carried (null for the single-value forms). */
export interface NamedReading {
  name: string | null;
  reading: Omit<ReadingInput, 'source'>;
}

export type MessageDecodeResult =
  { ok: true; readings: NamedReading[] } | { ok: false; reason: RejectReason; detail: string };

/**
 * Decodes a sensor message: every form of {@link decodePayload}, plus a SenML JSON pack
 * (RFC 8428, a JSON array of records) resolved by {@link decodeSenml} into one or more
 * readings, each with its resolved name.
 */
export function decodeMessage(
  payload: Uint8Array,
  now: number,
  maxBytes: number,
): MessageDecodeResult {
  // Only a payload that starts with '[' is SenML; everything else keeps its existing path.
  let i = 0;
  while (
    i < payload.length &&
    (payload[i] === 0x20 || payload[i] === 0x0a || payload[i] === 0x0d || payload[i] === 0x09)
  )
    i++;
  if (payload[i] !== 0x5b || payload.length > maxBytes) {
    const single = decodePayload(payload, now, maxBytes);
    return single.ok ? { ok: true, readings: [{ name: null, reading: single.reading }] } : single;
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return fail('not_utf8', 'payload is not valid UTF-8');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return fail('bad_json', (err as Error).message);
  }
  if (!Array.isArray(doc)) return fail('bad_shape', 'expected a SenML array');
  const res = decodeSenml(doc, now);
  return res;
}
