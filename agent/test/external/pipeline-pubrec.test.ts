import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MqttClient, Packet } from 'mqtt';
import { pipelinePubrec } from '../../src/external/external-subscriber.js';

function fakeClient() {
  const sent: string[] = [];
  const client = {
    _sendPacket(packet: Packet, cb?: () => void) {
      sent.push(`${packet.cmd}:${String((packet as { messageId?: number }).messageId)}`);
      cb?.();
    },
  };
  return { client: client as unknown as MqttClient, sent };
}

function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

test('PUBREC waits for its record; mqtt.js is told at once so it reads the next packet', async () => {
  const { client, sent } = fakeClient();
  const gates = new Map<number, Promise<void>>();
  assert.equal(pipelinePubrec(client, { gate: (m) => gates.get(m) }), true);
  const g1 = deferred();
  const g2 = deferred();
  gates.set(1, g1.promise);
  gates.set(2, g2.promise);
  const done: number[] = [];
  const wrapped = client as unknown as { _sendPacket: (p: Packet, cb?: () => void) => void };
  const send = (p: Packet, cb?: () => void) => wrapped._sendPacket(p, cb);
  send({ cmd: 'pubrec', messageId: 1 }, () => done.push(1));
  send({ cmd: 'pubrec', messageId: 2 }, () => done.push(2));
  send({ cmd: 'pubcomp', messageId: 7 }, () => done.push(7));
  assert.deepEqual(done, [1, 2, 7], 'callbacks at once');
  assert.deepEqual(sent, ['pubcomp:7'], 'no PUBREC before its record is on disk');
  g1.resolve();
  await g1.promise;
  await Promise.resolve();
  assert.deepEqual(sent, ['pubcomp:7', 'pubrec:1']);
  g2.reject(new Error('disk full'));
  await g2.promise.catch(() => undefined);
  await Promise.resolve();
  assert.deepEqual(sent, ['pubcomp:7', 'pubrec:1'], 'a record that failed never gets PUBREC');
  send({ cmd: 'pubrec', messageId: 3 });
  assert.deepEqual(sent.at(-1), 'pubrec:3', 'nothing pending: sent at once');
});

test('without _sendPacket nothing is wrapped (the store stays one fsync per message)', () => {
  assert.equal(pipelinePubrec({} as MqttClient, { gate: () => undefined }), false);
});
