import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDurablePersistence, readAll } from './durable-fixture.js';
import type { Client } from 'aedes';

const open = openDurablePersistence;

const sub = { id: 'sub-1' } as Client;
const msg = (n: number, qos = 2) => ({
  cmd: 'publish',
  brokerId: 'broker-a',
  brokerCounter: n,
  topic: `sensors/d/s${n}`,
  payload: Buffer.from(`m${n}`),
  qos,
  retain: false,
  dup: false,
  messageId: undefined,
});

// A SIGKILL is simulated by opening the same directory again without closing the first log:
// no final checkpoint, only what the group commits put on disk.
test('subscriptions, retained messages and outgoing queues survive a crash', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-sessions-'));
  const a = await open(dir);
  await a.p.addSubscriptions(sub, [
    { topic: 'sensors/#', qos: 2 },
    { topic: 'events/#', qos: 1 },
  ]);
  await a.p.removeSubscriptions(sub, ['events/#']);
  await a.p.storeRetained({ ...msg(0, 1), topic: 'status/d', retain: true });
  for (const n of [1, 2, 3, 4]) await a.p.outgoingEnqueueCombi([{ clientId: sub.id }], msg(n, 1));
  // 1: sent with id 10, PUBREC arrived (now a PUBREL); 2: sent with id 11; 3: sent with id 12,
  // completed; 4: not sent yet.
  await a.p.outgoingUpdate(sub, { ...msg(1), messageId: 10 });
  await a.p.outgoingUpdate(sub, { cmd: 'pubrel', messageId: 10 });
  await a.p.outgoingUpdate(sub, { ...msg(2), messageId: 11 });
  await a.p.outgoingUpdate(sub, { ...msg(3), messageId: 12 });
  await a.p.outgoingClearMessageId(sub, { messageId: 12 });
  // One more waited record: everything appended before it is on disk too.
  await a.p.addSubscriptions({ id: 'sub-2' }, [{ topic: 'x', qos: 1 }]);

  const b = await open(dir);
  assert.deepEqual(
    ((await b.p.subscriptionsByClient(sub)) ?? []).map((s) => [s.topic, s.qos]),
    [['sensors/#', 2]],
  );
  const retained = await readAll<{ topic: string; payload: Buffer }>(
    b.p.createRetainedStream('status/#'),
  );
  assert.deepEqual(
    retained.map((r) => [r.topic, r.payload.toString()]),
    [['status/d', 'm0']],
  );
  const queue = await readAll<{ cmd: string; messageId?: number; payload?: Buffer }>(
    b.p.outgoingStream(sub),
  );
  assert.deepEqual(
    queue.map((q) => [q.cmd, q.messageId, q.payload?.toString()]),
    [
      ['pubrel', 10, undefined],
      ['publish', 11, 'm2'],
      ['publish', undefined, 'm4'],
    ],
  );
  assert.equal(b.p.outgoingIdInUse(sub.id, 10), true);
  assert.equal(b.p.outgoingIdInUse(sub.id, 12), false);

  // The resend after a reconnect carries the committed id: nothing to write for it; a new id
  // is written (and waited for) before the PUBLISH goes out.
  const appended: string[] = [];
  const append = b.durable.append.bind(b.durable);
  b.durable.append = (rec, onCommit) => {
    appended.push(rec.t);
    return append(rec, onCommit);
  };
  await b.p.outgoingUpdate(sub, { ...msg(2), messageId: 11 });
  assert.deepEqual(appended, [], 'no record for an id already on disk');
  await b.p.outgoingUpdate(sub, { ...msg(4), messageId: 13 });
  assert.deepEqual(appended, ['ou']);

  // The restored state compacts into the snapshot and survives a second crash unchanged.
  await b.p.outgoingClearMessageId(sub, { messageId: 10 });
  await b.p.cleanSubscriptions({ id: 'sub-2' });
  const c = await open(dir);
  assert.deepEqual(
    (await readAll<{ messageId?: number }>(c.p.outgoingStream(sub))).map((q) => q.messageId),
    [11, 13],
  );
  assert.deepEqual(await c.p.subscriptionsByClient({ id: 'sub-2' }), []);
  await c.durable.close();
});

test('a clean-session connect of a client without subscriptions writes nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-sessions-'));
  const a = await open(dir);
  await a.p.cleanSubscriptions({ id: 'clean-client' });
  assert.equal(a.durable.pendingRecords, 0);
  assert.equal(a.durable.sessions.subs.size, 0);
  await a.durable.close();
});

test('[MQTT-3.2.2-2] a session exists from its clean:false connect, across a SIGKILL, until a clean connect', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'edgeflow-sp-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = await openDurablePersistence(dir);
  assert.equal(await a.p.sessionPresent({ id: 'c1' }), false, 'first connect: no session');
  assert.equal(await a.p.sessionPresent({ id: 'c1' }), true, 'second: the session exists');
  // Reopen without closing (SIGKILL): the session record was on disk before CONNACK.
  const b = await openDurablePersistence(dir);
  assert.equal(await b.p.sessionPresent({ id: 'c1' }), true);
  assert.deepEqual([...b.p.sessionClients()], ['c1'], 'expiry sees it');
  await b.p.cleanSubscriptions({ id: 'c1' }); // what aedes does at a clean-session connect
  const c = await openDurablePersistence(dir);
  assert.equal(await c.p.sessionPresent({ id: 'c1' }), false, 'discarded by the clean connect');
});
