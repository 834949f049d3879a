import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startSwtpm, tpmTestsMissing } from 'node-tpm2/testing';
import { hashPassword } from '@edgeflow/agent';
import { startAgent } from '../helpers/agent-process.js';

const device =
  hostname()
    .replace(/[^A-Za-z0-9_.:-]/g, '_')
    .slice(0, 64) || 'gateway';

/** Publishes a QoS 2 command and resolves with the JSON result on its result topic. */
async function command(
  client: MqttClient,
  topic: string,
  payload: string,
  resultTopic: string,
): Promise<Record<string, unknown>> {
  await client.subscribeAsync(resultTopic, { qos: 0 });
  const answer = new Promise<Record<string, unknown>>((resolve) => {
    const on = (t: string, p: Buffer) => {
      if (t !== resultTopic) return;
      client.off('message', on);
      resolve(JSON.parse(p.toString()) as Record<string, unknown>);
    };
    client.on('message', on);
  });
  await client.publishAsync(topic, payload, { qos: 2 });
  return answer;
}

test('MQTT commands: authenticated GPIO set and TPM quote; anonymous clients and users without the quote grant refused', async (t) => {
  const missingTpm = tpmTestsMissing();
  const tpm = missingTpm === undefined ? await startSwtpm() : undefined;
  if (tpm === undefined) t.diagnostic(`quote over MQTT checked as unavailable only: ${missingTpm}`);

  const dir = await mkdtemp(join(tmpdir(), 'ef-cmd-'));
  const config = join(dir, 'edgeflow.yaml');
  const hash = await hashPassword('s3cret-pass');
  await writeFile(
    config,
    [
      'hal:',
      '  board: sim',
      '  demo: false',
      '  gpio:',
      '    - { name: relay, pin: 11, direction: output }',
      // Not on the simulator's header: declared, never requested.
      '    - { name: ghost, pin: GPIO99, direction: output }',
      'mqtt:',
      '  auth:',
      // Command topics are reached only by patterns that name them: the refusals below are
      // then the commands' own (unauthenticated, not granted).
      // (Results are delivered only to subscribers whose ACL names them, edgeflow/# here.)
      "    anonymous: { publish: ['edgeflow/#'], subscribe: ['edgeflow/#'] }",
      '    users:',
      `      - { username: ops, passwordHash: '${hash}', publish: ['edgeflow/#'], subscribe: ['edgeflow/#'] }`,
      `      - { username: viewer, passwordHash: '${hash}', publish: ['edgeflow/#'], subscribe: ['edgeflow/#'] }`,
      'gpio:',
      '  access: { mqttUsers: [ops] }',
      'attestation:',
      '  access: { mqttUsers: [ops] }',
      ...(tpm !== undefined ? [`  tcti: '${tpm.tcti}'`] : []),
      '',
    ].join('\n'),
  );
  const agent = await startAgent({ dataDir: join(dir, 'data'), args: ['--config', config] });
  const url = `mqtt://127.0.0.1:${agent.mqttPort}`;
  const anon = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  const ops = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    username: 'ops',
    password: 's3cret-pass',
  });
  // Authenticated, ACL `#` by default, but not granted quotes.
  const viewer = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    username: 'viewer',
    password: 's3cret-pass',
  });
  // Teardown in dependency order: clients, then the agent (it closes its TPM), then swtpm.
  t.after(async () => {
    await anon.endAsync();
    await ops.endAsync();
    await viewer.endAsync();
    await agent.stop();
    await tpm?.stop();
  });
  const base = `edgeflow/${device}`;

  const refused = await command(anon, `${base}/gpio/relay/set`, '1', `${base}/gpio/relay/result`);
  assert.deepEqual(refused.error, {
    code: 'EDGEFLOW_MQTT_COMMAND_UNAUTHENTICATED',
    message: 'commands need an authenticated MQTT user (mqtt.auth.users)',
  });
  const gpio0 = (await (await agent.http('/v1/gpio')).json()) as { lines: { value?: number }[] };
  assert.equal(gpio0.lines[0]?.value, 0, 'the refused command changed nothing');

  const bad = await command(ops, `${base}/gpio/relay/set`, 'on', `${base}/gpio/relay/result`);
  assert.equal((bad.error as { code: string }).code, 'EDGEFLOW_MQTT_COMMAND_BAD_PAYLOAD');
  const set = await command(ops, `${base}/gpio/relay/set`, '1', `${base}/gpio/relay/result`);
  assert.deepEqual(set, { ok: true, name: 'relay', value: 1 });
  const gpio1 = (await (await agent.http('/v1/gpio')).json()) as { lines: { value?: number }[] };
  assert.equal(gpio1.lines[0]?.value, 1);
  const ghost = await command(ops, `${base}/gpio/ghost/set`, '1', `${base}/gpio/ghost/result`);
  assert.equal((ghost.error as { code: string }).code, 'EDGEFLOW_GPIO_UNAVAILABLE');
  assert.match(
    (ghost.error as { message: string }).message,
    /^GPIO line "ghost" \(pin GPIO99\) is not available: .*; not retried \(fix hal\.gpio\)$/,
  );

  const nonce = randomBytes(32).toString('hex');
  const quoteTopic = `${base}/attestation/quote`;
  const resultTopic = `${quoteTopic}/result`;
  const req = JSON.stringify({ id: 'q1', nonce, pcrs: [23] });
  const anonQuote = await command(anon, quoteTopic, req, resultTopic);
  assert.equal((anonQuote.error as { code: string }).code, 'EDGEFLOW_MQTT_COMMAND_UNAUTHENTICATED');
  const notGranted = await command(viewer, quoteTopic, req, resultTopic);
  assert.equal(notGranted.id, 'q1');
  assert.deepEqual(notGranted.error, {
    code: 'EDGEFLOW_MQTT_COMMAND_FORBIDDEN',
    message: 'user "viewer" is not granted quotes (attestation.access.mqttUsers)',
  });
  if (tpm === undefined) {
    const r = await command(ops, quoteTopic, req, resultTopic);
    assert.equal(r.id, 'q1');
    assert.equal(r.ok, false);
    return;
  }
  // Provisioning runs in the background after start: wait until the HTTP side serves identity.
  const until = Date.now() + 60_000;
  while ((await agent.http('/v1/attestation/identity')).status !== 200) {
    assert.ok(Date.now() < until, 'attestation provisioned within 60 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  const q = await command(ops, quoteTopic, req, resultTopic);
  assert.equal(q.id, 'q1');
  assert.equal(q.ok, true, JSON.stringify(q));
  assert.ok(Object.keys(q).length > 2, 'the quote response carries the quote');
});
