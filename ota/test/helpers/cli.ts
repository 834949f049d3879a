import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli.js';

/** Runs the CLI in-process, capturing stdout/stderr. */
export async function cli(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d: Buffer) => (o += d.toString()));
  stderr.on('data', (d: Buffer) => (e += d.toString()));
  const code = await runCli(argv, { stdout, stderr, env });
  return { code, stdout: o, stderr: e };
}
