import {
  parseCommandLine,
  writeLine,
  type CliIo,
  type CliOptions,
  type ParsedCommandLine,
} from '@edgeflow/core';
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
} as const satisfies Options;

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
