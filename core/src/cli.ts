import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EdgeflowError } from './error-factory.js';
import { closestMatch } from './suggest.js';

/** What a CLI command may touch of the process: its streams and environment. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Standard input, for commands that read a secret from it (`edgeflow mqtt passwd`). */
  stdin?: NodeJS.ReadableStream;
}

/** The exit codes every EdgeFlow CLI documents (docs/cli.md; sysexits.h for 70 and 78). */
export const ExitCode = {
  OK: 0,
  /** The operation failed or was refused; the message says why. */
  FAILED: 1,
  /** The command line is wrong. */
  USAGE: 2,
  /** An internal error (a bug, EX_SOFTWARE): the log has the stack. */
  INTERNAL: 70,
  /** The configuration is invalid (EX_CONFIG). */
  CONFIG: 78,
  /** The reader of stdout went away (`| head`): stopped quietly, as a shell reports SIGPIPE. */
  PIPE_CLOSED: 141,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Options of a command, as node:util's parseArgs takes them. */
export type CliOptions = NonNullable<ParseArgsConfig['options']>;

/** What {@link parseCommandLine} returns for a config `T` (typed values and positionals). */
export type ParsedCommandLine<T extends Omit<ParseArgsConfig, 'args' | 'strict'>> = ReturnType<
  typeof parseArgs<T & { args: string[]; strict: true }>
>;

/**
 * node:util `parseArgs` with the settings every EdgeFlow CLI uses (strict: an unknown option or
 * a missing value is an error), whose failure becomes the package's usage error. `toUsageError`
 * gets parseArgs's own message ("Unknown option '--x'") and its error as the cause.
 */
export function parseCommandLine<const T extends Omit<ParseArgsConfig, 'args' | 'strict'>>(
  argv: readonly string[],
  config: T,
  toUsageError: (message: string, cause: unknown) => Error,
): ParsedCommandLine<T> {
  try {
    return parseArgs({ ...config, args: [...argv], strict: true });
  } catch (cause) {
    const friendly = unknownOptionMessage(cause, config.options);
    // The friendly message says all parseArgs said: no cause, so it is not printed twice.
    if (friendly !== undefined) throw toUsageError(friendly, undefined);
    throw toUsageError(cause instanceof Error ? cause.message : String(cause), cause);
  }
}

/**
 * For an unknown option, a message that says what the command takes instead of parseArgs's
 * advice about positionals: `unknown option --dryrun (did you mean --dry-run?); this command
 * takes --board, --boot-root, --dry-run, --help`. The list is the parser's own, so it can never
 * disagree with what is accepted (tests compare it with each command's --help).
 */
function unknownOptionMessage(cause: unknown, options: CliOptions | undefined): string | undefined {
  if ((cause as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return undefined;
  const given = /'(-[^']*)'/.exec((cause as Error).message)?.[1];
  if (given === undefined) return undefined;
  const names = Object.keys(options ?? {}).map((n) => `--${n}`);
  const near = given.startsWith('--') ? closestMatch(given, names) : undefined;
  const hint = near === undefined ? '' : ` (did you mean ${near}?)`;
  const takes = names.length === 0 ? 'no options' : names.join(', ');
  return `unknown option ${given}${hint}; this command takes ${takes}`;
}

/** True when the arguments ask for help (`-h`, `--help`) anywhere. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** Writes `text` and a final newline unless it has one. */
export function writeLine(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * The one line a CLI prints for a failure: `<program>: <CODE>: <message>` for a coded error
 * (with the cause's message when it is not itself coded and not already in the message: it
 * names the system error), else
 * `<program>: <message>` (with the stack when `stack` is set: an unexpected error is a bug).
 */
export function formatCliError(program: string, err: unknown, stack = false): string {
  if (err instanceof EdgeflowError) {
    const said = err.cause instanceof Error ? err.cause.message.trim() : '';
    const cause =
      said !== '' && !(err.cause instanceof EdgeflowError) && !err.message.includes(said)
        ? ` (${said})`
        : '';
    return `${program}: ${err.code}: ${err.message}${cause}`;
  }
  if (err instanceof Error)
    return `${program}: ${stack ? (err.stack ?? err.message) : err.message}`;
  return `${program}: ${String(err)}`;
}

/**
 * Prints a usage error and the usage text on stderr and returns {@link ExitCode.USAGE}: the
 * ending every command shares for a wrong command line.
 */
export function usageFailure(
  io: Pick<CliIo, 'stderr'>,
  program: string,
  err: unknown,
  usage: string,
): number {
  writeLine(io.stderr, `${formatCliError(program, err)}\n\n${usage}`);
  return ExitCode.USAGE;
}
