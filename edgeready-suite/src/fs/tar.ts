// Minimal deterministic ustar writer/reader for report archives: regular files only, mode 0644,
// uid/gid 0, mtime fixed by the caller, so the same content always gives the same bytes (the
// archive digest is the nonce of a TPM quote).
import { EdgeReadyError } from '../errors.js';

const BLOCK = 512;

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** One tar member. */
export interface TarEntry {
  readonly name: string;
  readonly data: Buffer;
}

/** Header + data blocks of one member (no end-of-archive marker). */
export function tarMember(name: string, data: Buffer, mtimeSec: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name too long: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(data.length, 12), 124, 'ascii');
  h.write(octal(mtimeSec, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
  return Buffer.concat([h, data, Buffer.alloc(pad)]);
}

/** Two zero blocks end a tar archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

/** A parsed member with the byte offset of its header in the archive. */
export interface ParsedEntry extends TarEntry {
  readonly offset: number;
}

function bad(msg: string): EdgeReadyError {
  return new EdgeReadyError('EDGEFLOW_ER_ARCHIVE_FORMAT', msg);
}

/** Parses an archive written by {@link tarMember}; refuses anything else, and trailing data. */
export function parseTar(buf: Buffer): ParsedEntry[] {
  const out: ParsedEntry[] = [];
  let off = 0;
  for (;;) {
    if (off + BLOCK > buf.length) throw bad('archive ends without the end-of-archive blocks');
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) {
      const rest = buf.subarray(off);
      if (rest.length !== 2 * BLOCK || !rest.every((b) => b === 0))
        throw bad(`unexpected bytes after the end-of-archive marker at offset ${off}`);
      return out;
    }
    const stored = h.toString('ascii', 148, 156);
    const copy = Buffer.from(h);
    copy.write('        ', 148, 'ascii');
    let sum = 0;
    for (const b of copy) sum += b;
    if (parseInt(stored.trim(), 8) !== sum) throw bad(`bad header checksum at offset ${off}`);
    if (h.toString('ascii', 156, 157) !== '0') throw bad(`member at ${off} is not a regular file`);
    const name = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    const size = parseInt(h.toString('ascii', 124, 136).replace(/\0/g, '').trim(), 8);
    if (!Number.isFinite(size) || off + BLOCK + size > buf.length)
      throw bad(`member ${name}: bad size`);
    out.push({ name, data: buf.subarray(off + BLOCK, off + BLOCK + size), offset: off });
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
}
