import { isatty } from 'node:tty';
import type { Logger } from 'pino';
import { isJournalStream } from './journal.js';
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './logger.js';

/** parseArgs options every EdgeFlow CLI accepts for its logs. */
export const LOG_CLI_OPTIONS = {
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
} as const;

/** The `--help` lines for `LOG_CLI_OPTIONS` (kept beside them so help and parser agree). */
export const LOG_CLI_HELP = `  --log-level LEVEL    ${LOG_LEVELS.join('|')} (default: $EDGEFLOW_LOG_LEVEL, else info)
  --log-format FORMAT  ${LOG_FORMATS.join('|')} (default: $EDGEFLOW_LOG_FORMAT, else auto: readable at a
                       terminal, JSON elsewhere; under systemd each line carries its journald priority)`;

/** A bad log flag or variable; the message names it and echoes the value. */
export class LogOptionError extends Error {
  /** `--log-level`, `EDGEFLOW_LOG_FORMAT`, ...: a flag is a usage error, a variable a setup one. */
  readonly origin: string;
  constructor(message: string, origin: string) {
    super(message);
    this.origin = origin;
  }
}

function pick<T extends string>(
  allowed: readonly T[],
  flag: string,
  flagValue: string | undefined,
  envName: string,
  envValue: string | undefined,
): T | undefined {
  const [value, origin] =
    flagValue !== undefined ? [flagValue, flag] : [envValue || undefined, envName];
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new LogOptionError(
    `${origin}=${JSON.stringify(value)} is not one of ${allowed.join(', ')}`,
    origin,
  );
}

/**
 * Log level and format from the flags, else EDGEFLOW_LOG_LEVEL / EDGEFLOW_LOG_FORMAT; undefined
 * where neither is set (the tool's default, or the agent's configuration, applies).
 */
export function logChoice(
  values: { 'log-level'?: string | undefined; 'log-format'?: string | undefined },
  env: NodeJS.ProcessEnv,
): { level: LogLevel | undefined; format: LogFormat | undefined } {
  return {
    level: pick(
      LOG_LEVELS,
      '--log-level',
      values['log-level'],
      'EDGEFLOW_LOG_LEVEL',
      env.EDGEFLOW_LOG_LEVEL,
    ),
    format: pick(
      LOG_FORMATS,
      '--log-format',
      values['log-format'],
      'EDGEFLOW_LOG_FORMAT',
      env.EDGEFLOW_LOG_FORMAT,
    ),
  };
}

/**
 * The logger of a command-line tool: records go to the command's stderr (its stdout is its
 * output), with the journald priority prefix when that stderr is the process's own and systemd
 * connected it to the journal (the OTA hooks run as units), readable at a terminal.
 */
export function createCliLogger(
  service: string,
  io: { stderr: NodeJS.WritableStream; env: NodeJS.ProcessEnv },
  choice: { level?: LogLevel | undefined; format?: LogFormat | undefined } = {},
): Logger {
  const own = io.stderr === process.stderr;
  return createLogger({
    service,
    level: choice.level ?? 'info',
    format: choice.format ?? 'auto',
    env: io.env,
    destination: io.stderr,
    journal: own && isJournalStream(2, { env: io.env }),
    tty: own && isatty(2),
  });
}
