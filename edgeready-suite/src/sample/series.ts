/** One point of the run's time series (timeseries.jsonl, one JSON object per line). */
export interface Sample {
  /** Wall clock, ms since the epoch. */
  readonly t: number;
  /** Active run time at this sample, ms (gaps excluded). */
  readonly a: number;
  /** Segment (0 = first start, +1 per resume). */
  readonly seg: number;
  /** PUBCOMPs per second in this window (client side). */
  readonly rate?: number;
  /** Readings accepted per second (agent's edgeflow_ingest_messages_total{source="mqtt"}). */
  readonly ingestRate?: number;
  /** p99 publish→PUBCOMP in this window, ms. */
  readonly p99?: number;
  /** p99 of sampled publish→cache latency in this window, ms. */
  readonly cacheP99?: number;
  readonly rss?: number;
  readonly fds?: number;
  /** Event-loop lag p99 of the agent, ms. */
  readonly lagP99?: number;
  /** Hottest thermal zone, °C. */
  readonly tempC?: number;
  /** Highest current CPU frequency, MHz. */
  readonly cpuMHz?: number;
  /** Bytes in the agent's data directory. */
  readonly diskBytes?: number;
  /** Used bytes of the data directory's filesystem. */
  readonly fsUsed?: number;
  readonly inflight?: number;
}

/** Numeric fields of a sample that are plotted or trended. */
export type SampleField = Exclude<keyof Sample, 't' | 'a' | 'seg'>;

/** Least-squares fit of y over x (x in hours): slope per hour and its standard error. */
export function linearTrend(
  points: readonly { x: number; y: number }[],
): { slope: number; intercept: number; se: number; n: number } | undefined {
  const n = points.length;
  if (n < 3) return undefined;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (const p of points) sse += (p.y - (intercept + slope * p.x)) ** 2;
  const se = Math.sqrt(sse / (n - 2) / sxx);
  return { slope, intercept, se, n };
}

/** Summary of one field over the run. */
export interface FieldSummary {
  readonly n: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly first: number;
  readonly last: number;
  /** Units per hour, over the samples after warm-up (undefined with too few points). */
  readonly slopePerHour?: number;
}

/** Values of one field with the active time (hours) of their sample, skipping the warm-up. */
export function fieldPoints(
  series: readonly Sample[],
  field: SampleField,
  warmupFraction = 0.1,
): { x: number; y: number }[] {
  const last = series.at(-1)?.a ?? 0;
  const from = last * warmupFraction;
  const out: { x: number; y: number }[] = [];
  for (const s of series) {
    const y = s[field];
    if (typeof y === 'number' && s.a >= from) out.push({ x: s.a / 3_600_000, y });
  }
  return out;
}

/** min/max/mean/first/last and the post-warm-up slope of a field; undefined without data. */
export function summarize(series: readonly Sample[], field: SampleField): FieldSummary | undefined {
  const ys = series.map((s) => s[field]).filter((v): v is number => typeof v === 'number');
  if (ys.length === 0) return undefined;
  const trend = linearTrend(fieldPoints(series, field));
  return {
    n: ys.length,
    min: Math.min(...ys),
    max: Math.max(...ys),
    mean: ys.reduce((a, b) => a + b, 0) / ys.length,
    first: ys[0] ?? 0,
    last: ys.at(-1) ?? 0,
    ...(trend ? { slopePerHour: trend.slope } : {}),
  };
}
