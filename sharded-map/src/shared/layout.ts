import { ShardedMapError } from '../errors.js';

/** Field types of a {@link RecordLayout}; every field is read and written as a number. */
export type FieldType = 'f64' | 'f32' | 'i32' | 'u32' | 'i16' | 'u16' | 'i8' | 'u8';

/** A fixed record layout, e.g. `{ value: 'f64', ts: 'f64', seq: 'u32', flags: 'u16' }`. */
export type RecordLayout = Readonly<Record<string, FieldType>>;

/** The object a record of layout `L` is read into and written from. */
export type RecordOf<L extends RecordLayout> = { -readonly [P in keyof L]: number };

export const FIELD_BYTES: Readonly<Record<FieldType, number>> = {
  f64: 8,
  f32: 4,
  i32: 4,
  u32: 4,
  i16: 2,
  u16: 2,
  i8: 1,
  u8: 1,
};

/** A field placed in the slot: name, type and byte offset from the slot start. */
export interface PlacedField {
  readonly name: string;
  readonly type: FieldType;
  readonly offset: number;
}

export const MAGIC = 0x4d534645; // 'EFSM' little-endian
/** 2: lock words and owner entries carry an epoch (owner ids are no longer ambiguous). */
export const LAYOUT_VERSION = 2;
/** Header: 32 int32 words of geometry, then the layout JSON, then the owner table. */
export const HEADER_WORDS = 32;
export const LAYOUT_JSON_OFFSET = 128;
export const LAYOUT_JSON_MAX = 1024;
export const OWNER_TABLE_OFFSET = LAYOUT_JSON_OFFSET + LAYOUT_JSON_MAX;

// Header word indices.
export const H = {
  magic: 0,
  version: 1,
  shards: 2,
  slots: 3,
  maxKeyBytes: 4,
  slotBytes: 5,
  recordBytes: 6,
  shardBytes: 7,
  shardBase: 8,
  totalBytes: 9,
  layoutLen: 10,
  layoutHash: 11,
  maxOwners: 12,
  lockTimeoutMs: 13,
  capacity: 14,
} as const;

/**
 * Shard block, 64-byte aligned: line 0 holds only the lock word (no false sharing between the
 * lock and the data readers poll); line 1 holds the seqlock counter and bookkeeping; then the
 * undo copy of one record, the tag array (4 bytes per slot) and the slots.
 */
export const S = {
  lock: 0, // byte offsets inside the shard block
  seq: 64,
  count: 68,
  tombstones: 72,
  undoSlot: 76, // 0 = no in-place update in flight, else slot index + 1
  // 80: reserved (layout version 1 kept a lock-lease generation here)
  undo: 128,
} as const;

/** Geometry derived from the options; identical in every handle of one buffer. */
export interface Geometry {
  readonly shards: number;
  readonly slots: number;
  readonly maxKeyBytes: number;
  readonly fields: readonly PlacedField[];
  readonly recordBytes: number;
  readonly keyLenOffset: number;
  readonly keyOffset: number;
  readonly slotBytes: number;
  readonly tagsOffset: number;
  readonly slotsOffset: number;
  readonly shardBytes: number;
  readonly shardBase: number;
  readonly maxOwners: number;
  readonly totalBytes: number;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;
const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

function bad(message: string): ShardedMapError {
  return new ShardedMapError('EDGEFLOW_MAP_BAD_OPTION', `SharedShardedMap: ${message}`);
}

/**
 * Places the fields widest first (natural alignment without padding), then the key length
 * (u16) and the key bytes (whole int32 words, so readers compare them with Atomics.load).
 */
export function placeFields(layout: RecordLayout): PlacedField[] {
  if (typeof layout !== 'object' || layout === null) throw bad('record must be an object');
  const entries = Object.entries(layout);
  if (entries.length === 0 || entries.length > 64) throw bad('record needs 1 to 64 fields');
  for (const [name, type] of entries) {
    if (!NAME.test(name) || RESERVED.has(name)) throw bad(`record field name ${name} is invalid`);
    if (!Object.hasOwn(FIELD_BYTES, type)) {
      throw bad(
        `record field ${name} has type ${String(type)}; use one of f64 f32 i32 u32 i16 u16 i8 u8`,
      );
    }
  }
  const sorted = entries
    .map(([name, type], i) => ({ name, type, i }))
    .sort((a, b) => FIELD_BYTES[b.type] - FIELD_BYTES[a.type] || a.i - b.i);
  let offset = 0;
  return sorted.map(({ name, type }) => {
    const f = { name, type, offset };
    offset += FIELD_BYTES[type];
    return f;
  });
}

/** Computes the geometry for `slots` slots per shard. Throws BAD_OPTION if it does not fit. */
export function computeGeometry(
  shards: number,
  slots: number,
  maxKeyBytes: number,
  layout: RecordLayout,
  maxOwners: number,
): Geometry {
  const fields = placeFields(layout);
  const last = fields[fields.length - 1] as PlacedField;
  const recordBytes = last.offset + FIELD_BYTES[last.type];
  const keyLenOffset = align(recordBytes, 2);
  const keyOffset = align(keyLenOffset + 2, 4);
  const slotBytes = align(keyOffset + align(maxKeyBytes, 4), 8);
  const tagsOffset = align(S.undo + recordBytes, 64);
  const slotsOffset = align(tagsOffset + slots * 4, 64);
  const shardBytes = align(slotsOffset + slots * slotBytes, 64);
  const shardBase = align(OWNER_TABLE_OFFSET + maxOwners * 8, 64);
  const totalBytes = shardBase + shards * shardBytes;
  // Offsets are turned into typed-array indices with >>> 2, valid below 2^32.
  if (totalBytes >= 2 ** 32) throw bad(`the map would need ${totalBytes} bytes (limit 4 GiB)`);
  return {
    shards,
    slots,
    maxKeyBytes,
    fields,
    recordBytes,
    keyLenOffset,
    keyOffset,
    slotBytes,
    tagsOffset,
    slotsOffset,
    shardBytes,
    shardBase,
    maxOwners,
    totalBytes,
  };
}

/**
 * Slots per shard for `capacity` entries: the mean share plus four standard deviations of the
 * (binomial) share a uniform hash gives a shard, divided by the load factor.
 */
export function slotsFor(capacity: number, shards: number, loadFactor: number): number {
  const mean = capacity / shards;
  return Math.max(8, Math.ceil((mean + 4 * Math.sqrt(mean) + 8) / loadFactor));
}

/** The layout as stored in the header: declaration order, `[["value","f64"],...]`. */
export function layoutJson(layout: RecordLayout): string {
  return JSON.stringify(Object.entries(layout));
}
