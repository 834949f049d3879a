import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions } from 'mqtt';
import { startAgent } from '../helpers/agent-process.js';
import { freePort } from '../helpers/ports.js';

/** Settles on the event (events.once would reject on an 'error' event, which is expected here). */
const once = (e: { once(name: 'close', f: () => void): unknown }, name: 'close') =>
  new Promise<void>((resolve) => e.once(name, () => resolve()));

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate (CN=gw7). */
async function makePki(dir: string): Promise<{ ca: Buffer; cert: Buffer; key: Buffer }> {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=edgeflow-test-ca',
    '-days',
    '1',
  );
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', 'gw7'],
  ] as const) {
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      ...(name === 'server' ? ['-extfile', 'san.ext'] : []),
    );
  }
  return {
    ca: await readFile(join(dir, 'ca.crt')),
    cert: await readFile(join(dir, 'client.crt')),
    key: await readFile(join(dir, 'client.key')),
  };
}

/** Resolves with the CONNACK error, or undefined once connected (then closes the client). */
async function tryConnect(url: string, opts: IClientOptions): Promise<Error | undefined> {
  const c = mqtt.connect(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...opts,
  });
  let firstError: Error | undefined;
  c.on('error', (e) => (firstError ??= e));
  // (events.once would reject on 'error'; these just settle with what happened first)
  const res = await new Promise<Error | undefined>((resolve) => {
    c.once('connect', () => resolve(undefined));
    c.once('close', () => resolve(firstError ?? new Error('closed')));
  });
  c.end(true);
  return res;
}

test('embedded broker security: TLS client certificates, scrypt passwords, ACLs, packet size', async (t) => {
  if (spawnSync('openssl', ['version']).status !== 0) {
    t.skip('needs openssl: install it with scripts/install-deps.sh');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'ef-sec-'));
  const pki = await makePki(dir);
  const { hash } = JSON.parse(
    execFileSync(process.execPath, [
      '--input-type=module',
      '-e',
      "import {hashPassword} from '" +
        new URL('../../../agent/dist/src/broker/password.js', import.meta.url).href +
        "'; console.log(JSON.stringify({hash: await hashPassword('pw-dev1')}))",
    ]).toString(),
  ) as { hash: string };
  const tlsPort = await freePort();
  const config = {
    hal: { board: 'sim', demo: false },
    attestation: { enabled: false },
    mqtt: {
      auth: {
        allowAnonymous: false,
        users: [
          { username: 'dev1', passwordHash: hash, publish: ['sensors/%u/#'], subscribe: [] },
          { username: 'gw7', publish: ['sensors/gw7/#'] },
        ],
      },
      tls: {
        port: tlsPort,
        certFile: join(dir, 'server.crt'),
        keyFile: join(dir, 'server.key'),
        caFile: join(dir, 'ca.crt'),
      },
      limits: { maxPacketBytes: 4096 },
    },
  };
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  const agent = await startAgent({
    dataDir: join(dir, 'data'),
    args: ['--config', join(dir, 'config.json')],
  });
  try {
    const plain = `mqtt://127.0.0.1:${agent.mqttPort}`;
    const tls = `mqtts://127.0.0.1:${tlsPort}`;
    const tlsOpts = { ca: pki.ca, rejectUnauthorized: true };

    // TLS with a client certificate: CN=gw7 is the user, no password.
    const gw = await mqtt.connectAsync(tls, {
      ...tlsOpts,
      cert: pki.cert,
      key: pki.key,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await gw.publishAsync('sensors/gw7/temp', '21.5', { qos: 2 });
    await gw.endAsync();
    const r = (await (await agent.http('/v1/sensors/gw7/temp')).json()) as { value: number };
    assert.equal(r.value, 21.5);

    // TLS without a client certificate: refused in the handshake.
    assert.ok(await tryConnect(tls, tlsOpts), 'no client certificate -> refused');

    // Passwords (scrypt hash in the config).
    assert.match(
      String(await tryConnect(plain, { username: 'dev1', password: 'wrong' })),
      /Bad username or password/,
    );
    assert.match(String(await tryConnect(plain, {})), /Not authorized/);
    const dev = await mqtt.connectAsync(plain, {
      username: 'dev1',
      password: 'pw-dev1',
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await dev.publishAsync('sensors/dev1/hum', '40', { qos: 2 });
    await assert.rejects(
      dev.subscribeAsync('sensors/#', { qos: 1 }),
      /Subscribe error/,
      'subscription outside the ACL -> SUBACK 0x80',
    );
    // Publishing outside the ACL closes the connection (MQTT 3.1.1 has no negative PUBACK).
    dev.on('error', () => undefined);
    const closed = once(dev, 'close');
    dev.publish('sensors/dev2/hum', '1', { qos: 1 });
    await closed;
    dev.end(true);

    // A 10 MB payload is refused on its fixed header (maxPacketBytes 4096).
    const big = await mqtt.connectAsync(plain, {
      username: 'dev1',
      password: 'pw-dev1',
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    big.on('error', () => undefined); // ECONNRESET while it is still writing: expected
    const bigClosed = once(big, 'close');
    big.publish('sensors/dev1/blob', Buffer.alloc(10 * 1024 * 1024, 0x31), { qos: 0 });
    await bigClosed;
    big.end(true);

    const metrics = await (await agent.http('/metrics')).text();
    const count = (kind: string) =>
      Number(
        new RegExp(`^edgeflow_mqtt_violations_total\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(
          metrics,
        )?.[1],
      );
    assert.ok(count('tls_handshake') >= 1, 'tls_handshake counted');
    assert.equal(count('auth_failed'), 2);
    assert.equal(count('subscribe_denied'), 1);
    assert.equal(count('publish_denied'), 1);
    assert.equal(count('packet_too_large'), 1);
    const lines = agent.logs.filter(
      (l) => l.event === 'mqtt.violation' && l.kind === 'auth_failed',
    );
    assert.equal(lines.length, 1, 'logged once per window');
    assert.ok(!JSON.stringify(agent.logs).includes('pw-dev1'), 'no password in the logs');
    const d1 = (await (await agent.http('/v1/sensors/dev1/hum')).json()) as { value: number };
    assert.equal(d1.value, 40);
  } finally {
    await agent.stop();
  }
});
