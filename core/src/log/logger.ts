import { isatty } from 'node:tty';
import { pino, type Logger, type DestinationStream } from 'pino';
import { isJournalStream, syslogPriority } from './journal.js';
import { formatPretty, type PrettyOptions } from './pretty.js';

/** Levels every EdgeFlow tool accepts (`--log-level`, `log.level`, EDGEFLOW_LOG_LEVEL). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * `json`: one JSON object per line (the data; what log shippers read). `pretty`: readable lines.
 * `auto`: pretty at a terminal, JSON anywhere else (journald, a pipe, a file).
 */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Sink for formatted lines: a file descriptor stream by default, anything writable in tests. */
export interface LineSink {
  write(line: string): unknown;
  flush?(cb?: (err?: Error | null) => void): void;
  flushSync?(): void;
}

export interface LoggerOptions {
  /** `service` field of every record: `edgeflow-agent`, `edgeflow-ota`, `edgeflow-dt`, `edgeready`. */
  service: string;
  level?: LogLevel;
  format?: LogFormat;
  /** Where records go: 1 (the agent) or 2 (CLIs, whose stdout is their output). Default 1. */
  fd?: 1 | 2;
  /** Write synchronously (CLIs that exit right after). Default false for fd 1, true for fd 2. */
  sync?: boolean;
  /** Environment (JOURNAL_STREAM, NO_COLOR). Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Overrides detection, for tests and for a file destination. */
  journal?: boolean;
  tty?: boolean;
  /** Instead of `fd`: a file or a test buffer. Journal/TTY detection is then off unless given. */
  destination?: LineSink;
}

/** What `createLogger` decided; exposed so that tests and `--help` can say it. */
export interface LogOutput {
  format: 'json' | 'pretty';
  journal: boolean;
  tty: boolean;
}

export function resolveOutput(opts: LoggerOptions): LogOutput {
  const env = opts.env ?? process.env;
  const fd = opts.fd ?? 1;
  const own = opts.destination === undefined;
  const journal = opts.journal ?? (own && isJournalStream(fd, { env }));
  const tty = opts.tty ?? (own && isatty(fd));
  const format = opts.format ?? 'auto';
  return {
    format: format === 'auto' ? (tty && !journal ? 'pretty' : 'json') : format,
    journal,
    tty,
  };
}

const metadata = Symbol.for('pino.metadata');

/**
 * A pino destination that rewrites each record line: pretty layout and/or the journald `<N>`
 * priority prefix. pino fills `lastLevel` before each write when the stream asks for metadata
 * (the contract pino.multistream relies on).
 */
class LineRewriter {
  readonly [metadata] = true;
  lastLevel = 30;
  readonly #sink: LineSink;
  readonly #journal: boolean;
  readonly #pretty: PrettyOptions | undefined;

  constructor(sink: LineSink, journal: boolean, pretty: PrettyOptions | undefined) {
    this.#sink = sink;
    this.#journal = journal;
    this.#pretty = pretty;
  }

  write(line: string): unknown {
    let out = this.#pretty === undefined ? line : formatPretty(line, this.#pretty);
    // journald splits on newlines: one record must stay one journal entry with one priority.
    if (this.#journal) out = `<${syslogPriority(this.lastLevel)}>${out}`;
    return this.#sink.write(out);
  }

  flush(cb?: (err?: Error | null) => void): void {
    if (this.#sink.flush) this.#sink.flush(cb);
    else cb?.();
  }

  flushSync(): void {
    this.#sink.flushSync?.();
  }
}

const REDACT = ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'];

/**
 * The one logger setup of every EdgeFlow tool: ISO time, level labels, a `service` field,
 * secrets redacted (a safety net, not a licence to log them), components as
 * `log.child({ component })`. Under systemd each line starts with its syslog priority so that
 * `journalctl -p warning` works; at a terminal lines are readable unless `format: 'json'`.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const { format, journal, tty } = resolveOutput(opts);
  const fd = opts.fd ?? 1;
  const sink: LineSink = opts.destination ?? pino.destination({ fd, sync: opts.sync ?? fd === 2 });
  const env = opts.env ?? process.env;
  const pretty: PrettyOptions | undefined =
    format === 'pretty'
      ? {
          colour: tty && !journal && env.NO_COLOR === undefined,
          stacks: !journal,
        }
      : undefined;
  const dest: LineSink =
    pretty === undefined && !journal ? sink : new LineRewriter(sink, journal, pretty);
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: opts.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    dest as DestinationStream,
  );
}
