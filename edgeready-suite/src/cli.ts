#!/usr/bin/env node
// The `edgeready` binary. SIGINT/SIGTERM ask the run to stop cleanly (partial report); a second
// one exits at once (the checkpoint still allows `edgeready resume`).
import { runCli } from './cli/run-cli.js';

let stops = 0;
const stopSignal = new Promise<void>((resolve) => {
  const onSignal = (sig: NodeJS.Signals): void => {
    stops++;
    if (stops > 1) process.exit(sig === 'SIGINT' ? 130 : 143);
    process.stderr.write(
      `\nedgeready: ${sig}: stopping, writing a partial report (again to abort)\n`,
    );
    resolve();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
});

process.exitCode = await runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, env: process.env },
  { stopSignal },
);
// Workers, sockets and timers are closed by the run; exit promptly regardless.
process.exit();
