import { ShardedMapError } from '../errors.js';
import { OWNER_TABLE_OFFSET, S } from './layout.js';

/**
 * Per-shard writer locks with owner ids, and the owner table that lets a dead holder be found.
 *
 * Lock word (int32, alone on its 64-byte line): 0 = free, else `ownerId << 1 | contended`.
 * Owner table entry (2 int32 per owner id 1..maxOwners): state (FREE/ALIVE/DEAD), threadId.
 *
 * A holder is declared dead in two ways: explicitly, when the thread that saw a worker exit
 * calls `releaseThread(threadId)` (event-driven, no waiting), or by lease: a waiter that sees
 * the same holder and the same lock generation for longer than `lockTimeoutMs` marks the holder
 * DEAD and takes the lock over. Either way the taker runs the shard recovery before using it.
 */
export const OWNER_FREE = 0;
export const OWNER_ALIVE = 1;
export const OWNER_DEAD = 2;

/** Short spin before sleeping: critical sections are a few hundred nanoseconds. */
const SPIN = 128;

const ownerIdx = (id: number): number => (OWNER_TABLE_OFFSET + (id - 1) * 8) >>> 2;

/** Claims a free owner slot for `threadId`; throws TOO_MANY_OWNERS when none is left. */
export function claimOwner(i32: Int32Array, maxOwners: number, threadId: number): number {
  for (let id = 1; id <= maxOwners; id++) {
    const at = ownerIdx(id);
    if (Atomics.compareExchange(i32, at, OWNER_FREE, OWNER_ALIVE) === OWNER_FREE) {
      Atomics.store(i32, at + 1, threadId);
      return id;
    }
  }
  throw new ShardedMapError(
    'EDGEFLOW_MAP_TOO_MANY_OWNERS',
    `SharedShardedMap: all ${maxOwners} owner slots are in use`,
  );
}

export function ownerState(i32: Int32Array, id: number): number {
  return Atomics.load(i32, ownerIdx(id));
}

export function setOwnerState(i32: Int32Array, id: number, state: number): void {
  Atomics.store(i32, ownerIdx(id), state);
}

/** Owner ids whose recorded thread id is `threadId` and that are not FREE. */
export function ownersOfThread(i32: Int32Array, maxOwners: number, threadId: number): number[] {
  const out: number[] = [];
  for (let id = 1; id <= maxOwners; id++) {
    const at = ownerIdx(id);
    if (Atomics.load(i32, at) !== OWNER_FREE && Atomics.load(i32, at + 1) === threadId) {
      out.push(id);
    }
  }
  return out;
}

/** Lock operations of one handle (one owner id). */
export class Locks {
  /** Times this handle had to sleep on a lock. */
  waits = 0;
  /** Shards this handle recovered from a dead holder. */
  recoveries = 0;
  readonly #i32: Int32Array;
  readonly #me: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #recover: (shardBase: number) => void;

  constructor(
    i32: Int32Array,
    ownerId: number,
    timeoutMs: number,
    now: () => number,
    recover: (shardBase: number) => void,
  ) {
    this.#i32 = i32;
    this.#me = ownerId << 1;
    this.#timeoutMs = timeoutMs;
    this.#now = now;
    this.#recover = recover;
  }

  /** Takes the lock of the shard at byte offset `sb`. */
  acquire(sb: number): void {
    const i32 = this.#i32;
    const at = (sb + S.lock) >>> 2;
    if (Atomics.compareExchange(i32, at, 0, this.#me) !== 0) this.#slow(at, sb);
    const gen = (sb + S.generation) >>> 2;
    Atomics.store(i32, gen, (Atomics.load(i32, gen) + 1) | 0);
  }

  #slow(at: number, sb: number): void {
    const i32 = this.#i32;
    for (let i = 0; i < SPIN; i++) {
      if (Atomics.load(i32, at) === 0 && Atomics.compareExchange(i32, at, 0, this.#me) === 0) {
        return;
      }
    }
    const genAt = (sb + S.generation) >>> 2;
    let seenValue = -1;
    let seenGen = -1;
    let since = 0;
    for (;;) {
      const v = Atomics.load(i32, at);
      if (v === 0) {
        // Taken as contended: we cannot know whether others sleep on it.
        if (Atomics.compareExchange(i32, at, 0, this.#me | 1) === 0) return;
        continue;
      }
      const owner = v >>> 1;
      if (owner === this.#me >>> 1) {
        throw new ShardedMapError(
          'EDGEFLOW_MAP_REENTRANT',
          'SharedShardedMap: this handle already holds the shard lock (a map call inside update()?)',
        );
      }
      if (ownerState(i32, owner) === OWNER_DEAD) {
        if (Atomics.compareExchange(i32, at, v, this.#me | 1) === v) {
          this.recoveries++;
          this.#recover(sb);
          return;
        }
        continue;
      }
      if ((v & 1) === 0 && Atomics.compareExchange(i32, at, v, v | 1) !== v) continue;
      const gen = Atomics.load(i32, genAt);
      const now = this.#now();
      if ((v | 1) !== seenValue || gen !== seenGen) {
        seenValue = v | 1;
        seenGen = gen;
        since = now;
      } else if (now - since >= this.#timeoutMs) {
        // Lease expired: the holder made no progress for lockTimeoutMs. Declare it dead; the
        // next turn of the loop takes the lock over and recovers the shard.
        Atomics.compareExchange(i32, ownerIdx(owner), OWNER_ALIVE, OWNER_DEAD);
        continue;
      }
      this.waits++;
      Atomics.wait(i32, at, v | 1, Math.max(1, this.#timeoutMs - (now - since)));
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
    throw new ShardedMapError(
      'EDGEFLOW_MAP_LOCK_LOST',
      `SharedShardedMap: owner ${this.#me >>> 1} lost a shard lock to a takeover (held longer than lockTimeoutMs=${this.#timeoutMs})`,
    );
  }

  /**
   * Takes the lock of shard `sb` from dead owner `owner` if it holds it; recovers the shard and
   * releases it, waking every waiter. Returns whether it did.
   */
  takeOverFrom(sb: number, owner: number): boolean {
    const i32 = this.#i32;
    const at = (sb + S.lock) >>> 2;
    for (;;) {
      const v = Atomics.load(i32, at);
      if (v === 0 || v >>> 1 !== owner) return false;
      if (Atomics.compareExchange(i32, at, v, this.#me | 1) !== v) continue;
      this.recoveries++;
      this.#recover(sb);
      Atomics.store(i32, at, 0);
      Atomics.notify(i32, at);
      return true;
    }
  }
}
