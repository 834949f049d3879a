import {
  ShardedMapError,
  SharedShardedMap,
  type SharedMapCounters,
  type SharedShardedMapDeps,
} from '@edgeflow/sharded-map';
import { AgentError } from '../errors.js';
import type { Reading, ReadingInput } from './reading.js';
import {
  emptyRecord,
  putInput,
  READING_RECORD,
  readingOf,
  stringBytesOf,
  type ReadingRecord,
} from './reading-record.js';

export interface SensorCacheOptions {
  /** Attach to this cache's buffer (made by another handle, in any thread) instead of creating one. */
  buffer?: SharedArrayBuffer;
  /** Shard count of a new cache (power of two). */
  shards?: number;
  /** Sensors the cache holds at most (slots are preallocated in shared memory). Default 10,000. */
  capacity?: number;
  /** UTF-8 bytes of a reading's strings (string value, unit, source) together. Default 128. */
  stringBytes?: number;
  now?: () => number;
}

/** Longest key: `<device>/<sensor>`, each id at most 64 characters of [A-Za-z0-9_.:-]. */
export const MAX_KEY_BYTES = 129;
/** Keys starting with this are the agent's own (self-tests): never listed as sensors. */
export const INTERNAL_KEY_PREFIX = '#';

/** What {@link SensorCache.fits} refuses, with the reason a user can act on. */
export type CacheRefusal = { reason: 'reading_too_large'; detail: string };

/**
 * The latest reading of every sensor, keyed `<device>/<sensor>`, in a SharedShardedMap: one
 * SharedArrayBuffer that the ingest worker threads write and the main thread reads, without a
 * message per read. Writers lock one shard; readers take no lock (seqlock).
 *
 * Out-of-order rule: every reading applied counts in `seq`; the value shown is the one with
 * the newest measurement timestamp, so a late, older reading is counted but does not
 * replace a newer value (ties go to the later arrival). The read-modify-write runs under the
 * shard lock, so `seq` stays exact when several threads write the same key.
 */
export class SensorCache {
  readonly #map: SharedShardedMap<typeof READING_RECORD>;
  readonly #now: () => number;
  readonly #stringBytes: number;
  readonly #out = emptyRecord();

