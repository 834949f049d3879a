import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IPublishPacket, Packet } from 'mqtt';
import { pino } from 'pino';
import {
  INFLIGHT_FILE,
  InflightStore,
  type InflightKey,
  type InflightStoreDeps,
} from '../../src/bridge/inflight-store.js';
import { nodeLogFileOps, type LogFileOps } from '../../src/wal/group-commit-log.js';

const log = pino({ level: 'silent' });
const dir = () => mkdtemp(join(tmpdir(), 'ef-inflight-'));

/** Opens the store as the bridge does (open, then compact creates/rewrites the log). */
async function openStore(d: string, deps: Partial<InflightStoreDeps> = {}) {
  const s = await InflightStore.open(d, { log, ...deps });
  await s.compact();
  return s;
}

const publish = (mid: number): IPublishPacket => ({
  cmd: 'publish',
  topic: 'up/t',
  payload: Buffer.from(String(mid)),
  qos: 2,
  retain: false,
  dup: false,
  messageId: mid,
});

/** What mqtt.js does before it writes a QoS 2 PUBLISH: put, and wait for the callback. */
function put(s: InflightStore, p: Packet): Promise<void> {
  return new Promise((res, rej) => s.put(p, (err) => (err ? rej(err) : res())));
}
async function send(s: InflightStore, key: InflightKey, mid: number): Promise<void> {
  s.expect(key, 2);
  await put(s, publish(mid));
}
const pubrec = (s: InflightStore, mid: number) => put(s, { cmd: 'pubrel', messageId: mid });
function complete(s: InflightStore, mid: number): Promise<Packet | undefined> {
  return new Promise((res, rej) =>
    s.del({ messageId: mid }, (err, p) => (err ? rej(err) : res(p))),
  );
}
const state = (s: InflightStore) =>
  s.live.map((e) => `${e.mid}:${e.key.seg}:${e.key.idx}:${e.state}`);

test('crash (reopen without close): every put whose callback ran survives, in order', async () => {
  const d = await dir();
  const a = await openStore(d);
  assert.equal(a.fresh, true);
  await send(a, { seg: 1, idx: 0 }, 7);
  await send(a, { seg: 1, idx: 1 }, 3);
  await pubrec(a, 7);
  const b = await openStore(d); // a is never closed: its fd is simply abandoned
  assert.equal(b.fresh, false);
  assert.deepEqual(state(b), ['7:1:0:pubrel', '3:1:1:publish']);
});

test('crash before the fsync: a put whose callback has not run was promised nothing', async () => {
  const d = await dir();
  let hold = false;
  const ops: LogFileOps = {
    ...nodeLogFileOps,
    // The group write never completes: the process "dies" before the record reached the disk.
    writev: (fd, bufs, pos) =>
      hold ? new Promise(() => undefined) : nodeLogFileOps.writev(fd, bufs, pos),
  };
  const a = await openStore(d, { ops });
  await send(a, { seg: 1, idx: 0 }, 1);
  hold = true;
  a.expect({ seg: 1, idx: 1 }, 2);
  let called = false;
  a.put(publish(2), () => (called = true));
  await new Promise<void>((r) => setImmediate(r));
  assert.equal(called, false, 'mqtt.js does not write the PUBLISH before the callback');
  const b = await openStore(d);
  // Packet 2 never left (its put did not complete), so the log need not know it.
  assert.deepEqual(state(b), ['1:1:0:publish']);
});

test('a torn tail is cut off at open; the records before it stand', async () => {
  const d = await dir();
  const a = await openStore(d);
  await send(a, { seg: 2, idx: 5 }, 9);
  await pubrec(a, 9);
  const path = join(d, INFLIGHT_FILE);
  const good = (await stat(path)).size;
  await appendFile(path, Buffer.from([0x0c, 0, 0, 0, 1, 2, 3])); // half a frame
  const b = await InflightStore.open(d, { log });
  assert.equal((await stat(path)).size, good);
  await b.compact();
  assert.deepEqual(state(b), ['9:2:5:pubrel']);
});

