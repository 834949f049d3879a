import { threadId as currentThreadId } from 'node:worker_threads';
import { ShardedMapError } from '../errors.js';
import { checkShards, defaultShardCount } from '../options.js';
import { eachShardSliced, type SliceOptions } from '../slices.js';
import { computeStats, type ShardStats } from '../stats.js';
import { compileCodec, makeViews, type RecordCodec, type Views } from './codegen.js';
import { readHeader, writeHeader, type HeaderInfo } from './header.js';
import { KeyCodec } from './key-codec.js';
import {
  computeGeometry,
  type Geometry,
  layoutJson,
  type RecordLayout,
  type RecordOf,
  S,
  slotsFor,
} from './layout.js';
import { claimOwner, declareThreadDead, freeOwner, Locks, ownerIdOf } from './locks.js';
import { ShardCore } from './shard-core.js';
import { recoverShard, snapshotShard } from './shard-ops.js';
import { scanShard, type ScanContext } from './lock-free-scan.js';
import {
  type AttachExpectation,
  bad,
  intOption,
  type SharedMapCounters,
  type SharedShardedMapDeps,
  type SharedShardedMapOptions,
} from './shared-options.js';

export type { AttachExpectation, SharedMapCounters, SharedShardedMapDeps, SharedShardedMapOptions };

const READ_ATTEMPTS = 256;

/** The codec's view of a record: string fields are handled by it, typed loosely here. */
function raw<L extends RecordLayout>(r: RecordOf<L>): Record<string, number> {
  return r as unknown as Record<string, number>;
}

// attach() hands the parsed header to the constructor through this slot.
let attaching: { buffer: SharedArrayBuffer; info: HeaderInfo } | undefined;

/**
 * A string → fixed-record map in one SharedArrayBuffer, usable from many worker threads at
 * once. Writers take a per-shard lock; readers take no lock (per-shard seqlock) and never see a
 * torn record. Capacity is fixed at creation. Share it by posting `map.buffer` to a worker and
 * calling `SharedShardedMap.attach(buffer)` there.
 */
export class SharedShardedMap<L extends RecordLayout = RecordLayout> {
  /** The shared memory holding the whole map. */
  readonly buffer: SharedArrayBuffer;
  /** Owner id of this handle (recorded, with its epoch, in the lock words it takes). */
  readonly ownerId: number;
  /** Thread id recorded for this handle (see {@link SharedShardedMap.releaseThread}). */
  readonly threadId: number;
  /** The record layout of this map. */
  readonly record: L;
  readonly #v: Views;
  readonly #g: Geometry;
  readonly #codec: RecordCodec;
  readonly #keys: KeyCodec;
  readonly #locks: Locks;
  /** This handle's lock word: owner id and the epoch of this incarnation of it. */
  readonly #word: number;
  readonly #mask: number;
  readonly #core: ShardCore;
  readonly #scratch: Record<string, number> = {};
  readonly #hashOverride: ((key: string) => number) | undefined;
  readonly #deps: SharedShardedMapDeps;
  readonly #capacity: number;
  readonly #lockTimeoutMs: number;
  readonly #checkReads: boolean;
  #closed = false;
  #inUpdate = false;
  #readRetries = 0;
  #lockedReads = 0;

