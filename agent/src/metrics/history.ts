/**
 * A bounded in-memory ring of the agent's health series (the console's Overview plots): one
 * slot per interval on a fixed time grid (slot = floor(t / interval)), so a missed tick (a
 * blocked event loop, a suspended board) stays visible as a gap instead of squeezing the time
 * axis. Memory is fixed at construction: capacity × series × 4 bytes (Float32: seven
 * significant digits are plenty for rates, milliseconds, percent and MiB).
 */

/** One series kept in the ring. */
export interface SeriesDef {
  readonly name: string;
  readonly label: string;
  readonly unit: string;
}

/** A window of the ring on its time grid; `null` where nothing was sampled. */
export interface HistoryWindow {
  /** Time of the first slot, ms since the epoch. */
  readonly start: number;
  readonly intervalMs: number;
  readonly values: Record<string, (number | null)[]>;
}

export class HistoryRing {
  readonly series: readonly SeriesDef[];
  readonly capacity: number;
  readonly intervalMs: number;
  readonly #data: Float32Array[];
  /** Slot number of the newest sample; -1 when empty. */
  #head = -1;
  /** Slot number of the first sample ever recorded (the window never starts before it). */
  #oldest = -1;

  constructor(series: readonly SeriesDef[], opts: { capacity: number; intervalMs: number }) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    if (!(opts.intervalMs > 0)) throw new RangeError('intervalMs must be positive');
    this.series = series;
    this.capacity = opts.capacity;
    this.intervalMs = opts.intervalMs;
    this.#data = series.map(() => new Float32Array(opts.capacity).fill(Number.NaN));
  }

  /**
   * Records one sample at time `t` (ms); `values` in series order, NaN or null = not sampled.
   * A sample for an older slot than the newest is dropped (the clock stepped back).
   */
  push(t: number, values: readonly (number | null)[]): void {
    const slot = Math.floor(t / this.intervalMs);
    if (this.#head >= 0 && slot < this.#head) return;
    if (this.#head >= 0 && slot > this.#head) {
      // Clear the slots skipped since the newest sample (at most the whole ring).
      const gap = Math.min(slot - this.#head - 1, this.capacity);
      for (let i = 1; i <= gap; i++) {
        const idx = (this.#head + i) % this.capacity;
        for (const a of this.#data) a[idx] = Number.NaN;
      }
    }
    if (this.#oldest < 0) this.#oldest = slot;
    this.#head = slot;
    const idx = slot % this.capacity;
    this.#data.forEach((a, i) => {
      const v = values[i];
      a[idx] = v === null || v === undefined ? Number.NaN : v;
    });
  }

  /** Everything the ring holds up to `now` (default: the newest sample), oldest first. */
  window(now?: number): HistoryWindow {
    const values: Record<string, (number | null)[]> = {};
    if (this.#head < 0) {
      for (const s of this.series) values[s.name] = [];
      return { start: now ?? 0, intervalMs: this.intervalMs, values };
    }
    // Slots newer than the head (time passed with no sample) are gaps up to `now`.
    const last =
      now === undefined ? this.#head : Math.max(this.#head, Math.floor(now / this.intervalMs));
    const first = Math.max(this.#oldest, this.#head - this.capacity + 1, last - this.capacity + 1);
    this.series.forEach((s, i) => {
      const a = this.#data[i] as Float32Array;
      const out: (number | null)[] = [];
      for (let slot = first; slot <= last; slot++) {
        const v = slot > this.#head || slot < 0 ? Number.NaN : (a[slot % this.capacity] as number);
        out.push(Number.isNaN(v) ? null : round(v));
      }
      values[s.name] = out;
    });
    return { start: first * this.intervalMs, intervalMs: this.intervalMs, values };
  }

  /** The newest sample, or undefined when empty. */
  latest(): { t: number; values: Record<string, number | null> } | undefined {
    if (this.#head < 0) return undefined;
    const idx = this.#head % this.capacity;
    const values: Record<string, number | null> = {};
    this.series.forEach((s, i) => {
      const v = (this.#data[i] as Float32Array)[idx] as number;
      values[s.name] = Number.isNaN(v) ? null : round(v);
    });
    return { t: this.#head * this.intervalMs, values };
  }
}

/** Four significant digits: what a plot can show, and a third of the JSON. */
export function round(v: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  return Number(v.toPrecision(4));
}
