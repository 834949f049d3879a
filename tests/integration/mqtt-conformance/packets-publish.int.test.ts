import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IPublishPacket, ISubackPacket } from 'mqtt-packet';
import { describe } from '../../helpers/raw-mqtt.js';
import { closesOn as closesOnPort, connectedTo, frame, sharedAgent, str } from './shared-agent.js';

// MQTT 3.1.1 normative statements about PUBLISH, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT,
// topics and ordering that bind a server, over raw sockets against the real agent. Queues of
// persistent sessions: queued.int.test.ts. docs/mqtt-conformance.md maps every clause.

const agent = sharedAgent();
const id = agent.id;
const connected = (clientId = id('c'), opts: Record<string, unknown> = {}) =>
  connectedTo(agent.port(), clientId, opts);
const closesOn = (bytes: Buffer, opts: { connectFirst?: boolean } = {}) =>
  closesOnPort(agent.port(), bytes, opts.connectFirst ? { connectFirst: id('v') } : {});

// 3.3 PUBLISH ----------------------------------------------------------------------------

test('[MQTT-3.3.4-1] [MQTT-4.3.2-2] [MQTT-4.3.3-2] [MQTT-2.3.1-6] the response to PUBLISH follows its QoS, with the same packet id', async () => {
  const c = await connected();
  c.publish('sensors/conf/a', '1', 0);
  c.publish('sensors/conf/a', '1', 1, { id: 11 });
  c.publish('sensors/conf/a', '1', 2, { id: 12 });
  // Acknowledgements wait for the disk; a PINGRESP does not, so no barrier here.
  assert.deepEqual(
    [describe(await c.next()), describe(await c.next())],
    ['puback(11)', 'pubrec(12)'],
  );
  c.send({ cmd: 'pubrel', messageId: 12 });
  assert.equal(describe(await c.next()), 'pubcomp(12)');
  // [MQTT-4.3.3-2]: PUBREL for an id not (or no longer) held still gets PUBCOMP.
  c.send({ cmd: 'pubrel', messageId: 999 });
  assert.equal(describe(await c.next()), 'pubcomp(999)');
  assert.deepEqual((await c.barrier()).map(describe), []);
});

test('[MQTT-4.3.3-2] a QoS 2 retransmission before PUBREL is acknowledged again, not delivered twice', async () => {
  const topic = `dup/${id('t')}`;
  const sub = await connected();
  await sub.subscribe([{ topic, qos: 2 }]);
  const c = await connected();
  c.publish(topic, 'once', 2, { id: 5 });
  await c.next('pubrec');
  c.publish(topic, 'once', 2, { id: 5, dup: true });
  await c.next('pubrec');
  c.send({ cmd: 'pubrel', messageId: 5 });
  await c.next('pubcomp');
  c.publish(topic, 'end', 1, { id: 6 });
  await c.next('puback');
  const got: string[] = [];
  for (;;) {
    const p = (await sub.next('publish', { skip: true })) as IPublishPacket;
    if (p.qos === 2) sub.send({ cmd: 'pubrec', messageId: p.messageId as number });
    if (p.qos === 1) sub.send({ cmd: 'puback', messageId: p.messageId as number });
    got.push(p.payload.toString());
    if (p.payload.toString() === 'end') break;
  }
  assert.deepEqual(got, ['once', 'end']);
});

