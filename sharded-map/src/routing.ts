/**
 * Hash → shard routing for the in-heap map. Shards get staggered weights spread evenly over one
 * octave (shard i takes a share proportional to 2^(i/n)). Why: shards of equal size cross their
 * power-of-two resize points in the same batch of inserts, so a balanced sharded map still
 * stalls on many rehashes at once; with weights spread over an octave each doubling of the map
 * resizes every shard once, but at evenly spaced moments, and the worst stall becomes one
 * shard's rehash (about 1.4/n of a single Map's).
 *
 * The high bits of the hash index a small table of shard numbers (one typed-array load per
 * operation).
 */
export interface Routing {
  /** Shard index for every value of the top `bits` bits of a hash. */
  readonly table: Uint16Array;
  /** `32 - bits`: shift that extracts the table index from a 32-bit hash. */
  readonly shift: number;
  /** Expected fraction of keys per shard (sums to 1). */
  readonly shares: readonly number[];
}

/** Builds the routing table for `shards` shards, staggered or uniform. */
export function buildRouting(shards: number, stagger: boolean): Routing {
  // At least 64 table slots per shard keeps the realised shares within ~1.5% of the weights.
  let bits = 12;
  while (1 << bits < shards * 64 && bits < 16) bits++;
  const size = 1 << bits;
  const weights: number[] = [];
  for (let i = 0; i < shards; i++) weights.push(stagger ? 2 ** (i / shards) : 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const table = new Uint16Array(size);
  const shares: number[] = [];
  let cum = 0;
  let start = 0;
  for (let i = 0; i < shards; i++) {
    cum += weights[i] as number;
    const end = i === shards - 1 ? size : Math.round((cum / total) * size);
    table.fill(i, start, end);
    shares.push((end - start) / size);
    start = end;
  }
  return { table, shift: 32 - bits, shares };
}
