import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutgoingStore } from '../../src/broker/outgoing-store.js';
import { allocateIdsSkippingInFlight } from '../../src/broker/packet-ids.js';

/** What aedes's QoSPacket does with the client's counter (lib/qos-packet.js). */
function nextIdLikeAedes(client: { _nextId: number }): number {
  const id = client._nextId;
  if (client._nextId >= 65535) client._nextId = 1;
  else client._nextId++;
  return id;
}

test('new ids skip the ids still in flight in the outgoing queue', () => {
  const store = new OutgoingStore();
  for (const [counter, id] of [
    [1, 100],
    [2, 101],
    [3, 103],
  ] as const) {
    store.enqueue('sub', { cmd: 'publish', brokerId: 'b', brokerCounter: counter });
    assert.equal(
      store.update('sub', { cmd: 'publish', brokerId: 'b', brokerCounter: counter, messageId: id }),
      true,
    );
  }
  const client = { id: 'sub', _nextId: 100 };
  allocateIdsSkippingInFlight(client, (c, m) => store.idInUse(c, m));
  assert.deepEqual(
    [nextIdLikeAedes(client), nextIdLikeAedes(client), nextIdLikeAedes(client)],
    [102, 104, 105],
  );
});

test('the counter wraps from 65535 to 1 and skips ids in flight there too', () => {
  const inFlight = new Set([65535, 1]);
  const client = { id: 'sub', _nextId: 65534 };
  allocateIdsSkippingInFlight(client, (_c, m) => inFlight.has(m));
  assert.deepEqual(
    [nextIdLikeAedes(client), nextIdLikeAedes(client), nextIdLikeAedes(client)],
    [65534, 2, 3],
  );
});

test('before CONNECT names the client, the counter is returned unchanged', () => {
  const client: { id?: string; _nextId: number } = { _nextId: 7 };
  allocateIdsSkippingInFlight(client, () => true);
  assert.equal(client._nextId, 7);
  client._nextId = 0; // out of range: back to 1
  assert.equal(client._nextId, 1);
});

test('a PUBREL replaces the entry that holds its packet id, and PUBCOMP removes it', () => {
  const store = new OutgoingStore();
  store.enqueue('s', { cmd: 'publish', brokerId: 'b', brokerCounter: 1 });
  store.enqueue('s', { cmd: 'publish', brokerId: 'b', brokerCounter: 2 });
  store.update('s', { cmd: 'publish', brokerId: 'b', brokerCounter: 1, messageId: 5 });
  store.update('s', { cmd: 'publish', brokerId: 'b', brokerCounter: 2, messageId: 6 });
  assert.equal(store.update('s', { cmd: 'pubrel', messageId: 6 }), true);
  assert.deepEqual(
    store.list('s').map((p) => [p.cmd, p.messageId]),
    [
      ['publish', 5],
      ['pubrel', 6],
    ],
  );
  assert.equal(store.update('s', { cmd: 'pubrel', messageId: 9 }), false);
  assert.equal(store.clear('s', 6)?.cmd, 'pubrel');
  assert.equal(store.idInUse('s', 6), false);
  assert.equal(store.size, 1);
});
