import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startAgent, type AgentProcess } from '../helpers/agent-process.js';
import { freePort } from '../helpers/ports.js';
import { mosquittoMissing, startMosquitto, type Mosquitto } from './external-mosquitto-helper.js';

/**
 * How long the upstream broker stays down. Issue 4 asks for 30 s; the test uses 10 s so that
 * the integration tier stays short (nothing in the bridge depends on the duration: the outbox
 * only grows). BRIDGE_OUTAGE_MS=30000 runs the figure.
 */
const OUTAGE_MS = Number(process.env.BRIDGE_OUTAGE_MS ?? 10_000);
const PUBLISHERS = 2;
/** Messages per second per publisher. */
const RATE = 40;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One QoS 2 message in flight at a time, so the order in which the agent accepts them is the
 * publishing order (a retried message is retried before the next one is sent).
 */
function startPublisher(port: number, i: number) {
  const client: MqttClient = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId: `bridge-pub-${i}`,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 100,
  });
  client.on('error', () => undefined);
  let sent = 0;
  let busy = false;
  let stopping = false;
  let onIdle: (() => void) | undefined;
  const started = Date.now();
  const send = (n: number) => {
    busy = true;
    client.publish(`sensors/bridge/s${i}`, String(n), { qos: 2 }, (err) => {
      busy = false;
      if (err) return setTimeout(() => send(n), 20);
      sent = n;
      if (stopping) onIdle?.();
    });
  };
  const timer = setInterval(() => {
    if (busy || stopping) return;
    if (sent < Math.floor(((Date.now() - started) / 1000) * RATE)) send(sent + 1);
  }, 5);
  return {
    get sent() {
      return sent;
    },
    async finish(): Promise<number> {
      stopping = true;
      clearInterval(timer);
      if (busy) await new Promise<void>((r) => (onIdle = r));
      await client.endAsync();
      return sent;
    },
  };
}

test('upstream bridge: broker down, agent restarted meanwhile; all arrive upstream, in order, once', async (t) => {
  const missing = mosquittoMissing();
  if (missing !== undefined) return t.skip(missing);
  const dir = await mkdtemp(join(tmpdir(), 'ef-bridge-'));
  const upDir = join(dir, 'upstream');
  await mkdir(upDir);
  const upPort = await freePort();
  let upstream: Mosquitto = await startMosquitto(upPort, upDir);

  // The cloud side: a persistent QoS 2 subscriber (mosquitto keeps its session across the restart).
  const received = new Map<string, number[]>();
  const sub = mqtt.connect(`mqtt://127.0.0.1:${upPort}`, {
    clientId: 'cloud-consumer',
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 100,
  });
  sub.on('error', () => undefined);
  sub.on('message', (topic, payload) => {
    const list = received.get(topic) ?? [];
    list.push(Number(payload.toString()));
    received.set(topic, list);
  });
  await sub.subscribeAsync('site1/#', { qos: 2 });

  const config = join(dir, 'edgeflow.yaml');
  await writeFile(
    config,
    [
      'bridge:',
      `  url: mqtt://127.0.0.1:${upPort}`,
      '  clientId: ef-bridge-test',
      '  topicPrefix: site1/',
      '  qos: 2',
      '  reconnectMs: 200',
      '',
    ].join('\n'),
  );
  const args = ['--config', config];
  const dataDir = join(dir, 'agent');
  const ports = { mqtt: await freePort(), http: await freePort() };
  let agent: AgentProcess = await startAgent({ dataDir, ports, args });
  const pubs = Array.from({ length: PUBLISHERS }, (_, i) => startPublisher(ports.mqtt, i));
  try {
    await sleep(1500);
    await upstream.stop();
    const down = Date.now();
    t.diagnostic(`upstream stopped after ${pubs.map((p) => p.sent).join(', ')} messages`);
    await sleep(OUTAGE_MS / 3);
    const exit = await agent.stop('SIGTERM');
    assert.equal(exit.code, 0);
    agent = await startAgent({ dataDir, ports, args });
    t.diagnostic(`agent restarted during the outage`);
    const metrics = await (await agent.http('/metrics')).text();
    const backlog = /^edgeflow_bridge_backlog_messages (\d+)/m.exec(metrics)?.[1];
    t.diagnostic(`outbox backlog after the restart: ${backlog}`);
    assert.ok(Number(backlog) > 0, 'the outbox holds the messages of the outage');
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - down)));
    upstream = await startMosquitto(upPort, upDir);
    t.diagnostic(`upstream back after ${Date.now() - down} ms`);
    await sleep(1000);
    const published = await Promise.all(pubs.map((p) => p.finish()));
    t.diagnostic(`published per sensor: ${published.join(', ')}`);
    const deadline = Date.now() + 30_000;
    const count = (i: number) => received.get(`site1/sensors/bridge/s${i}`)?.length ?? 0;
    while (pubs.some((_, i) => count(i) < (published[i] ?? 0)) && Date.now() < deadline) {
      await sleep(100);
    }
    await sleep(300); // a late duplicate would arrive now
    for (let i = 0; i < PUBLISHERS; i++) {
      const got = received.get(`site1/sensors/bridge/s${i}`) ?? [];
      const want = Array.from({ length: published[i] ?? 0 }, (_, k) => k + 1);
      assert.deepEqual(got, want, `sensor s${i}: upstream got every message, in order, once`);
    }
  } finally {
    await agent.stop('SIGTERM');
    await sub.endAsync();
    await upstream.stop();
  }
});
