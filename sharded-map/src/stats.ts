/** Per-shard load statistics, the input of the seed's shard-count rule (chapter 2.4). */
export interface ShardStats {
  /** Number of shards. */
  readonly shards: number;
  /** Total number of entries. */
  readonly size: number;
  /** Entries per shard, by shard index. */
  readonly sizes: readonly number[];
  /** Mean entries per shard. */
  readonly mean: number;
  /** Largest shard. */
  readonly max: number;
  /** Smallest shard. */
  readonly min: number;
  /**
   * Coefficient of variation (standard deviation / mean) of the shard loads. For a map with
   * staggered shard weights each size is divided by the shard's expected share first, so the
   * deliberate stagger does not count as skew; a perfect hash gives a CV near
   * `sqrt(shards / size)` (Poisson noise). 0 for an empty map.
   */
  readonly cv: number;
}

/**
 * Computes {@link ShardStats} from shard sizes and, optionally, each shard's expected share of
 * the keys (the shares sum to 1; equal shares when omitted).
 */
export function computeStats(sizes: readonly number[], shares?: readonly number[]): ShardStats {
  const n = sizes.length;
  let size = 0;
  let max = 0;
  let min = Number.POSITIVE_INFINITY;
  for (const s of sizes) {
    size += s;
    if (s > max) max = s;
    if (s < min) min = s;
  }
  if (n === 0) min = 0;
  const mean = n === 0 ? 0 : size / n;
  let cv = 0;
  if (size > 0) {
    // Normalised load: size / expected size. Its mean is 1 by construction.
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const expected = size * (shares?.[i] ?? 1 / n);
      const load = (sizes[i] as number) / expected;
      sumSq += (load - 1) * (load - 1);
    }
    cv = Math.sqrt(sumSq / n);
  }
  return { shards: n, size, sizes: [...sizes], mean, max, min, cv };
}

/** Bounds and thresholds of {@link suggestShards}; the defaults are the seed's. */
export interface SuggestOptions {
  /** Lower bound of the advice. Default 8. */
  readonly min?: number;
  /** Upper bound of the advice. Default 1024. */
  readonly max?: number;
  /** Double the shard count above this CV. Default 0.35. */
  readonly growAbove?: number;
  /** Halve the shard count below this CV. Default 0.12. */
  readonly shrinkBelow?: number;
}

/**
 * The seed's rule as advice: CV > 0.35 → double the shard count, CV < 0.12 → halve it, else
 * keep it, bounded to 8..1024. It never changes a map; apply it with `resharded(n)`. Note that
 * with few entries per shard the CV is dominated by Poisson noise (about `1/sqrt(mean)`), so
 * act on it only once shards hold more than a few dozen entries each.
 */
export function suggestShards(stats: ShardStats, options: SuggestOptions = {}): number {
  const min = options.min ?? 8;
  const max = options.max ?? 1024;
  let next = stats.shards;
  if (stats.cv > (options.growAbove ?? 0.35)) next = stats.shards * 2;
  else if (stats.cv < (options.shrinkBelow ?? 0.12)) next = Math.floor(stats.shards / 2);
  return Math.min(max, Math.max(min, next));
}