test('[MQTT-3.3.1-2] [MQTT-3.3.1-3] [MQTT-4.3.1-1] [MQTT-4.3.2-1] [MQTT-3.8.4-6] outgoing DUP is 0 for a first delivery whatever the incoming DUP; QoS is min(published, granted)', async () => {
  const topic = `qos/${id('t')}`;
  const sub = await connected();
  // Wildcard filters: the granted QoS must apply to them too, not only to exact names.
  await sub.subscribe([
    { topic: `${topic}/q0`, qos: 0 },
    { topic: `${topic}/q1/#`, qos: 1 },
    { topic: `${topic}/+/2`, qos: 2 },
  ]);
  const c = await connected();
  let mid = 1;
  for (const sq of [0, 1, 2])
    for (const pq of [0, 1, 2] as const) {
      const t = [`${topic}/q0`, `${topic}/q1/x`, `${topic}/q/2`][sq] as string;
      c.publish(t, `p${pq}s${sq}`, pq, { id: mid++, dup: pq > 0 });
      if (pq === 2) {
        await c.next('pubrec', { skip: true });
        c.send({ cmd: 'pubrel', messageId: mid - 1 });
      }
    }
  const want = new Map<string, number>();
  for (const sq of [0, 1, 2])
    for (const pq of [0, 1, 2]) want.set(`p${pq}s${sq}`, Math.min(pq, sq));
  const got = new Map<string, string>();
  while (got.size < want.size) {
    const p = (await sub.next('publish', { skip: true })) as IPublishPacket;
    got.set(
      p.payload.toString(),
      `q${p.qos} dup=${p.dup} id=${p.qos === 0 ? (p.messageId ?? 'none') : 'set'}`,
    );
    if (p.qos === 1) sub.send({ cmd: 'puback', messageId: p.messageId as number });
    if (p.qos === 2) sub.send({ cmd: 'pubrec', messageId: p.messageId as number });
  }
  // [MQTT-2.3.1-5]: no packet id at QoS 0.
  for (const [k, q] of want)
    assert.equal(got.get(k), `q${q} dup=false id=${q === 0 ? 'none' : 'set'}`, k);
});

test('[MQTT-3.3.1-4] a PUBLISH with both QoS bits set closes the connection', async () => {
  // PUBLISH, QoS bits 11, topic "a", packet id 1.
  assert.deepEqual(await closesOn(frame(0x36, [...str('a'), 0, 1]), { connectFirst: true }), []);
});

test('[MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-8] [MQTT-3.3.1-9] a retained message is stored with its QoS and sent with RETAIN 1 to a new subscription, with RETAIN 0 to an established one', async () => {
  const topic = `ret/${id('t')}`;
  const early = await connected();
  await early.subscribe([{ topic, qos: 1 }]);
  const c = await connected();
  c.publish(topic, 'kept', 1, { id: 1, retain: true });
  await c.next('puback');
  const live = (await early.next('publish')) as IPublishPacket;
  assert.equal(live.retain, false, 'established subscription');
  const late = await connected();
  await late.subscribe([{ topic, qos: 2 }]);
  const p = (await late.next('publish')) as IPublishPacket;
  assert.deepEqual([p.retain, p.qos, p.payload.toString()], [true, 1, 'kept']);
});

test('[MQTT-3.3.1-7] [MQTT-3.3.1-12] a retained QoS 0 message replaces the previous one; a non-retained one changes nothing', async () => {
  const topic = `ret/${id('t')}`;
  const c = await connected();
  c.publish(topic, 'first', 1, { id: 1, retain: true });
  await c.next('puback');
  c.publish(topic, 'second', 0, { retain: true });
  c.publish(topic, 'plain', 1, { id: 2 });
  await c.next('puback');
  const late = await connected();
  await late.subscribe([{ topic, qos: 1 }]);
  const p = (await late.next('publish')) as IPublishPacket;
  assert.deepEqual([p.payload.toString(), p.qos, p.retain], ['second', 0, true]);
  assert.deepEqual((await late.barrier()).map(describe), []);
});

test('[MQTT-3.3.1-10] [MQTT-3.3.1-11] a retained message with an empty payload is delivered and removes the retained one', async () => {
  const topic = `ret/${id('t')}`;
  const c = await connected();
  c.publish(topic, 'kept', 1, { id: 1, retain: true });
  await c.next('puback');
  const sub = await connected();
  await sub.subscribe([{ topic, qos: 0 }]);
  await sub.next('publish');
  c.publish(topic, '', 1, { id: 2, retain: true });
  await c.next('puback');
  const p = (await sub.next('publish')) as IPublishPacket;
  assert.equal(p.payload.length, 0, 'processed as normal');
  const late = await connected();
  await late.subscribe([{ topic, qos: 0 }]);
  assert.deepEqual((await late.barrier()).map(describe), [], 'no retained message any more');
});

