#!/usr/bin/env node
import { main } from './cli/main.js';
import { ExitCode } from '@edgeflow/core';

/**
 * Once a command has finished, the process must end even if something still holds the event
 * loop (a TPM call stuck on a dead TPM, a socket a library failed to close): systemd expects
 * the agent gone within its stop timeout. Natural exit comes first; this unref'd timer only
 * fires when something lingers, after logs had time to drain.
 */
const LINGER_MS = 2000;

function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), LINGER_MS).unref();
}

/**
 * A reader that goes away (`edgeflow ota status | head -1`) makes the next write fail with EPIPE;
 * without a listener that is an unhandled 'error' event and a stack trace. Stop quietly with the
 * status a shell gives a command killed by SIGPIPE (128 + 13), as coreutils do.
 */
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(ExitCode.PIPE_CLOSED);
    throw err;
  });
}

main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdin: process.stdin,
}).then(finish, (err: unknown) => {
  process.stderr.write(`edgeflow: internal error: ${(err as Error).stack ?? String(err)}\n`);
  finish(ExitCode.INTERNAL);
});
