import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import pino from 'pino';
import { EmbeddedBroker } from '../../src/broker/embedded-broker.js';

/** A broker whose consumer holds each message until the test releases it. */
async function gatedBroker() {
  const held: { topic: string; qos: number; release: () => void }[] = [];
  const arrived: (() => void)[] = [];
  const broker = await EmbeddedBroker.start(
    { host: '127.0.0.1', port: 0, maxConnections: 10 },
    {
      log: pino({ level: 'silent' }),
      onPublish: (topic, _payload, _client, info) =>
        new Promise<void>((release) => {
          held.push({ topic, qos: info.qos, release });
          arrived.shift()?.();
        }),
    },
  );
  const nextHeld = () =>
    held.length > 0 ? Promise.resolve() : new Promise<void>((r) => arrived.push(r));
  return { broker, held, nextHeld };
}

for (const qos of [1, 2] as const) {
  test(`QoS ${qos}: the acknowledgement waits for the consumer (durable before it is sent)`, async (t) => {
    const { broker, held, nextHeld } = await gatedBroker();
    t.after(() => broker.close());
    const client = mqtt.connect(`mqtt://127.0.0.1:${broker.address.port}`, {
      clientId: `ack-${qos}`,
      reconnectPeriod: 0,
    });
    t.after(() => client.end(true));
    await new Promise((resolve) => client.once('connect', resolve));
    let acked = false;
    const done = new Promise<void>((resolve, reject) =>
      client.publish('sensors/d/t', '1', { qos }, (err) => {
        acked = true;
        if (err) reject(err);
        else resolve();
      }),
    );
    await nextHeld();
    // The consumer has the message and has not finished: a round trip on the same connection
    // (a PINGREQ answered after the PUBLISH was read) proves the ack is not merely in transit.
    client.sendPing();
    await new Promise((resolve) => client.once('packetreceive', resolve));
    assert.equal(acked, false, 'acknowledged before the consumer finished');
    assert.deepEqual(
      held.map((h) => [h.topic, h.qos]),
      [['sensors/d/t', qos]],
    );
    held[0]?.release();
    await done;
    assert.equal(held.length, 1, 'consumed once');
  });
}
