import { ShardedMapError } from '../errors.js';
import { OWNER_TABLE_OFFSET, S } from './layout.js';

/**
 * Per-shard writer locks whose holder can be identified without ambiguity, and the owner table
 * that says whether that holder is still alive.
 *
 * Owner table entry (2 int32 per owner id 1..maxOwners): `epoch << 2 | state`, then threadId.
 * State cycles FREE → CLAIMING → ALIVE → (DEAD →) FREE; the epoch is bumped on every claim,
 * so each incarnation of an owner id (a handle) has its own (id, epoch) pair.
 *
 * Lock word (int32, alone on its 64-byte line): 0 = free, else
 * `epoch << 14 | id << 1 | contended`: the holder's incarnation, not just its reused id.
 *
 * Rule: a waiter takes a held lock over only when the incarnation in the lock word is no
 * longer ALIVE in the owner table, i.e. `releaseThread()` declared its thread exited (DEAD), or
 * the id was freed (and possibly reclaimed under a new epoch) since. Time plays no part: a live
 * holder keeps its lock however long the scheduler keeps it off the CPU.
 *
 * Why that is safe (every word below is read and written with Atomics, which are sequentially
 * consistent, so there is one total order of these accesses on ARM64 as on x86): the waiter
 * loads the lock word v, then the owner entry w, then compareExchange(v → itself). The
 * incarnation e in v was ALIVE when it took the lock (it claims before it locks), and entries
 * only move forward through the cycle. If w is not `ALIVE | e` after v was loaded, e has moved
 * past ALIVE: either DEAD (its thread exited, by releaseThread's contract) or FREE/reclaimed,
 * which happens only when e holds no lock (close() refuses inside update(); releaseThread frees
 * an id only after taking over every lock it held). A new incarnation of the id writes a
 * different lock word, so the compareExchange fails instead of stealing its lock. The only
 * residual ambiguity is an epoch wrap: 2^18 claims of one id between the waiter's two loads.
 */
export const OWNER_FREE = 0;
export const OWNER_ALIVE = 1;
export const OWNER_DEAD = 2;
const OWNER_CLAIMING = 3;
const STATE_MASK = 3;
const EPOCH_MASK = (1 << 18) - 1;
const ID_MASK = (1 << 13) - 1; // ids 1..4096

/** Short spin before sleeping: critical sections are a few hundred nanoseconds. */
const SPIN = 128;

const ownerIdx = (id: number): number => (OWNER_TABLE_OFFSET + (id - 1) * 8) >>> 2;

/** The (uncontended) lock word of incarnation `epoch` of owner id `id`. */
export const lockWord = (id: number, epoch: number): number => (epoch << 14) | (id << 1);
const idOf = (word: number): number => (word >>> 1) & ID_MASK;
/** The owner id in lock word `word`. */
export const ownerIdOf = idOf;
const epochOf = (word: number): number => word >>> 14;

/** The lock word of the current incarnation of owner id `id` (white-box tests). */
export function currentLockWord(i32: Int32Array, id: number): number {
  return lockWord(id, Atomics.load(i32, ownerIdx(id)) >>> 2);
}

/** Whether the incarnation that wrote lock word `v` is still ALIVE in the owner table. */
function holderAlive(i32: Int32Array, v: number): boolean {
  return Atomics.load(i32, ownerIdx(idOf(v))) === ((epochOf(v) << 2) | OWNER_ALIVE);
}

/**
 * Claims a free owner slot for `threadId` under a new epoch; returns the lock word of the new
 * incarnation. Throws TOO_MANY_OWNERS when none is left.
 */
export function claimOwner(i32: Int32Array, maxOwners: number, threadId: number): number {
  for (let id = 1; id <= maxOwners; id++) {
    const at = ownerIdx(id);
    const w = Atomics.load(i32, at);
    if ((w & STATE_MASK) !== OWNER_FREE) continue;
    const epoch = ((w >>> 2) + 1) & EPOCH_MASK;
    if (Atomics.compareExchange(i32, at, w, (epoch << 2) | OWNER_CLAIMING) !== w) continue;
    // The thread id is in place before the entry reads ALIVE: releaseThread() only looks at
    // ALIVE entries, so it never matches a stale thread id of the previous incarnation.
    Atomics.store(i32, at + 1, threadId);
    Atomics.store(i32, at, (epoch << 2) | OWNER_ALIVE);
    return lockWord(id, epoch);
  }
  throw new ShardedMapError(
    'EDGEFLOW_MAP_TOO_MANY_OWNERS',
    `SharedShardedMap: all ${maxOwners} owner slots are in use`,
  );
}

/** Frees the owner slot of the incarnation with lock word `word` (keeps its epoch). */
export function freeOwner(i32: Int32Array, word: number): void {
  Atomics.store(i32, ownerIdx(idOf(word)), (epochOf(word) << 2) | OWNER_FREE);
}

