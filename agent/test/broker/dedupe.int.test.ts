import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { generate } from 'mqtt-packet';
import { Aedes } from 'aedes';

// Patch `dedupe-by-message` (patches/aedes+1.2.0.patch): aedes's per-client duplicate filter
// dropped every message numbered below the highest one a client had received, assuming that
// messages reach its emitter in numbering order. A retained PUBLISH waits for the persistence
// (storeRetained) and a plain one does not, so with both in one TCP segment the plain one got
// there first and the retained one was lost at every subscriber ([MQTT-3.3.1-5]: the server
// must deliver a retained PUBLISH to current subscribers like any other). Fails on aedes 1.2.0
// as published (10 of 20 delivered).
test('patch dedupe-by-message: a retained then a plain PUBLISH in one segment both reach the subscriber', async (t) => {
  // aedes alone, with its own in-memory persistence: the bug and the patch are aedes's.
  const aedes = await Aedes.createBroker();
  const server = createServer((s) => aedes.handle(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => aedes.close(() => server.close(() => r()))));
  const port = (server.address() as AddressInfo).port;
  const url = `mqtt://127.0.0.1:${port}`;
  const sub = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  t.after(() => sub.endAsync(true));
  await sub.subscribeAsync('t/#', { qos: 0 });
  const got: string[] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  sub.on('message', (_t, p) => {
    got.push(p.toString());
    if (p.toString() === 'end') done();
  });
  const sock = connect(port, '127.0.0.1');
  t.after(() => sock.destroy());
  await once(sock, 'connect');
  sock.write(
    generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: 'raw-pub',
      keepalive: 0,
    }),
  );
  await once(sock, 'data'); // CONNACK
  const frames: Buffer[] = [];
  for (let i = 0; i < 10; i++)
    frames.push(
      generate({
        cmd: 'publish',
        topic: 't/r',
        payload: `r${i}`,
        qos: 0,
        retain: true,
        dup: false,
      }),
      generate({
        cmd: 'publish',
        topic: 't/n',
        payload: `n${i}`,
        qos: 0,
        retain: false,
        dup: false,
      }),
    );
  sock.write(Buffer.concat(frames));
  // The end marker is retained too: it is emitted after every earlier retained one.
  sock.write(
    generate({ cmd: 'publish', topic: 't/r', payload: 'end', qos: 0, retain: true, dup: false }),
  );
  await all;
  got.pop();
  assert.deepEqual(
    got.filter((s) => s.startsWith('r')),
    Array.from({ length: 10 }, (_, i) => `r${i}`),
    `retained messages lost: got ${got.join(' ')}`,
  );
  assert.equal(got.length, 20);
});
