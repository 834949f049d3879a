import { ShardedMapError } from '../errors.js';
import type { RecordCodec, Views } from './codegen.js';
import type { KeyCodec } from './key-codec.js';
import { type Geometry, S } from './layout.js';

const TOMB = 1;

/**
 * The open-addressing engine of one buffer: probing, inserting, updating, deleting inside a
 * shard. Callers hold the shard lock for every mutating method; `locate` is also used by
 * optimistic readers inside a seqlock window (it only reads, with Atomics.load).
 */
export class ShardCore {
  /** Where the last `locate` found room for an insert (first tombstone or empty), or -1. */
  free = -1;
  readonly slots: number;

  constructor(
    readonly v: Views,
    readonly g: Geometry,
    readonly codec: RecordCodec,
    readonly keys: KeyCodec,
    readonly hook?: (step: 'mid-write' | 'end-write' | 'mid-record') => void,
  ) {
    this.slots = g.slots;
  }

  /** Byte offset of shard `s`. */
  shardBase(s: number): number {
    return this.g.shardBase + s * this.g.shardBytes;
  }

  /** Live entries of the shard at byte offset `sb`. */
  count(sb: number): number {
    return Atomics.load(this.v.i32, (sb + S.count) >>> 2);
  }

  slotBase(sb: number, i: number): number {
    return sb + this.g.slotsOffset + i * this.g.slotBytes;
  }

  keyEquals(base: number, len: number): boolean {
    const v = this.v;
    if (Atomics.load(v.u16, (base + this.g.keyLenOffset) >>> 1) !== len) return false;
    const words = this.keys.words;
    const at = (base + this.g.keyOffset) >>> 2;
    for (let k = 0, n = (len + 3) >>> 2; k < n; k++) {
      if (Atomics.load(v.i32, at + k) !== words[k]) return false;
    }
    return true;
  }

  /**
   * Probes shard `sb` for the last encoded key (linear probing from a slot chosen by the high
   * hash bits; the shard was chosen by the low bits). Returns the slot or -1; sets #free to
   * the first tombstone or the terminating empty slot (-1 if none), where an insert goes.
   */
  locate(sb: number, h: number, len: number): number {
    const i32 = this.v.i32;
    const slots = this.slots;
    const tagBase = (sb + this.g.tagsOffset) >>> 2;
    const tag = h | 0x80000000;
    let i = ((h >>> 8) * slots) / 16777216;
    i = i >>> 0;
    this.free = -1;
    for (let n = 0; n < slots; n++) {
      const t = Atomics.load(i32, tagBase + i);
      if (t === 0) {
        if (this.free < 0) this.free = i;
        return -1;
      }
      if (t === tag) {
        if (this.keyEquals(this.slotBase(sb, i), len)) return i;
      } else if (t === TOMB && this.free < 0) {
        this.free = i;
      }
      if (++i === slots) i = 0;
    }
    return -1;
  }

  full(sb: number): ShardedMapError {
    const shard = (sb - this.g.shardBase) / this.g.shardBytes;
    return new ShardedMapError(
      'EDGEFLOW_MAP_FULL',
      `SharedShardedMap: shard ${shard} is full (${this.slots - 1} entries); nothing was overwritten`,
    );
  }

