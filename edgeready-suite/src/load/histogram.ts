/**
 * Log-bucketed latency histogram (4 buckets per doubling from 0.1 ms, ~19% resolution): bounded
 * memory for 72 hours of messages, serialisable into the checkpoint.
 */
export class LatencyHistogram {
  counts: number[];
  total = 0;
  max = 0;

  constructor(counts: readonly number[] = [], max = 0) {
    this.counts = [...counts];
    this.total = this.counts.reduce((a, b) => a + b, 0);
    this.max = max;
  }

  static #bucket(ms: number): number {
    return ms <= 0.1 ? 0 : Math.min(127, Math.ceil(Math.log2(ms / 0.1) * 4));
  }

  static #upper(i: number): number {
    return 0.1 * 2 ** (i / 4);
  }

  record(ms: number): void {
    const i = LatencyHistogram.#bucket(ms);
    while (this.counts.length <= i) this.counts.push(0);
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.total++;
    if (ms > this.max) this.max = ms;
  }

  /** Upper bound of the bucket holding quantile q (0..1), ms; undefined when empty. */
  quantile(q: number): number | undefined {
    if (this.total === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(LatencyHistogram.#upper(i), this.max);
    }
    return this.max;
  }

  toJSON(): { counts: number[]; max: number } {
    return { counts: this.counts, max: this.max };
  }
}

/** Exact quantile of a small sample (sorts a copy); undefined when empty. */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
