import { Agent, validateConfig, type AgentDeps } from '@edgeflow/agent';
import { createLogger } from '@edgeflow/core/log';
import { freePort } from './ports.js';

/**
 * The real agent in this process (no child: fast to start, its broker's port in
 * `addresses.mqtt`), on `dataDir`, with `config` merged over loopback ports and a silent log.
 */
export async function startInProcessAgent(
  dataDir: string,
  config: Record<string, unknown> & {
    ingest?: { durability?: 'wal' | 'memory'; workers?: number | 'auto' };
  } = {},
  deps: Partial<AgentDeps> = {},
): Promise<Agent> {
  const mqtt = (config.mqtt ?? {}) as Record<string, unknown>;
  const valid = validateConfig(
    {
      dataDir,
      log: { level: 'silent' },
      http: { listen: { port: await freePort() } },
      ...config,
      mqtt: { ...mqtt, listen: { port: await freePort(), ...(mqtt.listen as object) } },
    },
    'in-process test agent',
  );
  const noop = () => undefined;
  return Agent.start(valid, {
    log: createLogger({ service: 'edgeflow-agent', level: 'silent' }),
    now: Date.now,
    notifier: { active: false, ready: noop, stopping: noop, watchdog: noop, status: noop },
    env: {},
    pid: process.pid,
    defaultMetrics: false,
    ...deps,
  });
}

/** The MQTT port of an agent started by {@link startInProcessAgent}. */
export function mqttPort(agent: Agent): number {
  const port = agent.addresses.mqtt?.port;
  if (port === undefined) throw new Error('the agent has no MQTT listener');
  return port;
}
