import type { Reading, ReadingInput } from './reading.js';

/**
 * How a reading is laid out in the shared cache's records (SharedShardedMap): every field of
 * {@link Reading} kept. `kind` says which JS type the value has (the number, the string in
 * `text`, or a boolean); `flags` bit 0 says whether a unit was given (a unit of `''` and none
 * are different things). The three strings share the record's bounded string area
 * (`cache.stringBytes`).
 */
export const READING_RECORD = {
  value: 'f64',
  ts: 'f64',
  receivedAt: 'f64',
  seq: 'f64',
  kind: 'u8',
  quality: 'u8',
  flags: 'u8',
  text: 'str',
  unit: 'str',
  source: 'str',
} as const;

export type ReadingRecord = {
  value: number;
  ts: number;
  receivedAt: number;
  seq: number;
  kind: number;
  quality: number;
  flags: number;
  text: string;
  unit: string;
  source: string;
};

const K_NUMBER = 0;
const K_STRING = 1;
const K_TRUE = 2;
const K_FALSE = 3;
const QUALITY = ['good', 'stale', 'bad'] as const;
const HAS_UNIT = 1;

/** A record with every field at its zero value (reused scratch objects start like this). */
export function emptyRecord(): ReadingRecord {
  return {
    value: 0,
    ts: 0,
    receivedAt: 0,
    seq: 0,
    kind: 0,
    quality: 0,
    flags: 0,
    text: '',
    unit: '',
    source: '',
  };
}

/** Writes the value-carrying fields of `input` into `r` (seq and receivedAt are the cache's). */
export function putInput(r: ReadingRecord, input: ReadingInput): void {
  const v = input.value;
  if (typeof v === 'number') {
    r.kind = K_NUMBER;
    r.value = v;
    r.text = '';
  } else if (typeof v === 'string') {
    r.kind = K_STRING;
    r.value = 0;
    r.text = v;
  } else {
    r.kind = v ? K_TRUE : K_FALSE;
    r.value = 0;
    r.text = '';
  }
  r.ts = input.ts;
  r.flags = input.unit === null ? 0 : HAS_UNIT;
  r.unit = input.unit ?? '';
  r.source = input.source;
  r.quality = input.quality === 'good' ? 0 : input.quality === 'stale' ? 1 : 2;
}

/** The reading a record holds, in the property order the API has always served. */
export function readingOf(key: string, r: ReadingRecord): Reading {
  const value = r.kind === K_NUMBER ? r.value : r.kind === K_STRING ? r.text : r.kind === K_TRUE;
  return {
    key,
    value,
    unit: (r.flags & HAS_UNIT) !== 0 ? r.unit : null,
    ts: r.ts,
    source: r.source,
    quality: QUALITY[r.quality] ?? 'bad',
    seq: r.seq,
    receivedAt: r.receivedAt,
  };
}

/** UTF-8 bytes the reading's strings take in a record's string area. */
export function stringBytesOf(input: ReadingInput): number {
  let n = Buffer.byteLength(input.source, 'utf8');
  if (input.unit !== null) n += Buffer.byteLength(input.unit, 'utf8');
  if (typeof input.value === 'string') n += Buffer.byteLength(input.value, 'utf8');
  return n;
}
