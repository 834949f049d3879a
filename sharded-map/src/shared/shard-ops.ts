import type { RecordCodec, Views } from './codegen.js';
import type { KeyCodec } from './key-codec.js';
import { type Geometry, S } from './layout.js';

const TOMB = 1;

/**
 * Repairs a shard whose lock was taken over from a dead holder (the caller now holds the lock).
 * What the dead writer may have left, and what this does about it:
 * - an in-place update in flight (undo slot set): the record is restored from the undo copy,
 *   so readers see the value from before that update, never a mix;
 * - an insert in flight: the tag is published last, so the key is either fully present or
 *   absent (a half-written slot stays invisible);
 * - a delete or tombstone cleanup in flight: each step is one word, so the key is present or
 *   absent;
 * - a clear() in flight: the shard is partly cleared;
 * - counters: recounted from the tags;
 * - the sequence counter, odd while the writer was inside: made even again (and different from
 *   any value a reader saw before), so optimistic readers resume.
 */
export function recoverShard(v: Views, g: Geometry, sb: number): void {
  const i32 = v.i32;
  const undoAt = (sb + S.undoSlot) >>> 2;
  const undo = Atomics.load(i32, undoAt);
  if (undo > 0 && undo <= g.slots) {
    const base = sb + g.slotsOffset + (undo - 1) * g.slotBytes;
    for (let b = 0; b < g.recordBytes; b++) {
      Atomics.store(v.u8, base + b, Atomics.load(v.u8, sb + S.undo + b));
    }
  }
  Atomics.store(i32, undoAt, 0);
  const tagBase = (sb + g.tagsOffset) >>> 2;
  let live = 0;
  let tombs = 0;
  for (let i = 0; i < g.slots; i++) {
    const t = Atomics.load(i32, tagBase + i);
    if (t < 0) live++;
    else if (t === TOMB) tombs++;
  }
  Atomics.store(i32, (sb + S.count) >>> 2, live);
  Atomics.store(i32, (sb + S.tombstones) >>> 2, tombs);
  const seqAt = (sb + S.seq) >>> 2;
  const seq = Atomics.load(i32, seqAt);
  if ((seq & 1) !== 0) Atomics.store(i32, seqAt, seq + 1);
}

/** Copies every live entry of a shard (caller holds its lock). */
export function snapshotShard(
  v: Views,
  g: Geometry,
  codec: RecordCodec,
  keys: KeyCodec,
  sb: number,
): [string, Record<string, number>][] {
  const out: [string, Record<string, number>][] = [];
  const tagBase = (sb + g.tagsOffset) >>> 2;
  for (let i = 0; i < g.slots; i++) {
    if (Atomics.load(v.i32, tagBase + i) >= 0) continue;
    const base = sb + g.slotsOffset + i * g.slotBytes;
    const len = Atomics.load(v.u16, (base + g.keyLenOffset) >>> 1);
    const rec: Record<string, number> = {};
    codec.read(v, base, rec);
    codec.finish(rec);
    out.push([keys.decode(v.u8, base + g.keyOffset, len), rec]);
  }
  return out;
}
