import { ShardedMapError } from './errors.js';
import { hashKey } from './hash.js';
import { checkShards, defaultShardCount } from './options.js';
import { buildRouting } from './routing.js';
import { computeStats, type ShardStats } from './stats.js';
import { eachShardSliced, type SliceOptions } from './slices.js';

/** Options of {@link ShardedMap}. */
export interface ShardedMapOptions<K> {
  /**
   * Number of shards, a power of two from 1 to 1024. Default {@link defaultShardCount}: 64,
   * or 16 per available CPU (`os.availableParallelism()`) rounded up to a power of two.
   */
  readonly shards?: number;
  /**
   * Hash function returning a 32-bit integer (coerced with `>>> 0`). It must give equal hashes
   * to keys that `Map` treats as equal (SameValueZero). Default {@link hashKey}.
   */
  readonly hash?: (key: K) => number;
  /**
   * Give shards staggered weights so their resizes do not coincide (see `routing.ts`).
   * Default true. `stats().cv` compensates for the stagger.
   */
  readonly stagger?: boolean;
}

/**
 * A `Map` split into a fixed number of shards chosen by key hash. A drop-in for `Map` (same
 * methods and key equality), with three differences: iteration order is per shard (insertion
 * order inside a shard, shard after shard), it holds more than 2^24 entries, and growth
 * stalls are spread over time. Single-threaded; for worker threads use `SharedShardedMap`.
 */
export class ShardedMap<K, V> implements Map<K, V> {
  readonly #shards: Map<K, V>[];
  readonly #table: Uint16Array;
  readonly #shift: number;
  readonly #shares: readonly number[];
  readonly #hash: (key: K) => number;
  readonly #stagger: boolean;
  readonly #customHash: ((key: K) => number) | undefined;
  // Keys mutated while reshardedAsync() copies this map (undefined when no copy runs).
  #journal: Set<K> | undefined = undefined;
  #journalCleared = false;

  constructor(options: ShardedMapOptions<K> = {}, entries?: Iterable<readonly [K, V]>) {
    const n = checkShards(options.shards ?? defaultShardCount(), 'ShardedMap');
    if (options.hash !== undefined && typeof options.hash !== 'function') {
      throw new ShardedMapError('EDGEFLOW_MAP_BAD_OPTION', 'ShardedMap: hash must be a function');
    }
    this.#customHash = options.hash;
    this.#hash = options.hash ?? hashKey;
    this.#stagger = options.stagger ?? true;
    const routing = buildRouting(n, this.#stagger);
    this.#table = routing.table;
    this.#shift = routing.shift;
    this.#shares = routing.shares;
    this.#shards = Array.from({ length: n }, () => new Map<K, V>());
    if (entries !== undefined) for (const [k, v] of entries) this.set(k, v);
  }

  /** Number of shards. */
  get shardCount(): number {
    return this.#shards.length;
  }

  /**
   * The hash this map uses for `key` (its `hash` option or {@link hashKey}). Compute it once
   * and pass it to the `*Hashed` methods to skip hashing on the hot path.
   */
  hashKey(key: K): number {
    return this.#hash(key) >>> 0;
  }

  /** Index of the shard that holds (or would hold) `key`; for load diagnostics. */
  shardIndexOf(key: K): number {
    return this.#table[(this.#hash(key) >>> 0) >>> this.#shift] as number;
  }

  #shardOf(hash: number): Map<K, V> {
    return this.#shards[this.#table[hash >>> this.#shift] as number] as Map<K, V>;
  }

  #touch(key: K): void {
    (this.#journal as Set<K>).add(key);
  }

