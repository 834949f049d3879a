import type { CliIo } from '@edgeflow/core';

type RunCli = (argv: readonly string[], io: CliIo) => Promise<number>;

/** A subcommand owned by another package (`hal`, `ota`, `dt`, `attest`). */
export interface Subcommand {
  name: string;
  summary: string;
  run: RunCli;
}

/**
 * Loads a package's `runCli` on first use, so that `edgeflow agent` does not load the OTA or
 * device-tree code at start. The specifier is a variable on purpose: each package builds on
 * its own, and a package that failed to install (an optional native part) only disables its
 * own subcommand, with a message saying so.
 */
function lazy(name: string, summary: string, specifier: string): Subcommand {
  return {
    name,
    summary,
    run: async (argv, io) => {
      let mod: { runCli?: RunCli };
      try {
        mod = (await import(specifier)) as { runCli?: RunCli };
      } catch (err) {
        io.stderr.write(
          `edgeflow ${name}: the ${specifier} package is not installed or did not load ` +
            `(${(err as Error).message}); run npm ci\n`,
        );
        return 1;
      }
      if (typeof mod.runCli !== 'function') {
        io.stderr.write(`edgeflow ${name}: ${specifier} does not export runCli\n`);
        return 1;
      }
      return mod.runCli(argv, io);
    },
  };
}

export const subcommands: readonly Subcommand[] = [
  lazy('hal', 'detect the board, read I2C, drive GPIO', '@edgeflow/hal'),
  lazy('ota', 'build, sign, verify, install and roll back update bundles', '@edgeflow/ota'),
  lazy('dt', 'list, install, remove and roll back device-tree overlays', '@edgeflow/device-trees'),
  lazy('attest', 'enrol a gateway and verify its TPM quotes', 'node-tpm2'),
];
