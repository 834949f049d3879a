import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { openDurablePersistence, readAll } from './durable-fixture.js';
import type { Client } from 'aedes';
import { SessionExpiry } from '../../src/broker/session-expiry.js';

const open = openDurablePersistence;

const count = async (s: Readable): Promise<number> => (await readAll(s)).length;

const msg = (n: number) => ({
  cmd: 'publish',
  brokerId: 'b',
  brokerCounter: n,
  topic: 'sensors/d/t',
  payload: Buffer.from(String(n)),
  qos: 1,
  retain: false,
  dup: false,
});

test('a session away longer than the interval is dropped, durably; others stay', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-expiry-'));
  const a = await open(dir);
  const gone = { id: 'gone' } as Client;
  const back = { id: 'back' } as Client;
  for (const c of [gone, back]) {
    await a.p.addSubscriptions(c, [{ topic: 'sensors/#', qos: 1 }]);
    await a.p.outgoingEnqueueCombi([{ clientId: c.id }], msg(1));
  }
  let now = 1_000_000;
  const expired: string[] = [];
  const expiry = new SessionExpiry(a.p, 3600, {
    now: () => now,
    onExpired: (id) => expired.push(id),
  });
  expiry.connected('gone');
  expiry.connected('back');
  expiry.disconnected('gone');
  now += 1000;
  expiry.disconnected('back');
  now += 3600_000 - 500; // 'gone' away 3600.5 s, 'back' 3599.5 s
  assert.equal(await expiry.sweep(), 1);
  assert.deepEqual(expired, ['gone']);
  expiry.connected('back');
  now += 10_000;
  assert.equal(await expiry.sweep(), 0, 'a connected client never expires');
  assert.deepEqual([...a.p.sessionClients()], ['back']);

  // After a crash the expired session stays gone; the other one is intact.
  const b = await open(dir);
  assert.deepEqual(await b.p.subscriptionsByClient(gone), []);
  assert.equal(await count(b.p.outgoingStream(gone)), 0);
  assert.equal((await b.p.subscriptionsByClient(back))?.length, 1);
  assert.equal(await count(b.p.outgoingStream(back)), 1);

  // Restored sessions start their clock at start: not expired at once.
  const restarted = new SessionExpiry(b.p, 3600, { now: () => now });
  assert.equal(await restarted.sweep(), 0);
  now += 3600_000;
  assert.equal(await restarted.sweep(), 1);
  await b.durable.close();
});

test('an interval of 0 never expires anything', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-expiry-'));
  const a = await open(dir);
  await a.p.addSubscriptions({ id: 'x' }, [{ topic: 't', qos: 1 }]);
  let now = 0;
  const expiry = new SessionExpiry(a.p, 0, { now: () => now });
  expiry.disconnected('x');
  now = 1e12;
  assert.equal(await expiry.sweep(), 0);
  await a.durable.close();
});
