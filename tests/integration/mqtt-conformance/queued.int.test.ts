import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IPublishPacket } from 'mqtt-packet';
import { describe, type RawMqtt } from '../../helpers/raw-mqtt.js';
import { agentFor, rawClient, DURABILITY } from './fixture.js';

// Messages queued for a persistent session while its client is away, and their delivery
// when it comes back, over raw sockets: the flags mqtt.js hides (DUP, RETAIN, packet ids).

/** PUBLISH frames among `packets`, described. */
function publishes(packets: readonly { cmd: string }[]): string[] {
  return packets.filter((p) => p.cmd === 'publish').map((p) => describe(p as IPublishPacket));
}

/** Takes PUBLISH packets until one with payload `last` arrived; returns them all. */
async function until(c: RawMqtt, last: string): Promise<IPublishPacket[]> {
  const out: IPublishPacket[] = [];
  for (;;) {
    const p = (await c.next('publish')) as IPublishPacket;
    out.push(p);
    if (p.payload.toString() === last) return out;
  }
}

async function queueFor(
  port: number,
  t: Parameters<typeof rawClient>[0],
  qos: 1 | 2,
  n: number,
): Promise<void> {
  const pub = await rawClient(t, port, `pub-${qos}`);
  for (let i = 1; i <= n; i++) {
    pub.c.publish('q/m', `m${i}`, qos, { id: i, retain: i === 2 });
    await pub.c.next(qos === 1 ? 'puback' : 'pubrec');
    if (qos === 2) {
      pub.c.send({ cmd: 'pubrel', messageId: i });
      await pub.c.next('pubcomp');
    }
  }
}

for (const durability of DURABILITY) {
  for (const qos of [1, 2] as const) {
    test(`D3 [MQTT-3.3.1-1] [MQTT-4.3.2-1] [MQTT-3.3.1-9] D6: queued QoS ${qos} messages go out once each on reconnect, DUP=0, RETAIN=0; unacknowledged ones are resent with DUP=1 and the same id (${durability})`, async (t) => {
      const { port } = await agentFor(t, durability);
      const sub = await rawClient(t, port, `sub-${qos}`, { clean: false });
      await sub.c.subscribe([{ topic: 'q/#', qos }]);
      sub.c.disconnect();
      await sub.c.waitClosed();
      await queueFor(port, t, qos, 4);
      // First delivery: each message once, never flagged DUP, RETAIN 0 (established
      // subscription), in publish order [MQTT-4.6.0-6].
      const back = await rawClient(t, port, `sub-${qos}`, { clean: false });
      assert.equal(back.sessionPresent, true);
      const first = await until(back.c, 'm4');
      const extra = await back.c.barrier();
      const ids = first.map((p) => p.messageId);
      const expect = (dup: boolean) =>
        [1, 2, 3, 4].map(
          (n, i) => `publish(q/m q${qos} id=${ids[i]} dup=${dup} retain=false "m${n}")`,
        );
      assert.deepEqual([...first.map((p) => describe(p)), ...publishes(extra)], expect(false));
      assert.equal(new Set(ids).size, 4, 'distinct packet ids [MQTT-2.3.1-2]');
      // Acknowledge none; reconnect: the same four, same ids, DUP=1 ([MQTT-4.4.0-1]).
      back.c.destroy();
      const again = await rawClient(t, port, `sub-${qos}`, { clean: false });
      const resent = await until(again.c, 'm4');
      const more = await again.c.barrier();
      assert.deepEqual([...resent.map((p) => describe(p)), ...publishes(more)], expect(true));
      // Acknowledge all; reconnect: nothing is left.
      for (const p of resent) {
        again.c.send({ cmd: qos === 1 ? 'puback' : 'pubrec', messageId: p.messageId as number });
        if (qos === 2) {
          const rel = await again.c.next('pubrel');
          again.c.send({ cmd: 'pubcomp', messageId: (rel as { messageId: number }).messageId });
        }
      }
      assert.deepEqual(publishes(await again.c.barrier()), []);
      again.c.disconnect();
      await again.c.waitClosed();
      const last = await rawClient(t, port, `sub-${qos}`, { clean: false });
      assert.deepEqual(publishes(await last.c.barrier()), [], 'nothing left in the session');
    });
  }
}

for (const durability of DURABILITY) {
  test(`[MQTT-3.8.4-6] [MQTT-3.3.5-1] a queued message goes out at min(published QoS, granted QoS), once per client even with overlapping subscriptions (${durability})`, async (t) => {
    const { port } = await agentFor(t, durability);
    const sub = await rawClient(t, port, 'qd', { clean: false });
    await sub.c.subscribe([
      { topic: 'qd/#', qos: 1 },
      { topic: 'qd/+', qos: 0 },
    ]);
    sub.c.disconnect();
    await sub.c.waitClosed();
    const pub = await rawClient(t, port, 'qd-pub');
    pub.c.publish('qd/a', 'two', 2, { id: 1 });
    await pub.c.next('pubrec');
    pub.c.send({ cmd: 'pubrel', messageId: 1 });
    await pub.c.next('pubcomp');
    pub.c.publish('qd/a', 'end', 1, { id: 2 });
    await pub.c.next('puback');
    const back = await rawClient(t, port, 'qd', { clean: false });
    // Two messages of different published QoS: no order between them [MQTT-4.6.0-6].
    const got = [(await back.c.next('publish')) as IPublishPacket];
    got.push((await back.c.next('publish')) as IPublishPacket);
    assert.deepEqual(got.map((p) => `${p.payload.toString()} q${p.qos}`).sort(), [
      'end q1',
      'two q1',
    ]);
    for (const p of got) back.c.send({ cmd: 'puback', messageId: p.messageId as number });
    back.c.disconnect();
    await back.c.waitClosed();
    const last = await rawClient(t, port, 'qd', { clean: false });
    assert.deepEqual(publishes(await last.c.barrier()), [], 'nothing left in the session');
  });
}

for (const durability of DURABILITY) {
  test(`[MQTT-3.3.5-1] overlapping QoS 1 and QoS 2 filters of a persistent session: a queued message is delivered once, and not again on the next reconnect (${durability})`, async (t) => {
    const { port } = await agentFor(t, durability);
    const sub = await rawClient(t, port, 'ov', { clean: false });
    await sub.c.subscribe([
      { topic: 'ov/#', qos: 1 },
      { topic: 'ov/+', qos: 2 },
    ]);
    sub.c.disconnect();
    await sub.c.waitClosed();
    const pub = await rawClient(t, port, 'ov-pub');
    pub.c.publish('ov/a', 'one', 1, { id: 1 });
    await pub.c.next('puback');
    const back = await rawClient(t, port, 'ov', { clean: false });
    const got = await until(back.c, 'one');
    assert.deepEqual(
      got.map((p) => `${p.payload.toString()} q${p.qos}`),
      ['one q1'],
    );
    back.c.send({ cmd: 'puback', messageId: got[0]?.messageId as number });
    pub.c.publish('ov/a', 'marker', 1, { id: 2 });
    await pub.c.next('puback');
    const m = await until(back.c, 'marker');
    back.c.send({ cmd: 'puback', messageId: m.at(-1)?.messageId as number });
    assert.deepEqual(publishes(await back.c.barrier()), []);
    back.c.disconnect();
    await back.c.waitClosed();
    const last = await rawClient(t, port, 'ov', { clean: false });
    assert.deepEqual(publishes(await last.c.barrier()), [], 'nothing left in the session');
  });
}
