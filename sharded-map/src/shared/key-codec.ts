import { ShardedMapError } from '../errors.js';

/**
 * Encodes string keys to UTF-8 in a private scratch buffer and hashes the bytes in the same
 * pass (FNV-1a, then the murmur3 finaliser so that the low bits, which pick the shard, and the
 * high bits, which pick the slot, are independent). No allocation per key. Lone surrogates are
 * encoded as U+FFFD, like TextEncoder.
 */
export class KeyCodec {
  /** Key bytes of the last encode, zero-padded to a whole int32 word. */
  readonly bytes: Uint8Array;
  /** The same bytes as int32 words, compared against slot words with Atomics.load. */
  readonly words: Int32Array;
  /** Hash of the last encoded key (unsigned 32-bit). */
  hash = 0;
  readonly #max: number;
  readonly #decoder = new TextDecoder();

  constructor(maxKeyBytes: number) {
    this.#max = maxKeyBytes;
    const buf = new ArrayBuffer(Math.ceil((maxKeyBytes + 4) / 4) * 4);
    this.bytes = new Uint8Array(buf);
    this.words = new Int32Array(buf);
  }

  /** Encodes `key`, sets {@link KeyCodec.hash}, returns the byte length. */
  encode(key: unknown): number {
    if (typeof key !== 'string') {
      throw new ShardedMapError(
        'EDGEFLOW_MAP_BAD_KEY',
        `SharedShardedMap: keys must be strings, got ${key === null ? 'null' : typeof key}`,
      );
    }
    const b = this.bytes;
    const max = this.#max;
    let n = 0;
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) {
      let c = key.charCodeAt(i);
      if (c < 0x80) {
        if (n >= max) throw this.#tooLong(key);
        b[n++] = c;
        h = Math.imul(h ^ c, 0x01000193);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < key.length ? key.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        } else {
          c = 0xfffd;
        }
      }
      const len = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (n + len > max) throw this.#tooLong(key);
      let lead: number;
      if (len === 2) lead = 0xc0 | (c >> 6);
      else if (len === 3) lead = 0xe0 | (c >> 12);
      else lead = 0xf0 | (c >> 18);
      b[n++] = lead;
      h = Math.imul(h ^ lead, 0x01000193);
      for (let s = (len - 2) * 6; s >= 0; s -= 6) {
        const cont = 0x80 | ((c >> s) & 0x3f);
        b[n++] = cont;
        h = Math.imul(h ^ cont, 0x01000193);
      }
    }
    // Zero the padding of the last word: slot keys are compared word by word.
    for (let p = n; (p & 3) !== 0; p++) b[p] = 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    this.hash = h >>> 0;
    return n;
  }

  #tooLong(key: string): ShardedMapError {
    return new ShardedMapError(
      'EDGEFLOW_MAP_KEY_TOO_LONG',
      `SharedShardedMap: key ${JSON.stringify(key.slice(0, 80))} is longer than maxKeyBytes=${this.#max} in UTF-8`,
    );
  }

  /** Decodes `len` bytes of a shared buffer (copied to the scratch first; TextDecoder refuses shared views). */
  decode(shared: Uint8Array, offset: number, len: number): string {
    const b = this.bytes;
    for (let i = 0; i < len; i++) b[i] = Atomics.load(shared, offset + i);
    return this.#decoder.decode(b.subarray(0, len));
  }
}
