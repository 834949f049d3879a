import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { IPublishPacket } from 'mqtt-packet';
import { describe } from '../../helpers/raw-mqtt.js';
import { agentFor, rawClient, DURABILITY, type Durability } from './fixture.js';

// Retained messages sent because of a SUBSCRIBE (3.3.1.3), over raw sockets: the QoS they go
// out at for wildcard filters, and their QoS 1/2 flows to a persistent session (issue 19,
// session 3). Each case runs with both durabilities and with 1 and 2 ingest workers (with 2,
// the client's aedes is a worker's and its session state the main thread's).

const WORKERS = [1, 2] as const;

/** An agent with a retained QoS 2 message on r/a and a retained QoS 1 message on r1/a. */
async function withRetained(t: TestContext, durability: Durability, workers: number) {
  const h = await agentFor(t, durability, { ingest: { workers } });
  const pub = await rawClient(t, h.port, 'ret-pub');
  pub.c.publish('r/a', 'R2', 2, { id: 1, retain: true });
  await pub.c.next('pubrec');
  pub.c.send({ cmd: 'pubrel', messageId: 1 });
  await pub.c.next('pubcomp');
  pub.c.publish('r1/a', 'R1', 1, { id: 2, retain: true });
  await pub.c.next('puback');
  return h;
}

const publishes = (ps: readonly { cmd: string }[]) =>
  ps.filter((p) => p.cmd === 'publish').map((p) => describe(p as IPublishPacket));

for (const durability of DURABILITY) {
  for (const workers of WORKERS) {
    const where = `${durability}, ${workers} ingest worker${workers > 1 ? 's' : ''}`;

    test(`[MQTT-3.8.4-6] [MQTT-3.3.5-1] a retained QoS 2 message goes out at the QoS granted to a wildcard filter (${where})`, async (t) => {
      const { port } = await withRetained(t, durability, workers);
      for (const [filter, granted, clean] of [
        ['r/#', 0, true],
        ['r/+', 1, true],
        ['r/a', 0, true],
        ['r/#', 1, false],
      ] as const) {
        const id = `ret-a-${filter.length}-${granted}-${clean}`;
        const c = (await rawClient(t, port, id, { clean })).c;
        await c.subscribe([{ topic: filter, qos: granted }]);
        const p = (await c.next('publish')) as IPublishPacket;
        assert.deepEqual(
          [p.topic, p.qos, p.retain, p.payload.toString()],
          ['r/a', granted, true, 'R2'],
          `${filter} granted ${granted}, clean ${clean}`,
        );
        if (p.qos === 1) c.send({ cmd: 'puback', messageId: p.messageId as number });
        assert.deepEqual(publishes(await c.barrier()), [], 'once');
        c.disconnect();
        await c.waitClosed();
      }
    });

    test(`[MQTT-4.3.3-1] a persistent session's retained QoS 2 message: PUBREC gets PUBREL, PUBCOMP ends it, nothing is left (${where})`, async (t) => {
      const { port } = await withRetained(t, durability, workers);
      const c = (await rawClient(t, port, 'ret-b', { clean: false })).c;
      await c.subscribe([{ topic: 'r/a', qos: 2 }]);
      const p = (await c.next('publish')) as IPublishPacket;
      assert.deepEqual([p.qos, p.retain, p.payload.toString()], [2, true, 'R2']);
      c.send({ cmd: 'pubrec', messageId: p.messageId as number });
      // Before the fix: the PUBREC found no queue entry and the connection was closed.
      const rel = await c.next('pubrel');
      assert.equal((rel as { messageId: number }).messageId, p.messageId);
      c.send({ cmd: 'pubcomp', messageId: p.messageId as number });
      c.disconnect();
      await c.waitClosed();
      const back = (await rawClient(t, port, 'ret-b', { clean: false })).c;
      assert.deepEqual(publishes(await back.barrier()), [], 'nothing left in the session');
    });

    test(
      `[MQTT-4.4.0-1] [MQTT-3.3.1-1] a persistent session's unacknowledged retained QoS 1 message is resent on reconnect with DUP=1 and the same id, once (${where})`,
      { timeout: 60_000 },
      async (t) => {
        const h = await withRetained(t, durability, workers);
        const c = (await rawClient(t, h.port, 'ret-c', { clean: false })).c;
        await c.subscribe([{ topic: 'r1/a', qos: 1 }]);
        const p = (await c.next('publish')) as IPublishPacket;
        assert.deepEqual([p.qos, p.retain, p.dup, p.payload.toString()], [1, true, false, 'R1']);
        c.destroy();
        await c.waitClosed();
        // Before the fix nothing came: the message was never in the session's queue. This
        // waits for the PUBLISH, not for a time; the test's timeout (60 s) only bounds a run
        // where it never comes.
        const back = (await rawClient(t, h.port, 'ret-c', { clean: false })).c;
        const again = (await back.next('publish')) as IPublishPacket;
        assert.equal(
          describe(again),
          `publish(r1/a q1 id=${p.messageId} dup=true retain=false "R1")`,
        );
        back.send({ cmd: 'puback', messageId: again.messageId as number });
        assert.deepEqual(publishes(await back.barrier()), [], 'once');
        back.disconnect();
        await back.waitClosed();
        if (durability === 'wal') {
          // Acknowledged: not there after a restart either.
          const port = await h.restart();
          const last = (await rawClient(t, port, 'ret-c', { clean: false })).c;
          assert.deepEqual(publishes(await last.barrier()), [], 'nothing left after a restart');
        }
      },
    );

    test(`3.8.4: overlapping filters in one SUBSCRIBE are handled as a sequence of SUBSCRIBEs: the retained message comes once per filter, at most at the highest QoS granted to a matching filter (${where})`, async (t) => {
      const { port } = await withRetained(t, durability, workers);
      const c = (await rawClient(t, port, 'ret-d')).c;
      await c.subscribe([
        { topic: 'r/#', qos: 0 },
        { topic: 'r/+', qos: 1 },
      ]);
      const got = [(await c.next('publish')) as IPublishPacket];
      got.push((await c.next('publish')) as IPublishPacket);
      for (const p of got) c.send({ cmd: 'puback', messageId: p.messageId as number });
      assert.deepEqual(
        got.map((p) => [p.topic, p.qos, p.retain]),
        [
          ['r/a', 1, true],
          ['r/a', 1, true],
        ],
      );
      assert.deepEqual(publishes(await c.barrier()), []);
    });
  }
}
