import { availableParallelism } from 'node:os';
import { ShardedMapError } from './errors.js';

/** Smallest and largest shard counts accepted (the seed's bounds are 8..1024; 1 is allowed). */
export const MIN_SHARDS = 1;
export const MAX_SHARDS = 1024;

/**
 * Default shard count: 64, or 16 per available CPU rounded up to a power of two when that is
 * more, at most 1024. Why: in-heap, 64 staggered shards already cut the worst growth stall by
 * more than 10x; shared between W workers, a write finds its shard locked with probability of
 * about (W-1)/shards, so 16 shards per CPU keeps that near 6% on any board.
 * `cpus` is injectable for tests; the default is `os.availableParallelism()`.
 */
export function defaultShardCount(cpus: number = availableParallelism()): number {
  const wanted = Math.max(64, cpus * 16);
  let n = 1;
  while (n < wanted) n *= 2;
  return Math.min(MAX_SHARDS, n);
}

/** True when `n` is an integer power of two. */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Validates a shard count option; throws `EDGEFLOW_MAP_BAD_OPTION` naming `where`. */
export function checkShards(n: unknown, where: string): number {
  if (typeof n !== 'number' || !isPowerOfTwo(n) || n < MIN_SHARDS || n > MAX_SHARDS) {
    throw new ShardedMapError(
      'EDGEFLOW_MAP_BAD_OPTION',
      `${where}: shards must be a power of two from ${MIN_SHARDS} to ${MAX_SHARDS}, got ${String(n)}`,
    );
  }
  return n;
}
