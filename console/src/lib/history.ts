import type { HistoryWindow } from '../api/types.js';

/**
 * The Overview's copy of the agent's one-hour ring: the window fetched at load, then one sample
 * per stream event. Columnar (what uPlot draws): `x` in seconds, one array per series.
 */
export class HistoryBuffer {
  x: number[] = [];
  readonly values = new Map<string, (number | null)[]>();
  version = 0;

  constructor(
    readonly names: readonly string[],
    readonly capacity = 3600,
  ) {
    for (const n of names) this.values.set(n, []);
  }

  load(w: HistoryWindow): void {
    const len = Math.max(0, ...Object.values(w.values).map((a) => a.length));
    this.x = Array.from({ length: len }, (_, i) => (w.start + i * w.intervalMs) / 1000);
    for (const n of this.names) {
      const src = w.values[n] ?? [];
      this.values.set(
        n,
        Array.from({ length: len }, (_, i) => src[i] ?? null),
      );
    }
    this.version++;
  }

  /** Appends one sample (ignored when not newer than the last point). */
  push(tMs: number, v: Record<string, number | null>): void {
    const t = tMs / 1000;
    const last = this.x[this.x.length - 1];
    if (last !== undefined && t <= last) return;
    this.x.push(t);
    for (const n of this.names) this.values.get(n)?.push(v[n] ?? null);
    if (this.x.length > this.capacity) {
      const cut = this.x.length - this.capacity;
      this.x.splice(0, cut);
      for (const a of this.values.values()) a.splice(0, cut);
    }
    this.version++;
  }

  /** Latest non-null value of a series. */
  latest(name: string): number | null {
    const a = this.values.get(name) ?? [];
    for (let i = a.length - 1; i >= 0; i--) {
      const v = a[i];
      if (v !== null && v !== undefined) return v;
    }
    return null;
  }

  /** uPlot's data layout for some series. */
  columns(names: readonly string[]): [number[], ...(number | null)[][]] {
    return [this.x, ...names.map((n) => this.values.get(n) ?? [])];
  }
}