/**
 * Declares every ALIVE incarnation recorded for `threadId` DEAD, except `self`; returns their
 * lock words. The caller asserts the thread has exited.
 */
export function declareThreadDead(
  i32: Int32Array,
  maxOwners: number,
  threadId: number,
  self: number,
): number[] {
  const out: number[] = [];
  for (let id = 1; id <= maxOwners; id++) {
    const at = ownerIdx(id);
    const w = Atomics.load(i32, at);
    if ((w & STATE_MASK) !== OWNER_ALIVE || Atomics.load(i32, at + 1) !== threadId) continue;
    const word = lockWord(id, w >>> 2);
    if (word === self) continue;
    if (Atomics.compareExchange(i32, at, w, (w & ~STATE_MASK) | OWNER_DEAD) === w) out.push(word);
  }
  return out;
}

/** Lock operations of one handle (one owner incarnation). */
export class Locks {
  /** Times this handle had to sleep on a lock. */
  waits = 0;
  /** Shards this handle recovered from a dead holder. */
  recoveries = 0;
  readonly #i32: Int32Array;
  readonly #me: number;
  readonly #recheckMs: number;
  readonly #recover: (shardBase: number) => void;

  /**
   * `me` is this handle's lock word (from {@link claimOwner}); `recheckMs` bounds each sleep, a
   * safety net only: every takeover and release wakes the sleepers itself.
   */
  constructor(i32: Int32Array, me: number, recheckMs: number, recover: (sb: number) => void) {
    this.#i32 = i32;
    this.#me = me;
    this.#recheckMs = recheckMs;
    this.#recover = recover;
  }

  /** Takes the lock of the shard at byte offset `sb`. */
  acquire(sb: number): void {
    const at = (sb + S.lock) >>> 2;
    if (Atomics.compareExchange(this.#i32, at, 0, this.#me) !== 0) this.#slow(at, sb);
  }

  #slow(at: number, sb: number): void {
    const i32 = this.#i32;
    const me = this.#me;
    for (let i = 0; i < SPIN; i++) {
      if (Atomics.load(i32, at) === 0 && Atomics.compareExchange(i32, at, 0, me) === 0) return;
    }
    for (;;) {
      const v = Atomics.load(i32, at);
      if (v === 0) {
        // Taken as contended: we cannot know whether others sleep on it.
        if (Atomics.compareExchange(i32, at, 0, me | 1) === 0) return;
        continue;
      }
      if ((v & ~1) === me) {
        throw new ShardedMapError(
          'EDGEFLOW_MAP_REENTRANT',
          'SharedShardedMap: this handle already holds the shard lock (a map call inside update()?)',
        );
      }
      if (!holderAlive(i32, v)) {
        // Its thread was declared exited (or its id freed): see the safety argument above.
        if (Atomics.compareExchange(i32, at, v, me | 1) === v) {
          this.recoveries++;
          this.#recover(sb);
          return;
        }
        continue;
      }
      if ((v & 1) === 0 && Atomics.compareExchange(i32, at, v, v | 1) !== v) continue;
      this.waits++;
      Atomics.wait(i32, at, v | 1, this.#recheckMs);
    }
  }

  /** Releases the lock; throws LOCK_LOST if another thread took it over meanwhile. */
  release(sb: number): void {
    const i32 = this.#i32;
    const at = (sb + S.lock) >>> 2;
    const prev = Atomics.compareExchange(i32, at, this.#me, 0);
    if (prev === this.#me) return;
    if (prev === (this.#me | 1) && Atomics.compareExchange(i32, at, prev, 0) === prev) {
      Atomics.notify(i32, at, 1);
      return;
    }
    // Only possible when releaseThread() was called for this thread while it still ran.
    throw new ShardedMapError(
      'EDGEFLOW_MAP_LOCK_LOST',
      `SharedShardedMap: owner ${idOf(this.#me)} lost a shard lock: releaseThread() was called for its thread while it was still running`,
    );
  }

  /**
   * Takes the lock of shard `sb` from the dead incarnation with lock word `owner` if it holds
   * it; recovers the shard and releases it, waking every waiter. Returns whether it did.
   */
  takeOverFrom(sb: number, owner: number): boolean {
    const i32 = this.#i32;
    const at = (sb + S.lock) >>> 2;
    for (;;) {
      const v = Atomics.load(i32, at);
      if ((v & ~1) !== owner) return false;
      if (Atomics.compareExchange(i32, at, v, this.#me | 1) !== v) continue;
      this.recoveries++;
      this.#recover(sb);
      Atomics.store(i32, at, 0);
      Atomics.notify(i32, at);
      return true;
    }
  }
}
