import type { z } from 'zod';

/** The parts of zod 4's internal definition that key suggestions read. */
interface Def {
  type: string;
  shape?: Record<string, { _zod: { def: Def } }>;
  innerType?: { _zod: { def: Def } };
  in?: { _zod: { def: Def } };
  element?: { _zod: { def: Def } };
  options?: readonly { _zod: { def: Def } }[];
}

/** Object definitions a value at this schema may take (unions give several). */
function objectsOf(def: Def): Def[] {
  switch (def.type) {
    case 'object':
      return [def];
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
    case 'readonly':
    case 'catch':
      return def.innerType ? objectsOf(def.innerType._zod.def) : [];
    case 'pipe':
      return def.in ? objectsOf(def.in._zod.def) : [];
    case 'union':
      return (def.options ?? []).flatMap((o) => objectsOf(o._zod.def));
    default:
      return [];
  }
}

/** The keys the schema accepts at `path` (array indexes step into the element). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let defs: Def[] = [(schema as unknown as { _zod: { def: Def } })._zod.def];
  for (const step of path) {
    const next: Def[] = [];
    for (const def of defs) {
      if (typeof step === 'number') {
        const arr = unwrapArray(def);
        if (arr?.element) next.push(arr.element._zod.def);
        continue;
      }
      for (const obj of objectsOf(def)) {
        const child = obj.shape?.[String(step)];
        if (child) next.push(child._zod.def);
      }
    }
    defs = next;
  }
  return [...new Set(defs.flatMap((d) => objectsOf(d).flatMap((o) => Object.keys(o.shape ?? {}))))];
}

function unwrapArray(def: Def): Def | undefined {
  if (def.type === 'array') return def;
  if (def.innerType) return unwrapArray(def.innerType._zod.def);
  if (def.in) return unwrapArray(def.in._zod.def);
  return undefined;
}

/** Levenshtein distance, case-insensitive (a wrong case is a typo of one). */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i += 1) {
    const cur = [i];
    for (let j = 1; j <= y.length; j += 1) {
      const sub = (prev[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, sub));
    }
    prev = cur;
  }
  return (prev[y.length] as number) + (a !== b && x === y ? 1 : 0);
}

/**
 * The accepted key closest to `key`, if it is close enough to be the intended one: at most a
 * third of its letters changed (two for short keys). Undefined when nothing is that close.
 */
export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(key, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  const limit = Math.max(2, Math.floor(key.length / 3));
  return bestD <= limit ? best : undefined;
}
