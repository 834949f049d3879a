#!/usr/bin/env node
import { main } from './cli/main.js';
import { ExitCode } from './cli/io.js';

main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`edgeflow: internal error: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = ExitCode.INTERNAL;
  },
);
