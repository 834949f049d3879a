import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { SessionHost } from '../../../src/broker/cluster/session-host.js';
import type { SubsChange } from '../../../src/broker/cluster/session-api.js';
import { MemoryPersistence } from '../../../src/broker/memory-persistence.js';

function host() {
  const persistence = new MemoryPersistence();
  const parked = new Map<string, Map<number, string>>();
  const held = new Map<string, [number, string][]>(); // what each (worker:client) would hand back
  const releases: string[] = [];
  const changes: SubsChange[] = [];
  const subsEpoch = new Int32Array(1);
  const h = new SessionHost({
    persistence,
    parked,
    links: {
      subsEpoch,
      release: (w, c) => {
        releases.push(`${w}:${c}`);
        return Promise.resolve(held.get(`${w}:${c}`) ?? []);
      },
      broadcast: (change) => changes.push(change),
    },
    log: pino({ level: 'silent' }),
    now: Date.now,
    sessionExpirySec: 0,
  });
  return { h, persistence, parked, held, releases, changes, subsEpoch };
}

test('a claim moves a client: the old worker releases it, its ids go to the new one', async () => {
  const { h, parked, held, releases } = host();
  parked.set('c', new Map([[5, 't']]));
  const g1 = await h.api(0).claim('c');
  assert.deepEqual(g1.incoming, [[5, 't']], 'parked ids go to the claiming worker');
  assert.equal(parked.has('c'), false);
  held.set('0:c', [
    [5, 't'],
    [6, 't'],
  ]);
  const g2 = await h.api(1).claim('c');
  assert.deepEqual(releases, ['0:c']);
  assert.deepEqual(g2.incoming, [
    [5, 't'],
    [6, 't'],
  ]);
  assert.ok(g2.seq > g1.seq);
});

test('a park from a worker that no longer serves the client changes nothing', async () => {
  const { h, parked } = host();
  const g1 = await h.api(0).claim('c');
  const g2 = await h.api(1).claim('c');
  h.park(0, 'c', g1.seq, [[1, 't']]);
  assert.equal(parked.has('c'), false, 'stale park ignored');
  h.park(1, 'c', g2.seq, [[2, 't']]);
  assert.deepEqual([...(parked.get('c') ?? [])], [[2, 't']]);
  // Parked: the next claim needs no release.
  const g3 = await h.api(0).claim('c');
  assert.deepEqual(g3.incoming, [[2, 't']]);
});

test('only the worker serving a client may change its queue', async () => {
  const { h, persistence } = host();
  await h.api(0).claim('s');
  await persistence.outgoingEnqueueCombi([{ clientId: 's' }], {
    cmd: 'publish',
    topic: 'a',
    payload: Buffer.from('x'),
    qos: 1,
    brokerId: 'b',
    brokerCounter: 1,
  });
  const packet = {
    cmd: 'publish',
    topic: 'a',
    qos: 1,
    brokerId: 'b',
    brokerCounter: 1,
    messageId: 9,
  };
  await assert.rejects(h.api(1).update('s', packet), { code: 'EDGEFLOW_CLIENT_MOVED' });
  await h.api(0).update('s', packet);
  assert.deepEqual(
    (await h.api(0).stream('s')).map((p) => p.messageId),
    [9],
  );
  await assert.rejects(h.api(1).clear('s', 9), { code: 'EDGEFLOW_CLIENT_MOVED' });
  assert.equal((await h.api(0).clear('s', 9))?.messageId, 9);
});

test('subscription changes reach every worker and count up the shared change number', async () => {
  const { h, changes, subsEpoch } = host();
  await h.api(0).subscribe('s', [{ topic: 'a/#', qos: 1 }]);
  await h.api(1).unsubscribe('s', ['a/#']);
  await h.api(0).subscribe('t', [{ topic: 'b', qos: 2 }]);
  assert.deepEqual(
    changes.map((c) => c.t),
    ['add', 'remove', 'add'],
  );
  assert.equal(Atomics.load(subsEpoch, 0), 3);
  assert.deepEqual(h.subscriptions(), [['t', [{ topic: 'b', qos: 2 }]]]);
});
