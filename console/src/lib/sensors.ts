/**
 * The Sensors page's model: the agent's cache as the console mirrors it (a snapshot, then the
 * deltas the agent pushes), the per-sensor sparkline points, and the filtered, sorted view the
 * virtualised table draws. Pure: no DOM, so it is unit-tested in Node.
 */

export type Quality = 'good' | 'stale' | 'bad';

/** One cached reading, as `GET /v1/sensors` serves it. */
export interface SensorRow {
  readonly key: string;
  readonly value: number | string | boolean;
  readonly unit: string | null;
  readonly ts: number;
  readonly quality: Quality;
  readonly source: string;
  readonly seq: number;
  readonly receivedAt: number;
}

/** Wire form of a reading in the event stream: `[key, value, unit, ts, quality, source, seq, receivedAt]`. */
export type SensorTuple = [
  string,
  number | string | boolean,
  string | null,
  number,
  Quality,
  string,
  number,
  number,
];

export function fromTuple(t: SensorTuple): SensorRow {
  return {
    key: t[0],
    value: t[1],
    unit: t[2],
    ts: t[3],
    quality: t[4],
    source: t[5],
    seq: t[6],
    receivedAt: t[7],
  };
}

export type SortKey = 'key' | 'value' | 'age' | 'quality' | 'source' | 'seq';
export type SortDir = 'asc' | 'desc';
export type QualityFilter = 'all' | 'good' | 'stale' | 'bad';

export interface ViewOptions {
  readonly query: string;
  readonly quality: QualityFilter;
  readonly sort: SortKey;
  readonly dir: SortDir;
  /** Agent clock now (browser clock corrected by the offset the stream reports). */
  readonly now: number;
  /** A reading older than this counts as stale even if its quality says good. */
  readonly staleAfterMs: number;
}

/** Stale: the agent marked it so (a failing HAL sensor), or nothing came for `staleAfterMs`. */
export function isStale(r: SensorRow, now: number, staleAfterMs: number): boolean {
  return r.quality === 'stale' || now - r.receivedAt > staleAfterMs;
}

/** Points kept per sensor for its sparkline (the agent keeps the same number). */
export const SPARK_POINTS = 60;

/** The mirrored cache. `version` changes on every applied change so views can memoise. */
export class SensorStore {
  readonly rows = new Map<string, SensorRow>();
  /** key → [t, value] of numeric readings, oldest first, at most SPARK_POINTS. */
  readonly spark = new Map<string, number[][]>();
  version = 0;
  /**
   * Changes when a key appears or its source or unit change: a view sorted and filtered on
   * key, source and unit only needs a new order then, not on every value (`version`).
   */
  membership = 0;

  /** Replaces everything (first event of a stream, or after the agent dropped deltas). */
  snapshot(tuples: readonly SensorTuple[]): void {
    this.rows.clear();
    for (const t of tuples) this.#apply(fromTuple(t));
    this.version++;
    this.membership++;
  }

  /** Applies pushed changes; returns how many rows changed. */
  delta(tuples: readonly SensorTuple[]): number {
    let n = 0;
    for (const t of tuples) {
      const r = fromTuple(t);
      const prev = this.rows.get(r.key);
      if (prev !== undefined && prev.seq >= r.seq && prev.receivedAt >= r.receivedAt) continue;
      this.#apply(r);
      n++;
    }
    if (n > 0) this.version++;
    return n;
  }

  /** Merges history the agent kept (older points than the live ones are put in front). */
  history(key: string, points: readonly (readonly [number, number])[]): void {
    const live = this.spark.get(key) ?? [];
    const firstLive = live[0]?.[0] ?? Infinity;
    const merged = points.filter((p) => p[0] < firstLive).map((p) => [p[0], p[1]]);
    merged.push(...live);
    this.spark.set(key, merged.slice(-SPARK_POINTS));
    this.version++;
  }

  #apply(r: SensorRow): void {
    const prev = this.rows.get(r.key);
    if (prev === undefined || prev.source !== r.source || prev.unit !== r.unit) this.membership++;
    this.rows.set(r.key, r);
    if (typeof r.value !== 'number') return;
    let pts = this.spark.get(r.key);
    if (pts === undefined) {
      pts = [];
      this.spark.set(r.key, pts);
    }
    const last = pts[pts.length - 1];
    if (last !== undefined && last[0] === r.receivedAt) return;
    pts.push([r.receivedAt, r.value]);
    if (pts.length > SPARK_POINTS) pts.splice(0, pts.length - SPARK_POINTS);
  }
}

const QUALITY_RANK: Record<Quality, number> = { bad: 0, stale: 1, good: 2 };

function compareValues(a: SensorRow['value'], b: SensorRow['value']): number {
  const ta = typeof a;
  const tb = typeof b;
  if (ta !== tb) {
    // numbers, then booleans, then strings
    const order = { number: 0, boolean: 1, string: 2 } as Record<string, number>;
    return (order[ta] ?? 3) - (order[tb] ?? 3);
  }
  if (ta === 'string') return (a as string).localeCompare(b as string);
  return Number(a) - Number(b);
}

function comparator(sort: SortKey): (a: SensorRow, b: SensorRow) => number {
  switch (sort) {
    case 'key':
      return (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    case 'value':
      return (a, b) => compareValues(a.value, b.value);
    case 'age':
      // youngest first = largest receivedAt first
      return (a, b) => b.receivedAt - a.receivedAt;
    case 'quality':
      return (a, b) => QUALITY_RANK[a.quality] - QUALITY_RANK[b.quality];
    case 'source':
      return (a, b) => a.source.localeCompare(b.source);
    case 'seq':
      return (a, b) => a.seq - b.seq;
  }
}

/** Whether the order of `view` depends only on membership (key, source, unit), not on values. */
export function orderByMembership(o: Pick<ViewOptions, 'sort' | 'quality'>): boolean {
  return (o.sort === 'key' || o.sort === 'source') && o.quality === 'all';
}

/**
 * The rows to draw: filtered by the query (every space-separated word must occur in the key,
 * the source or the unit, case-insensitive) and the quality filter, sorted stably with the key
 * as the tie-breaker so rows do not jump between updates.
 */
export function view(rows: Iterable<SensorRow>, o: ViewOptions): SensorRow[] {
  const words = o.query.toLowerCase().split(/\s+/).filter(Boolean);
  const out: SensorRow[] = [];
  for (const r of rows) {
    if (words.length > 0) {
      const hay = `${r.key} ${r.source} ${r.unit ?? ''}`.toLowerCase();
      if (!words.every((w) => hay.includes(w))) continue;
    }
    if (o.quality !== 'all') {
      const stale = isStale(r, o.now, o.staleAfterMs);
      if (o.quality === 'stale' && !stale) continue;
      if (o.quality === 'bad' && r.quality !== 'bad') continue;
      if (o.quality === 'good' && (stale || r.quality !== 'good')) continue;
    }
    out.push(r);
  }
  const cmp = comparator(o.sort);
  const sign = o.dir === 'asc' ? 1 : -1;
  out.sort((a, b) => sign * cmp(a, b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}