test('[MQTT-3.3.2-2] [MQTT-4.7.1-1] a wildcard in a PUBLISH topic name closes the connection', async () => {
  for (const t of ['a/+', 'a/#'])
    assert.deepEqual(await closesOn(frame(0x30, [...str(t), 0x31]), { connectFirst: true }), [], t);
});

test('[MQTT-4.7.3-1] an empty topic name closes the connection', async () => {
  assert.deepEqual(await closesOn(frame(0x30, [...str(''), 0x31]), { connectFirst: true }), []);
});

test('[MQTT-4.7.3-2] [MQTT-1.5.3-2] a topic with U+0000 closes the connection', async () => {
  assert.deepEqual(
    await closesOn(frame(0x30, [0, 3, 0x61, 0x00, 0x62, 0x31]), { connectFirst: true }),
    [],
  );
});

test('[MQTT-1.5.3-1] deviation: ill-formed UTF-8 in a topic is decoded with U+FFFD instead of closing', async () => {
  // Documented in docs/mqtt-conformance.md: mqtt-packet decodes strings with
  // Buffer#toString, which replaces ill-formed sequences; the bytes are gone by the time any
  // hook sees the topic. The test pins the behaviour so that a change is noticed.
  const sub = await connected();
  await sub.subscribe([{ topic: 'utf/#', qos: 0 }]);
  const c = await connected();
  c.send(frame(0x30, [0, 7, 0x75, 0x74, 0x66, 0x2f, 0xed, 0xa0, 0x80, 0x31]));
  const p = (await sub.next('publish')) as IPublishPacket;
  assert.equal(p.topic, 'utf/\uFFFD\uFFFD\uFFFD');
});

test('[MQTT-1.5.3-3] [MQTT-4.7.3-4] U+FEFF is kept and topics are matched byte for byte, without normalisation', async () => {
  const bom = '\uFEFFbom/é';
  const sub = await connected();
  await sub.subscribe([
    { topic: bom, qos: 0 },
    { topic: 'bom/e\u0301', qos: 0 },
  ]);
  const c = await connected();
  c.publish(bom, 'x', 0);
  c.publish('bom/é', 'nfc-without-bom', 0);
  const p = (await sub.next('publish')) as IPublishPacket;
  assert.equal(p.topic, bom);
  assert.deepEqual((await sub.barrier()).map(describe), []);
});

test('[MQTT-3.3.2-3] [MQTT-4.7.1-2] [MQTT-4.7.1-3] topic names sent match the filters: + one level, # the rest including the parent', async () => {
  const sub = await connected();
  const base = `m/${id('t')}`;
  await sub.subscribe([
    { topic: `${base}/+/x`, qos: 0 },
    { topic: `${base}/deep/#`, qos: 0 },
  ]);
  const c = await connected();
  for (const t of [
    `${base}/a/x`,
    `${base}/a/b/x`,
    `${base}/deep`,
    `${base}/deep/1/2`,
    `${base}//x`,
    `${base}/a/y`,
  ])
    c.publish(t, t, 0);
  c.publish(`${base}/end/x`, 'end', 0);
  const got: string[] = [];
  for (;;) {
    const p = (await sub.next('publish')) as IPublishPacket;
    if (p.payload.toString() === 'end') break;
    got.push(p.topic.slice(base.length));
  }
  assert.deepEqual(got, ['/a/x', '/deep', '/deep/1/2', '//x']);
});

test('[MQTT-4.7.2-1] filters starting with a wildcard do not match topics starting with $', async () => {
  const sub = await connected();
  await sub.subscribe([
    { topic: '#', qos: 0 },
    { topic: '+/heartbeat', qos: 0 },
  ]);
  // Connecting makes aedes publish $SYS/<id>/new/clients; then a marker of our own.
  const c = await connected();
  const marker = `plain/${id('after')}`;
  c.publish(marker, 'x', 0);
  for (;;) {
    const p = (await sub.next('publish')) as IPublishPacket;
    assert.ok(!p.topic.startsWith('$'), `a $ topic matched a wildcard filter: ${p.topic}`);
    if (p.topic === marker) break;
  }
});

