import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

export const cliPath = fileURLToPath(new URL('../../../agent/dist/src/cli.js', import.meta.url));

export interface AgentProcess {
  child: ChildProcess;
  mqttPort: number;
  httpPort: number;
  /** Every JSON log line the agent printed so far. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  http: (path: string) => Promise<Response>;
  /** Sends a signal and resolves with the exit code and signal. */
  stop: (
    signal?: NodeJS.Signals,
  ) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the real CLI as a child process on fresh loopback ports; resolves once it is ready. */
export async function startAgent(opts: {
  dataDir: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  ports?: { mqtt: number; http: number };
}): Promise<AgentProcess> {
  const mqttPort = opts.ports?.mqtt ?? (await freePort());
  const httpPort = opts.ports?.http ?? (await freePort());
  const child = spawn(
    process.execPath,
    [cliPath, 'agent', '--data-dir', opts.dataDir, ...(opts.args ?? [])],
    {
      env: {
        PATH: process.env.PATH,
        EDGEFLOW_MQTT_PORT: String(mqttPort),
        EDGEFLOW_HTTP_PORT: String(httpPort),
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: Record<string, unknown>[] = [];
  let err = '';
  let buf = '';
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const rec = JSON.parse(line) as Record<string, unknown>;
          logs.push(rec);
          if (rec.event === 'agent.listening') resolve();
        } catch {
          logs.push({ raw: line });
        }
      }
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    void exited.then(([code]) =>
      reject(new Error(`agent exited with ${code} before ready: ${err}`)),
    );
  });
  await ready;
  return {
    child,
    mqttPort,
    httpPort,
    logs,
    stderr: () => err,
    http: (path) => fetch(`http://127.0.0.1:${httpPort}${path}`),
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      const [code, sig] = await exited;
      return { code, signal: sig };
    },
  };
}
