#!/usr/bin/env node
// Stand-alone `edgeflow-ota` used by the systemd hooks. It lives outside the releases it manages
// (see docs/ota.md), so a broken release cannot break its own rollback.
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
