import type { FieldType, RecordLayout } from '@edgeflow/sharded-map';

// Values every field type holds exactly (the self-test derives each field of a record from one
// counter n, modulo what the field can hold, so any record of any layout can be checked).
const RANGE: Readonly<Record<FieldType, number>> = {
  f64: 2 ** 48, // below 2^53 with room for n + j: every integer exact
  f32: 2 ** 24,
  i32: 2 ** 31,
  u32: 2 ** 32,
  i16: 2 ** 15,
  u16: 2 ** 16,
  i8: 2 ** 7,
  u8: 2 ** 8,
};

/** A record of `layout` whose every field derives from `n` (field j holds (n + j) mod range). */
export function recordFor(layout: RecordLayout, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  Object.entries(layout).forEach(([name, type], j) => {
    out[name] = (n + j) % RANGE[type];
  });
  return out;
}

/** The widest field's n (field 0 of that width: n itself, as far as it can hold). */
function widest(layout: RecordLayout): { name: string; j: number; range: number } {
  let best = { name: '', j: 0, range: 0 };
  Object.entries(layout).forEach(([name, type], j) => {
    if (RANGE[type] > best.range) best = { name, j, range: RANGE[type] };
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
  const ok = Object.entries(layout).every(([name, type], j) => rec[name] === (n + j) % RANGE[type]);
  return ok ? n : undefined;
}
