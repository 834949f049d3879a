import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { hashPassword } from '@edgeflow/agent';
import { startAgent, type AgentProcess } from '../helpers/agent-process.js';

// What the agent publishes under edgeflow/ (command results, OTA status, dead letters), and the
// commands clients publish there, reach only subscribers whose subscribe ACL names them: a
// wildcard filter (`#`, `+/...`) granted by a wildcard pattern delivers everything else but
// nothing there, live, retained or queued, to users and to anonymous clients on loopback alike
// (aedes authorizeForward, agent/src/broker/security.ts).

const device =
  hostname()
    .replace(/[^A-Za-z0-9_.:-]/g, '_')
    .slice(0, 64) || 'gateway';
const base = `edgeflow/${device}`;

/** Every topic a client receives, in order, and a wait for one of them. */
class Inbox {
  readonly topics: string[] = [];
  readonly #waiters: { topic: string; resolve: () => void }[] = [];

  constructor(client: MqttClient) {
    client.on('message', (topic) => {
      this.topics.push(topic);
      for (const w of this.#waiters.filter((x) => x.topic === topic)) w.resolve();
    });
  }

  /** Resolves once `topic` arrived (at once when it already has). */
  waitFor(topic: string): Promise<void> {
    if (this.topics.includes(topic)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ topic, resolve }));
  }

  /** The topics that arrived before `topic`. */
  before(topic: string): string[] {
    return this.topics.slice(0, this.topics.indexOf(topic));
  }
}

