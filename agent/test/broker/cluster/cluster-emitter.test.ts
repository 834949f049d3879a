import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { ClusterEmitter, type WirePacket } from '../../../src/broker/cluster/cluster-emitter.js';

const pkt = (topic: string, n: number): WirePacket => ({
  cmd: 'publish',
  topic,
  payload: Buffer.from(String(n)),
  qos: 1,
  retain: false,
  dup: false,
  brokerId: 'w0',
  brokerCounter: n,
});

const settle = () => new Promise((r) => setTimeout(r, 20));

test('a message reaches the other worker only when a subscriber there matches, in order', async () => {
  const { port1, port2 } = new MessageChannel();
  const a = new ClusterEmitter([port1], { concurrency: 100 });
  const b = new ClusterEmitter([port2], { concurrency: 100 });
  try {
    const got: string[] = [];
    b.on('sensors/+/t', (p, cb) => {
      const payload = (p as WirePacket).payload;
      assert.ok(Buffer.isBuffer(payload), 'payload arrives as a Buffer');
      got.push(payload.toString());
      cb();
    });
    await settle();
    for (let n = 1; n <= 50; n++) a.emit(pkt('sensors/d/t', n));
    a.emit(pkt('other/topic', 99));
    await settle();
    assert.deepEqual(
      got,
      Array.from({ length: 50 }, (_, i) => String(i + 1)),
    );
    const local: string[] = [];
    a.on('other/#', (p, cb) => {
      local.push((p as WirePacket).topic);
      cb();
    });
    a.emit(pkt('other/topic', 100));
    await settle();
    assert.deepEqual(local, ['other/topic'], 'local subscribers get it from the local emitter');
  } finally {
    await new Promise<void>((r) => a.close(r));
    await new Promise<void>((r) => b.close(r));
    port1.close();
    port2.close();
  }
});
