import type { Geometry, PlacedField } from './layout.js';
import { StringCodec } from './string-area.js';

/** Views over the shared buffer plus a private 8-byte scratch to assemble floats. */
export interface Views {
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly i16: Int16Array;
  readonly u16: Uint16Array;
  readonly i8: Int8Array;
  readonly u8: Uint8Array;
  readonly sI32: Int32Array;
  readonly sF64: Float64Array;
  readonly sF32: Float32Array;
}

export function makeViews(buffer: SharedArrayBuffer): Views {
  const scratch = new ArrayBuffer(8);
  return {
    i32: new Int32Array(buffer),
    u32: new Uint32Array(buffer),
    i16: new Int16Array(buffer),
    u16: new Uint16Array(buffer),
    i8: new Int8Array(buffer),
    u8: new Uint8Array(buffer),
    sI32: new Int32Array(scratch),
    sF64: new Float64Array(scratch),
    sF32: new Float32Array(scratch),
  };
}

type Rec = Record<string, number>;

/** Record accessors specialised for one layout. */
export interface RecordCodec {
  /**
   * Reads the record at byte offset `base` into `out` (every word with Atomics.load). Strings
   * are only copied to a private scratch: call {@link finish} once the read is known consistent.
   */
  readonly read: (v: Views, base: number, out: Rec) => void;
  /** Decodes the strings the last `read` copied into `out` (no-op without `str` fields). */
  readonly finish: (out: Rec) => void;
  /**
   * Encodes the strings of `rec` for the next `write`; throws EDGEFLOW_MAP_VALUE_TOO_LONG when
   * they do not fit. Call it before taking the lock (no-op without `str` fields).
   */
  readonly prepare: (rec: Rec) => void;
  /** Writes `rec` (strings from the last `prepare`) at `base` (every word with Atomics.store). */
  readonly write: (v: Views, base: number, rec: Rec) => void;
  /** True when `rec` is an object with a number (string for `str`) in every field. */
  readonly valid: (rec: unknown) => boolean;
  /** SameValueZero comparison of the stored record with `rec` (after the field's coercion). */
  readonly equals: (v: Views, base: number, rec: Rec) => boolean;
  /** Sets every numeric field of `out` to 0, every string field to ''. */
  readonly zero: (out: Rec) => void;
}

const VIEW: Record<string, [view: string, shift: number]> = {
  i32: ['i32', 2],
  u32: ['u32', 2],
  i16: ['i16', 1],
  u16: ['u16', 1],
  i8: ['i8', 0],
  u8: ['u8', 0],
};

const COERCE: Record<string, (x: string) => string> = {
  f64: (x) => `+${x}`,
  f32: (x) => `Math.fround(${x})`,
  i32: (x) => `(${x} | 0)`,
  u32: (x) => `(${x} >>> 0)`,
  i16: (x) => `((${x} << 16) >> 16)`,
  u16: (x) => `(${x} & 0xffff)`,
  i8: (x) => `((${x} << 24) >> 24)`,
  u8: (x) => `(${x} & 0xff)`,
};

function loadExpr(f: PlacedField): { pre: string; value: string } {
  const at = (d: number, shift: number): string => `(base + ${f.offset + d}) >>> ${shift}`;
  if (f.type === 'f64') {
    return {
      pre: `v.sI32[0] = A.load(v.i32, ${at(0, 2)}); v.sI32[1] = A.load(v.i32, ${at(4, 2)});`,
      value: 'v.sF64[0]',
    };
  }
  if (f.type === 'f32')
    return { pre: `v.sI32[0] = A.load(v.i32, ${at(0, 2)});`, value: 'v.sF32[0]' };
  const [view, shift] = VIEW[f.type] as [string, number];
  return { pre: '', value: `A.load(v.${view}, ${at(0, shift)})` };
}

function storeStmt(f: PlacedField, src: string): string {
  const at = (d: number, shift: number): string => `(base + ${f.offset + d}) >>> ${shift}`;
  if (f.type === 'f64') {
    return `v.sF64[0] = ${src}; A.store(v.i32, ${at(0, 2)}, v.sI32[0]); A.store(v.i32, ${at(4, 2)}, v.sI32[1]);`;
  }
  if (f.type === 'f32') return `v.sF32[0] = ${src}; A.store(v.i32, ${at(0, 2)}, v.sI32[0]);`;
  const [view, shift] = VIEW[f.type] as [string, number];
  return `A.store(v.${view}, ${at(0, shift)}, ${src});`;
}

/**
 * Generates straight-line accessors for a layout. Why code generation: a loop over field
 * descriptors with computed property names makes every read a megamorphic keyed access; the
 * generated functions are monomorphic and allocate nothing. Safe because field names are
 * checked against an identifier pattern and types against a fixed set (layout.ts).
 */
export function compileCodec(
  g: Pick<Geometry, 'fields' | 'strings'>,
  hook?: (step: 'mid-record') => void,
): RecordCodec {
  const numeric = compileNumeric(g.fields);
  if (g.strings === undefined) return numeric;
  const sc = new StringCodec(g.strings);
  type Loose = Record<string, unknown>;
  return {
    read: (v, base, out) => {
      numeric.read(v, base, out);
      sc.load(v.i32, v.u16, base);
    },
    finish: (out) => sc.decodeInto(out),
    prepare: (rec) => sc.prepare(rec),
    write: (v, base, rec) => {
      numeric.write(v, base, rec);
      hook?.('mid-record');
      sc.store(v.i32, v.u16, base);
    },
    valid: (rec) => numeric.valid(rec) && sc.valid(rec as Loose),
    equals: (v, base, rec) => numeric.equals(v, base, rec) && sc.equals(v.i32, v.u16, base, rec),
    zero: (out) => {
      numeric.zero(out);
      sc.zero(out);
    },
  };
}

const noop = (): void => {};

function compileNumeric(fields: readonly PlacedField[]): RecordCodec {
  const read: string[] = [];
  const write: string[] = [];
  const valid: string[] = [];
  const equals: string[] = [];
  const zero: string[] = [];
  for (const f of fields) {
    const p = `.${f.name}`;
    const { pre, value } = loadExpr(f);
    read.push(`${pre} out${p} = ${value};`);
    write.push(storeStmt(f, `rec${p}`));
    valid.push(`typeof rec${p} === 'number'`);
    const want = (COERCE[f.type] as (x: string) => string)(`rec${p}`);
    equals.push(
      `${pre} a = ${value}; b = ${want}; if (a !== b && (a === a || b === b)) return false;`,
    );
    zero.push(`out${p} = 0;`);
  }
  const make = (args: string, body: string): unknown =>
    // Generated from validated identifiers and a fixed type set (see above).
    // eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call
    new Function('A', `return function (${args}) { ${body} };`)(Atomics);
  return {
    finish: noop,
    prepare: noop,
    read: make('v, base, out', read.join('\n')) as RecordCodec['read'],
    write: make('v, base, rec', write.join('\n')) as RecordCodec['write'],
    valid: make(
      'rec',
      `return typeof rec === 'object' && rec !== null${valid.map((x) => ` && ${x}`).join('')};`,
    ) as RecordCodec['valid'],
    equals: make(
      'v, base, rec',
      `let a, b; ${equals.join('\n')} return true;`,
    ) as RecordCodec['equals'],
    zero: make('out', zero.join('\n')) as RecordCodec['zero'],
  };
}
