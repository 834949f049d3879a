import { ShardedMap } from '@edgeflow/sharded-map';
import type { Reading, ReadingInput } from './reading.js';

export interface SensorCacheOptions {
  shards: number;
  now?: () => number;
}

/**
 * The latest reading of every sensor, keyed `<device>/<sensor>`, in a ShardedMap.
 *
 * Out-of-order rule: every reading applied counts in `seq`; the value shown is the one with
 * the newest measurement timestamp, so a late, older reading is counted but does not
 * replace a newer value (ties go to the later arrival).
 */
export class SensorCache {
  readonly #map: ShardedMap<string, Reading>;
  readonly #now: () => number;

  constructor(options: SensorCacheOptions) {
    this.#map = new ShardedMap<string, Reading>({ shards: options.shards });
    this.#now = options.now ?? Date.now;
  }

  /**
   * Applies one reading and returns the cached state of its key afterwards. `receivedAt`
   * defaults to now; the write-ahead log replay passes the original receive time.
   */
  store(key: string, input: ReadingInput, receivedAt: number = this.#now()): Reading {
    const prev = this.#map.get(key);
    const seq = (prev?.seq ?? 0) + 1;
    let next: Reading;
    if (prev !== undefined && input.ts < prev.ts) {
      next = { ...prev, seq, receivedAt };
    } else {
      next = { key, ...input, seq, receivedAt };
    }
    this.#map.set(key, next);
    return next;
  }

  get(key: string): Reading | undefined {
    return this.#map.get(key);
  }

  get size(): number {
    return this.#map.size;
  }

  /** Every reading whose key starts with `prefix`, sorted by key. */
  list(prefix = ''): Reading[] {
    const out: Reading[] = [];
    for (const r of this.#map.values()) {
      if (r.key.startsWith(prefix)) out.push(r);
    }
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  /** Replaces the content with restored readings (startup only). */
  restore(readings: Iterable<Reading>): void {
    this.#map.clear();
    for (const r of readings) this.#map.set(r.key, r);
  }

  values(): IterableIterator<Reading> {
    return this.#map.values();
  }
}