  get size(): number {
    let n = 0;
    for (const s of this.#shards) n += s.size;
    return n;
  }

  get(key: K): V | undefined {
    return this.#shardOf(this.#hash(key) >>> 0).get(key);
  }

  set(key: K, value: V): this {
    if (this.#journal !== undefined) this.#touch(key);
    this.#shardOf(this.#hash(key) >>> 0).set(key, value);
    return this;
  }

  has(key: K): boolean {
    return this.#shardOf(this.#hash(key) >>> 0).has(key);
  }

  delete(key: K): boolean {
    if (this.#journal !== undefined) this.#touch(key);
    return this.#shardOf(this.#hash(key) >>> 0).delete(key);
  }

  /**
   * Pre-hashed `get`: `hash` must be `this.hashKey(key)` (for the default hasher,
   * `hashKey(key)` exported by this package). A wrong hash looks in the wrong shard.
   */
  getHashed(key: K, hash: number): V | undefined {
    return this.#shardOf(hash >>> 0).get(key);
  }

  /** Pre-hashed `set`; see {@link ShardedMap.getHashed} for the contract on `hash`. */
  setHashed(key: K, hash: number, value: V): this {
    if (this.#journal !== undefined) this.#touch(key);
    this.#shardOf(hash >>> 0).set(key, value);
    return this;
  }

  /** Pre-hashed `has`. */
  hasHashed(key: K, hash: number): boolean {
    return this.#shardOf(hash >>> 0).has(key);
  }

  /** Pre-hashed `delete`. */
  deleteHashed(key: K, hash: number): boolean {
    if (this.#journal !== undefined) this.#touch(key);
    return this.#shardOf(hash >>> 0).delete(key);
  }

  clear(): void {
    if (this.#journal !== undefined) this.#journalCleared = true;
    for (const s of this.#shards) s.clear();
  }

  /** Returns the value of `key`, inserting `value` first when the key is absent (TC39 upsert). */
  getOrInsert(key: K, value: V): V {
    const shard = this.#shardOf(this.#hash(key) >>> 0);
    if (shard.has(key)) return shard.get(key) as V;
    if (this.#journal !== undefined) this.#touch(key);
    shard.set(key, value);
    return value;
  }

  /**
   * Returns the value of `key`; when absent, inserts `compute(key)` first (TC39 upsert). If
   * `compute` throws, nothing is inserted.
   */
  getOrInsertComputed(key: K, compute: (key: K) => V): V {
    const shard = this.#shardOf(this.#hash(key) >>> 0);
    if (shard.has(key)) return shard.get(key) as V;
    const value = compute(key);
    if (this.#journal !== undefined) this.#touch(key);
    shard.set(key, value);
    return value;
  }

  /**
   * Sets `key` to `fn(current, present)` and returns the new value; `current` is undefined and
   * `present` false when the key is absent. If `fn` throws, the map is unchanged.
   */
  update(key: K, fn: (current: V | undefined, present: boolean, key: K) => V): V {
    const shard = this.#shardOf(this.#hash(key) >>> 0);
    const present = shard.has(key);
    const next = fn(present ? shard.get(key) : undefined, present, key);
    if (this.#journal !== undefined) this.#touch(key);
    shard.set(key, next);
    return next;
  }

  /**
   * Sets `key` to `next` only if its current value is `expected` (SameValueZero, like `Map`
   * keys; an absent key counts as `undefined`). Returns whether it did. In one thread this is
   * useful across `await`s: read, compute asynchronously, then commit only if unchanged.
   */
  compareAndSet(key: K, expected: V | undefined, next: V): boolean {
    const shard = this.#shardOf(this.#hash(key) >>> 0);
    const current = shard.get(key);
    // SameValueZero: === except that NaN equals NaN.
    if (current !== expected && !(current !== current && expected !== expected)) return false;
    if (this.#journal !== undefined) this.#touch(key);
    shard.set(key, next);
    return true;
  }

  forEach(fn: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    for (const s of this.#shards) for (const [k, v] of s) fn.call(thisArg, v, k, this);
  }

  *entries(): MapIterator<[K, V]> {
    for (const s of this.#shards) yield* s.entries();
  }

  *keys(): MapIterator<K> {
    for (const s of this.#shards) yield* s.keys();
  }

  *values(): MapIterator<V> {
    for (const s of this.#shards) yield* s.values();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'ShardedMap';
  }

  /**
   * Visits the map one shard at a time and yields to the event loop (`setImmediate`) between
   * shards. `fn` runs synchronously for every entry of a shard (plain `Map` iteration rules
   * inside a shard). Under concurrent mutation between slices: a key present for the whole
   * walk and never deleted is visited exactly once (keys never move between shards); a key
   * added or deleted meanwhile is visited at most once; after a `clear()` the shards not
   * yet visited are empty.
   * Rejects with the signal's reason if `signal` aborts between slices.
   */
  async forEachSlice(
    fn: (value: V, key: K, shard: number) => void,
    options: SliceOptions = {},
  ): Promise<void> {
    await eachShardSliced(this.#shards, options, (shard, i) => {
      for (const [k, v] of shard) fn(v, k, i);
    });
  }

  /**
   * Async iteration over all entries that yields to the event loop between shards (same
   * semantics as {@link ShardedMap.forEachSlice}; inside a shard, live `Map` iteration).
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<[K, V]> {
    for (let i = 0; i < this.#shards.length; i++) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      yield* (this.#shards[i] as Map<K, V>).entries();
    }
  }

  /** Per-shard sizes, mean, max and CV (see {@link ShardStats}). */
  stats(): ShardStats {
    return computeStats(
      this.#shards.map((s) => s.size),
      this.#shares,
    );
  }

  #options(shards: number): ShardedMapOptions<K> {
    const base = { shards: checkShards(shards, 'resharded'), stagger: this.#stagger };
    return this.#customHash === undefined ? base : { ...base, hash: this.#customHash };
  }

  /** A new map with `shards` shards and the same entries, hasher and stagger setting. */
  resharded(shards: number): ShardedMap<K, V> {
    const next = new ShardedMap<K, V>(this.#options(shards));
    for (const s of this.#shards) for (const [k, v] of s) next.set(k, v);
    return next;
  }

  /**
   * Like {@link ShardedMap.resharded} but copies one source shard per event-loop turn, so a
   * large map is resharded without a long stall. Writes to this map while the copy runs are
   * journaled and replayed at the end, so the result equals this map at the moment the promise
   * settles. Only one async reshard may run at a time per map.
   */
  async reshardedAsync(shards: number, options: SliceOptions = {}): Promise<ShardedMap<K, V>> {
    if (this.#journal !== undefined) {
      throw new ShardedMapError(
        'EDGEFLOW_MAP_BAD_OPTION',
        'reshardedAsync: another reshardedAsync of this map is still running',
      );
    }
    const next = new ShardedMap<K, V>(this.#options(shards));
    this.#journal = new Set<K>();
    this.#journalCleared = false;
    try {
      await eachShardSliced(this.#shards, options, (shard) => {
        for (const [k, v] of shard) next.set(k, v);
      });
      if (this.#journalCleared) {
        next.clear();
        for (const s of this.#shards) for (const [k, v] of s) next.set(k, v);
      } else {
        for (const k of this.#journal) {
          const shard = this.#shardOf(this.#hash(k) >>> 0);
          if (shard.has(k)) next.set(k, shard.get(k) as V);
          else next.delete(k);
        }
      }
      return next;
    } finally {
      this.#journal = undefined;
    }
  }
}
