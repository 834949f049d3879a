import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IPubrecPacket } from 'mqtt-packet';
import type { RawMqtt } from '../../helpers/raw-mqtt.js';
import { agentFor, rawClient, DURABILITY } from './fixture.js';

// Issue 19 D5: mqtt.limits.maxInflight bounds the inbound QoS 2 messages awaiting PUBREL per
// client id across its reconnections (a persistent session keeps them), and
// maxInflightTotal bounds them over all clients. Before, aedes counted per connection: a
// clean:false client that reconnected and never sent PUBREL grew the held ids without end.

const limits = { maxInflight: 5, maxInflightTotal: 8 };

/** Publishes QoS 2 `ids` without PUBREL; resolves with the PUBREC ids received. */
async function holdIds(c: RawMqtt, ids: number[]): Promise<number[]> {
  for (const id of ids) c.publish('sensors/d5/t', String(id), 2, { id });
  const got: number[] = [];
  for (const _ of ids) got.push(((await c.next('pubrec')) as IPubrecPacket).messageId ?? -1);
  return got;
}

async function metric(http: string, line: string): Promise<string | undefined> {
  const text = await (await fetch(`${http}/metrics`)).text();
  return text.split('\n').find((l) => l.startsWith(line));
}

for (const durability of DURABILITY) {
  test(`D5: maxInflight counts a client id's held QoS 2 ids across reconnections; the next new id closes the connection unacknowledged (${durability})`, async (t) => {
    const h = await agentFor(t, durability, { mqtt: { limits } });
    const first = await rawClient(t, h.port, 'd5', { clean: false });
    assert.deepEqual(await holdIds(first.c, [1, 2, 3]), [1, 2, 3]);
    first.c.destroy();
    const p2 = durability === 'wal' ? await h.restart() : h.port;
    const second = await rawClient(t, p2, 'd5', { clean: false });
    assert.deepEqual(await holdIds(second.c, [4, 5]), [4, 5]);
    // A sixth id: refused. A retransmission of a held one is still answered.
    second.c.publish('sensors/d5/t', '6', 2, { id: 6 });
    await second.c.waitClosed();
    assert.deepEqual(
      second.c.pending().map((p) => p.cmd),
      [],
      'no PUBREC for the refused message',
    );
    const third = await rawClient(t, p2, 'd5', { clean: false });
    assert.deepEqual(await holdIds(third.c, [3]), [3], 'a held id is still recognised');
    // Completing one frees a slot.
    third.c.send({ cmd: 'pubrel', messageId: 1 });
    await third.c.next('pubcomp');
    assert.deepEqual(await holdIds(third.c, [6]), [6]);
    const http = `http://127.0.0.1:${h.agent.addresses.http.port}`;
    assert.equal(
      await metric(http, 'edgeflow_mqtt_violations_total{kind="inflight_exceeded"}'),
      'edgeflow_mqtt_violations_total{kind="inflight_exceeded"} 1',
    );
    if (durability === 'wal')
      assert.equal(
        await metric(http, 'edgeflow_mqtt_inflight_inbound '),
        'edgeflow_mqtt_inflight_inbound 5',
      );
  });

  test(`D5: maxInflightTotal bounds the held ids over all clients (${durability})`, async (t) => {
    const h = await agentFor(t, durability, { mqtt: { limits } });
    const a = await rawClient(t, h.port, 'd5-a', { clean: false });
    assert.deepEqual(await holdIds(a.c, [1, 2, 3, 4, 5]), [1, 2, 3, 4, 5]);
    const b = await rawClient(t, h.port, 'd5-b', { clean: false });
    assert.deepEqual(await holdIds(b.c, [1, 2, 3]), [1, 2, 3]);
    b.c.publish('sensors/d5/t', '4', 2, { id: 4 });
    await b.c.waitClosed();
    // A clean-session client's ids go when it disconnects: room again.
    a.c.destroy();
    const clean = await rawClient(t, h.port, 'd5-a', { clean: true });
    clean.c.disconnect();
    await clean.c.waitClosed();
    const b2 = await rawClient(t, h.port, 'd5-b', { clean: false });
    assert.deepEqual(await holdIds(b2.c, [4, 5]), [4, 5]);
  });
}