async function client(agent: AgentProcess, o: IClientOptions = {}) {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.mqttPort}`, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    ...o,
  });
  return { c, inbox: new Inbox(c) };
}

/** The granted QoS of one filter (128: refused). */
async function subscribe(c: MqttClient, filter: string): Promise<number> {
  try {
    const granted = await c.subscribeAsync(filter, { qos: 1 });
    return granted[0]?.qos ?? -1;
  } catch (err) {
    // mqtt.js rejects a SUBACK with 0x80 (ErrorWithSubackPacket); the code is what we check.
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted?.[0];
    if (granted === undefined) throw err;
    return granted;
  }
}

const inNamespace = (topics: string[]) => topics.filter((t) => t.startsWith('edgeflow/'));

test('a wildcard subscription delivers nothing under edgeflow/ without a subscribe grant naming it, live, retained or queued, anonymous or not', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-deliver-'));
  const hash = await hashPassword('pw-123456');
  const config = join(dir, 'edgeflow.yaml');
  const result = `${base}/gpio/relay/result`;
  const status = `${base}/ota/status`;
  await writeFile(
    config,
    [
      'hal:',
      '  board: sim',
      '  demo: false',
      '  gpio:',
      '    - { name: relay, pin: 11, direction: output }',
      'gpio:',
      '  access: { mqttUsers: [plc] }',
      'mqtt:',
      '  auth:',
      // Anonymous clients (allowed on the default loopback listener) keep the default ACL.
      '    users:',
      // The default ACL: # for both.
      `      - { username: watcher, passwordHash: '${hash}' }`,
      // Granted what it commands, and the results, status and dead letters by name.
      `      - { username: plc, passwordHash: '${hash}', publish: ['sensors/%u/#', 'edgeflow/+/gpio/relay/set', 'edgeflow/+/ota/install'], subscribe: ['#', 'edgeflow/+/gpio/relay/result', 'edgeflow/+/ota/status', 'edgeflow/deadletter'] }`,
      // Granted the OTA status only.
      `      - { username: hmi, passwordHash: '${hash}', subscribe: ['#', 'edgeflow/+/ota/status'] }`,
      // Granted the install commands only (and the sensors): the queued case's positive control.
      `      - { username: auditor, passwordHash: '${hash}', subscribe: ['sensors/#', 'edgeflow/+/ota/install'] }`,
      '',
    ].join('\n'),
  );
  const agent = await startAgent({ dataDir: join(dir, 'data'), args: ['--config', config] });
  const user = (username: string, clientId: string, o: IClientOptions = {}) =>
    client(agent, { username, password: 'pw-123456', clientId, ...o });
  const watcher = await user('watcher', 'watcher');
  const anon = await client(agent, { clientId: 'anon' });
  const hmi = await user('hmi', 'hmi');
  const plc = await user('plc', 'plc');
  // Subscribed to the status by name (not through #), as its grant allows.
  const hmiExact = await user('hmi', 'hmi-exact');
  const all = [watcher, anon, hmi, plc, hmiExact];
  t.after(async () => {
    for (const x of all) await x.c.endAsync();
    await agent.stop();
  });
  for (const x of [watcher, anon, hmi, plc]) assert.equal(await subscribe(x.c, '#'), 1);
  assert.equal(await subscribe(hmiExact.c, status), 1, 'a filter its grant names');
  assert.equal(await subscribe(hmiExact.c, 'sensors/plc/marker'), 1);
  assert.equal(await subscribe(anon.c, '+/+/ota/status'), 1, 'a wildcard first level is accepted');
  // A filter naming the namespace needs a pattern naming it too: refused at SUBSCRIBE.
  assert.equal(await subscribe(watcher.c, status), 128, 'watcher: literal status filter');
  assert.equal(await subscribe(anon.c, 'edgeflow/#'), 128, 'anonymous: edgeflow/#');

  // Live: a command result (QoS 0), a retained OTA status, a dead letter.
  await plc.c.publishAsync(`${base}/gpio/relay/set`, '1', { qos: 1 });
  await plc.c.publishAsync(`${base}/ota/install`, 'not json', { qos: 1 });
  await plc.c.publishAsync('sensors/plc/bad', 'not a number', { qos: 1 });
  await Promise.all([result, status, 'edgeflow/deadletter'].map((x) => plc.inbox.waitFor(x)));
  // Published after all three: each subscriber gets it after anything published before it.
  const marker = 'sensors/plc/marker';
  await plc.c.publishAsync(marker, '1', { qos: 1 });
  await Promise.all(all.map((x) => x.inbox.waitFor(marker)));
  assert.deepEqual(inNamespace(watcher.inbox.before(marker)), [], 'user with #');
  assert.deepEqual(inNamespace(anon.inbox.before(marker)), [], 'anonymous on loopback with #');
  assert.deepEqual(inNamespace(hmi.inbox.before(marker)), [status], 'hmi: the status only');
  assert.deepEqual(inNamespace(hmiExact.inbox.before(marker)), [status], 'hmi, by name');
  assert.deepEqual(inNamespace(plc.inbox.before(marker)).sort(), [
    'edgeflow/deadletter',
    result,
    status,
  ]);
  assert.ok(watcher.inbox.topics.includes('sensors/plc/bad'), 'everything else still flows');

  // Retained: the status (stored first) and a retained marker stored after it come in that order.
  const retained = 'sensors/plc/retained-marker';
  await plc.c.publishAsync(retained, '1', { qos: 1, retain: true });
  const late = [
    await user('watcher', 'watcher-late'),
    await client(agent, { clientId: 'anon-late' }),
  ];
  const hmiLate = await user('hmi', 'hmi-late');
  all.push(...late, hmiLate);
  for (const x of [...late, hmiLate]) {
    assert.equal(await subscribe(x.c, '#'), 1);
    await x.inbox.waitFor(retained);
  }
  assert.deepEqual(inNamespace(hmiLate.inbox.before(retained)), [status], 'retained, granted');
  for (const x of late) assert.deepEqual(inNamespace(x.inbox.topics), [], 'retained, not granted');
  assert.equal(await subscribe(hmiLate.c, status), 1, 'a filter its grant names is accepted');

  // Queued: persistent sessions away while a command (QoS 1; an install may hold a pre-signed
  // URL) and then a marker are published. On return the broker replays the queue through the
  // same check (with ingest workers, possibly on another worker than the one that queued it).
  const install = `${base}/ota/install`;
  const qMarker = 'sensors/plc/q-marker';
  const away: [string | undefined, string, string[]][] = [
    ['watcher', 'watcher-q', ['#']],
    [undefined, 'anon-q', ['+/+/ota/install', qMarker]],
    ['auditor', 'auditor-q', [install, qMarker]],
  ];
  for (const [name, id, filters] of away) {
    const x =
      name === undefined
        ? await client(agent, { clientId: id, clean: false })
        : await user(name, id, { clean: false });
    for (const f of filters) assert.equal(await subscribe(x.c, f), 1, `${id}: ${f}`);
    await x.c.endAsync();
  }
  await plc.c.publishAsync(install, '{"not":"a request"}', { qos: 1 });
  await plc.c.publishAsync(qMarker, '1', { qos: 1 });
  for (const [name, id] of away) {
    // The inbox is attached before CONNACK: the queue comes right behind it.
    const c = mqtt.connect(`mqtt://127.0.0.1:${agent.mqttPort}`, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      clientId: id,
      clean: false,
      ...(name === undefined ? {} : { username: name, password: 'pw-123456' }),
    });
    const x = { c, inbox: new Inbox(c) };
    all.push(x);
    await x.inbox.waitFor(qMarker);
    const got = inNamespace(x.inbox.before(qMarker));
    assert.deepEqual(got, name === 'auditor' ? [install] : [], `queued for ${id}`);
  }
});
