import type { RecordCodec, Views } from './codegen.js';
import { type Geometry, S } from './layout.js';

/** What a lock-free shard scan needs from its map handle. */
export interface ScanContext {
  readonly v: Views;
  readonly g: Geometry;
  readonly codec: RecordCodec;
  /** Optimistic attempts per entry before it is read under the shard lock. */
  readonly attempts: number;
  /** False only under the `unvalidatedReads` test hook. */
  readonly checkReads: boolean;
  /** Runs `fn` holding the lock of the shard at byte offset `sb`. */
  readonly withLock: (sb: number, fn: () => void) => void;
  /** Counts one failed optimistic attempt (the handle's read retries). */
  readonly retried: () => void;
}

const decoder = new TextDecoder();

/**
 * Visits every live entry of the shard at byte offset `sb` without its lock. Each entry is read
 * in a seqlock window of its own (sequence, tag, key, record, sequence), so a window is a few
 * hundred nanoseconds and a busy shard rarely makes it retry; an entry that keeps failing is
 * read under the lock. Entries are consistent one by one, not with each other: a key present
 * for the whole scan and never deleted is visited exactly once (slots never move), a key
 * inserted or deleted meanwhile at most once.
 */
export function scanShard(
  c: ScanContext,
  sb: number,
  fn: (key: string, rec: Record<string, number>) => void,
): void {
  const { v, g, codec } = c;
  const i32 = v.i32;
  const seqAt = (sb + S.seq) >>> 2;
  const tagBase = (sb + g.tagsOffset) >>> 2;
  const keyWords = new Int32Array(Math.ceil(g.maxKeyBytes / 4) + 1);
  const keyBytes = new Uint8Array(keyWords.buffer);
  let keyLen = 0;
  // Copies one slot (tag already known live) into the scratches; returns the record.
  const copy = (i: number): Record<string, number> => {
    const base = sb + g.slotsOffset + i * g.slotBytes;
    keyLen = Math.min(g.maxKeyBytes, Atomics.load(v.u16, (base + g.keyLenOffset) >>> 1));
    const at = (base + g.keyOffset) >>> 2;
    for (let k = 0, n = (keyLen + 3) >>> 2; k < n; k++) keyWords[k] = Atomics.load(i32, at + k);
    const rec: Record<string, number> = {};
    codec.read(v, base, rec);
    return rec;
  };
  const emit = (rec: Record<string, number>): void => {
    codec.finish(rec);
    fn(decoder.decode(keyBytes.subarray(0, keyLen)), rec);
  };
  for (let i = 0; i < g.slots; i++) {
    let done = false;
    for (let a = 0; a < c.attempts && !done; a++) {
      const s1 = Atomics.load(i32, seqAt);
      if ((s1 & 1) !== 0 && c.checkReads) {
        c.retried();
        continue;
      }
      const live = Atomics.load(i32, tagBase + i) < 0;
      const rec = live ? copy(i) : undefined;
      if (Atomics.load(i32, seqAt) !== s1 && c.checkReads) {
        c.retried();
        continue;
      }
      if (rec !== undefined) emit(rec);
      done = true;
    }
    if (done) continue;
    // A writer kept the shard busy for every attempt: read this slot under the lock.
    let rec: Record<string, number> | undefined;
    c.withLock(sb, () => {
      rec = Atomics.load(i32, tagBase + i) < 0 ? copy(i) : undefined;
    });
    if (rec !== undefined) emit(rec);
  }
}
