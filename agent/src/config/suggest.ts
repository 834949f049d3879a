import { closestMatch } from '@edgeflow/core';
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

/**
 * The accepted key closest to `key`, if it is close enough to be the intended one (core's
 * closestMatch: at most a third of its letters changed, two for short keys).
 */
export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  return closestMatch(key, candidates);
}