test('[MQTT-3.3.5-1] overlapping subscriptions: the message is delivered at the maximum QoS of the matching ones', async () => {
  const base = `ov/${id('t')}`;
  const sub = await connected();
  await sub.subscribe([
    { topic: `${base}/#`, qos: 0 },
    { topic: `${base}/+`, qos: 2 },
  ]);
  const c = await connected();
  c.publish(`${base}/a`, 'x', 2, { id: 1 });
  await c.next('pubrec');
  c.send({ cmd: 'pubrel', messageId: 1 });
  const copies: number[] = [];
  const p = (await sub.next('publish')) as IPublishPacket;
  copies.push(p.qos);
  copies.push(...(await sub.barrier()).filter((x) => x.cmd === 'publish').map((x) => x.qos));
  assert.ok(copies.includes(2), `copies at QoS ${copies.join(',')}`);
});

test('[MQTT-3.3.5-2] a PUBLISH the ACL refuses is not acknowledged: the connection is closed', async () => {
  const c = await connected();
  c.publish('$SYS/forbidden', 'x', 1, { id: 3 });
  await c.waitClosed();
  assert.deepEqual(c.drain().map(describe), []);
});

// 3.6 PUBREL, 3.8 SUBSCRIBE, 3.10 UNSUBSCRIBE, 3.12 PINGREQ, 3.14 DISCONNECT -------------

test('[MQTT-3.6.1-1] [MQTT-2.2.2-2] PUBREL with reserved bits 0000 closes the connection', async () => {
  assert.deepEqual(await closesOn(frame(0x60, [0, 1]), { connectFirst: true }), []);
});

test('[MQTT-3.8.1-1] SUBSCRIBE with reserved bits 0000 closes the connection', async () => {
  assert.deepEqual(await closesOn(frame(0x80, [0, 1, ...str('a'), 0]), { connectFirst: true }), []);
});

test('[MQTT-3.8.3-3] SUBSCRIBE without a topic filter closes the connection', async () => {
  assert.deepEqual(await closesOn(frame(0x82, [0, 1]), { connectFirst: true }), []);
});

test('[MQTT-3-8.3-4] SUBSCRIBE with requested QoS 3 closes the connection', async () => {
  assert.deepEqual(await closesOn(frame(0x82, [0, 1, ...str('a'), 3]), { connectFirst: true }), []);
});

test('[MQTT-3.8.4-1] [MQTT-3.8.4-2] [MQTT-3.8.4-4] [MQTT-3.8.4-5] [MQTT-3.9.3-1] [MQTT-3.9.3-2] [MQTT-2.3.1-7] one SUBACK, same id, a code per filter in order (0x80 for a refused one)', async () => {
  const c = await connected(id('limited'), {
    username: 'limited',
    password: Buffer.from('limited-pw'),
  });
  const ack: ISubackPacket = await c.subscribe(
    [
      { topic: 's/2', qos: 2 },
      { topic: 's/0', qos: 0 },
      { topic: 'not/allowed', qos: 1 },
      { topic: 's/1', qos: 1 },
    ],
    4711,
  );
  assert.equal(ack.messageId, 4711);
  assert.deepEqual(ack.granted, [2, 0, 128, 1]);
  assert.deepEqual((await c.barrier()).map(describe), []);
});

test('[MQTT-4.7.1-2] [MQTT-4.8.0-1] a filter with # not last is a protocol violation: closed', async () => {
  const c = await connected();
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#/b', qos: 1 }] });
  await c.waitClosed();
  assert.deepEqual(c.drain().map(describe), []);
});

test('[MQTT-3.8.4-3] subscribing again with the same filter replaces the subscription and re-sends retained messages', async () => {
  const topic = `rs/${id('t')}`;
  const c = await connected();
  c.publish(topic, 'r', 1, { id: 1, retain: true });
  await c.next('puback');
  const sub = await connected();
  await sub.subscribe([{ topic, qos: 1 }]);
  sub.send({
    cmd: 'puback',
    messageId: ((await sub.next('publish')) as IPublishPacket).messageId as number,
  });
  await sub.subscribe([{ topic, qos: 0 }], 2);
  const again = (await sub.next('publish')) as IPublishPacket;
  assert.deepEqual([again.retain, again.qos], [true, 0]);
  c.publish(topic, 'live', 1, { id: 2 });
  const live = (await sub.next('publish')) as IPublishPacket;
  assert.deepEqual([live.payload.toString(), live.qos], ['live', 0], 'one subscription, now QoS 0');
  assert.deepEqual((await sub.barrier()).map(describe), []);
});

