/**
 * @edgeflow/sharded-map: a sharded map for Node.js. `ShardedMap` is an in-heap `Map` drop-in;
 * `SharedShardedMap` lives in one SharedArrayBuffer and is shared by worker threads.
 */
export { ShardedMap, type ShardedMapOptions } from './sharded-map.js';
export { fnv1a32, hashKey, hashNumber, mix32 } from './hash.js';
export { computeStats, suggestShards, type ShardStats, type SuggestOptions } from './stats.js';
export { defaultShardCount, isPowerOfTwo, MAX_SHARDS, MIN_SHARDS } from './options.js';
export type { SliceOptions } from './slices.js';
export { errorCatalog, ShardedMapError, type MapErrorCode } from './errors.js';
export {
  SharedShardedMap,
  type AttachExpectation,
  type SharedMapCounters,
  type SharedShardedMapDeps,
  type SharedShardedMapOptions,
} from './shared/shared-sharded-map.js';
export type { FieldType, RecordLayout, RecordOf } from './shared/layout.js';
