/**
 * Readable log lines for a terminal: `HH:MM:SS.mmm LEVEL component event: message key=value …`.
 * The same records as the JSON format, only laid out for eyes; `--log-format json` gives the data.
 */

const LABELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

const NUMBERS: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

// ANSI SGR colours (ECMA-48 §8.3.117): red, yellow, green, grey.
const COLOURS: Record<number, string> = {
  10: '\x1b[90m',
  20: '\x1b[90m',
  30: '\x1b[32m',
  40: '\x1b[33m',
  50: '\x1b[31m',
  60: '\x1b[1;31m',
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/** Fields laid out in fixed places (or dropped as noise at a terminal). */
const PLACED = new Set([
  'level',
  'time',
  'service',
  'component',
  'event',
  'msg',
  'pid',
  'hostname',
]);

export interface PrettyOptions {
  /** ANSI colours (a TTY without NO_COLOR). */
  colour: boolean;
  /** Print error stacks on indented lines below the record (never under journald). */
  stacks: boolean;
}

/** pino's numeric level, or the label our formatter writes. */
export function levelNumber(level: unknown): number {
  if (typeof level === 'number') return level;
  if (typeof level === 'string') return NUMBERS[level] ?? 30;
  return 30;
}

function clock(time: unknown): string {
  const d = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date();
  if (Number.isNaN(d.getTime())) return String(time);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v);
}

interface SerializedError {
  type?: string;
  message?: string;
  stack?: string;
  code?: string;
}

/** Formats one pino JSON line; a line that is not JSON is passed through unchanged. */
export function formatPretty(line: string, opts: PrettyOptions): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = levelNumber(rec.level);
  const label = (LABELS[level] ?? String(rec.level)).padEnd(5);
  const parts: string[] = [
    opts.colour ? `${DIM}${clock(rec.time)}${RESET}` : clock(rec.time),
    opts.colour ? `${COLOURS[level] ?? ''}${label}${RESET}` : label,
  ];
  const who = rec.component ?? rec.service;
  if (typeof who === 'string') parts.push(who);
  const event = typeof rec.event === 'string' ? rec.event : undefined;
  const msg = typeof rec.msg === 'string' ? rec.msg : undefined;
  if (event !== undefined) parts.push(msg === undefined ? event : `${event}:`);
  if (msg !== undefined) parts.push(msg);
  let stack: string | undefined;
  for (const [k, v] of Object.entries(rec)) {
    if (PLACED.has(k) || v === undefined) continue;
    if (k === 'err' && typeof v === 'object' && v !== null) {
      const e = v as SerializedError;
      parts.push(`err=${value(e.code ? `${e.code}: ${e.message ?? ''}` : (e.message ?? e.type))}`);
      if (opts.stacks && level >= 50 && typeof e.stack === 'string') stack = e.stack;
      continue;
    }
    parts.push(`${k}=${value(v)}`);
  }
  // Without stacks (journald) a record must stay on one line: escape newlines in messages.
  const head = opts.stacks ? parts.join(' ') : parts.join(' ').replace(/\n/g, '\\n');
  if (stack === undefined) return `${head}\n`;
  const indented = stack
    .split('\n')
    .slice(1)
    .map((s) => `    ${s.trim()}`)
    .join('\n');
  return `${head}\n${indented}\n`;
}
