import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startAgent, type AgentProcess } from '../helpers/agent-process.js';
import { freePort } from '../helpers/ports.js';
import { mosquittoMissing, startMosquitto } from './external-mosquitto-helper.js';

const PUBLISHERS = 4;
const WINDOW = 20;
const KILLS = 6;
/**
 * Messages per second per publisher. mosquitto accepts far more than the subscriber applies
 * (mqtt.js handles one message at a time per connection, and each waits for an fsync, ~3 ms
 * here): unthrottled, the test would measure the backlog drain instead of the crashes.
 */
const RATE = Number(process.env.EXT_RATE ?? 25);

/** Numbered QoS 2 readings to mosquitto, WINDOW in flight (MQTT 3.1.1: the case mosquitto's defaults drop). */
function startPublisher(port: number, i: number) {
  const client: MqttClient = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId: `ext-pub-${i}`,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 100,
  });
  client.on('error', () => undefined);
  let issued = 0;
  let completed = 0;
  let inFlight = 0;
  let stopping = false;
  let onIdle: (() => void) | undefined;
  const retry: number[] = [];
  const send = (n: number) => {
    inFlight++;
    client.publish(`sensors/ext/s${i}`, JSON.stringify({ v: n }), { qos: 2 }, (err) => {
      inFlight--;
      if (err) retry.push(n);
      else completed++;
      setTimeout(pump, err ? 20 : 0);
    });
  };
  const started = Date.now();
  const pump = () => {
    while (inFlight < WINDOW && retry.length > 0) send(retry.shift() as number);
    const allowed = Math.floor(((Date.now() - started) / 1000) * RATE);
    while (!stopping && inFlight < WINDOW && issued < allowed) send(++issued);
    if (stopping && completed === issued) onIdle?.();
  };
  const timer = setInterval(pump, 10);
  pump();
  return {
    get completed() {
      return completed;
    },
    async finish(): Promise<number> {
      stopping = true;
      clearInterval(timer);
      if (completed < issued) await new Promise<void>((r) => (onIdle = r));
      await client.endAsync();
      return issued;
    },
  };
}

async function seqOf(agent: AgentProcess, key: string): Promise<number> {
  const res = await agent.http(`/v1/sensors/${key}`);
  if (res.status === 404) return 0;
  return ((await res.json()) as { seq: number }).seq;
}

test('external broker: agent SIGKILLed mid-stream, every reading applied exactly once', async (t) => {
  const missing = mosquittoMissing();
  if (missing !== undefined) return t.skip(missing);
  const dir = await mkdtemp(join(tmpdir(), 'ef-ext-chaos-'));
  const broker = await startMosquitto(await freePort(), dir);
  const dataDir = join(dir, 'agent');
  const config = join(dir, 'edgeflow.yaml');
  // EXT_DURABILITY=memory shows the test failing without the log-backed store.
  await writeFile(
    config,
    [
      'mqtt:',
      '  embedded: false',
      '  external:',
      `    url: mqtt://127.0.0.1:${broker.port}`,
      '    clientId: ef-ext-test',
      `    connections: ${process.env.EXT_CONNECTIONS ?? '2'}`,
      'ingest:',
      `  durability: ${process.env.EXT_DURABILITY ?? 'wal'}`,
      '',
    ].join('\n'),
  );
  const args = ['--config', config];
  const ports = { mqtt: await freePort(), http: await freePort() };
  let agent = await startAgent({ dataDir, ports, args });
  const pubs = Array.from({ length: PUBLISHERS }, (_, i) => startPublisher(broker.port, i));
  try {
    for (let k = 0; k < KILLS; k++) {
      const delay = 300 + Math.random() * 700;
      await new Promise((r) => setTimeout(r, delay));
      const exit = await agent.stop('SIGKILL');
      assert.equal(exit.signal, 'SIGKILL');
      const sent = pubs.reduce((a, p) => a + p.completed, 0);
      t.diagnostic(
        `kill ${k + 1} after ${Math.round(delay)} ms; ${sent} acknowledged by mosquitto so far`,
      );
      agent = await startAgent({ dataDir, ports, args });
    }
    await new Promise((r) => setTimeout(r, 300));
    const published = await Promise.all(pubs.map((p) => p.finish()));
    t.diagnostic(`published per sensor: ${published.join(', ')}`);
    // The queue mosquitto kept while we were down drains now: wait for it (bounded).
    const deadline = Date.now() + 30_000;
    for (let i = 0; i < PUBLISHERS; i++) {
      while ((await seqOf(agent, `ext/s${i}`)) < (published[i] ?? 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    t.diagnostic(`drained in ${Date.now() - deadline + 30_000} ms`);
    const metrics = await (await agent.http('/metrics')).text();
    t.diagnostic(
      metrics
        .split('\n')
        .filter((l) => l.startsWith('edgeflow_ingest_duplicates_total'))
        .join(' '),
    );
    for (let i = 0; i < PUBLISHERS; i++) {
      assert.equal(
        await seqOf(agent, `ext/s${i}`),
        published[i],
        `sensor s${i}: seq must equal the number published`,
      );
    }
  } finally {
    await agent.stop('SIGTERM');
    await broker.stop();
  }
});
