import { ShardedMapError } from '../errors.js';
import type { RecordLayout } from './layout.js';

/** Options of a new {@link SharedShardedMap}. */
export interface SharedShardedMapOptions<L extends RecordLayout> {
  /** Entries the map must hold (all shards together). Slots are preallocated for them. */
  readonly capacity: number;
  /** Record layout, e.g. `{ value: 'f64', ts: 'f64', seq: 'u32', flags: 'u16' }`. */
  readonly record: L;
  /** Shards, a power of two from 1 to 1024. Default {@link defaultShardCount}. */
  readonly shards?: number;
  /** Longest key in UTF-8 bytes, 1..4096. Default 64. */
  readonly maxKeyBytes?: number;
  /**
   * Size of each record's string area in UTF-8 bytes, 1..65535 (only for a record with `str`
   * fields, which share it). Default 64. A write whose strings need more is refused with
   * EDGEFLOW_MAP_VALUE_TOO_LONG; nothing is ever truncated.
   */
  readonly stringBytes?: number;
  /** Fraction of each shard's slots that the capacity fills, 0.1..0.95. Default 0.8. */
  readonly loadFactor?: number;
  /** Handles that may be attached at once (one owner id each), 1..4096. Default 64. */
  readonly maxOwners?: number;
  /**
   * Longest a waiting writer sleeps before it re-checks whether the lock holder was declared
   * dead: a safety net, since releaseThread() wakes the waiters itself. A live holder is never
   * taken over, however long it keeps the lock. Default 5000 ms.
   */
  readonly lockTimeoutMs?: number;
}

/** What the caller of {@link SharedShardedMap.attach} expects the buffer to hold. */
export interface AttachExpectation<L extends RecordLayout> {
  readonly record?: L;
  readonly maxKeyBytes?: number;
  readonly shards?: number;
  readonly stringBytes?: number;
}

/** Injected world: thread id recorded as owner, test hasher, test hook. */
export interface SharedShardedMapDeps {
  readonly threadId?: number;
  /**
   * Replaces the key hash (tests force collisions with it). Every handle of one buffer must
   * use the same function, or keys are looked up in the wrong place.
   */
  readonly hash?: (key: string) => number;
  /**
   * Test hook, unused in production: called inside a write's critical section (shard lock
   * held, sequence odd) after the record is written and before the undo copy is disarmed
   * (`'mid-write'`), and again after the sequence is even again, just before the lock is
   * released (`'end-write'`). For a record with `str` fields also half-way through writing the
   * record: its numeric fields new, its strings still old (`'mid-record'`; a reader that
   * ignored the sequence would return that mix). Stress tests pause the holder here (an `Atomics.wait` sleep) to
   * stand in for a thread descheduled inside the lock on a loaded machine.
   */
  readonly inCriticalSection?: (step: 'mid-write' | 'end-write' | 'mid-record') => void;
  /**
   * Test hook, never for production: this handle's lock-free reads skip the sequence check
   * (they return whatever they copied, even from a shard a writer is inside). Negative tests
   * set it to prove that their torn-read detectors detect something.
   */
  readonly unvalidatedReads?: boolean;
}

/** Per-handle counters (this thread only). */
export interface SharedMapCounters {
  /** Optimistic reads that had to retry (sequence odd or changed). */
  readonly readRetries: number;
  /** Reads that gave up retrying and took the shard lock. */
  readonly lockedReads: number;
  /** Times a writer slept on a lock. */
  readonly lockWaits: number;
  /** Shards this handle recovered from a dead lock holder. */
  readonly recoveries: number;
}

export function bad(message: string): ShardedMapError {
  return new ShardedMapError('EDGEFLOW_MAP_BAD_OPTION', `SharedShardedMap: ${message}`);
}

export function intOption(
  value: unknown,
  name: string,
  min: number,
  max: number,
  dflt: number,
): number {
  const v = value ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return v;
}
