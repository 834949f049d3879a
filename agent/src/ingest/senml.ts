import type { ReadingInput } from '../cache/reading.js';
import type { RejectReason } from './decode.js';

/** One resolved SenML record: its full name (bn + n, possibly empty) and the reading. */
export interface SenmlReading {
  name: string;
  reading: Omit<ReadingInput, 'source'>;
}

export type SenmlResult =
  { ok: true; readings: SenmlReading[] } | { ok: false; reason: RejectReason; detail: string };

/** Records per pack; a larger pack is rejected whole. */
export const MAX_SENML_RECORDS = 1000;
/** RFC 8428 §4.5.3: resolved times below 2^28 s are relative to now. */
const RELATIVE_LIMIT = 2 ** 28;
const MAX_UNIT = 32;
const MAX_STRING = 1024;
/** The SenML version this decoder implements (RFC 8428: 10). */
const SENML_VERSION = 10;

const fail = (reason: RejectReason, detail: string): SenmlResult => ({ ok: false, reason, detail });

interface Base {
  bn: string;
  bt: number;
  bu: string | undefined;
  bv: number;
  bs: number;
  bver: number | undefined;
}

/**
 * Resolves a SenML JSON pack (RFC 8428 §4.6): base name, time, unit, value and sum carry over
 * to the following records until a record sets them again; name = bn + n; time = bt + t
 * (seconds; below 2^28 relative to `now`); value = bv + v for numbers; a record with only a
 * sum reports bs + s. Exactly one of v, vs, vb, vd (vd is kept as its base64 string) or a sum
 * must be present. Fields ending in `_` are "must understand": the pack is rejected.
 * The pack is all or nothing: one bad record rejects the whole payload.
 */
export function decodeSenml(doc: unknown[], now: number): SenmlResult {
  if (doc.length === 0) return fail('bad_shape', 'empty SenML pack');
  if (doc.length > MAX_SENML_RECORDS)
    return fail('bad_shape', `SenML pack of ${doc.length} records > ${MAX_SENML_RECORDS}`);
  const base: Base = { bn: '', bt: 0, bu: undefined, bv: 0, bs: 0, bver: undefined };
  const out: SenmlReading[] = [];
  for (let i = 0; i < doc.length; i++) {
    const rec = doc[i];
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec))
      return fail('bad_shape', `SenML record ${i} is not an object`);
    const r = rec as Record<string, unknown>;
    const err = applyBase(base, r, i);
    if (err !== undefined) return err;
    const res = resolve(base, r, i, now);
    if (!res.ok) return res;
    out.push(res.readings[0] as SenmlReading);
  }
  return { ok: true, readings: out };
}

function applyBase(base: Base, r: Record<string, unknown>, i: number): SenmlResult | undefined {
  const mustUnderstand = Object.keys(r).find((k) => k.endsWith('_'));
  if (mustUnderstand !== undefined)
    return fail(
      'bad_shape',
      `SenML record ${i}: unsupported must-understand field ${mustUnderstand}`,
    );
  if (r.bver !== undefined) {
    if (typeof r.bver !== 'number' || !Number.isInteger(r.bver) || r.bver > SENML_VERSION)
      return fail('bad_shape', `SenML record ${i}: bver must be an integer <= ${SENML_VERSION}`);
    if (base.bver !== undefined && base.bver !== r.bver)
      return fail('bad_shape', `SenML record ${i}: bver ${r.bver} differs from ${base.bver}`);
    base.bver = r.bver;
  }
  if (r.bn !== undefined) {
    if (typeof r.bn !== 'string')
      return fail('bad_shape', `SenML record ${i}: bn must be a string`);
    base.bn = r.bn;
  }
  if (r.bu !== undefined) {
    if (typeof r.bu !== 'string' || r.bu.length > MAX_UNIT)
      return fail('bad_shape', `SenML record ${i}: bu must be a string of <= ${MAX_UNIT}`);
    base.bu = r.bu;
  }
  for (const k of ['bt', 'bv', 'bs'] as const) {
    const v = r[k];
    if (v === undefined) continue;
    if (typeof v !== 'number') return fail('bad_shape', `SenML record ${i}: ${k} must be a number`);
    if (!Number.isFinite(v)) return fail('not_finite', `SenML record ${i}: ${k} must be finite`);
    base[k] = v;
  }
  return undefined;
}

function resolve(base: Base, r: Record<string, unknown>, i: number, now: number): SenmlResult {
  if (r.n !== undefined && typeof r.n !== 'string')
    return fail('bad_shape', `SenML record ${i}: n must be a string`);
  const name = base.bn + (r.n ?? '');
  const present = (['v', 'vs', 'vb', 'vd'] as const).filter((k) => r[k] !== undefined);
  if (present.length > 1)
    return fail(
      'bad_shape',
      `SenML record ${i}: more than one value field (${present.join(', ')})`,
    );
  let value: number | string | boolean;
  const kind = present[0];
  if (kind === 'v') {
    if (typeof r.v !== 'number') return fail('bad_shape', `SenML record ${i}: v must be a number`);
    value = base.bv + r.v;
  } else if (kind === 'vs' || kind === 'vd') {
    const s = r[kind];
    if (typeof s !== 'string' || s.length > MAX_STRING)
      return fail('bad_shape', `SenML record ${i}: ${kind} must be a string of <= ${MAX_STRING}`);
    value = s;
  } else if (kind === 'vb') {
    if (typeof r.vb !== 'boolean')
      return fail('bad_shape', `SenML record ${i}: vb must be true or false`);
    value = r.vb;
  } else if (r.s !== undefined) {
    if (typeof r.s !== 'number') return fail('bad_shape', `SenML record ${i}: s must be a number`);
    value = base.bs + r.s;
  } else {
    return fail('bad_shape', `SenML record ${i}: no value (v, vs, vb, vd or s)`);
  }
  if (typeof value === 'number' && !Number.isFinite(value))
    return fail('not_finite', `SenML record ${i}: value is not finite`);
  if (r.u !== undefined && (typeof r.u !== 'string' || r.u.length > MAX_UNIT))
    return fail('bad_shape', `SenML record ${i}: u must be a string of <= ${MAX_UNIT}`);
  if (r.t !== undefined && typeof r.t !== 'number')
    return fail('bad_timestamp', `SenML record ${i}: t must be a number`);
  const t = base.bt + (r.t ?? 0);
  if (!Number.isFinite(t)) return fail('bad_timestamp', `SenML record ${i}: time is not finite`);
  const ts = Math.round(t < RELATIVE_LIMIT ? now + t * 1000 : t * 1000);
  if (ts <= 0) return fail('bad_timestamp', `SenML record ${i}: time is before the epoch`);
  const unit = r.u ?? base.bu ?? null;
  return { ok: true, readings: [{ name, reading: { value, unit, ts, quality: 'good' } }] };
}
