import type { Reading } from '../../cache/reading.js';
import type { SensorCache } from '../../cache/sensor-cache.js';

/**
 * What the console needs of the sensor cache: its size, a bounded page of it (the stream's
 * first event) and the readings of the shards written since a scan (SensorCache.changedSince).
 */
export type CacheReader = Pick<SensorCache, 'size' | 'page' | 'changedSince'>;

/**
 * Readings in one event of the stream at most: the snapshot holds the first ones by key, and
 * the changes of one tick go out in events of this many. One event of a cache of a million
 * sensors would be ~100 MB of JSON built at once; this keeps each under ~0.5 MB.
 */
export const STREAM_EVENT_MAX_READINGS = 5000;

/** The stream's first sensors event (docs/console.md, "Event stream"). */
export interface SensorSnapshot {
  readonly sensors: ReadingTuple[];
  /** Sensors in the cache. */
  readonly total: number;
  /** True when the cache holds more than `sensors`: the rest come as they change. */
  readonly truncated: boolean;
}

/** Wire form of a reading in the event stream (docs/console.md): a tuple, a third of the JSON. */
export type ReadingTuple = [
  string,
  Reading['value'],
  string | null,
  number,
  Reading['quality'],
  string,
  number,
  number,
];

export function toTuple(r: Reading): ReadingTuple {
  return [r.key, r.value, r.unit, r.ts, r.quality, r.source, r.seq, r.receivedAt];
}

/** Sparkline bounds: memory is at most keys × points × 12 bytes (1.4 MiB at the defaults). */
export const SPARK_KEYS = 2000;
export const SPARK_POINTS = 60;
/** Delay samples kept per interval (the p99 is of a sample when more readings changed). */
const MAX_DELAYS = 4096;

class Spark {
  readonly t = new Float64Array(SPARK_POINTS);
  readonly v = new Float32Array(SPARK_POINTS);
  n = 0;
  push(t: number, v: number): void {
    const i = this.n % SPARK_POINTS;
    this.t[i] = t;
    this.v[i] = v;
    this.n++;
  }
  points(): [number, number][] {
    const out: [number, number][] = [];
    const len = Math.min(this.n, SPARK_POINTS);
    for (let k = this.n - len; k < this.n; k++) {
      const i = k % SPARK_POINTS;
      out.push([this.t[i] as number, Number((this.v[i] as number).toPrecision(6))]);
    }
    return out;
  }
}

/**
 * Finds what changed in the cache since the last scan by comparing each key's `seq` (the
 * cache numbers every applied reading per key), without a hook in the ingest path. Why a scan
 * and not change notifications: readings are applied in the ingest worker threads, and a
 * message per reading to the main thread would cost every reading a postMessage for a console
 * that samples once a second (four times while a Sensors page is open). The scan first skips
 * the shards whose sequence counter did not move since the last one (the shared cache's
 * `changedSince`: one atomic load per shard), then reads the changed shards lock-free, so its
 * cost follows what changed, not the cache's size, and it never blocks a writer. Also keeps
 * the per-sensor sparkline points and the reading delays behind the Overview's p99.
 */
export class SensorWatch {
  readonly #cache: CacheReader;
  readonly #seen = new Map<string, number>();
  /** Shard versions at the last scan (see CacheReader.changedSince). */
  readonly #versions: number[] = [];
  readonly #spark = new Map<string, Spark>();
  #delays: number[] = [];
  #delaySeen = 0;

  constructor(cache: CacheReader) {
    this.#cache = cache;
  }

  /** Readings whose seq moved since the last scan (every reading on the first scan). */
  scan(): Reading[] {
    const changed: Reading[] = [];
    const visit = (r: Reading): void => {
      if (this.#seen.get(r.key) === r.seq) return;
      this.#seen.set(r.key, r.seq);
      changed.push(r);
      if (typeof r.value === 'number') {
        let s = this.#spark.get(r.key);
        if (s === undefined && this.#spark.size < SPARK_KEYS) {
          s = new Spark();
          this.#spark.set(r.key, s);
        }
        s?.push(r.receivedAt, r.value);
      }
      this.#recordDelay(r.receivedAt - r.ts);
    };
    this.#cache.changedSince(this.#versions, visit);
    return changed;
  }

  /** Reservoir sample (Algorithm R) so a burst cannot grow the array without bound. */
  #recordDelay(ms: number): void {
    const d = Math.max(0, ms);
    this.#delaySeen++;
    if (this.#delays.length < MAX_DELAYS) this.#delays.push(d);
    else {
      const j = Math.floor(Math.random() * this.#delaySeen);
      if (j < MAX_DELAYS) this.#delays[j] = d;
    }
  }

  /** Delays recorded since the last call. */
  drainDelays(): number[] {
    const d = this.#delays;
    this.#delays = [];
    this.#delaySeen = 0;
    return d;
  }

  /** Sparkline points of some keys ([receivedAt ms, value], oldest first). */
  history(keys: readonly string[]): Record<string, [number, number][]> {
    const out: Record<string, [number, number][]> = {};
    for (const k of keys) {
      const s = this.#spark.get(k);
      if (s !== undefined) out[k] = s.points();
    }
    return out;
  }

  /**
   * The readings now for a stream's first event: the first {@link STREAM_EVENT_MAX_READINGS}
   * by key, and whether the cache holds more.
   */
  snapshot(limit = STREAM_EVENT_MAX_READINGS): SensorSnapshot {
    const page = this.#cache.page('', undefined, limit);
    return { sensors: page.readings.map(toTuple), total: page.total, truncated: page.more };
  }
}
