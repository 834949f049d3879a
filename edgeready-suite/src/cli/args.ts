import { EdgeReadyError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `72h`, `30m`, `2m`, `90s`, `1h30m`, `500ms` into milliseconds. */
export function parseDuration(text: string, flag = '--duration'): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * (UNITS[m[2] ?? ''] ?? NaN);
    end = re.lastIndex;
  }
  if (text === '' || end !== text.length || !(total > 0))
    throw new EdgeReadyError(
      'EDGEFLOW_ER_BAD_DURATION',
      `${flag} "${text}": use a number with a unit (90s, 2m, 30m, 72h)`,
    );
  return total;
}

/** A positive number option. */
export function parsePositive(text: string | undefined, flag: string, dflt: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new EdgeReadyError(
      'EDGEFLOW_ER_USAGE',
      `${flag} must be a positive number, got "${text}"`,
    );
  return n;
}

/** `0-7,23` → [0..7, 23]. */
export function parsePcrs(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const r = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!r)
      throw new EdgeReadyError(
        'EDGEFLOW_ER_USAGE',
        `--pcrs "${text}": "${part}" is not an index or range`,
      );
    const a = Number(r[1]);
    const b = r[2] === undefined ? a : Number(r[2]);
    for (let i = a; i <= b; i++) {
      if (i > 23) throw new EdgeReadyError('EDGEFLOW_ER_USAGE', `--pcrs "${text}": PCRs are 0..23`);
      out.add(i);
    }
  }
  return [...out].sort((x, y) => x - y);
}

/** `11:13` → {out: '11', in: '13'} (header pins or names as the HAL resolves them). */
export function parseLoopback(text: string): { out: string; in: string } {
  const [o, i, ...rest] = text.split(':');
  if (!o || !i || rest.length > 0)
    throw new EdgeReadyError(
      'EDGEFLOW_ER_USAGE',
      `--gpio-loopback "${text}": use OUT:IN (header pins, e.g. 11:13)`,
    );
  return { out: o, in: i };
}

/** Clamp helper for derived periods. */
export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
