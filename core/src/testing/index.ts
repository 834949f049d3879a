/**
 * @edgeflow/core/testing: helpers for tests that run a CLI in-process. Separate from the main
 * entry so production code never pulls them in.
 */
import { PassThrough } from 'node:stream';
import type { CliIo } from '../cli.js';

/** Streams that record what a command writes. */
export interface CapturedIo {
  readonly io: CliIo;
  /** Everything written to stdout so far. */
  out(): string;
  /** Everything written to stderr so far. */
  err(): string;
}

/** A {@link CliIo} whose stdout and stderr are recorded; `stdin` when the command reads one. */
export function captureIo(env: NodeJS.ProcessEnv = {}, stdin?: NodeJS.ReadableStream): CapturedIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const io: CliIo = stdin === undefined ? { stdout, stderr, env } : { stdout, stderr, env, stdin };
  return { io, out: () => out, err: () => err };
}

/** Runs `run(argv, io)` on captured streams: the exit code and what it printed. */
export async function runCaptured(
  run: (argv: readonly string[], io: CliIo) => Promise<number>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  const c = captureIo(env);
  const code = await run(argv, c.io);
  return { code, out: c.out(), err: c.err() };
}