  /** Creates a new map and its buffer. */
  constructor(options: SharedShardedMapOptions<L>, deps: SharedShardedMapDeps = {}) {
    let info: HeaderInfo;
    let buffer: SharedArrayBuffer;
    if (attaching !== undefined) {
      ({ buffer, info } = attaching);
      attaching = undefined;
    } else {
      if (typeof options !== 'object' || options === null) throw bad('options object required');
      const shards = checkShards(options.shards ?? defaultShardCount(), 'SharedShardedMap');
      const capacity = intOption(options.capacity, 'capacity', 1, 2 ** 30, 0);
      const maxKeyBytes = intOption(options.maxKeyBytes, 'maxKeyBytes', 1, 4096, 64);
      const maxOwners = intOption(options.maxOwners, 'maxOwners', 1, 4096, 64);
      const lockTimeoutMs = intOption(options.lockTimeoutMs, 'lockTimeoutMs', 1, 2 ** 31 - 1, 5000);
      const lf = options.loadFactor ?? 0.8;
      if (typeof lf !== 'number' || !(lf >= 0.1 && lf <= 0.95)) {
        throw bad(`loadFactor must be from 0.1 to 0.95, got ${String(options.loadFactor)}`);
      }
      const slots = slotsFor(capacity, shards, lf);
      const hasStrings = Object.values(options.record ?? {}).includes('str');
      const stringBytes = hasStrings
        ? intOption(options.stringBytes, 'stringBytes', 1, 65535, 64)
        : intOption(options.stringBytes, 'stringBytes', 0, 0, 0);
      const g = computeGeometry(shards, slots, maxKeyBytes, options.record, maxOwners, stringBytes);
      buffer = new SharedArrayBuffer(g.totalBytes);
      writeHeader(buffer, g, layoutJson(options.record), lockTimeoutMs, capacity);
      info = { geometry: g, layout: options.record, lockTimeoutMs, capacity };
    }
    this.buffer = buffer;
    this.#deps = deps;
    this.#hashOverride = deps.hash;
    this.#capacity = info.capacity;
    this.#lockTimeoutMs = info.lockTimeoutMs;
    this.record = info.layout as L;
    this.#g = info.geometry;
    this.#v = makeViews(buffer);
    this.#codec = compileCodec(this.#g, deps.inCriticalSection);
    this.#checkReads = deps.unvalidatedReads !== true;
    this.#codec.zero(this.#scratch);
    this.#keys = new KeyCodec(this.#g.maxKeyBytes);
    this.#mask = this.#g.shards - 1;
    this.threadId = deps.threadId ?? currentThreadId;
    this.#core = new ShardCore(this.#v, this.#g, this.#codec, this.#keys, deps.inCriticalSection);
    this.#word = claimOwner(this.#v.i32, this.#g.maxOwners, this.threadId);
    this.ownerId = ownerIdOf(this.#word);
    this.#locks = new Locks(this.#v.i32, this.#word, info.lockTimeoutMs, (sb) =>
      recoverShard(this.#v, this.#g, sb),
    );
  }

  /**
   * Attaches to a buffer made by a SharedShardedMap (in this or another thread). Refuses a
   * foreign buffer, another layout version, or, when `expect` is given, a different record
   * layout, key size or shard count.
   */
  static attach<L extends RecordLayout = RecordLayout>(
    buffer: SharedArrayBuffer,
    expect: AttachExpectation<L> = {},
    deps: SharedShardedMapDeps = {},
  ): SharedShardedMap<L> {
    const info = readHeader(buffer);
    const g = info.geometry;
    const mismatch = (what: string): ShardedMapError =>
      new ShardedMapError('EDGEFLOW_MAP_LAYOUT_MISMATCH', `SharedShardedMap.attach: ${what}`);
    if (expect.record !== undefined && layoutJson(expect.record) !== layoutJson(info.layout)) {
      throw mismatch(
        `record layout is ${layoutJson(info.layout)}, expected ${layoutJson(expect.record)}`,
      );
    }
    if (expect.maxKeyBytes !== undefined && expect.maxKeyBytes !== g.maxKeyBytes) {
      throw mismatch(`maxKeyBytes is ${g.maxKeyBytes}, expected ${expect.maxKeyBytes}`);
    }
    if (expect.shards !== undefined && expect.shards !== g.shards) {
      throw mismatch(`shards is ${g.shards}, expected ${expect.shards}`);
    }
    const sb = g.strings?.bytes ?? 0;
    if (expect.stringBytes !== undefined && expect.stringBytes !== sb) {
      throw mismatch(`stringBytes is ${sb}, expected ${expect.stringBytes}`);
    }
    attaching = { buffer, info };
    try {
      return new SharedShardedMap<L>(undefined as unknown as SharedShardedMapOptions<L>, deps);
    } finally {
      attaching = undefined;
    }
  }

  /** Number of shards. */
  get shardCount(): number {
    return this.#g.shards;
  }

  /** Size of each record's string area in bytes (0 for a layout without `str` fields). */
  get stringBytes(): number {
    return this.#g.strings?.bytes ?? 0;
  }

  /** Slots per shard; a shard holds at most `slotsPerShard - 1` entries. */
  get slotsPerShard(): number {
    return this.#g.slots;
  }

  /** Index of the shard that holds (or would hold) `key`; for load diagnostics. */
  shardIndexOf(key: string): number {
    this.#keys.encode(key);
    const h = this.#hashOverride === undefined ? this.#keys.hash : this.#hashOverride(key) >>> 0;
    return h & this.#mask;
  }

  #open(): void {
    if (this.#inUpdate) {
      // The key scratch and the held lock belong to the running update(): a nested call would
      // corrupt the first or deadlock on the second.
      throw new ShardedMapError(
        'EDGEFLOW_MAP_REENTRANT',
        'SharedShardedMap: this handle was called from inside an update() callback',
      );
    }
    if (this.#closed) {
      throw new ShardedMapError('EDGEFLOW_MAP_CLOSED', 'SharedShardedMap: handle is closed');
    }
  }

