import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate, type IConnackPacket, type IPubrecPacket } from 'mqtt-packet';
import { RawMqtt, describe } from '../../helpers/raw-mqtt.js';
import { agentFor, rawClient, DURABILITY } from './fixture.js';

// MQTT 3.1.1 section 3.1 CONNECT and 3.2 CONNACK, server side, over raw sockets
// (docs/mqtt-conformance.md lists each clause with its test).

for (const durability of DURABILITY) {
  test(`[MQTT-3.1.3-8] D2: empty client id with CleanSession=0 gets CONNACK 2 and the connection is closed (${durability})`, async (t) => {
    const { port } = await agentFor(t, durability);
    const c = await RawMqtt.open(port);
    t.after(() => c.destroy());
    // mqtt-packet refuses to encode this CONNECT: encode it clean, then clear the flag.
    const bytes = generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId: '',
      clean: true,
      keepalive: 0,
    });
    assert.equal(bytes[9], 0x02, 'connect flags: CleanSession only');
    bytes[9] = 0x00;
    c.send(bytes);
    const connack = (await c.next('connack')) as IConnackPacket;
    assert.equal(connack.returnCode, 2, 'identifier rejected');
    assert.equal(connack.sessionPresent, false, '[MQTT-3.2.2-4]');
    await c.waitClosed();
  });

  test(`[MQTT-3.1.3-6] [MQTT-3.1.3-7] empty client id with CleanSession=1 is accepted with a server-assigned id (${durability})`, async (t) => {
    const { port } = await agentFor(t, durability);
    const { c, sessionPresent } = await rawClient(t, port, '', { clean: true });
    assert.equal(sessionPresent, false);
    assert.deepEqual(await c.barrier(), []);
  });

  test(`[MQTT-3.2.2-2] D4: session present = 1 when the session holds only an inbound QoS 2 id awaiting PUBREL (${durability})`, async (t) => {
    const h = await agentFor(t, durability);
    const port = h.port;
    const first = await rawClient(t, port, 'd4', { clean: false });
    assert.equal(first.sessionPresent, false, '[MQTT-3.2.2-3] no session yet');
    first.c.publish('sensors/d4/t', '1', 2, { id: 7 });
    const rec = (await first.c.next('pubrec')) as IPubrecPacket;
    assert.equal(rec.messageId, 7);
    first.c.destroy(); // no PUBREL: the id stays held by the session
    // With the write-ahead log the session survives a restart of the agent too.
    const p2 = durability === 'wal' ? await h.restart() : port;
    const again = await rawClient(t, p2, 'd4', { clean: false });
    assert.equal(again.sessionPresent, true, 'the broker holds state of this session');
    // The held id is still recognised: a retransmission is answered PUBREC, PUBREL -> PUBCOMP.
    again.c.publish('sensors/d4/t', '1', 2, { id: 7, dup: true });
    assert.equal(((await again.c.next('pubrec')) as IPubrecPacket).messageId, 7);
    again.c.send({ cmd: 'pubrel', messageId: 7 });
    assert.equal(describe(await again.c.next('pubcomp')), 'pubcomp(7)');
  });

  test(`[MQTT-3.2.2-2] a session with nothing in it is still a session: session present = 1 (${durability})`, async (t) => {
    const h = await agentFor(t, durability);
    const first = await rawClient(t, h.port, 'empty', { clean: false });
    first.c.disconnect();
    await first.c.waitClosed();
    const p2 = durability === 'wal' ? await h.restart() : h.port;
    const again = await rawClient(t, p2, 'empty', { clean: false });
    assert.equal(again.sessionPresent, true);
  });

  test(`[MQTT-3.2.2-1] CleanSession=1 gets session present = 0 even when a session existed (${durability})`, async (t) => {
    const { port } = await agentFor(t, durability);
    const first = await rawClient(t, port, 'sp', { clean: false });
    await first.c.subscribe([{ topic: 'x/#', qos: 1 }]);
    first.c.disconnect();
    await first.c.waitClosed();
    const clean = await rawClient(t, port, 'sp', { clean: true });
    assert.equal(clean.sessionPresent, false);
    clean.c.disconnect();
    await clean.c.waitClosed();
    // [MQTT-3.1.2-6]: the clean session discarded the old one.
    const after = await rawClient(t, port, 'sp', { clean: false });
    assert.equal(after.sessionPresent, false);
  });

  test(`[MQTT-3.1.2-2] MQTT 5 CONNECT (protocol level 5) is refused with CONNACK 1 and closed (${durability})`, async (t) => {
    const { port } = await agentFor(t, durability);
    const c = await RawMqtt.open(port);
    t.after(() => c.destroy());
    // A v5 CONNECT encoded by hand as mqtt-packet's v4 parser would not read a v5 CONNACK:
    // fixed header, "MQTT", level 5, flags clean, keepalive 0, properties length 0, id "v5".
    c.send(
      Buffer.from([0x10, 15, 0, 4, 0x4d, 0x51, 0x54, 0x54, 5, 0x02, 0, 0, 0, 0, 2, 0x76, 0x35]),
    );
    const connack = (await c.next('connack')) as IConnackPacket;
    assert.equal(connack.returnCode, 1, 'unacceptable protocol version');
    assert.equal(connack.sessionPresent, false);
    await c.waitClosed();
  });
}