test('[MQTT-3.10.1-1] UNSUBSCRIBE with reserved bits 0000 closes the connection', async () => {
  assert.deepEqual(await closesOn(frame(0xa0, [0, 1, ...str('a')]), { connectFirst: true }), []);
});

test('[MQTT-3.10.3-2] deviation: UNSUBSCRIBE without a topic filter is answered with UNSUBACK instead of closing', async () => {
  // Documented in docs/mqtt-conformance.md: mqtt-packet decodes it, aedes acknowledges an
  // empty list; nothing changes. The test pins the behaviour so that a change is noticed.
  const c = await connected();
  c.send(frame(0xa2, [0, 1]));
  assert.equal(describe(await c.next()), 'unsuback(1)');
});

test('[MQTT-3.10.4-1] [MQTT-3.10.4-2] [MQTT-3.10.4-4] [MQTT-3.10.4-5] [MQTT-3.10.4-6] UNSUBSCRIBE: exact filters removed, one UNSUBACK with the same id even when nothing matched; no more messages', async () => {
  const base = `us/${id('t')}`;
  const sub = await connected();
  await sub.subscribe([{ topic: `${base}/#`, qos: 0 }]);
  sub.send({
    cmd: 'unsubscribe',
    messageId: 77,
    unsubscriptions: [`${base}/+`, 'never/subscribed'],
  });
  assert.equal(describe(await sub.next()), 'unsuback(77)');
  const c = await connected();
  c.publish(`${base}/a`, 'still', 0);
  assert.equal(
    ((await sub.next('publish')) as IPublishPacket).payload.toString(),
    'still',
    'not an exact match: kept',
  );
  sub.send({ cmd: 'unsubscribe', messageId: 78, unsubscriptions: [`${base}/#`] });
  assert.equal(describe(await sub.next()), 'unsuback(78)');
  c.publish(`${base}/a`, 'gone', 0);
  await c.barrier();
  assert.deepEqual((await sub.barrier()).map(describe), []);
});

test('[MQTT-3.12.4-1] PINGREQ is answered with PINGRESP', async () => {
  const c = await connected();
  c.send({ cmd: 'pingreq' });
  assert.equal((await c.next()).cmd, 'pingresp');
});

test('[MQTT-3.14.1-1] DISCONNECT with non-zero reserved bits closes the connection and the will is published', async () => {
  const topic = `will/${id('w')}`;
  const sub = await connected();
  await sub.subscribe([{ topic, qos: 0 }]);
  const c = await connected(id('wd'), {
    will: { topic, payload: Buffer.from('w'), qos: 0, retain: false },
  });
  c.send(Buffer.from([0xe1, 0]));
  await c.waitClosed();
  const p = (await sub.next('publish')) as IPublishPacket;
  assert.equal(p.payload.toString(), 'w', 'not a valid DISCONNECT: the will stands');
});

test('[MQTT-2.3.1-1] a QoS 1 PUBLISH with packet id 0 closes the connection', async () => {
  assert.deepEqual(
    await closesOn(frame(0x32, [...str('a'), 0, 0, 0x31]), { connectFirst: true }),
    [],
  );
});

test('[MQTT-4.6.0-6] [MQTT-4.5.0-1] messages of one client on one topic and QoS reach a subscriber in order', async () => {
  const topic = `ord/${id('t')}`;
  const sub = await connected();
  await sub.subscribe([{ topic, qos: 2 }]);
  const c = await connected();
  for (let i = 1; i <= 30; i++) c.publish(topic, String(i), 1, { id: i });
  const got: number[] = [];
  while (got.length < 30) {
    const p = (await sub.next('publish', { skip: true })) as IPublishPacket;
    sub.send({ cmd: 'puback', messageId: p.messageId as number });
    got.push(Number(p.payload.toString()));
  }
  assert.deepEqual(
    got,
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
});
