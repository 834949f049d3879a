import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { startAgent, type AgentProcess } from '../helpers/agent-process.js';

/*
 * Interoperability of the embedded broker with the clients gateways use, MQTT 3.1.1:
 * mosquitto_pub/mosquitto_sub (Debian's mosquitto-clients), paho-mqtt (Python, Debian's
 * python3-paho-mqtt run with /usr/bin/python3) and mqtt.js; and an MQTT 5 CONNECT from each
 * refused cleanly with the 3.1.1 return code 1 [MQTT-3.1.2-2]. Both packages come from
 * scripts/install-deps.sh; a missing one fails the test with the package to install.
 */

const PAHO = fileURLToPath(new URL('../../integration/interop/paho_interop.py', import.meta.url));

async function agentFor(t: TestContext): Promise<AgentProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'edgeflow-interop-'));
  const agent = await startAgent({ dataDir });
  t.after(async () => {
    await agent.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return agent;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command; `until` resolves early once stdout contains it (the process keeps running). */
function run(cmd: string, args: string[], opts: { until?: string } = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let seen!: () => void;
  const reached = new Promise<void>((r) => (seen = r));
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (opts.until !== undefined && stdout.includes(opts.until)) seen();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', (err) =>
      reject(new Error(`${cmd} not runnable (${err.message}): run scripts/install-deps.sh`)),
    );
    child.on('close', (code) => {
      seen();
      resolve({ code, stdout, stderr });
    });
  });
  return { child, reached, done };
}

test('mosquitto_sub and mosquitto_pub, MQTT 3.1.1, QoS 0/1/2', async (t) => {
  const agent = await agentFor(t);
  const port = String(agent.mqttPort);
  // -d prints the SUBACK: the publisher starts only once the subscription exists.
  // stdbuf: mosquitto_sub's stdout is block-buffered on a pipe, and -d's SUBACK line is
  // the signal to start publishing.
  const sub = run(
    'stdbuf',
    [
      '-oL',
      'mosquitto_sub',
      '-V',
      'mqttv311',
      '-p',
      port,
      '-q',
      '2',
      '-t',
      'interop/mosq/#',
      '-C',
      '3',
      '-v',
      '-d',
      '-i',
      'mosq-sub',
    ],
    { until: 'SUBACK' },
  );
  t.after(() => sub.child.kill());
  await sub.reached;
  for (const q of ['0', '1', '2']) {
    const pub = run('mosquitto_pub', [
      '-V',
      'mqttv311',
      '-p',
      port,
      '-q',
      q,
      '-t',
      `interop/mosq/q${q}`,
      '-m',
      `m${q}`,
    ]);
    assert.equal((await pub.done).code, 0);
  }
  const res = await sub.done;
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stdout.split('\n').filter((l) => l.startsWith('interop/'));
  assert.deepEqual(lines.sort(), [
    'interop/mosq/q0 m0',
    'interop/mosq/q1 m1',
    'interop/mosq/q2 m2',
  ]);
});

test('[MQTT-3.1.2-2] mosquitto_pub -V mqttv5 is refused: unsupported protocol version', async (t) => {
  const agent = await agentFor(t);
  const pub = run('mosquitto_pub', [
    '-V',
    'mqttv5',
    '-p',
    String(agent.mqttPort),
    '-t',
    'interop/v5',
    '-m',
    'x',
    '-q',
    '1',
  ]);
  const res = await pub.done;
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /Unsupported Protocol Version/);
});

test('paho-mqtt (Python), MQTT 3.1.1: persistent QoS 2 subscriber, QoS 0/1/2 publisher, session present on reconnect', async (t) => {
  const agent = await agentFor(t);
  const res = await run('/usr/bin/python3', [PAHO, String(agent.mqttPort), 'v311']).done;
  assert.equal(res.code, 0, `${res.stderr} (python3-paho-mqtt from scripts/install-deps.sh)`);
  const out = JSON.parse(res.stdout) as {
    first: { rc: number; session_present: boolean };
    second: { rc: number; session_present: boolean };
    got: [string, number, boolean][];
  };
  assert.deepEqual([out.first.rc, out.first.session_present], [0, false]);
  assert.deepEqual([out.second.rc, out.second.session_present], [0, true], '[MQTT-3.2.2-2]');
  assert.deepEqual(out.got, [
    ['m0', 0, false],
    ['m1', 1, false],
    ['m2', 2, false],
    ['m3', 0, false],
    ['m4', 1, false],
    ['m5', 2, false],
  ]);
});

test('[MQTT-3.1.2-2] paho-mqtt (Python) MQTT 5 CONNECT is refused: CONNACK 1, reported by paho as 0x84', async (t) => {
  const agent = await agentFor(t);
  const res = await run('/usr/bin/python3', [PAHO, String(agent.mqttPort), 'v5']).done;
  assert.equal(res.code, 0, res.stderr);
  const out = JSON.parse(res.stdout) as { rc: number; session_present: boolean };
  // paho maps the 3.1.1 return code 1 to the MQTT 5 reason "Unsupported Protocol Version".
  assert.deepEqual([out.rc, out.session_present], [0x84, false]);
});

test('mqtt.js MQTT 3.1.1 round trip at QoS 2; MQTT 5 refused with return code 1', async (t) => {
  const agent = await agentFor(t);
  const url = `mqtt://127.0.0.1:${agent.mqttPort}`;
  const sub = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  t.after(() => sub.endAsync(true));
  await sub.subscribeAsync('interop/js/#', { qos: 2 });
  const got = new Promise<string>((r) => sub.once('message', (_t, p) => r(p.toString())));
  const pub = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  t.after(() => pub.endAsync(true));
  await pub.publishAsync('interop/js/a', 'hello', { qos: 2 });
  assert.equal(await got, 'hello');
  await assert.rejects(
    mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 }),
    (err: Error & { code?: number }) =>
      err.code === 1 && /Unacceptable protocol version/.test(err.message),
  );
});
