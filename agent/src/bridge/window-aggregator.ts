import type { AggregateRule, AggregateStat } from './aggregate-config.js';

/** The running aggregate of one sensor key over one window (also the checkpoint format). */
export interface WindowState {
  key: string;
  /** Window start and end, ms since the epoch (end exclusive). */
  start: number;
  end: number;
  count: number;
  /** Over the readings so far; meaningful only while `numeric`. */
  min: number;
  max: number;
  sum: number;
  last: number | string | boolean;
  unit: string | null;
  /** Every reading so far was a finite number with the same unit. */
  numeric: boolean;
  /** Readings acknowledged in this window may be missing (see {@link WindowAggregator}). */
  partial: boolean;
}

/** What goes upstream for one key and one window (JSON). */
export interface Summary {
  key: string;
  start: number;
  end: number;
  count?: number;
  min?: number;
  max?: number;
  mean?: number;
  last?: number | string | boolean;
  unit: string | null;
  partial: boolean;
}

/** A value as the aggregator sees it (decoded by the ingest decoder). */
export interface AggregateReading {
  value: number | string | boolean;
  unit: string | null;
}

/** Start of the wall-clock window of `windowMs` holding `t` (multiples since the epoch). */
export const windowStart = (t: number, windowMs: number): number =>
  Math.floor(t / windowMs) * windowMs;

/**
 * Per-key aggregates of one rule over aligned windows, driven by the caller's clock: a reading
 * lands in the window holding its arrival time (the agent's clock, not the reading's own
 * timestamp, so that a window closes at a known time). A window is handed to `emit` once it
 * is closed: when {@link flushDue} runs at or after its end, or when a later reading for the
 * same key arrives. Pure and synchronous; timers and persistence are the caller's.
 */
export class WindowAggregator {
  readonly rule: AggregateRule;
  readonly #windowMs: number;
  readonly #open = new Map<string, WindowState>();
  readonly #emit: (w: WindowState) => void;
  /**
   * After a crash: keys whose first window since the start was already opened. Every other
   * key's next window is marked partial (readings before it may be missing).
   */
  #afterCrash: Set<string> | undefined;

  constructor(rule: AggregateRule, emit: (w: WindowState) => void) {
    this.rule = rule;
    this.#windowMs = rule.windowSec * 1000;
    this.#emit = emit;
  }

  get openWindows(): number {
    return this.#open.size;
  }

  /**
   * The agent started after a crash: the open windows of the previous run are lost, so the
   * first window of every key from now on is marked partial (a gap may precede it).
   */
  markUncleanStart(): void {
    this.#afterCrash = new Set();
    for (const w of this.#open.values()) w.partial = true;
  }

  add(key: string, r: AggregateReading, now: number): void {
    const start = windowStart(now, this.#windowMs);
    let w = this.#open.get(key);
    if (w !== undefined && w.start !== start) {
      this.#open.delete(key);
      this.#emit(w);
      w = undefined;
    }
    const num = typeof r.value === 'number' ? r.value : NaN;
    if (w === undefined) {
      w = {
        key,
        start,
        end: start + this.#windowMs,
        count: 0,
        min: num,
        max: num,
        sum: 0,
        last: r.value,
        unit: r.unit,
        numeric: typeof r.value === 'number',
        partial: this.#afterCrash !== undefined && !this.#afterCrash.has(key),
      };
      this.#afterCrash?.add(key);
      this.#open.set(key, w);
    }
    w.count++;
    w.last = r.value;
    // One rule for every mixed window: numbers with different units, or numbers and strings,
    // cannot be summed honestly, so such a window carries count and last only.
    if (w.numeric && (typeof r.value !== 'number' || r.unit !== w.unit)) w.numeric = false;
    w.unit = r.unit;
    if (w.numeric) {
      if (num < w.min) w.min = num;
      if (num > w.max) w.max = num;
      w.sum += num;
    }
  }

  /** Emits every window that has ended by `now`, in start order then key order. */
  flushDue(now: number): void {
    const due = [...this.#open.values()].filter((w) => w.end <= now);
    due.sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : 1));
    for (const w of due) {
      this.#open.delete(w.key);
      this.#emit(w);
    }
  }

  /** The earliest end of an open window, or undefined when none is open. */
  nextDue(): number | undefined {
    let min: number | undefined;
    for (const w of this.#open.values()) if (min === undefined || w.end < min) min = w.end;
    return min;
  }

  /** Open windows, for the checkpoint at stop. */
  snapshot(): WindowState[] {
    return [...this.#open.values()].map((w) => ({ ...w }));
  }

  /** Puts back a checkpointed window (the next {@link flushDue} emits it if it has ended). */
  restore(w: WindowState): void {
    if (w.end - w.start !== this.#windowMs || w.start % this.#windowMs !== 0) return;
    // A checkpoint may hold an unsent closed window and the open one for the same key:
    // the older is emitted at once, the newer stays.
    const cur = this.#open.get(w.key);
    if (cur !== undefined && cur.start > w.start) return this.#emit({ ...w });
    if (cur !== undefined) this.#emit(cur);
    this.#open.set(w.key, { ...w });
  }
}

/** The upstream form of a closed window, carrying only the configured statistics. */
export function toSummary(w: WindowState, stats: readonly AggregateStat[]): Summary {
  const s: Summary = { key: w.key, start: w.start, end: w.end, unit: w.unit, partial: w.partial };
  const want = new Set(stats);
  if (want.has('count')) s.count = w.count;
  if (w.numeric && w.count > 0) {
    if (want.has('min')) s.min = w.min;
    if (want.has('max')) s.max = w.max;
    if (want.has('mean')) s.mean = w.sum / w.count;
  }
  if (want.has('last')) s.last = w.last;
  return s;
}

/** Fills a summary topic template (placeholders checked by the config schema). */
export function summaryTopic(template: string, key: string, windowSec: number): string {
  const slash = key.indexOf('/');
  const device = slash < 0 ? key : key.slice(0, slash);
  const sensor = slash < 0 ? key : key.slice(slash + 1);
  const values: Record<string, string> = { key, device, sensor, windowSec: String(windowSec) };
  return template.replace(/\{([^}]*)\}/g, (m, name: string) => values[name] ?? m);
}
