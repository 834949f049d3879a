import { TpmError } from '../errors.js';

/** Big-endian writer for TPM structures (TPM 2.0 Part 1, canonical marshaling). */
export class Writer {
  private readonly chunks: Buffer[] = [];

  u8(v: number): this {
    return this.push(Buffer.from([v & 0xff]));
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return this.push(b);
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return this.push(b);
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    return this.push(b);
  }
  bytes(b: Uint8Array): this {
    return this.push(Buffer.from(b));
  }
  /** A TPM2B: 16-bit size followed by the bytes. */
  tpm2b(b: Uint8Array): this {
    return this.u16(b.length).bytes(b);
  }
  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }
  private push(b: Buffer): this {
    this.chunks.push(b);
    return this;
  }
}

/** Big-endian reader that fails with EDGEFLOW_TPM_BAD_STRUCTURE on truncation. */
export class Reader {
  private off = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  get offset(): number {
    return this.off;
  }
  get remaining(): number {
    return this.buf.length - this.off;
  }
  u8(): number {
    return this.take(1).readUInt8(0);
  }
  u16(): number {
    return this.take(2).readUInt16BE(0);
  }
  u32(): number {
    return this.take(4).readUInt32BE(0);
  }
  u64(): bigint {
    return this.take(8).readBigUInt64BE(0);
  }
  bytes(n: number): Buffer {
    return this.take(n);
  }
  tpm2b(): Buffer {
    return this.take(this.u16());
  }
  /** Fails when bytes are left over: every structure must be consumed exactly. */
  end(): void {
    if (this.remaining !== 0) {
      throw new TpmError(
        'EDGEFLOW_TPM_BAD_STRUCTURE',
        `${this.what}: ${this.remaining} trailing bytes at offset ${this.off}`,
      );
    }
  }
  private take(n: number): Buffer {
    if (this.off + n > this.buf.length) {
      throw new TpmError(
        'EDGEFLOW_TPM_BAD_STRUCTURE',
        `${this.what}: truncated at offset ${this.off} (need ${n} bytes, have ${this.remaining})`,
      );
    }
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }
}

/** Wraps already-marshaled bytes in a TPM2B (size prefix). */
export function tpm2b(body: Uint8Array): Buffer {
  return new Writer().tpm2b(body).finish();
}

/** Strips a TPM2B size prefix, requiring the size to match the buffer exactly. */
export function unwrapTpm2b(buf: Buffer, what: string): Buffer {
  const r = new Reader(buf, what);
  const body = r.tpm2b();
  r.end();
  return body;
}
