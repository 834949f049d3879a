import { parseArgs } from 'node:util';
import { writeLine, type CliIo, type CliOptions } from '@edgeflow/core';
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

/** Runs parseArgs (strict); a parse failure becomes a usage error. */
export function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    throw new OtaError(
      'EDGEFLOW_OTA_USAGE',
      cause instanceof Error ? cause.message : String(cause),
      { cause },
    );
  }
}

export { parseArgs };

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
