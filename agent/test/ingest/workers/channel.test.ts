import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { Channel, RemoteError } from '../../../src/ingest/workers/channel.js';

type A = {
  add(a: number, b: number): number;
  later(ms: number): Promise<string>;
  fail(): void;
  note(s: string): void;
};
type B = { hello(name: string): string };

test('calls, replies, notes and errors in both directions, in order', async () => {
  const { port1, port2 } = new MessageChannel();
  const notes: string[] = [];
  const a = new Channel<A, B>(port1, {
    add: (x, y) => x + y,
    later: (ms) => new Promise((r) => setTimeout(() => r(`after ${ms}`), ms)),
    fail: () => {
      throw Object.assign(new Error('no'), { code: 'EDGEFLOW_X' });
    },
    note: (s) => void notes.push(s),
  });
  const b = new Channel<B, A>(port2, { hello: (n) => `hello ${n}` });
  try {
    assert.equal(await b.call('add', 2, 3), 5);
    assert.equal(await a.call('hello', 'a'), 'hello a');
    const slow = b.call('later', 20);
    b.note('note', ['one']);
    b.note('note', ['two']);
    assert.equal(await slow, 'after 20');
    assert.deepEqual(notes, ['one', 'two']);
    await assert.rejects(
      b.call('fail'),
      (e: unknown) => e instanceof RemoteError && e.code === 'EDGEFLOW_X',
    );
    const pending = b.call('later', 1000);
    b.close(new Error('gone'));
    await assert.rejects(pending, /gone/);
    await assert.rejects(b.call('add', 1, 1), /gone/);
  } finally {
    port1.close();
    port2.close();
  }
});
