import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import type { Client } from 'aedes';
import { SharedLogWindow } from '../../src/broker/shared-log-window.js';
import { BrokerSecurity, violationLogBuffer } from '../../src/broker/security.js';
import { mqttAuthSchema, mqttLimitsSchema } from '../../src/broker/security-config.js';

test('one line per window and slot, with the number suppressed since the last line', () => {
  let now = 0;
  const w = new SharedLogWindow(SharedLogWindow.buffer(2), 1000, () => now);
  assert.equal(w.claim(0), 0, 'the first line is written');
  assert.equal(w.claim(0), undefined);
  assert.equal(w.claim(1), 0, 'slots are independent');
  now = 999;
  assert.equal(w.claim(0), undefined, 'still inside the window');
  now = 1000;
  assert.equal(w.claim(0), 2, 'the next window: two suppressed since');
  assert.equal(w.claim(0), undefined);
  assert.throws(() => w.claim(2), RangeError);
  assert.throws(() => new SharedLogWindow(new SharedArrayBuffer(7), 1, () => 0), RangeError);
});

/** A broker's security over `buffer` whose auth_failed lines land in `lines`. */
function security(
  lines: { reason?: string; suppressedSinceLast?: number }[],
  buffer?: SharedArrayBuffer,
) {
  const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  return new BrokerSecurity(
    mqttAuthSchema.parse({ allowAnonymous: false }),
    mqttLimitsSchema.parse({ logWindowSec: 60 }),
    { log, now: () => 5000, ...(buffer ? { logWindow: buffer } : {}) },
  );
}

const refuse = (sec: BrokerSecurity, id: string) =>
  new Promise<void>((r) =>
    sec.authenticate({ id, conn: {} } as unknown as Client, undefined, undefined, () => r()),
  );

test('brokers sharing a violation log buffer (ingest workers) log a kind once per window between them', async () => {
  const lines: { reason?: string; suppressedSinceLast?: number }[] = [];
  const shared = violationLogBuffer();
  const a = security(lines, shared);
  const b = security(lines, shared);
  await refuse(a, 'c1');
  await refuse(b, 'c2');
  await refuse(b, 'c3');
  assert.equal(lines.length, 1, 'one line for the agent');
  assert.equal(lines[0]?.reason, 'anonymous clients are not allowed', 'the detail is kept');
  assert.equal(lines[0]?.suppressedSinceLast, 0);
  // Negative control: a window per broker (what each worker had) logs once per broker.
  const apart: typeof lines = [];
  const c = security(apart);
  const d = security(apart);
  await refuse(c, 'c1');
  await refuse(d, 'c2');
  assert.equal(apart.length, 2, 'a window per broker: one line per broker');
});

test('threads claiming one slot at the same instant: exactly one line, none of the others lost', async () => {
  const buffer = SharedLogWindow.buffer(1);
  const module = new URL('../../src/broker/shared-log-window.js', import.meta.url).href;
  const threads = 4;
  const perThread = 20_000;
  const start = new Int32Array(new SharedArrayBuffer(4));
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.module).then(({ SharedLogWindow }) => {
      const w = new SharedLogWindow(workerData.buffer, 60000, () => 1000);
      const go = new Int32Array(workerData.start);
      parentPort.postMessage('ready');
      Atomics.wait(go, 0, 0);
      let claimed = 0;
      for (let i = 0; i < workerData.n; i++) if (w.claim(0) !== undefined) claimed++;
      parentPort.postMessage(claimed);
    });`;
  const workers = Array.from(
    { length: threads },
    () =>
      new Worker(code, {
        eval: true,
        workerData: { module, buffer, start: start.buffer, n: perThread },
      }),
  );
  const messages = workers.map((w) => {
    const got: unknown[] = [];
    const waiters: ((m: unknown) => void)[] = [];
    w.on('message', (m: unknown) => (waiters.length > 0 ? waiters.shift()?.(m) : got.push(m)));
    w.on('error', (err) => {
      throw err;
    });
    return () =>
      got.length > 0 ? Promise.resolve(got.shift()) : new Promise<unknown>((r) => waiters.push(r));
  });
  // Released together once every thread is at its wait (or about to be: it returns at once then).
  assert.deepEqual(
    await Promise.all(messages.map((next) => next())),
    workers.map(() => 'ready'),
  );
  Atomics.store(start, 0, 1);
  Atomics.notify(start, 0);
  const counts = (await Promise.all(messages.map((next) => next()))) as number[];
  await Promise.all(workers.map((w) => w.terminate()));
  assert.equal(
    counts.reduce((s, n) => s + n, 0),
    1,
    `claims per thread: ${counts.join(', ')}`,
  );
  const later = new SharedLogWindow(buffer, 60000, () => 61_000);
  assert.equal(later.claim(0), threads * perThread - 1, 'every other line counted as suppressed');
});
