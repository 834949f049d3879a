import type { CliIo } from './io.js';

/** A subcommand owned by another package (`hal`, `ota`, `dt`, `attest`). */
export interface Subcommand {
  name: string;
  summary: string;
  run: (argv: readonly string[], io: CliIo) => Promise<number>;
}

/**
 * Subcommands are loaded on first use so that `edgeflow agent` does not pay for the OTA or
 * device-tree code at start.
 */
export const subcommands: readonly Subcommand[] = [];
