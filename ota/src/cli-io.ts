import {
  parseCommandLine,
  writeLine,
  type CliIo,
  type CliOptions,
  type ParsedCommandLine,
} from '@edgeflow/core';
import { LOG_CLI_HELP, LOG_CLI_OPTIONS } from '@edgeflow/core/log';
import { OtaError } from './errors.js';

export type { CliIo };
export type Options = CliOptions;

/** Options every install-side subcommand takes. */
export const PATH_OPTIONS = {
  root: { type: 'string' },
  keys: { type: 'string' },
  'state-dir': { type: 'string' },
  'report-file': { type: 'string' },
  'config-dir': { type: 'string' },
  'cache-dir': { type: 'string' },
  json: { type: 'boolean' },
  ...LOG_CLI_OPTIONS,
} as const satisfies Options;

/** `--help` text of PATH_OPTIONS (beside them, so help and parser agree; a test checks). */
export const PATH_HELP = `paths (each derives from --root unless given):
  --root DIR          OTA root (default /opt/edgeflow): releases/, current, state/, keys/.
                      Its system root is DIR without a trailing /opt/edgeflow (/ for the
                      default; DIR itself for any other): paths outside the OTA root are under it
  --keys DIR          trusted *.pub keys (default DIR/keys)
  --state-dir DIR     state and lock (default DIR/state)
  --report-file FILE  the agent's trial report (default <system root>/var/lib/edgeflow/ota-trial.json)
  --config-dir DIR    snapshotted with a release, restored on rollback (default <system root>/etc/edgeflow)
  --cache-dir DIR     likewise (default <system root>/var/lib/edgeflow/cache)
  --json              machine-readable output
${LOG_CLI_HELP}`;

/**
 * Parses a subcommand's arguments (strict; operands only when `operands` is true); a wrong
 * command line becomes EDGEFLOW_OTA_USAGE (exit 2).
 */
export function parse<const O extends Options, const P extends boolean = false>(
  argv: readonly string[],
  options: O,
  operands?: P,
): ParsedCommandLine<{ options: O; allowPositionals: P }> {
  return parseCommandLine(
    argv,
    { options, allowPositionals: (operands ?? false) as P },
    (message, cause) => new OtaError('EDGEFLOW_OTA_USAGE', message, { cause }),
  );
}

export function out(io: Pick<CliIo, 'stdout'>, text: string): void {
  writeLine(io.stdout, text);
}

/** Returns a required string option or throws a usage error. */
export function need(v: string | undefined, flag: string): string {
  if (v === undefined || v === '') throw new OtaError('EDGEFLOW_OTA_USAGE', `missing ${flag}`);
  return v;
}

/** Parses a positive number option. */
export function num(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new OtaError('EDGEFLOW_OTA_USAGE', `${flag} must be a non-negative number`);
  return n;
}
