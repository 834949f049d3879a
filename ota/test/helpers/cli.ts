import { runCaptured } from '@edgeflow/core/testing';
import { runCli } from '../../src/cli.js';

/** Runs the CLI in-process, capturing stdout/stderr. */
export async function cli(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runCaptured(runCli, argv, env);
  return { code: r.code, stdout: r.out, stderr: r.err };
}
