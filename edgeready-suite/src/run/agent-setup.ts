import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { AgentClient } from '../agent/agent-http.js';
import { pidAlive, startOwnAgent, stopAgent } from '../agent/agent-process.js';
import type { RunPaths } from './checkpoint.js';
import type { RunState } from './types.js';

/** The agent config the suite writes when it starts its own agent and none was given. */
export function ownAgentConfig(state: RunState): Record<string, unknown> {
  const o = state.options;
  return {
    log: { level: 'info' },
    hal: { board: o.board, root: o.root },
    attestation: o.tcti ? { enabled: true, tcti: o.tcti } : { enabled: true },
  };
}

/**
 * Makes sure an agent answers for this segment: the external one (--agent-url), the suite's own
 * agent still running from before a suite crash (same boot, healthy), or a new one started on
 * the same data directory (its seq counters survive through the agent's own WAL/snapshot).
 */
export async function ensureAgent(
  state: RunState,
  paths: RunPaths,
  bootId: string,
  note: (line: string) => Promise<void>,
): Promise<{ client: AgentClient; reused: boolean }> {
  const o = state.options;
  if (o.agentUrl) {
    const client = new AgentClient(o.agentUrl);
    return { client, reused: true };
  }
  const own = state.agent.own;
  if (own && own.bootId === bootId && pidAlive(own.pid)) {
    const client = new AgentClient(`http://127.0.0.1:${own.httpPort}`);
    if (await client.healthy()) {
      await note(`# edgeready: segment ${state.segments.length}: reusing agent pid ${own.pid}`);
      return { client, reused: true };
    }
    await stopAgent(own.pid, 5000);
  }
  await mkdir(paths.agentData, { recursive: true });
  const configFile = o.agentConfig ?? paths.agentConfig;
  if (!o.agentConfig)
    await writeFile(paths.agentConfig, `${JSON.stringify(ownAgentConfig(state), null, 2)}\n`);
  await note(`# edgeready: segment ${state.segments.length}: starting agent`);
  const started = await startOwnAgent({
    cliPath: o.edgeflowCli,
    configFile,
    dataDir: paths.agentData,
    logFile: paths.agentLog,
    bootId,
  });
  state.agent.own = started;
  state.agent.starts++;
  state.agent.url = `http://127.0.0.1:${started.httpPort}`;
  state.agent.mqttUrl = `mqtt://127.0.0.1:${started.mqttPort}`;
  return { client: new AgentClient(state.agent.url), reused: false };
}

/** Appends a plain-text marker line to the agent log (the suite's own lines start with `#`). */
export function logMarker(paths: RunPaths): (line: string) => Promise<void> {
  return (line) => appendFile(paths.agentLog, `${line} ${new Date().toISOString()}\n`);
}
