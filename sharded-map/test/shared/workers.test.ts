import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout } from 'node:timers/promises';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { SharedShardedMap } from '../../src/index.js';

const record = { a: 'f64', b: 'f64', c: 'f64', n: 'u32' } as const;
const script = new URL('./fixtures/map-worker.js', import.meta.url);

interface Reply {
  done?: boolean;
  holding?: boolean;
  retries?: number;
  reads?: number;
  torn?: number;
}

function start(
  buffer: SharedArrayBuffer,
  control: SharedArrayBuffer,
  task: string,
  id: number,
  n: number,
  key?: string,
): Worker {
  return new Worker(script, { workerData: { buffer, control, task, id, n, key } });
}

async function reply(w: Worker): Promise<Reply> {
  const [msg] = (await once(w, 'message')) as [Reply];
  return msg;
}

test('disjoint-key writers in two workers lose no update', async () => {
  const map = new SharedShardedMap({ capacity: 20_000, shards: 16, record });
  const control = new SharedArrayBuffer(8);
  const n = 4000;
  const ws = [0, 1, 2].map((id) => start(map.buffer, control, 'disjoint', id, n));
  await Promise.all(ws.map(reply));
  await Promise.all(ws.map((w) => w.terminate()));
  assert.equal(map.size, 3 * n);
  const out = { a: 0, b: 0, c: 0, n: 0 };
  for (let id = 0; id < 3; id++) {
    for (let i = 0; i < n; i++) {
      assert.equal(map.get(`w${id}/k${i}`, out), true);
      assert.deepEqual(out, { a: i, b: 1, c: id, n: i });
    }
  }
});

test('compareAndSet counters from three workers sum exactly', async () => {
  const map = new SharedShardedMap({ capacity: 64, shards: 2, record });
  const control = new SharedArrayBuffer(8);
  const n = 3000;
  const ws = [0, 1, 2].map((id) => start(map.buffer, control, 'cas', id, n));
  const replies = await Promise.all(ws.map(reply));
  await Promise.all(ws.map((w) => w.terminate()));
  const out = { a: 0, b: 0, c: 0, n: 0 };
  let sum = 0;
  for (let k = 0; k < 4; k++) {
    assert.equal(map.get(`counter${k}`, out), true);
    sum += out.n;
  }
  assert.equal(sum, 3 * n);
  assert.ok(replies.every((r) => typeof r.retries === 'number'));
});

test('lock-free readers never see a torn record', async () => {
  const map = new SharedShardedMap({ capacity: 64, shards: 1, record });
  const control = new SharedArrayBuffer(8);
  const ctl = new Int32Array(control);
  const reader = start(map.buffer, control, 'tuple-reader', 9, 0);
  const writers = [0, 1].map((id) => start(map.buffer, control, 'tuple-writer', id, 30_000));
  await Promise.all(writers.map(reply));
  Atomics.store(ctl, 0, 1);
  const r = await reply(reader);
  await Promise.all([...writers, reader].map((w) => w.terminate()));
  assert.equal(r.torn, 0);
  assert.ok((r.reads ?? 0) >= 1000);
});

test('a worker terminated while holding a lock does not hang the others', async () => {
  const map = new SharedShardedMap({ capacity: 64, shards: 2, record, lockTimeoutMs: 600_000 });
  map.set('hot', { a: 1, b: 2, c: 3, n: 4 });
  const control = new SharedArrayBuffer(8);
  const holder = start(map.buffer, control, 'hold', 0, 0, 'hot');
  assert.deepEqual(await reply(holder), { holding: true });
  // The second writer blocks on the held lock until the holder is declared dead.
  const writer = start(map.buffer, control, 'write-one', 1, 0, 'hot');
  const written = reply(writer);
  const holderId = holder.threadId;
  const exited = once(holder, 'exit');
  await holder.terminate();
  await exited;
  assert.equal(map.releaseThread(holderId), 1);
  await written;
  const out = { a: 0, b: 0, c: 0, n: 0 };
  assert.equal(map.get('hot', out), true);
  assert.deepEqual(out, { a: 1, b: 2, c: 3, n: 4 });
  await writer.terminate();
  // Readers of the recovered shard are not stuck either.
  assert.equal(map.has('hot'), true);
});

test('a live holder keeps its lock however long it holds it (no lease takeover)', async () => {
  // lockTimeoutMs 1: the waiter re-checks the holder a hundred times while it holds the lock.
  const map = new SharedShardedMap({ capacity: 64, shards: 1, record, lockTimeoutMs: 1 });
  map.set('hot', { a: 1, b: 1, c: 1, n: 1 });
  const control = new SharedArrayBuffer(8);
  const ctl = new Int32Array(control);
  const holder = start(map.buffer, control, 'hold', 0, 0, 'hot');
  assert.deepEqual(await reply(holder), { holding: true });
  const writer = start(map.buffer, control, 'write-one', 1, 0, 'hot');
  const written = reply(writer) as Promise<Reply & { counters: { recoveries: number } }>;
  // Wait until the writer sleeps on the lock (it sets the contended bit), then let time pass:
  // a sleep on purpose, standing in for a holder the scheduler keeps off the CPU.
  const lockAt = (new Int32Array(map.buffer)[8] as number) / 4; // header word 8: shard base
  while ((Atomics.load(new Int32Array(map.buffer), lockAt) & 1) === 0) await setTimeout(1);
  await setTimeout(100);
  const held = reply(holder) as Promise<Reply & { counters: { recoveries: number } }>;
  Atomics.store(ctl, 1, 1);
  Atomics.notify(ctl, 1);
  assert.equal((await held).done, true, 'the holder released its lock without LOCK_LOST');
  const w = await written;
  assert.equal(w.counters.recoveries, 0);
  const out = { a: 0, b: 0, c: 0, n: 0 };
  map.get('hot', out);
  assert.deepEqual(out, { a: 1, b: 2, c: 3, n: 4 }, 'the writer wrote after the holder');
  await Promise.all([holder.terminate(), writer.terminate()]);
});
