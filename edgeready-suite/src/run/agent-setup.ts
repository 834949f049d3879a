import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { AgentClient } from '../agent/agent-http.js';
import { pidAlive, startOwnAgent, stopAgent } from '../agent/agent-process.js';
import { ensureTokenFile, readTokenFile } from '../agent/token.js';
import { pidListeningOn, unitState } from '../agent/systemd-unit.js';
import { EdgeReadyError } from '../errors.js';
import type { RunPaths } from './checkpoint.js';
import type { RunState } from './types.js';

/** Name of the suite's token in its own agent's http.apiTokens. */
export const OWN_TOKEN_NAME = 'edgeready';

/**
 * The agent config the suite writes when it starts its own agent and none was given: its own
 * token (SHA-256 only) granted quotes and the cache self-test, as an operator would grant a
 * verifier.
 */
export function ownAgentConfig(state: RunState, tokenSha256: string): Record<string, unknown> {
  const o = state.options;
  return {
    log: { level: 'info' },
    hal: { board: o.board, root: o.root },
    http: { apiTokens: [{ name: OWN_TOKEN_NAME, sha256: tokenSha256 }] },
    attestation: {
      enabled: true,
      ...(o.tcti ? { tcti: o.tcti } : {}),
      access: { apiTokens: [OWN_TOKEN_NAME] },
    },
    // ER-MAP-WORKERS asks the agent for its cache self-test, a grant of its own.
    selftest: { access: { apiTokens: [OWN_TOKEN_NAME] } },
  };
}

/** The token file the suite uses for this run, if any (--agent-token-file, else its own). */
export function tokenFileOf(state: RunState, paths: RunPaths): string | undefined {
  const o = state.options;
  if (o.agentTokenFile) return o.agentTokenFile;
  return o.agentUrl || o.agentConfig ? undefined : paths.agentToken;
}

async function client(url: string, state: RunState, paths: RunPaths): Promise<AgentClient> {
  const file = tokenFileOf(state, paths);
  const token = file === undefined ? undefined : await readTokenFile(file);
  return new AgentClient(url, undefined, undefined, token);
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
    const c = await client(o.agentUrl, state, paths);
    if (!(await c.healthy()))
      throw new EdgeReadyError(
        'EDGEFLOW_ER_AGENT_UNREACHABLE',
        `the agent at ${o.agentUrl} does not answer GET /healthz: check --agent-url and that the agent runs`,
      );
    // Which process serves the URL, and what systemd says about the unit: ER-SYS-HARDENING
    // grades the unit only if it runs this agent; ER-SYS-AGENT-LOG counts its restarts.
    state.agent.unit = unitState(o.journalUnit);
    const u = new URL(o.agentUrl);
    const local = ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(u.hostname);
    state.agent.pid = local
      ? ((await pidListeningOn(Number(u.port || (u.protocol === 'https:' ? 443 : 80)))) ?? null)
      : null;
    return { client: c, reused: true };
  }
  const own = state.agent.own;
  if (own && own.bootId === bootId && pidAlive(own.pid)) {
    const c = await client(`http://127.0.0.1:${own.httpPort}`, state, paths);
    if (await c.healthy()) {
      await note(`# edgeready: segment ${state.segments.length}: reusing agent pid ${own.pid}`);
      return { client: c, reused: true };
    }
    await stopAgent(own.pid, 5000);
  }
  await mkdir(paths.agentData, { recursive: true });
  const configFile = o.agentConfig ?? paths.agentConfig;
  if (!o.agentConfig) {
    const { sha256 } = await ensureTokenFile(paths.agentToken);
    await writeFile(
      paths.agentConfig,
      `${JSON.stringify(ownAgentConfig(state, sha256), null, 2)}\n`,
    );
  }
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
  return { client: await client(state.agent.url, state, paths), reused: false };
}

/** Appends a plain-text marker line to the agent log (the suite's own lines start with `#`). */
export function logMarker(paths: RunPaths): (line: string) => Promise<void> {
  return (line) => appendFile(paths.agentLog, `${line} ${new Date().toISOString()}\n`);
}
