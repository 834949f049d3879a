import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EdgeReadyError } from '../errors.js';

/** Result of one `edgeflow …` invocation. */
export interface CliResult {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs `edgeflow <args>`; injected so checks can be tested without processes. */
export type EdgeflowRunner = (
  args: readonly string[],
  opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number },
) => Promise<CliResult>;

/**
 * Path of the agent's `edgeflow` CLI (`@edgeflow/agent/dist/src/cli.js`), resolved from the
 * installed package; undefined when the package is not installed.
 */
export function defaultEdgeflowCli(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    return join(dirname(req.resolve('@edgeflow/agent/package.json')), 'dist', 'src', 'cli.js');
  } catch {
    try {
      const main = createRequire(import.meta.url).resolve('@edgeflow/agent');
      return join(dirname(main), 'cli.js');
    } catch {
      return undefined;
    }
  }
}

/** Spawns `node <cliPath> args…` (or `cliPath args…` when it is not a .js file). */
export function edgeflowRunner(cliPath: string): EdgeflowRunner {
  return (args, opts = {}) =>
    new Promise((resolve, reject) => {
      const t0 = Date.now();
      const js = cliPath.endsWith('.js');
      const child = spawn(js ? process.execPath : cliPath, js ? [cliPath, ...args] : [...args], {
        env: { ...process.env, TSS2_LOG: 'all+NONE', ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
      child.once('error', (cause) => {
        clearTimeout(timer);
        reject(
          new EdgeReadyError(
            'EDGEFLOW_ER_EDGEFLOW_CLI',
            `cannot run ${cliPath}: ${cause.message}`,
            {
              cause,
            },
          ),
        );
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ args, code, stdout: out, stderr: err, ms: Date.now() - t0 });
      });
    });
}

/**
 * Runs `edgeflow ota …` through the stand-alone `edgeflow-ota` binary of @edgeflow/ota (the
 * one the systemd hooks run; it loads only the OTA package, a third of the start-up cost of the
 * full CLI on a busy board), falling back to `edgeflow ota` through the agent CLI.
 */
export function otaRunner(edgeflow: EdgeflowRunner): EdgeflowRunner {
  let bin: string | undefined;
  try {
    bin = join(dirname(createRequire(import.meta.url).resolve('@edgeflow/ota')), 'bin.js');
  } catch {
    bin = undefined;
  }
  if (!bin) return (args, opts) => edgeflow(['ota', ...args], opts);
  const run = edgeflowRunner(bin);
  return async (args, opts) => {
    const r = await run(args, opts);
    return { ...r, args: ['ota', ...args] };
  };
}
