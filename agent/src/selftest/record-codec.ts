import type { FieldType, RecordLayout } from '@edgeflow/sharded-map';

type NumericType = Exclude<FieldType, 'str'>;
type Rec = Record<string, number | string>;

// Values every field type holds exactly (the self-test derives each field of a record from one
// counter n, modulo what the field can hold, so any record of any layout can be checked). A
// `str` field holds the decimal digits of n + j (at most 15 bytes: the cache's string area
// holds its three strings with room to spare).
const RANGE: Readonly<Record<NumericType, number>> = {
  f64: 2 ** 48, // below 2^53 with room for n + j: every integer exact
  f32: 2 ** 24,
  i32: 2 ** 31,
  u32: 2 ** 32,
  i16: 2 ** 15,
  u16: 2 ** 16,
  i8: 2 ** 7,
  u8: 2 ** 8,
};

/** Field j's value for counter n. */
function valueOf(type: FieldType, n: number, j: number): number | string {
  return type === 'str' ? String(n + j) : (n + j) % RANGE[type];
}

/** A record of `layout` whose every field derives from `n` (field j holds (n + j) mod range). */
export function recordFor(layout: RecordLayout, n: number): Record<string, number> {
  const out: Rec = {};
  Object.entries(layout).forEach(([name, type], j) => {
    out[name] = valueOf(type, n, j);
  });
  return out as Record<string, number>;
}

/** The widest numeric field's n (field 0 of that width: n itself, as far as it can hold). */
function widest(layout: RecordLayout): { name: string; j: number; range: number } {
  let best = { name: '', j: 0, range: 0 };
  Object.entries(layout).forEach(([name, type], j) => {
    if (type !== 'str' && RANGE[type] > best.range) best = { name, j, range: RANGE[type] };
  });
  return best;
}

/**
 * The counter a record was written from, or undefined when its fields disagree (a torn read:
 * some fields from one write, some from another).
 */
export function counterOf(layout: RecordLayout, rec: Record<string, number>): number | undefined {
  const w = widest(layout);
  const v = rec[w.name];
  if (v === undefined) return undefined;
  const n = (((v - w.j) % w.range) + w.range) % w.range;
  const r = rec as Rec;
  const ok = Object.entries(layout).every(([name, type], j) => r[name] === valueOf(type, n, j));
  return ok ? n : undefined;
}
