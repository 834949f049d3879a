import { crc32 } from 'node:zlib';

/** Bytes before each record: u32 LE payload length, u32 LE CRC-32 of the payload. */
export const FRAME_HEADER = 8;
/** A record larger than this is corruption, not data (payloads are capped far below). */
export const MAX_RECORD = 64 * 1024 * 1024;

/** Frames one record: header + payload, so that a torn or corrupt tail is detectable. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  out.set(payload, FRAME_HEADER);
  return out;
}

/**
 * Fills in the header of a frame built in place: `buf[0..8)` reserved for the header, the
 * payload in `buf[8..end)`. Returns the frame (a view, no copy).
 */
export function sealFrame(buf: Buffer, end: number): Buffer {
  const payload = buf.subarray(FRAME_HEADER, end);
  buf.writeUInt32LE(payload.length, 0);
  buf.writeUInt32LE(crc32(payload), 4);
  return buf.subarray(0, end);
}

export interface DecodedFrames {
  payloads: Buffer[];
  /** Offset just after the last intact record: everything beyond is a torn or corrupt tail. */
  validBytes: number;
}

/**
 * Splits a segment into record payloads. Stops at the first incomplete or corrupt frame: a
 * crash during a write leaves a torn tail, and a record is only acknowledged once the fsync
 * that covers it returned, so a record that fails its CRC was never acknowledged.
 */
export function decodeFrames(buf: Buffer): DecodedFrames {
  const payloads: Buffer[] = [];
  let off = 0;
  while (off + FRAME_HEADER <= buf.length) {
    const len = buf.readUInt32LE(off);
    const sum = buf.readUInt32LE(off + 4);
    if (len > MAX_RECORD || off + FRAME_HEADER + len > buf.length) break;
    const payload = buf.subarray(off + FRAME_HEADER, off + FRAME_HEADER + len);
    if (crc32(payload) !== sum) break;
    payloads.push(payload);
    off += FRAME_HEADER + len;
  }
  return { payloads, validBytes: off };
}