  /** Writes `rec` at slot `i` (found) or inserts at #free; caller holds the lock. */
  write(sb: number, i: number, len: number, h: number, rec: Record<string, number>): void {
    const v = this.v;
    const g = this.g;
    const countAt = (sb + S.count) >>> 2;
    if (i < 0 && (this.free < 0 || Atomics.load(v.i32, countAt) >= this.slots - 1)) {
      throw this.full(sb);
    }
    const seqAt = (sb + S.seq) >>> 2;
    const seq = Atomics.load(v.i32, seqAt);
    Atomics.store(v.i32, seqAt, seq + 1);
    try {
      if (i >= 0) {
        // In-place update: keep an undo copy so a takeover after our death can roll back.
        const base = this.slotBase(sb, i);
        // Plain word copy: only a recovering thread reads the undo area, after taking the
        // lock with a compareExchange (a full barrier). Whole words may copy a few bytes past
        // the record; the undo area is sized to a 64-byte multiple and restore uses recordBytes.
        const from = base >>> 2;
        const to = (sb + S.undo) >>> 2;
        for (let k = 0, n = (g.recordBytes + 3) >>> 2; k < n; k++)
          v.i32[to + k] = v.i32[from + k] as number;
        Atomics.store(v.i32, (sb + S.undoSlot) >>> 2, i + 1);
        this.codec.write(v, base, rec);
        if (this.hook !== undefined) this.hook('mid-write');
        Atomics.store(v.i32, (sb + S.undoSlot) >>> 2, 0);
      } else {
        // Insert: fill the slot, then publish its tag last; death before that leaves no trace.
        const slot = this.free;
        const base = this.slotBase(sb, slot);
        Atomics.store(v.u16, (base + g.keyLenOffset) >>> 1, len);
        const words = this.keys.words;
        const at = (base + g.keyOffset) >>> 2;
        for (let k = 0, n = (len + 3) >>> 2; k < n; k++)
          Atomics.store(v.i32, at + k, words[k] as number);
        this.codec.write(v, base, rec);
        const tagAt = ((sb + g.tagsOffset) >>> 2) + slot;
        const wasTomb = Atomics.load(v.i32, tagAt) === TOMB;
        Atomics.store(v.i32, tagAt, h | 0x80000000);
        Atomics.add(v.i32, countAt, 1);
        if (wasTomb) Atomics.sub(v.i32, (sb + S.tombstones) >>> 2, 1);
      }
    } finally {
      Atomics.store(v.i32, seqAt, seq + 2);
    }
    if (this.hook !== undefined) this.hook('end-write');
  }

  /** Deletes slot `i` of shard `sb` (tombstone, then in-shard cleanup); caller holds the lock. */
  remove(sb: number, i: number): void {
    const v = this.v;
    const seqAt = (sb + S.seq) >>> 2;
    const seq = Atomics.load(v.i32, seqAt);
    Atomics.store(v.i32, seqAt, seq + 1);
    const tagBase = (sb + this.g.tagsOffset) >>> 2;
    Atomics.store(v.i32, tagBase + i, TOMB);
    Atomics.sub(v.i32, (sb + S.count) >>> 2, 1);
    let tombs = 1;
    // In-shard cleanup: a tombstone followed by an empty slot ends no probe chain, so it
    // and the tombstones right before it can become empty (one word each, crash-safe).
    const slots = this.slots;
    if (Atomics.load(v.i32, tagBase + ((i + 1) % slots)) === 0) {
      let j = i;
      while (Atomics.load(v.i32, tagBase + j) === TOMB) {
        Atomics.store(v.i32, tagBase + j, 0);
        tombs--;
        j = j === 0 ? slots - 1 : j - 1;
      }
    }
    if (tombs !== 0) Atomics.add(v.i32, (sb + S.tombstones) >>> 2, tombs);
    Atomics.store(v.i32, seqAt, seq + 2);
  }

  /** Empties shard `sb`; caller holds the lock. */
  clearShard(sb: number): void {
    const v = this.v;
    const seqAt = (sb + S.seq) >>> 2;
    const seq = Atomics.load(v.i32, seqAt);
    Atomics.store(v.i32, seqAt, seq + 1);
    const tagBase = (sb + this.g.tagsOffset) >>> 2;
    for (let i = 0; i < this.slots; i++) Atomics.store(v.i32, tagBase + i, 0);
    Atomics.store(v.i32, (sb + S.count) >>> 2, 0);
    Atomics.store(v.i32, (sb + S.tombstones) >>> 2, 0);
    Atomics.store(v.i32, seqAt, seq + 2);
  }
}