  constructor(options: SensorCacheOptions, deps: SharedShardedMapDeps = {}) {
    if (options.buffer !== undefined) {
      this.#map = SharedShardedMap.attach(options.buffer, { record: READING_RECORD }, deps);
    } else {
      this.#map = new SharedShardedMap(
        {
          capacity: options.capacity ?? 10_000,
          record: READING_RECORD,
          ...(options.shards !== undefined ? { shards: options.shards } : {}),
          maxKeyBytes: MAX_KEY_BYTES,
          stringBytes: options.stringBytes ?? 128,
          // Main thread, ingest workers, self-test workers, and handles of exited threads
          // until their exit is seen.
          maxOwners: 256,
        },
        deps,
      );
    }
    this.#stringBytes = this.#map.stringBytes;
    this.#now = options.now ?? Date.now;
  }

  /** The shared memory holding the cache (posted to worker threads, which {@link attach}). */
  get buffer(): SharedArrayBuffer {
    return this.#map.buffer;
  }

  /** The map itself (self-tests, diagnostics). */
  get map(): SharedShardedMap<typeof READING_RECORD> {
    return this.#map;
  }

  /**
   * Why a reading cannot be stored (checked before it is logged or acknowledged, so that it is
   * refused as a whole: never stored cut short), or undefined when it fits.
   */
  fits(key: string, input: ReadingInput): CacheRefusal | undefined {
    const need = stringBytesOf(input);
    if (need > this.#stringBytes)
      return {
        reason: 'reading_too_large',
        detail:
          `reading for ${key} needs ${need} bytes of text (string value, unit, source), ` +
          `the cache keeps ${this.#stringBytes} per sensor (cache.stringBytes)`,
      };
    if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES)
      return {
        reason: 'reading_too_large',
        detail: `key ${key} is longer than ${MAX_KEY_BYTES} bytes`,
      };
    return undefined;
  }

  /**
   * Applies one reading and returns the cached state of its key afterwards. `receivedAt`
   * defaults to now; the write-ahead log replay passes the original receive time. Throws
   * EDGEFLOW_CACHE_FULL for a new key when its shard is full, EDGEFLOW_INGEST_READING_TOO_LARGE
   * when {@link fits} would have refused it; the cache is unchanged then.
   */
  store(key: string, input: ReadingInput, receivedAt: number = this.#now()): Reading {
    let result: ReadingRecord | undefined;
    try {
      this.#map.update(key, (r, present) => {
        const seq = (present ? r.seq : 0) + 1;
        if (!present || input.ts >= r.ts) putInput(r, input);
        r.seq = seq;
        r.receivedAt = receivedAt;
        result = r;
      });
    } catch (err) {
      throw storeError(key, err);
    }
    return readingOf(key, result as ReadingRecord);
  }

  /**
   * {@link store} without building the resulting reading (the ingest path, which does not
   * need it: one object less per message).
   */
  apply(key: string, input: ReadingInput, receivedAt: number = this.#now()): void {
    try {
      this.#map.update(key, (r, present) => {
        const seq = (present ? r.seq : 0) + 1;
        if (!present || input.ts >= r.ts) putInput(r, input);
        r.seq = seq;
        r.receivedAt = receivedAt;
      });
    } catch (err) {
      throw storeError(key, err);
    }
  }

  get(key: string): Reading | undefined {
    if (!this.#map.get(key, this.#out)) return undefined;
    return readingOf(key, this.#out);
  }

  /** Sensors held (approximate while writers run). */
  get size(): number {
    return this.#map.size;
  }

  /** Every reading whose key starts with `prefix`, sorted by key (lock-free: see scan). */
  list(prefix = ''): Reading[] {
    const out: Reading[] = [];
    this.#map.scan((k, r) => {
      if (k.startsWith(prefix) && !k.startsWith(INTERNAL_KEY_PREFIX)) out.push(readingOf(k, r));
    });
    out.sort(byKey);
    return out;
  }

  /**
   * One page of {@link list}: the first `limit` readings (in key order) whose key starts with
   * `prefix` and sorts after `after` (absent: from the start), how many readings match
   * `prefix` in all, and whether more follow the page. Memory follows `limit`, not the cache:
   * one lock-free scan keeps at most 2 × `limit` candidates (sorted and cut back to `limit`
   * when full; a key past the cut is then skipped without being read), so a cache of a
   * million sensors costs one scan per page, never a million readings at once.
   */
  page(prefix: string, after: string | undefined, limit: number): SensorPage {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`bad page limit ${limit}`);
    const kept: Reading[] = [];
    let bound: string | undefined;
    let total = 0;
    let following = 0;
    this.#map.scan((k, r) => {
      if (!k.startsWith(prefix) || k.startsWith(INTERNAL_KEY_PREFIX)) return;
      total++;
      if (after !== undefined && k <= after) return;
      following++;
      if (bound !== undefined && k >= bound) return;
      kept.push(readingOf(k, r));
      if (kept.length >= 2 * limit) {
        kept.sort(byKey);
        kept.length = limit;
        bound = (kept[limit - 1] as Reading).key;
      }
    });
    kept.sort(byKey);
    if (kept.length > limit) kept.length = limit;
    return { readings: kept, total, more: following > kept.length };
  }

  /** Replaces the content with restored readings (startup only, before any writer runs). */
  restore(readings: Iterable<Reading>): void {
    this.#map.clear();
    const r = emptyRecord();
    for (const x of readings) {
      putInput(r, x);
      r.seq = x.seq;
      r.receivedAt = x.receivedAt;
      try {
        this.#map.set(x.key, r);
      } catch (err) {
        throw storeError(x.key, err);
      }
    }
  }

  /** Every reading (each consistent on its own; lock-free, allocates). */
  values(): IterableIterator<Reading> {
    return this.list('').values();
  }

  /**
   * The readings of the shards written to since `versions` was filled (a change scan: shards
   * whose sequence counter did not move are skipped without reading them). `versions` is the
   * caller's, one number per shard, updated here; start with an empty array.
   */
  changedSince(versions: number[], fn: (r: Reading) => void): void {
    const map = this.#map;
    for (let s = 0; s < map.shardCount; s++) {
      const v = map.shardVersion(s);
      if (versions[s] === v) continue;
      versions[s] = v;
      map.scanShard(s, (k, r) => {
        if (!k.startsWith(INTERNAL_KEY_PREFIX)) fn(readingOf(k, r));
      });
    }
  }

  /** Read retries, locked reads and lock waits of this thread's handle (metrics). */
  counters(): SharedMapCounters {
    return this.#map.counters();
  }

  /** Frees this thread's handle (a worker's, when it stops). */
  close(): void {
    this.#map.close();
  }
}

/** One page of readings ({@link SensorCache.page}). */
export interface SensorPage {
  readonly readings: Reading[];
  /** Readings matching the prefix in the whole cache (at the time of the scan). */
  readonly total: number;
  /** Readings after the page's last key: ask again with it as `after`. */
  readonly more: boolean;
}

/** Key order (UTF-16 code units, as `<` on strings), the order of list and page. */
function byKey(a: Reading, b: Reading): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function storeError(key: string, err: unknown): unknown {
  if (!(err instanceof ShardedMapError)) return err;
  if (err.code === 'EDGEFLOW_MAP_FULL')
    return new AgentError(
      'EDGEFLOW_CACHE_FULL',
      `no room for sensor ${key}: the cache is full (cache.capacity); raise cache.capacity`,
      { cause: err },
    );
  if (err.code === 'EDGEFLOW_MAP_VALUE_TOO_LONG' || err.code === 'EDGEFLOW_MAP_KEY_TOO_LONG')
    return new AgentError('EDGEFLOW_INGEST_READING_TOO_LARGE', `${err.message} (sensor ${key})`, {
      cause: err,
    });
  return err;
}
