import { z } from 'zod';

/** Statistics a summary can carry. `count` and `last` exist for every value type. */
export const aggregateStats = ['count', 'min', 'max', 'mean', 'last'] as const;
export type AggregateStat = (typeof aggregateStats)[number];

/** Placeholders of a summary topic template. */
const PLACEHOLDERS = new Set(['key', 'device', 'sensor', 'windowSec']);

/** An MQTT topic filter ([MQTT-4.7.1]): `#` alone and last, `+` a whole level, no NUL. */
export function isValidFilter(f: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (f.length === 0 || /\u0000/.test(f)) return false;
  const levels = f.split('/');
  return levels.every(
    (l, i) =>
      (l === '#' && i === levels.length - 1) || l === '+' || (!l.includes('#') && !l.includes('+')),
  );
}

const topicTemplate = z
  .string()
  .min(1)
  // eslint-disable-next-line no-control-regex
  .refine((t) => !/[#+\u0000]/.test(t), { error: 'must not contain + # or NUL' })
  .superRefine((t, ctx) => {
    for (const m of t.matchAll(/\{([^}]*)\}/g)) {
      if (!PLACEHOLDERS.has(m[1] ?? ''))
        ctx.addIssue({
          code: 'custom',
          message: `unknown placeholder {${m[1]}}: use {key}, {device}, {sensor} or {windowSec}`,
        });
    }
  });

/**
 * One `bridge.aggregate` rule: readings of the local topics matching `match` are summarised
 * per sensor key over wall-clock windows of `windowSec`, and one summary per key and window
 * goes upstream instead of every reading.
 */
export const aggregateRuleSchema = z.strictObject({
  /** MQTT filter on the local topic, e.g. `sensors/#` or `sensors/+/temperature`. */
  match: z.string().refine(isValidFilter, {
    error: 'must be an MQTT topic filter (# only as the last level, + as a whole level)',
  }),
  /**
   * Window length. Windows start at multiples of it since the epoch; it must divide a day
   * (86400) so that windows line up with clock minutes and hours (60, 300, 900, 3600, ...).
   */
  windowSec: z
    .number({ error: 'must be a number of seconds that divides 86400 (60, 300, 3600, ...)' })
    .int({ error: 'must be a whole number of seconds that divides 86400' })
    .min(1, { error: 'must be at least 1' })
    .max(86400, { error: 'must be at most 86400 (one day)' })
    .refine((s) => 86400 % s === 0, {
      error: 'must divide 86400 so that windows align with the clock (60, 300, 900, 3600, ...)',
    }),
  /** What each summary carries; min/max/mean only for numeric windows (docs/ingest.md). */
  stats: z
    .array(z.enum(aggregateStats, { error: `must be one of ${aggregateStats.join(', ')}` }))
    .min(1, { error: 'name at least one statistic' })
    .refine((s) => new Set(s).size === s.length, { error: 'lists a statistic twice' })
    .default([...aggregateStats]),
  /** Upstream topic of the summaries (after `topicPrefix`). */
  topic: topicTemplate.default('agg/{windowSec}s/{key}'),
});

export type AggregateRule = z.output<typeof aggregateRuleSchema>;
