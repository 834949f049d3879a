/**
 * Default hashing for ShardedMap keys. Why these functions: FNV-1a is what the design (seed
 * chapter 2.4) names, it needs no table and no allocation, and one multiply per character is
 * the whole cost; integers get one Fibonacci multiply (the shard comes from the high bits).
 * Every function returns an unsigned 32-bit integer.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a over the UTF-16 code units of `s`. For ASCII keys (MQTT topics such as
 * `sensors/dev123/temp`) this equals FNV-1a of the UTF-8 bytes. Cost: one xor and one
 * `Math.imul` per code unit (about 1 ns per character on a 2-3 GHz core).
 */
export function fnv1a32(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Mixes a 32-bit integer so that every input bit affects the high output bits. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

// Scratch views used to read the bits of a double without allocating.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * Hash of a number consistent with `Map`'s SameValueZero key equality: `0` and `-0` hash the
 * same, every NaN hashes the same. Integers in the 32-bit range take the fast path.
 */
export function hashNumber(n: number): number {
  // Fibonacci hashing: one multiply; the shard is chosen from the high bits, which a
  // multiply by 2^32/phi spreads well even for sequential ids.
  if ((n | 0) === n) return Math.imul(n, 0x9e3779b1) >>> 0;
  if (n !== n) return 0x7ff80000; // NaN: all NaN keys are one Map key
  f64[0] = n;
  return mix32((u32[0] as number) ^ mix32(u32[1] as number));
}

// Objects and functions have no stable content to hash; an id assigned on first sight keeps
// the shard choice stable for the object's lifetime without keeping it alive.
const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;

function hashObject(o: object): number {
  let id = objectIds.get(o);
  if (id === undefined) {
    id = nextObjectId++;
    objectIds.set(o, id);
  }
  return mix32(id);
}

/**
 * The default hasher of {@link ShardedMap}: FNV-1a for strings, {@link hashNumber} for numbers,
 * the low 64 bits for bigints, the description for symbols (equal descriptions share a shard,
 * which is correct, only less spread) and a per-object id for objects and functions.
 */
export function hashKey(key: unknown): number {
  switch (typeof key) {
    case 'string':
      return fnv1a32(key);
    case 'number':
      return hashNumber(key);
    case 'bigint':
      return mix32(Number(BigInt.asUintN(32, key)) ^ mix32(Number(BigInt.asUintN(32, key >> 32n))));
    case 'boolean':
      return key ? 0x9e3779b9 : 0x7f4a7c15;
    case 'undefined':
      return 0x1b873593;
    case 'symbol':
      return (fnv1a32(key.description ?? '') ^ 0x5bd1e995) >>> 0;
    case 'object':
      return key === null ? 0x27d4eb2f : hashObject(key);
    default:
      return hashObject(key as object);
  }
}
