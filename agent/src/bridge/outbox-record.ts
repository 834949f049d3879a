/**
 * One outbox record (inside a WAL-style frame: u32 length | u32 CRC-32 | record):
 * `f64 LE enqueuedAt (ms) | u16 LE topic length | topic (UTF-8) | payload`.
 * Binary, not JSON: payloads are forwarded byte for byte.
 */
export interface OutboxMessage {
  topic: string;
  payload: Buffer;
  /** When it entered the outbox, ms since the epoch. */
  at: number;
}

const HEADER = 10;

export function encodeOutboxRecord(m: OutboxMessage): Buffer {
  const topic = Buffer.from(m.topic, 'utf8');
  if (topic.length > 0xffff) throw new RangeError('topic longer than 65535 bytes');
  const out = Buffer.allocUnsafe(HEADER + topic.length + m.payload.length);
  out.writeDoubleLE(m.at, 0);
  out.writeUInt16LE(topic.length, 8);
  topic.copy(out, HEADER);
  m.payload.copy(out, HEADER + topic.length);
  return out;
}

/** Undefined when the bytes are not a record (the frame's CRC already passed). */
export function decodeOutboxRecord(buf: Buffer): OutboxMessage | undefined {
  if (buf.length < HEADER) return undefined;
  const at = buf.readDoubleLE(0);
  const len = buf.readUInt16LE(8);
  if (!Number.isFinite(at) || HEADER + len > buf.length) return undefined;
  return {
    at,
    topic: buf.toString('utf8', HEADER, HEADER + len),
    payload: Buffer.from(buf.subarray(HEADER + len)),
  };
}

/**
 * MQTT topic filter match ([MQTT-4.7.1]): `+` one level, `#` this level and below; a filter
 * starting with a wildcard does not match topics starting with `$` ([MQTT-4.7.2-1]).
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const part = f[i];
    if (part === '#') return true;
    if (i >= t.length) return false;
    if (part !== '+' && part !== t[i]) return false;
  }
  return f.length === t.length;
}
