/**
 * An append-only byte buffer that grows by doubling. The write-ahead log encodes every record
 * of a group into one of these (no per-record Buffer, no JSON), then writes it as one frame.
 */
export class ByteWriter {
  buf: Buffer;
  len = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  #room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void {
    this.#room(1);
    this.buf[this.len++] = v;
  }

  u16(v: number): void {
    this.#room(2);
    this.buf.writeUInt16LE(v, this.len);
    this.len += 2;
  }

  u32(v: number): void {
    this.#room(4);
    this.buf.writeUInt32LE(v, this.len);
    this.len += 4;
  }

  f64(v: number): void {
    this.#room(8);
    this.buf.writeDoubleLE(v, this.len);
    this.len += 8;
  }

  /** u32 byte length + the bytes. */
  /** Copies `b` as it is (records another thread encoded). */
  raw(b: Uint8Array): void {
    this.#room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  bytes(b: Uint8Array): void {
    this.#room(4 + b.length);
    this.buf.writeUInt32LE(b.length, this.len);
    this.buf.set(b, this.len + 4);
    this.len += 4 + b.length;
  }

  /** u32 byte length + UTF-8 bytes. */
  str(s: string): void {
    // A UTF-16 code unit is at most 3 UTF-8 bytes; write first, then backfill the length.
    this.#room(4 + s.length * 3);
    const n = this.buf.write(s, this.len + 4, 'utf8');
    this.buf.writeUInt32LE(n, this.len);
    this.len += 4 + n;
  }
}

/** The reading side of {@link ByteWriter}; throws RangeError past the end (a corrupt record). */
export class ByteReader {
  readonly #buf: Buffer;
  off: number;

  constructor(buf: Buffer, off = 0) {
    this.#buf = buf;
    this.off = off;
  }

  get done(): boolean {
    return this.off >= this.#buf.length;
  }

  u8(): number {
    const v = this.#buf.readUInt8(this.off);
    this.off += 1;
    return v;
  }

  u16(): number {
    const v = this.#buf.readUInt16LE(this.off);
    this.off += 2;
    return v;
  }

  u32(): number {
    const v = this.#buf.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }

  f64(): number {
    const v = this.#buf.readDoubleLE(this.off);
    this.off += 8;
    return v;
  }

  /** A copy of the bytes (the frame buffer is not kept alive by what is read from it). */
  bytes(): Buffer {
    const n = this.u32();
    if (this.off + n > this.#buf.length) throw new RangeError('bytes past the end of the record');
    const b = Buffer.from(this.#buf.subarray(this.off, this.off + n));
    this.off += n;
    return b;
  }

  str(): string {
    const n = this.u32();
    if (this.off + n > this.#buf.length) throw new RangeError('string past the end of the record');
    const s = this.#buf.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }
}
