// Test helpers for runs against an agent the suite did not start (--agent-url): the agent as a
// detached process with its own config, a token file, and a TCP proxy for its MQTT port.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { defaultEdgeflowCli } from '../../src/agent/edgeflow-cli.js';
import { startOwnAgent, stopAgent, type OwnAgent } from '../../src/agent/agent-process.js';

export interface ExternalAgent extends OwnAgent {
  readonly url: string;
  readonly tokenFile: string;
  readonly dataDir: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** Starts `edgeflow agent` with `extra` merged into a config that grants a token quotes. */
export async function startExternalAgent(
  dir: string,
  tcti: string,
  extra: Record<string, unknown> = {},
): Promise<ExternalAgent> {
  await mkdir(dir, { recursive: true });
  const token = randomBytes(32).toString('hex');
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const config = {
    hal: { board: 'sim' },
    http: {
      apiTokens: [{ name: 'verifier', sha256: createHash('sha256').update(token).digest('hex') }],
    },
    attestation: { tcti, access: { apiTokens: ['verifier'] } },
    selftest: { access: { apiTokens: ['verifier'] } },
    ...extra,
  };
  const configFile = join(dir, 'agent.json');
  await writeFile(configFile, JSON.stringify(config));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'agent.log');
  const a = await startOwnAgent({
    cliPath: defaultEdgeflowCli() ?? '',
    configFile,
    dataDir,
    logFile,
    bootId: 'test',
  });
  return {
    ...a,
    url: `http://127.0.0.1:${a.httpPort}`,
    tokenFile,
    dataDir,
    logFile,
    stop: async () => void (await stopAgent(a.pid)),
  };
}

/** A TCP proxy in front of a port that can stop forwarding (both ways) while keeping sockets open. */
export interface StallProxy {
  readonly port: number;
  /** From now on, bytes are dropped in both directions. */
  stall(): void;
  close(): Promise<void>;
}

export async function stallProxy(target: number): Promise<StallProxy> {
  let forwarding = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((c) => {
    const up = createConnection(target, '127.0.0.1');
    sockets.add(c).add(up);
    c.on('data', (d) => forwarding && up.write(d));
    up.on('data', (d) => forwarding && c.write(d));
    const end = (): void => {
      c.destroy();
      up.destroy();
    };
    c.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    stall: () => (forwarding = false),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
