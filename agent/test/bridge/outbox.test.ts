import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Outbox, type OutboxOptions } from '../../src/bridge/outbox.js';
import { topicMatches } from '../../src/bridge/outbox-record.js';

const log = pino({ level: 'silent' });
const opts = async (over: Partial<OutboxOptions> = {}): Promise<OutboxOptions> => ({
  dir: await mkdtemp(join(tmpdir(), 'ef-outbox-')),
  maxBytes: 1 << 20,
  segmentBytes: 256,
  whenFull: 'block',
  ...over,
});

test('topic filters: + one level, # the rest, $ topics need an explicit first level', () => {
  assert.ok(topicMatches('sensors/#', 'sensors/a/b'));
  assert.ok(topicMatches('sensors/+/t', 'sensors/a/t'));
  assert.ok(!topicMatches('sensors/+', 'sensors/a/b'));
  assert.ok(!topicMatches('#', '$SYS/x'));
  assert.ok(topicMatches('sensors/#', 'sensors'));
});

test('records survive a reopen, in order; acked ones do not come back', async () => {
  const o = await opts();
  let box = await Outbox.open(o, { log, now: () => 1000 });
  for (let i = 0; i < 20; i++) await box.append(`t/${i}`, Buffer.from(String(i)));
  for (let i = 0; i < 5; i++) box.ack(box.takeNext() ?? assert.fail('missing'));
  await box.close();
  box = await Outbox.open(o, { log, now: () => 2000 });
  assert.equal(box.backlogMessages, 15);
  assert.equal(box.oldestAt, 1000);
  const got: string[] = [];
  for (let e = box.takeNext(); e !== undefined; e = box.takeNext()) got.push(e.payload.toString());
  assert.deepEqual(
    got,
    Array.from({ length: 15 }, (_, i) => String(i + 5)),
  );
  await box.close();
});

test('drop-oldest keeps the bound and counts the drops', async () => {
  const drops: string[] = [];
  const box = await Outbox.open(await opts({ maxBytes: 65536, whenFull: 'drop-oldest' }), {
    log,
    now: () => 0,
    onDrop: (r) => drops.push(r),
  });
  const payload = Buffer.alloc(1000);
  for (let i = 0; i < 100; i++) await box.append('t', payload);
  assert.ok(box.backlogBytes <= 65536);
  assert.equal(drops.length, 100 - box.backlogMessages);
  await box.close();
});

test('block: an append waits for room, then goes in order', async () => {
  const box = await Outbox.open(await opts({ maxBytes: 65536 }), { log, now: () => 0 });
  const payload = Buffer.alloc(30000);
  await box.append('a', payload);
  await box.append('b', payload);
  let third = false;
  const p = box.append('c', payload).then(() => (third = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(third, false);
  box.ack(box.takeNext() ?? assert.fail('missing'));
  await p;
  assert.deepEqual([box.takeNext()?.topic, box.takeNext()?.topic], ['b', 'c']);
  await box.close();
});