  #shardBase(h: number): number {
    return this.#g.shardBase + (h & this.#mask) * this.#g.shardBytes;
  }

  #read(key: string, out: Record<string, number> | undefined): boolean {
    this.#open();
    const len = this.#keys.encode(key);
    const h = this.#hashOverride === undefined ? this.#keys.hash : this.#hashOverride(key) >>> 0;
    const sb = this.#shardBase(h);
    const i32 = this.#v.i32;
    const seqAt = (sb + S.seq) >>> 2;
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const s1 = Atomics.load(i32, seqAt);
      if ((s1 & 1) === 0 || !this.#checkReads) {
        const i = this.#core.locate(sb, h, len);
        if (i >= 0 && out !== undefined) this.#codec.read(this.#v, this.#core.slotBase(sb, i), out);
        // Every word above was read with Atomics.load (ordered on ARM64 too), so an unchanged
        // sequence proves no writer touched the shard while we read.
        if (Atomics.load(i32, seqAt) === s1 || !this.#checkReads) {
          if (i >= 0 && out !== undefined) this.#codec.finish(out);
          return i >= 0;
        }
      }
      this.#readRetries++;
    }
    // A writer keeps the shard busy (or died inside it): read under the lock, which also
    // triggers recovery from a dead holder.
    this.#lockedReads++;
    this.#locks.acquire(sb);
    try {
      const i = this.#core.locate(sb, h, len);
      if (i >= 0 && out !== undefined) {
        this.#codec.read(this.#v, this.#core.slotBase(sb, i), out);
        this.#codec.finish(out);
      }
      return i >= 0;
    } finally {
      this.#locks.release(sb);
    }
  }

  /**
   * Reads the record of `key` into `out` and returns true, or returns false when absent (then
   * `out` may hold partial data from a retried read: use it only when true). Lock-free and
   * allocation-free.
   */
  get(key: string, out: RecordOf<L>): boolean {
    return this.#read(key, raw(out));
  }

  /** Whether `key` is present. Lock-free. */
  has(key: string): boolean {
    return this.#read(key, undefined);
  }

  #checkRecord(rec: unknown, what: string): void {
    if (!this.#codec.valid(rec)) {
      throw new ShardedMapError(
        'EDGEFLOW_MAP_BAD_RECORD',
        `SharedShardedMap.${what}: record must have a number (a string for str) in every field of ${layoutJson(this.record)}`,
      );
    }
  }

  /** Sets the record of `key` (inserting it). Throws EDGEFLOW_MAP_FULL if its shard is full. */
  set(key: string, record: RecordOf<L>): this {
    this.#open();
    const rec = raw(record);
    this.#checkRecord(rec, 'set');
    this.#codec.prepare(rec);
    const len = this.#keys.encode(key);
    const h = this.#hashOverride === undefined ? this.#keys.hash : this.#hashOverride(key) >>> 0;
    const sb = this.#shardBase(h);
    this.#locks.acquire(sb);
    try {
      this.#core.write(sb, this.#core.locate(sb, h, len), len, h, rec);
    } finally {
      this.#locks.release(sb);
    }
    return this;
  }

  /**
   * Runs `fn` on a scratch copy of the record of `key` (all fields 0 when absent, `present`
   * false) under the shard lock, then stores it, unless `fn` returns `false`. Returns whether
   * the key was present. Keep `fn` short, do not call this map from it, and do not keep the
   * scratch object: it is reused.
   */
  update(key: string, fn: (rec: RecordOf<L>, present: boolean) => boolean | void): boolean {
    this.#open();
    const len = this.#keys.encode(key);
    const h = this.#hashOverride === undefined ? this.#keys.hash : this.#hashOverride(key) >>> 0;
    const sb = this.#shardBase(h);
    const scratch = this.#scratch;
    this.#locks.acquire(sb);
    try {
      const i = this.#core.locate(sb, h, len);
      const free = this.#core.free;
      if (i >= 0) {
        this.#codec.read(this.#v, this.#core.slotBase(sb, i), scratch);
        this.#codec.finish(scratch);
      } else this.#codec.zero(scratch);
      let result: boolean | void;
      this.#inUpdate = true;
      try {
        result = fn(scratch as RecordOf<L>, i >= 0);
      } finally {
        this.#inUpdate = false;
      }
      if (result === false) return i >= 0;
      this.#checkRecord(scratch, 'update');
      // Throws (VALUE_TOO_LONG) before anything is written: the shard stays as it was.
      this.#codec.prepare(scratch);
      this.#core.free = free;
      this.#core.write(sb, i, len, h, scratch);
      return i >= 0;
    } finally {
      this.#locks.release(sb);
    }
  }

  /**
   * Replaces the record of `key` with `next` only if it currently equals `expected` field by
   * field (after each field's coercion; NaN equals NaN), or, with `expected` undefined, only if
   * `key` is absent. Returns whether it wrote.
   */
  compareAndSet(key: string, expected: RecordOf<L> | undefined, nextRecord: RecordOf<L>): boolean {
    this.#open();
    const next = raw(nextRecord);
    this.#checkRecord(next, 'compareAndSet');
    if (expected !== undefined) this.#checkRecord(expected, 'compareAndSet');
    this.#codec.prepare(next);
    const len = this.#keys.encode(key);
    const h = this.#hashOverride === undefined ? this.#keys.hash : this.#hashOverride(key) >>> 0;
    const sb = this.#shardBase(h);
    this.#locks.acquire(sb);
    try {
      const i = this.#core.locate(sb, h, len);
      if (expected === undefined ? i >= 0 : i < 0) return false;
      const exp = raw(expected as RecordOf<L>);
      if (i >= 0 && !this.#codec.equals(this.#v, this.#core.slotBase(sb, i), exp)) return false;
      this.#core.write(sb, i, len, h, next);
      return true;
    } finally {
      this.#locks.release(sb);
    }
  }

  /** Deletes `key`; returns whether it was present. Leaves a tombstone, cleaned up when possible. */
  delete(key: string): boolean {
    this.#open();
    const len = this.#keys.encode(key);
    const h = this.#hashOverride === undefined ? this.#keys.hash : this.#hashOverride(key) >>> 0;
    const sb = this.#shardBase(h);
    this.#locks.acquire(sb);
    try {
      const i = this.#core.locate(sb, h, len);
      if (i < 0) return false;
      this.#core.remove(sb, i);
      return true;
    } finally {
      this.#locks.release(sb);
    }
  }

  /** Removes every entry, one shard at a time (each shard atomically for readers). */
  clear(): void {
    this.#open();
    for (let s = 0; s < this.#g.shards; s++) {
      const sb = this.#g.shardBase + s * this.#g.shardBytes;
      this.#locks.acquire(sb);
      try {
        this.#core.clearShard(sb);
      } finally {
        this.#locks.release(sb);
      }
    }
  }

  /** Number of entries (a sum of per-shard counters; approximate while writers run). */
  get size(): number {
    const i32 = this.#v.i32;
    let n = 0;
    for (let s = 0; s < this.#g.shards; s++) {
      n += Atomics.load(i32, (this.#g.shardBase + s * this.#g.shardBytes + S.count) >>> 2);
    }
    return n;
  }

  /** Consistent copy of one shard's entries, taken under its lock (allocates). */
  #snapshot(s: number): [string, RecordOf<L>][] {
    const sb = this.#g.shardBase + s * this.#g.shardBytes;
    this.#locks.acquire(sb);
    try {
      return snapshotShard(this.#v, this.#g, this.#codec, this.#keys, sb) as [
        string,
        RecordOf<L>,
      ][];
    } finally {
      this.#locks.release(sb);
    }
  }

  /** All entries, shard by shard; each shard is a consistent snapshot. Allocates. */
  *entries(): Generator<[string, RecordOf<L>]> {
    this.#open();
    for (let s = 0; s < this.#g.shards; s++) yield* this.#snapshot(s);
  }

  /** All keys, shard by shard. */
  *keys(): Generator<string> {
    for (const [k] of this.entries()) yield k;
  }

  [Symbol.iterator](): Generator<[string, RecordOf<L>]> {
    return this.entries();
  }

  /**
   * Visits one shard per event-loop turn (a consistent snapshot of each shard, taken when it is
   * visited); writes by other threads meanwhile are seen in shards not yet visited.
   */
  async forEachSlice(
    fn: (rec: RecordOf<L>, key: string, shard: number) => void,
    options: SliceOptions = {},
  ): Promise<void> {
    this.#open();
    const ids = Array.from({ length: this.#g.shards }, (_, i) => i);
    await eachShardSliced(ids, options, (s) => {
      for (const [k, r] of this.#snapshot(s)) fn(r, k, s);
    });
  }

  /**
   * The sequence counter of shard `s` (0 ≤ s < shardCount): every write to the shard changes
   * it. A change scan that remembers it skips the shards nobody wrote to since (see
   * {@link scanShard}). Lock-free.
   */
  shardVersion(s: number): number {
    this.#open();
    const sb = this.#g.shardBase + (s & this.#mask) * this.#g.shardBytes;
    return Atomics.load(this.#v.i32, (sb + S.seq) >>> 2);
  }

  #scanContext: ScanContext | undefined;

  /**
   * Visits every entry of shard `s` without taking its lock (unlike {@link entries}): each entry
   * is read in a short seqlock window of its own, retried when a writer came by, and read under
   * the lock only after 256 failed attempts. Each entry is consistent; entries are not
   * consistent with each other. `fn` gets a new record object per entry (it may keep it).
   */
  scanShard(s: number, fn: (key: string, rec: RecordOf<L>) => void): void {
    this.#open();
    this.#scanContext ??= {
      v: this.#v,
      g: this.#g,
      codec: this.#codec,
      attempts: READ_ATTEMPTS,
      checkReads: this.#checkReads,
      withLock: (sb, f) => {
        this.#lockedReads++;
        this.#locks.acquire(sb);
        try {
          f();
        } finally {
          this.#locks.release(sb);
        }
      },
      retried: () => this.#readRetries++,
    };
    const sb = this.#g.shardBase + (s & this.#mask) * this.#g.shardBytes;
    scanShard(
      this.#scanContext,
      sb,
      fn as unknown as (k: string, r: Record<string, number>) => void,
    );
  }

  /** {@link scanShard} over every shard. */
  scan(fn: (key: string, rec: RecordOf<L>) => void): void {
    for (let s = 0; s < this.#g.shards; s++) this.scanShard(s, fn);
  }

  /** Per-shard sizes, mean, max and CV (see {@link ShardStats}). */
  stats(): ShardStats {
    const i32 = this.#v.i32;
    const sizes: number[] = [];
    for (let s = 0; s < this.#g.shards; s++) {
      sizes.push(Atomics.load(i32, (this.#g.shardBase + s * this.#g.shardBytes + S.count) >>> 2));
    }
    return computeStats(sizes);
  }

  /** Counters of this handle (reads retried, locked reads, lock waits, recoveries). */
  counters(): SharedMapCounters {
    return {
      readRetries: this.#readRetries,
      lockedReads: this.#lockedReads,
      lockWaits: this.#locks.waits,
      recoveries: this.#locks.recoveries,
    };
  }

  /**
   * Declares every handle of thread `threadId` dead (call it from the `exit` event of a
   * Worker: `map.releaseThread(worker.threadId)`), takes over and recovers each shard lock they
   * held, wakes the waiters and frees their owner slots. Returns the number of shards
   * recovered. This is the only way a lock is ever taken from its holder: never call it for a
   * thread that is still running (its own thread is refused).
   */
  releaseThread(threadId: number): number {
    this.#open();
    if (threadId === this.threadId) {
      throw bad(`releaseThread(${threadId}) names the thread of this handle, which is running`);
    }
    const i32 = this.#v.i32;
    let recovered = 0;
    for (const owner of declareThreadDead(i32, this.#g.maxOwners, threadId, this.#word)) {
      for (let s = 0; s < this.#g.shards; s++) {
        if (this.#locks.takeOverFrom(this.#g.shardBase + s * this.#g.shardBytes, owner))
          recovered++;
      }
      // Freed only now that it holds no lock: see the safety argument in locks.ts.
      freeOwner(i32, owner);
    }
    return recovered;
  }

  /**
   * A new map (new buffer) with `shards` shards, the same layout, key size, capacity and lock
   * timeout, holding this map's entries, copied one shard snapshot at a time.
   */
  resharded(shards: number, options: { readonly capacity?: number } = {}): SharedShardedMap<L> {
    this.#open();
    const next = new SharedShardedMap<L>(
      {
        capacity: options.capacity ?? this.#capacity,
        record: this.record,
        shards: checkShards(shards, 'resharded'),
        maxKeyBytes: this.#g.maxKeyBytes,
        maxOwners: this.#g.maxOwners,
        lockTimeoutMs: this.#lockTimeoutMs,
      },
      this.#deps,
    );
    for (const [k, r] of this.entries()) next.set(k, r);
    return next;
  }

  /** Frees this handle's owner slot. The buffer stays valid for other handles. */
  close(): void {
    if (this.#closed) return;
    // Inside update() this handle holds a shard lock; a freed owner must hold none.
    this.#open();
    this.#closed = true;
    freeOwner(this.#v.i32, this.#word);
  }
}
