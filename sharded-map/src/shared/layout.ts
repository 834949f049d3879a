import { ShardedMapError } from '../errors.js';

/** Numeric field types of a {@link RecordLayout}: read and written as a number. */
export type NumericFieldType = 'f64' | 'f32' | 'i32' | 'u32' | 'i16' | 'u16' | 'i8' | 'u8';

/**
 * Field types of a {@link RecordLayout}: the numeric types, and `str`, a string kept in the
 * record's bounded string area (UTF-8, shared by every `str` field of the record; its size is
 * the map's `stringBytes` option).
 */
export type FieldType = NumericFieldType | 'str';

/**
 * A fixed record layout, e.g. `{ value: 'f64', ts: 'f64', seq: 'u32', unit: 'str' }`.
 */
export type RecordLayout = Readonly<Record<string, FieldType>>;

/** The object a record of layout `L` is read into and written from. */
export type RecordOf<L extends RecordLayout> = {
  -readonly [P in keyof L]: L[P] extends 'str' ? string : number;
};

export const FIELD_BYTES: Readonly<Record<NumericFieldType, number>> = {
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
  readonly type: NumericFieldType;
  readonly offset: number;
}

/**
 * The string area of a record: one u16 byte length per `str` field (declaration order) at
 * `lensOffset`, then the fields' UTF-8 bytes back to back at `bytesOffset`, at most `bytes` of
 * them in all (whole int32 words, so readers copy them with Atomics.load).
 */
export interface StringArea {
  readonly names: readonly string[];
  readonly lensOffset: number;
  readonly bytesOffset: number;
  readonly bytes: number;
}

/** Whether `t` is a field type this package knows. */
export function isFieldType(t: unknown): t is FieldType {
  return t === 'str' || (typeof t === 'string' && Object.hasOwn(FIELD_BYTES, t));
}

export const MAGIC = 0x4d534645; // 'EFSM' little-endian
/**
 * 2: lock words and owner entries carry an epoch (owner ids are no longer ambiguous).
 * 3: records may hold `str` fields in a string area (header word `stringBytes`).
 */
export const LAYOUT_VERSION = 3;
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
  stringBytes: 15,
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
  /** Absent when the layout has no `str` field. */
  readonly strings: StringArea | undefined;
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
    if (!isFieldType(type)) {
      throw bad(
        `record field ${name} has type ${String(type)}; use one of f64 f32 i32 u32 i16 u16 i8 u8 str`,
      );
    }
  }
  const sorted = entries
    .filter((e): e is [string, NumericFieldType] => e[1] !== 'str')
    .map(([name, type], i) => ({ name, type, i }))
    .sort((a, b) => FIELD_BYTES[b.type] - FIELD_BYTES[a.type] || a.i - b.i);
  let offset = 0;
  return sorted.map(({ name, type }) => {
    const f = { name, type, offset };
    offset += FIELD_BYTES[type];
    return f;
  });
}

/** The `str` fields of a layout, in declaration order. */
export function stringFields(layout: RecordLayout): string[] {
  return Object.entries(layout)
    .filter(([, t]) => t === 'str')
    .map(([n]) => n);
}

/** Computes the geometry for `slots` slots per shard. Throws BAD_OPTION if it does not fit. */
export function computeGeometry(
  shards: number,
  slots: number,
  maxKeyBytes: number,
  layout: RecordLayout,
  maxOwners: number,
  stringBytes = 0,
): Geometry {
  const fields = placeFields(layout);
  const last = fields.at(-1);
  let recordBytes = last === undefined ? 0 : last.offset + FIELD_BYTES[last.type];
  const names = stringFields(layout);
  let strings: StringArea | undefined;
  if (names.length > 0) {
    if (!Number.isInteger(stringBytes) || stringBytes < 1 || stringBytes > 65535)
      throw bad(`stringBytes must be an integer from 1 to 65535 for a record with str fields`);
    const lensOffset = align(recordBytes, 2);
    const bytesOffset = align(lensOffset + 2 * names.length, 4);
    strings = { names, lensOffset, bytesOffset, bytes: stringBytes };
    recordBytes = bytesOffset + align(stringBytes, 4);
  } else if (stringBytes !== 0) {
    throw bad('stringBytes is only for records with str fields');
  }
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
    strings,
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
