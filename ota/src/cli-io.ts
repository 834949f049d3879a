import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { OtaError } from './errors.js';

/** Streams and environment of a CLI invocation (structurally equal to the agent's CliIo). */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

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

export function out(io: CliIo, text: string): void {
  io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
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
