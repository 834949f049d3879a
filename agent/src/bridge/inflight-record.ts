/**
 * One record of the upstream in-flight log (`<dataDir>/outbox/inflight.log`), inside a
 * WAL-style frame: `u8 op | u8 qos | u16 LE packet id | u32 LE segment | u32 LE index`.
 * The outbox record (segment, index) carries topic and payload; this log only says which
 * packet id it was sent with and how far its exchange got.
 */
export type InflightOp = 'publish' | 'pubrel' | 'done';

export interface InflightRecord {
  op: InflightOp;
  qos: 1 | 2;
  mid: number;
  seg: number;
  idx: number;
}

const OPS: readonly InflightOp[] = ['publish', 'pubrel', 'done'];
export const INFLIGHT_RECORD_BYTES = 12;

export function encodeInflightRecord(r: InflightRecord): Buffer {
  const b = Buffer.allocUnsafe(INFLIGHT_RECORD_BYTES);
  b.writeUInt8(OPS.indexOf(r.op), 0);
  b.writeUInt8(r.qos, 1);
  b.writeUInt16LE(r.mid, 2);
  b.writeUInt32LE(r.seg, 4);
  b.writeUInt32LE(r.idx, 8);
  return b;
}

/** Undefined when the bytes are not a record (the frame's CRC already passed). */
export function decodeInflightRecord(b: Buffer): InflightRecord | undefined {
  if (b.length !== INFLIGHT_RECORD_BYTES) return undefined;
  const op = OPS[b.readUInt8(0)];
  const qos = b.readUInt8(1);
  const mid = b.readUInt16LE(2);
  if (op === undefined || (qos !== 1 && qos !== 2) || mid === 0) return undefined;
  return { op, qos, mid, seg: b.readUInt32LE(4), idx: b.readUInt32LE(8) };
}

/** `seg:idx`, the identity of an outbox record across restarts. */
export const recordKey = (seg: number, idx: number): string => `${seg}:${idx}`;
