import { ShardedMapError } from '../errors.js';

/**
 * Hash of the zero-padded key words: murmur3's 32-bit block mix, one word (4 bytes) per step.
 * Why not FNV-1a here: FNV is one dependent multiply per byte and was the largest cost of a
 * lookup; the key is already in words, so mixing words does a quarter of the steps. The murmur3
 * finaliser makes the low bits (which pick the shard) and the high bits (which pick the slot)
 * independent.
 */
export function hashWords(words: Int32Array, len: number): number {
  let h = len ^ 0x9747b28c;
  for (let k = 0, n = (len + 3) >>> 2; k < n; k++) {
    let w = Math.imul(words[k] as number, 0xcc9e2d51);
    w = (w << 15) | (w >>> 17);
    h ^= Math.imul(w, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Encodes string keys to UTF-8 in a private scratch buffer, then hashes the words
 * ({@link hashWords}). No allocation per key. Lone surrogates are encoded as U+FFFD, like
 * TextEncoder.
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
    // UTF-8 is never shorter than UTF-16, so this check is exact for ASCII and safe otherwise.
    if (key.length > this.#max) throw this.#tooLong(key);
    const b = this.bytes;
    const len = key.length;
    let n = 0;
    // ASCII fast path (topics are ASCII): one load and one store per character.
    for (; n < len; n++) {
      const c = key.charCodeAt(n);
      if (c >= 0x80) break;
      b[n] = c;
    }
    if (n < len) n = this.#encodeRest(key, n);
    // Zero the padding of the last word: slot keys are compared word by word.
    for (let p = n; (p & 3) !== 0; p++) b[p] = 0;
    this.hash = hashWords(this.words, n);
    return n;
  }

  #encodeRest(key: string, from: number): number {
    const b = this.bytes;
    const max = this.#max;
    let n = from;
    for (let i = from; i < key.length; i++) {
      let c = key.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < key.length ? key.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        } else {
          c = 0xfffd;
        }
      }
      const len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (n + len > max) throw this.#tooLong(key);
      if (len === 1) {
        b[n++] = c;
        continue;
      }
      if (len === 2) b[n++] = 0xc0 | (c >> 6);
      else if (len === 3) b[n++] = 0xe0 | (c >> 12);
      else b[n++] = 0xf0 | (c >> 18);
      for (let s = (len - 2) * 6; s >= 0; s -= 6) b[n++] = 0x80 | ((c >> s) & 0x3f);
    }
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
