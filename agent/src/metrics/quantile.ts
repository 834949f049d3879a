/**
 * Quantile of the observations that fell into a Prometheus histogram between two reads
 * (bucket counts are cumulative; the difference of two reads is this interval's histogram).
 * Linear interpolation inside the bucket, as PromQL's `histogram_quantile` does; a quantile in
 * the +Inf bucket reports the highest finite bound (the histogram cannot say more).
 */
export function histogramQuantile(
  q: number,
  bounds: readonly number[],
  cumulative: readonly number[],
): number | null {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  for (let i = 0; i < cumulative.length; i++) {
    const c = cumulative[i] ?? 0;
    if (c < rank) continue;
    const upper = bounds[i] ?? Infinity;
    if (!Number.isFinite(upper)) return bounds[i - 1] ?? null;
    const lower = i === 0 ? 0 : (bounds[i - 1] ?? 0);
    const below = i === 0 ? 0 : (cumulative[i - 1] ?? 0);
    const inBucket = c - below;
    return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
  }
  return bounds[bounds.length - 1] ?? null;
}

/** Exact quantile of a sample (nearest rank); null for an empty sample. Sorts in place. */
export function sampleQuantile(q: number, values: number[]): number | null {
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  const idx = Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1));
  return values[idx] ?? null;
}
