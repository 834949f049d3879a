import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate, type IPublishPacket } from 'mqtt-packet';
import { RawMqtt, describe } from '../../helpers/raw-mqtt.js';
import { CONNECT, closesOn as closesOnPort, connectedTo, sharedAgent } from './shared-agent.js';

// MQTT 3.1.1 normative statements about CONNECT, CONNACK and wills that bind a server, over
// raw sockets against the real agent. Sessions across reconnects and restarts, in both
// durability modes: connect.int.test.ts. docs/mqtt-conformance.md maps every clause.

const agent = sharedAgent();
const id = agent.id;
const connected = (clientId = id('c'), opts: Record<string, unknown> = {}) =>
  connectedTo(agent.port(), clientId, opts);
const closesOn = (bytes: Buffer, opts: { connectFirst?: boolean } = {}) =>
  closesOnPort(agent.port(), bytes, opts.connectFirst ? { connectFirst: id('v') } : {});

// 3.1 CONNECT -----------------------------------------------------------------------------

test('[MQTT-3.1.0-1] [MQTT-4.8.0-1] a first packet other than CONNECT closes the connection', async () => {
  assert.deepEqual(await closesOn(generate({ cmd: 'pingreq' })), []);
});

test('[MQTT-3.1.0-2] a second CONNECT is a protocol violation: disconnected', async () => {
  const c = await connected();
  c.send(CONNECT('again'));
  await c.waitClosed();
  assert.deepEqual(c.drain(), []);
});

test('[MQTT-3.1.2-1] a wrong protocol name: disconnected without CONNACK', async () => {
  const ok = CONNECT('proto');
  const bad = Buffer.from(ok);
  bad.write('MQTX', 4);
  assert.deepEqual(await closesOn(bad), []);
});

test('[MQTT-3.1.2-3] the reserved CONNECT flag set: disconnected', async () => {
  const bytes = CONNECT('reserved');
  bytes[9] = (bytes[9] as number) | 0x01;
  assert.deepEqual(await closesOn(bytes), []);
});

test('[MQTT-3.1.2-22] [MQTT-3.1.4-1] a password without a user name: closed without CONNACK', async () => {
  const bytes = CONNECT('pw');
  // mqtt-packet refuses to encode this: set the password flag by hand and append one.
  bytes[9] = (bytes[9] as number) | 0x40;
  const withPw = Buffer.concat([bytes, Buffer.from([0, 1, 0x78])]);
  withPw[1] = withPw.length - 2;
  assert.deepEqual(await closesOn(withPw), []);
});

test('[MQTT-3.1.2-14] will QoS 3: closed without CONNACK', async () => {
  const bytes = CONNECT('willq3', {
    will: { topic: 'w/t', payload: Buffer.from('x'), qos: 0, retain: false },
  });
  bytes[9] = (bytes[9] as number) | 0x18;
  assert.deepEqual(await closesOn(bytes), []);
});

test('[MQTT-3.1.3-5] a 23-character client id of the allowed characters is accepted', async () => {
  const c = await connected('abcdefghijklmnopqrstuvW');
  assert.deepEqual(await c.barrier(), []);
});

test('[MQTT-3.1.4-2] a second connection with the same client id disconnects the first', async () => {
  const cid = id('dup');
  const first = await connected(cid);
  const second = await connected(cid);
  await first.waitClosed();
  assert.deepEqual(await second.barrier(), [], 'the new one stays');
});

test('[MQTT-3.1.2-24] keep alive 1 s: closed after 1.5 s without a packet', async () => {
  const c = await connected(id('ka'), { keepalive: 1 });
  const t0 = Date.now();
  await c.waitClosed(10_000);
  // Not a timing assertion on the server's speed: only that it did not close early.
  assert.ok(Date.now() - t0 >= 1000, 'closed before one keep-alive period');
});

test('[MQTT-3.2.0-1] [MQTT-3.2.2-4] [MQTT-3.2.2-5] [MQTT-3.1.4-5] bad credentials: CONNACK 4 or 5 first, session present 0, then closed; nothing after CONNECT is processed', async () => {
  const c = await RawMqtt.open(agent.port());
  c.send(
    Buffer.concat([
      CONNECT('bad-auth', { username: 'nobody', password: Buffer.from('x') }),
      generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x', qos: 0 }] }),
    ]),
  );
  await c.waitClosed();
  const got = c.drain();
  assert.equal(got.length, 1, got.map(describe).join(' '));
  const connack = got[0] as { cmd: string; returnCode: number; sessionPresent: boolean };
  assert.equal(connack.cmd, 'connack');
  assert.ok(connack.returnCode === 4 || connack.returnCode === 5, String(connack.returnCode));
  assert.equal(connack.sessionPresent, false);
});

// Will messages ------------------------------------------------------------------------

async function willCase(retain: boolean, end: 'drop' | 'disconnect') {
  const topic = `will/${id('w')}`;
  const sub = await connected();
  await sub.subscribe([{ topic, qos: 1 }]);
  const c = await connected(id('wc'), {
    will: { topic, payload: Buffer.from('gone'), qos: 1, retain },
  });
  if (end === 'drop') c.destroy();
  else c.disconnect();
  return { sub, topic };
}

test('[MQTT-3.1.2-8] [MQTT-3.1.2-16] the will is published (not retained) when the connection drops', async () => {
  const { sub, topic } = await willCase(false, 'drop');
  const p = (await sub.next('publish')) as IPublishPacket;
  assert.equal(
    describe(p).replace(/id=\d+/, 'id=N'),
    `publish(${topic} q1 id=N dup=false retain=false "gone")`,
  );
  const late = await connected();
  await late.subscribe([{ topic, qos: 1 }]);
  assert.deepEqual((await late.barrier()).map(describe), [], 'not retained');
});

test('[MQTT-3.1.2-17] a will with Will Retain 1 is published as a retained message', async () => {
  const { sub, topic } = await willCase(true, 'drop');
  await sub.next('publish');
  const late = await connected();
  await late.subscribe([{ topic, qos: 1 }]);
  const p = (await late.next('publish')) as IPublishPacket;
  assert.equal(p.retain, true, '[MQTT-3.3.1-8] sent because of a new subscription');
  assert.equal(p.payload.toString(), 'gone');
});

test('[MQTT-3.1.2-10] [MQTT-3.14.4-3] [MQTT-3.1.2-12] after DISCONNECT the will is discarded, not published', async () => {
  const { sub } = await willCase(false, 'disconnect');
  // Any will would be published when the server handles the close: a later message on the
  // same subscriber's connection arrives after it.
  const pub = await connected();
  pub.publish('will/marker', 'm', 0);
  await sub.subscribe([{ topic: 'will/marker', qos: 0 }], 2);
  pub.publish('will/marker', 'm', 0);
  const p = (await sub.next('publish')) as IPublishPacket;
  assert.equal(p.topic, 'will/marker');
});
