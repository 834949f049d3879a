import type { z } from 'zod';
import { formatIssues } from '../config/load.js';

/** Validates request input with the project's schema library; returns the issues as lines. */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: string,
): { ok: true; value: z.output<S> } | { ok: false; details: string[] } {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    details: formatIssues(r.error.issues, new Map()).map((l) => `${where}.${l}`),
  };
}