test('PUBREC state survives: after a restart only PUBREL is resent for that id', async () => {
  const d = await dir();
  const a = await openStore(d);
  await send(a, { seg: 1, idx: 0 }, 4);
  await send(a, { seg: 1, idx: 1 }, 5);
  await pubrec(a, 4);
  const b = await openStore(d);
  // After a restart the bridge rebuilds the PUBLISH of a record still in the outbox.
  for (const e of b.live) if (e.state === 'publish') e.packet = publish(e.mid);
  const resent: Packet[] = [];
  for await (const p of b.createStream() as AsyncIterable<Packet>) resent.push(p);
  assert.deepEqual(
    resent.map((p) => [p.cmd, p.messageId, p.cmd === 'publish' ? p.dup : undefined]),
    [
      ['pubrel', 4, undefined], // [MQTT-4.3.3-2]
      ['publish', 5, true], // [MQTT-3.3.1-1]
    ],
  );
});

test('a "done" mark acknowledges its record exactly once, also across a crash', async () => {
  const d = await dir();
  const acked: string[] = [];
  const onComplete = (k: InflightKey) => acked.push(`${k.seg}:${k.idx}`);
  const a = await openStore(d, { onComplete });
  await send(a, { seg: 1, idx: 0 }, 11);
  await pubrec(a, 11);
  await complete(a, 11);
  await assert.rejects(complete(a, 11), /missing packet/, 'a second PUBCOMP finds nothing');
  assert.deepEqual(acked, ['1:0']);
  await a.shutdown();
  const b = await openStore(d, { onComplete });
  assert.deepEqual(state(b), [], 'nothing to resend');
  assert.equal(b.completed({ seg: 1, idx: 0 }), true, 'the outbox ack is redone at start');
  assert.deepEqual(acked, ['1:0'], 'reopening calls no onComplete');
  // Once the outbox index covers the record, the mark is dropped by the next rewrite.
  const c = await InflightStore.open(d, { log, covered: () => true });
  assert.equal(c.completed({ seg: 1, idx: 0 }), true);
  await c.compact();
  assert.equal(c.completed({ seg: 1, idx: 0 }), false);
});

test('log rewrite keeps the state and bounds the file', async () => {
  const d = await dir();
  const a = await openStore(d, { compactBytes: 512 });
  let idx = 0;
  for (let round = 0; round < 40; round++) {
    const mid = (round % 5) + 1; // ids are reused once their exchange is done
    await send(a, { seg: 3, idx }, mid);
    await pubrec(a, mid);
    await complete(a, mid);
    idx++;
  }
  await send(a, { seg: 3, idx: idx++ }, 1);
  await send(a, { seg: 3, idx }, 2);
  await pubrec(a, 1);
  await a.shutdown(); // waits for a rewrite in progress
  assert.ok((await readFile(join(d, INFLIGHT_FILE))).length < 40 * 3 * 20, 'rewritten');
  const b = await openStore(d);
  assert.deepEqual(state(b), ['1:3:40:pubrel', '2:3:41:publish']);
  for (let i = 0; i < 40; i++) assert.equal(b.completed({ seg: 3, idx: i }), true);
});

test('an id reused after its exchange ended: the old "done" does not end the new exchange', async () => {
  const d = await dir();
  const a = await openStore(d);
  await send(a, { seg: 1, idx: 0 }, 6);
  await pubrec(a, 6);
  await complete(a, 6);
  await send(a, { seg: 1, idx: 1 }, 6);
  // Crash: replay sees publish(6 -> 1:0), pubrel, done(1:0), publish(6 -> 1:1).
  const b = await InflightStore.open(d, { log }); // before any rewrite
  assert.deepEqual(state(b), ['6:1:1:publish']);
  await b.compact();
  const c = await openStore(d);
  assert.deepEqual(state(c), ['6:1:1:publish']);
  assert.equal(c.completed({ seg: 1, idx: 0 }), true);
  assert.equal(c.completed({ seg: 1, idx: 1 }), false);
});

test('every live id is in the resend stream, so mqtt.js registers it before any new publish', async () => {
  const d = await dir();
  const a = await openStore(d);
  for (let i = 0; i < 5; i++) await send(a, { seg: 1, idx: i }, 100 + i);
  await pubrec(a, 101);
  const b = await openStore(d);
  for (const e of b.live) if (e.state === 'publish') e.packet = publish(e.mid);
  const ids: number[] = [];
  for await (const p of b.createStream() as AsyncIterable<Packet>) ids.push(p.messageId ?? 0);
  assert.deepEqual(ids, [100, 101, 102, 103, 104], 'in publish order');
  // A PUBLISH is stored only when the bridge announced which record it carries.
  await assert.rejects(put(b, publish(200)), /not announced/);
});
