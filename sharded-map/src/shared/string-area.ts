import { ShardedMapError } from '../errors.js';
import type { StringArea } from './layout.js';

type Rec = Record<string, unknown>;

/**
 * The `str` fields of one layout: encoded to UTF-8 into a private scratch before a write (so an
 * oversized record is refused before the shard lock and the seqlock counter are touched), and
 * copied out of the shared buffer into another private scratch inside a reader's seqlock window,
 * to be decoded only once the window proved consistent. Every shared word is accessed with
 * Atomics (see the README's memory model).
 */
export class StringCodec {
  readonly #area: StringArea;
  readonly #words: number;
  /** Write side: lengths of the last prepared record, then its bytes. */
  readonly #wLens: Uint16Array;
  readonly #wBytes: Uint8Array;
  readonly #wWords: Int32Array;
  /** Read side: what the last load copied. */
  readonly #rLens: Uint16Array;
  readonly #rBuf: Buffer;
  readonly #rWords: Int32Array;
  readonly #enc = new TextEncoder();
  #wTotal = 0;

  constructor(area: StringArea) {
    this.#area = area;
    this.#words = Math.ceil(area.bytes / 4);
    const n = area.names.length;
    this.#wLens = new Uint16Array(n);
    this.#rLens = new Uint16Array(n);
    const w = new ArrayBuffer(this.#words * 4);
    this.#wBytes = new Uint8Array(w);
    this.#wWords = new Int32Array(w);
    const r = new ArrayBuffer(this.#words * 4);
    this.#rBuf = Buffer.from(r);
    this.#rWords = new Int32Array(r);
  }

  /** Whether every `str` field of `rec` holds a string. */
  valid(rec: Rec): boolean {
    for (const name of this.#area.names) if (typeof rec[name] !== 'string') return false;
    return true;
  }

  /**
   * Encodes the record's strings into the write scratch. Throws EDGEFLOW_MAP_VALUE_TOO_LONG
   * when they need more than the area holds: nothing is ever cut short.
   */
  prepare(rec: Rec): void {
    const names = this.#area.names;
    let at = 0;
    for (let i = 0; i < names.length; i++) {
      const s = rec[names[i] as string] as string;
      const { read, written } = this.#enc.encodeInto(
        s,
        this.#wBytes.subarray(at, this.#area.bytes),
      );
      if (read !== s.length) throw this.#tooLong(rec);
      this.#wLens[i] = written;
      at += written;
    }
    this.#wTotal = at;
  }

  #tooLong(rec: Rec): ShardedMapError {
    let need = 0;
    for (const name of this.#area.names) need += Buffer.byteLength(rec[name] as string, 'utf8');
    return new ShardedMapError(
      'EDGEFLOW_MAP_VALUE_TOO_LONG',
      `SharedShardedMap: the record's str fields (${this.#area.names.join(', ')}) take ${need} bytes in UTF-8, ` +
        `the string area holds ${this.#area.bytes} (stringBytes); nothing was written`,
    );
  }

  /** Stores the prepared strings at record byte offset `base` (caller is inside the seqlock). */
  store(i32: Int32Array, u16: Uint16Array, base: number): void {
    const a = this.#area;
    const lensAt = (base + a.lensOffset) >>> 1;
    for (let i = 0; i < a.names.length; i++)
      Atomics.store(u16, lensAt + i, this.#wLens[i] as number);
    const at = (base + a.bytesOffset) >>> 2;
    const words = this.#wWords;
    for (let k = 0, n = (this.#wTotal + 3) >>> 2; k < n; k++)
      Atomics.store(i32, at + k, words[k] as number);
  }

  /** Copies the stored lengths and bytes into the read scratch (inside a reader's window). */
  load(i32: Int32Array, u16: Uint16Array, base: number): void {
    const a = this.#area;
    const lensAt = (base + a.lensOffset) >>> 1;
    let total = 0;
    for (let i = 0; i < a.names.length; i++) {
      const len = Atomics.load(u16, lensAt + i);
      this.#rLens[i] = len;
      total += len;
    }
    // A torn read may show lengths that do not add up; the window check rejects it later, the
    // copy only has to stay inside the area.
    const at = (base + a.bytesOffset) >>> 2;
    const words = this.#rWords;
    for (let k = 0, n = Math.min(this.#words, (total + 3) >>> 2); k < n; k++)
      words[k] = Atomics.load(i32, at + k);
  }

  /** Decodes what the last {@link load} copied into the `str` fields of `out`. */
  decodeInto(out: Rec): void {
    const names = this.#area.names;
    const cap = this.#area.bytes;
    let at = 0;
    for (let i = 0; i < names.length; i++) {
      const end = Math.min(cap, at + (this.#rLens[i] as number));
      out[names[i] as string] = at >= end ? '' : this.#rBuf.toString('utf8', at, end);
      at = end;
    }
  }

  /** Whether the stored strings at `base` equal those of `rec` (caller holds the lock). */
  equals(i32: Int32Array, u16: Uint16Array, base: number, rec: Rec): boolean {
    this.load(i32, u16, base);
    const names = this.#area.names;
    let at = 0;
    for (let i = 0; i < names.length; i++) {
      const len = this.#rLens[i] as number;
      const want = rec[names[i] as string] as string;
      if (this.#rBuf.toString('utf8', at, at + len) !== want) return false;
      at += len;
    }
    return true;
  }

  /** Sets every `str` field of `out` to ''. */
  zero(out: Rec): void {
    for (const name of this.#area.names) out[name] = '';
  }
}
