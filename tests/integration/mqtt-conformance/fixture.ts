import type { TestContext } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '@edgeflow/agent';
import { startInProcessAgent, mqttPort } from '../../helpers/in-process-agent.js';
import { RawMqtt } from '../../helpers/raw-mqtt.js';

export const DURABILITY = ['wal', 'memory'] as const;
export type Durability = (typeof DURABILITY)[number];

/** A real agent in this process on a fresh data dir, stopped and removed after the test. */
export async function agentFor(
  t: TestContext,
  durability: Durability,
  config: Record<string, unknown> = {},
): Promise<{ agent: Agent; port: number; dataDir: string; restart: () => Promise<number> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'edgeflow-conf-'));
  // `config.ingest` (e.g. `workers`) is kept; the durability is the test's.
  const ingest = { ...(config['ingest'] as object | undefined), durability };
  let agent = await startInProcessAgent(dataDir, { ...config, ingest });
  const h = {
    agent,
    port: mqttPort(agent),
    dataDir,
    /** Graceful stop and start on the same data dir; returns the new MQTT port. */
    restart: async () => {
      await agent.stop('test restart');
      agent = await startInProcessAgent(dataDir, { ...config, ingest });
      h.agent = agent;
      h.port = mqttPort(agent);
      return h.port;
    },
  };
  t.after(async () => {
    await h.agent.stop('test end');
    await rm(dataDir, { recursive: true, force: true });
  });
  return h;
}

/** A raw client connected with CONNACK 0, closed after the test. */
export async function rawClient(
  t: TestContext,
  port: number,
  clientId: string,
  opts: { clean?: boolean; username?: string; password?: Buffer } = {},
): Promise<{ c: RawMqtt; sessionPresent: boolean }> {
  const { c, connack } = await RawMqtt.connect(port, {
    clientId,
    clean: opts.clean ?? true,
    ...opts,
  });
  t.after(() => c.destroy());
  if (connack.returnCode !== 0) throw new Error(`CONNACK ${connack.returnCode} for ${clientId}`);
  return { c, sessionPresent: connack.sessionPresent };
}
