import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { cliPath, startAgent, type AgentProcess } from '../helpers/agent-process.js';

// Commands over MQTT are least-privilege (issue 16, case 4): a user entry made with
// `edgeflow mqtt passwd` and pasted as printed reaches its own sensor topics and nothing else;
// command topics (edgeflow/<device>/...) need an explicit grant, and a GPIO write needs the same
// grant (gpio.access) over HTTP and over MQTT.

const device =
  hostname()
    .replace(/[^A-Za-z0-9_.:-]/g, '_')
    .slice(0, 64) || 'gateway';
const base = `edgeflow/${device}`;

/** `edgeflow mqtt passwd --user NAME` with the password on stdin, as an operator runs it. */
function passwd(user: string, password: string, extra: string[] = []): string {
  const r = spawnSync(process.execPath, [cliPath, 'mqtt', 'passwd', '--user', user, ...extra], {
    input: password,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The `users:` list items of a printed entry (everything after "users:"), re-indented. */
function usersOf(printed: string): string[] {
  const lines = printed.split('\n');
  const at = lines.findIndex((l) => l.trim() === 'users:');
  return lines.slice(at + 1).filter((l) => l.trim() !== '');
}

async function relayValue(agent: AgentProcess): Promise<number | undefined> {
  const g = (await (await agent.http('/v1/gpio')).json()) as { lines: { value?: number }[] };
  return g.lines[0]?.value;
}

/**
 * Publishes a command (QoS 1). Resolves with its JSON result when `result` is set (the client
 * may subscribe to it), else with 'acked' once the broker took it; 'disconnected' when the broker
 * refused the publish (MQTT 3.1.1 has no negative PUBACK: an ACL refusal closes the connection).
 */
async function command(
  client: MqttClient,
  topic: string,
  payload: string,
  result = false,
): Promise<Record<string, unknown> | 'disconnected' | 'acked'> {
  const resultTopic = topic.replace(/\/set$/, '/result');
  if (result) await client.subscribeAsync(resultTopic, { qos: 0 });
  return new Promise((resolve) => {
    const onMessage = (t: string, p: Buffer) => {
      if (t !== resultTopic) return;
      client.off('message', onMessage);
      resolve(JSON.parse(p.toString()) as Record<string, unknown>);
    };
    client.on('message', onMessage);
    client.once('close', () => resolve('disconnected'));
    client.publish(topic, payload, { qos: 1 }, (err) => {
      if (!err && !result) resolve('acked');
    });
  });
}

async function connect(
  agent: AgentProcess,
  username: string,
  password: string,
): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${agent.mqttPort}`, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    username,
    password,
  });
}

test('case 4: an entry from `edgeflow mqtt passwd`, pasted as printed, cannot switch a GPIO relay', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-grant-'));
  const printed = passwd('sensor-1', 'sensor-pass');
  const config = join(dir, 'edgeflow.yaml');
  await writeFile(
    config,
    [
      'hal:',
      '  board: sim',
      '  demo: false',
      '  gpio:',
      '    - { name: relay, pin: 11, direction: output }',
      'mqtt:',
      '  auth:',
      '    allowAnonymous: false',
      '    users:',
      ...usersOf(printed),
      '',
    ].join('\n'),
  );
  const agent = await startAgent({ dataDir: join(dir, 'data'), args: ['--config', config] });
  t.after(() => agent.stop());
  const sensor = await connect(agent, 'sensor-1', 'sensor-pass');
  // Its own topics work: a reading goes into the cache.
  await sensor.publishAsync('sensors/sensor-1/temp', '21.5', { qos: 1 });
  const reading = await agent.http('/v1/sensors/sensor-1/temp');
  assert.equal(reading.status, 200);
  const r = await command(sensor, `${base}/gpio/relay/set`, '1');
  assert.equal(r, 'disconnected', `the command was not refused: ${JSON.stringify(r)}`);
  assert.equal(await relayValue(agent), 0, 'a sensor account switched the relay');
  // The broker closed the connection: end() only releases the client (endAsync would wait on it).
  sensor.end(true);
});

test('case 4: the same GPIO write needs the same grant (gpio.access) over HTTP and MQTT', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-grant-'));
  const token = (name: string) => {
    const value = randomBytes(24).toString('hex');
    return { name, value, sha256: createHash('sha256').update(value).digest('hex') };
  };
  const opsToken = token('ops');
  const viewerToken = token('viewer');
  // Both users may publish the command topic; only ops holds the GPIO grant.
  const acl = [
    '--publish',
    'sensors/%u/#',
    '--publish',
    'edgeflow/+/gpio/relay/set',
    '--subscribe',
    'edgeflow/+/gpio/relay/result',
  ];
  const config = join(dir, 'edgeflow.yaml');
  await writeFile(
    config,
    [
      'hal:',
      '  board: sim',
      '  demo: false',
      '  gpio:',
      '    - { name: relay, pin: 11, direction: output }',
      'http:',
      '  apiTokens:',
      `    - { name: ops, sha256: ${opsToken.sha256} }`,
      `    - { name: viewer, sha256: ${viewerToken.sha256} }`,
      'gpio:',
      '  access: { apiTokens: [ops], mqttUsers: [plc] }',
      'mqtt:',
      '  auth:',
      '    users:',
      ...usersOf(passwd('plc', 'plc-pass', acl)),
      ...usersOf(passwd('hmi', 'hmi-pass', acl)),
      '',
    ].join('\n'),
  );
  const agent = await startAgent({ dataDir: join(dir, 'data'), args: ['--config', config] });
  t.after(() => agent.stop());
  const put = (tok: string, value: number) =>
    fetch(`http://127.0.0.1:${agent.httpPort}/v1/gpio/relay`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value }),
    });

  const denied = await put(viewerToken.value, 1);
  assert.equal(denied.status, 403);
  assert.equal(
    ((await denied.json()) as { error: { code: string } }).error.code,
    'EDGEFLOW_HTTP_FORBIDDEN',
  );
  const hmi = await connect(agent, 'hmi', 'hmi-pass');
  const refused = await command(hmi, `${base}/gpio/relay/set`, '1', true);
  assert.notEqual(refused, 'disconnected');
  assert.deepEqual((refused as { error: unknown }).error, {
    code: 'EDGEFLOW_MQTT_COMMAND_FORBIDDEN',
    message: 'user "hmi" is not granted GPIO writes (gpio.access.mqttUsers)',
  });
  assert.equal(await relayValue(agent), 0);

  assert.equal((await put(opsToken.value, 1)).status, 200);
  assert.equal(await relayValue(agent), 1);
  const plc = await connect(agent, 'plc', 'plc-pass');
  assert.deepEqual(await command(plc, `${base}/gpio/relay/set`, '0', true), {
    ok: true,
    name: 'relay',
    value: 0,
  });
  assert.equal(await relayValue(agent), 0);
  await hmi.endAsync();
  await plc.endAsync();
});
