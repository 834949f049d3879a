import { spawn } from 'node:child_process';
import { open, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { EdgeReadyError } from '../errors.js';
import { AgentClient } from './agent-http.js';

/** Where an agent the suite started runs (kept in the checkpoint so a resumed run can reuse it). */
export interface OwnAgent {
  readonly pid: number;
  readonly httpPort: number;
  readonly mqttPort: number;
  readonly bootId: string;
}

/** A free loopback TCP port (bound and released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** True when a process with this PID exists (signal 0). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The environment the shipped unit gives the agent that changes what the suite measures
 * (systemd/edgeflow-agent.service; a unit test keeps the two equal). MALLOC_ARENA_MAX=2: with
 * glibc's default per-thread arenas, memory of the worker threads the agent starts (ingest, the
 * cache self-test ER-MAP-WORKERS asks for) stays in their arenas after they end, and ER-RES-MEMORY
 * would judge an allocator setting no device runs (idle, 30 self-tests: RSS +130 MiB with the
 * default arenas, +50 MiB with two).
 */
export const SHIPPED_AGENT_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** Options of {@link startOwnAgent}. */
export interface StartAgentOptions {
  readonly cliPath: string;
  readonly configFile: string;
  readonly dataDir: string;
  /** The agent's stdout/stderr are appended here (the run's agent log). */
  readonly logFile: string;
  readonly bootId: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly readyTimeoutMs?: number;
}

/**
 * Starts `edgeflow agent` detached (own process group, output straight into the log file) so it
 * outlives a crash of the suite and is not hit by the terminal's Ctrl-C; resolves once the log
 * shows `agent.listening` and /healthz answers. The ports are picked free just before the start;
 * if another process takes one in between (a busy CI box), the agent refuses with
 * EDGEFLOW_LISTEN_FAILED and is started again on new ports, up to three times.
 */
export async function startOwnAgent(o: StartAgentOptions): Promise<OwnAgent> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(o);
    } catch (e) {
      if (!portTaken.has(e as object) || attempt >= 3) throw e;
    }
  }
}

/** Errors meaning: the agent refused to start because a port picked for it was taken meanwhile. */
const portTaken = new WeakSet<object>();

async function startOnce(o: StartAgentOptions): Promise<OwnAgent> {
  const httpPort = await freePort();
  let mqttPort = await freePort();
  while (mqttPort === httpPort) mqttPort = await freePort();
  const fh = await open(o.logFile, 'a');
  const from = (await stat(o.logFile)).size;
  let exited: number | null | undefined;
  try {
    const child = spawn(
      process.execPath,
      [o.cliPath, 'agent', '--config', o.configFile, '--data-dir', o.dataDir],
      {
        env: {
          ...process.env,
          ...SHIPPED_AGENT_ENV,
          TSS2_LOG: 'all+NONE',
          ...o.env,
          EDGEFLOW_MQTT_PORT: String(mqttPort),
          EDGEFLOW_HTTP_PORT: String(httpPort),
        },
        stdio: ['ignore', fh.fd, fh.fd],
        detached: true,
      },
    );
    child.once('exit', (code) => (exited = code));
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new EdgeReadyError('EDGEFLOW_ER_AGENT_START', 'spawn gave no PID');
    const client = new AgentClient(`http://127.0.0.1:${httpPort}`);
    const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      const log = (await readFile(o.logFile)).subarray(from).toString();
      if (exited !== undefined) {
        const why = `the agent exited with ${String(exited)} before it was ready; see ${o.logFile}`;
        const err = new EdgeReadyError('EDGEFLOW_ER_AGENT_START', why);
        if (log.includes('EADDRINUSE')) portTaken.add(err);
        throw err;
      }
      if (log.includes('"agent.listening"') && (await client.healthy()))
        return { pid, httpPort, mqttPort, bootId: o.bootId };
      await delay(100); // readiness poll of a starting process
    }
    process.kill(pid, 'SIGKILL');
    throw new EdgeReadyError(
      'EDGEFLOW_ER_AGENT_START',
      `the agent did not log agent.listening within ${o.readyTimeoutMs ?? 60_000} ms; see ${o.logFile}`,
    );
  } finally {
    await fh.close();
  }
}

/** SIGTERM, wait up to `graceMs` for the process to go, then SIGKILL. Returns how it ended. */
export async function stopAgent(
  pid: number,
  graceMs = 20_000,
): Promise<'stopped' | 'killed' | 'gone'> {
  if (!pidAlive(pid)) return 'gone';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'gone';
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return 'stopped';
    await delay(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* exited in between */
  }
  return 'killed';
}
