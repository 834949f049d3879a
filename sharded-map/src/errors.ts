import { createErrorClass } from '@edgeflow/core';

/**
 * Every error this package raises carries a stable code from this catalog. The text after each
 * code says what it means and what to do; docs/errors.md is generated from it.
 */
export const errorCatalog = {
  EDGEFLOW_MAP_BAD_OPTION:
    'A constructor option is invalid (shard count not a power of two in range, capacity, key size, record layout, timeout). The message names the option and the accepted range.',
  EDGEFLOW_MAP_BAD_KEY:
    'A SharedShardedMap key is not a string. Shared maps store UTF-8 string keys only; convert the key first.',
  EDGEFLOW_MAP_KEY_TOO_LONG:
    'A SharedShardedMap key is longer in UTF-8 bytes than the maxKeyBytes the map was created with. Shorten the key or create the map with a larger maxKeyBytes.',
  EDGEFLOW_MAP_BAD_RECORD:
    'A record passed to a SharedShardedMap write is missing a declared field or a field is not a number. Pass an object with every field of the layout.',
  EDGEFLOW_MAP_VALUE_TOO_LONG:
    "A record's str fields take more UTF-8 bytes than the string area the SharedShardedMap was created with (stringBytes). Nothing was written or truncated. Shorten the strings or create the map with a larger stringBytes.",
  EDGEFLOW_MAP_FULL:
    'A SharedShardedMap shard has no free slot for a new key. Nothing was overwritten. Create the map with a larger capacity (or more shards if the load is skewed; see stats()).',
  EDGEFLOW_MAP_BAD_BUFFER:
    'SharedShardedMap.attach() was given something that is not a SharedShardedMap buffer (not a SharedArrayBuffer, wrong magic, wrong size or corrupt header).',
  EDGEFLOW_MAP_BAD_VERSION:
    'The buffer was created by a SharedShardedMap with a different layout version. Attach with the same package version that created it.',
  EDGEFLOW_MAP_LAYOUT_MISMATCH:
    'The buffer holds a different record layout, key size or shard count than the one the caller expected in attach(). Use the layout the map was created with.',
  EDGEFLOW_MAP_TOO_MANY_OWNERS:
    'Every owner slot of the SharedShardedMap is taken (one per attached handle). Close handles you no longer need, call releaseThread() for exited workers, or create the map with a larger maxOwners.',
  EDGEFLOW_MAP_LOCK_LOST:
    "releaseThread() was called for this handle's thread while it was still running, and another thread took its shard lock over. Call releaseThread() only from a Worker's exit event.",
  EDGEFLOW_MAP_REENTRANT:
    'A SharedShardedMap method was called from inside an update() callback of the same handle (it holds a shard lock and the key scratch). Compute outside the callback.',
  EDGEFLOW_MAP_CLOSED: 'The SharedShardedMap handle was closed. Attach a new handle.',
} as const;

/** One of the stable codes of {@link errorCatalog}. */
export type MapErrorCode = keyof typeof errorCatalog;

/** An error of this package with a stable `code` (core's factory: branded, works across copies). */
export class ShardedMapError extends createErrorClass('ShardedMapError', errorCatalog) {}
