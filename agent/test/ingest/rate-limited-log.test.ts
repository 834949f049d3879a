import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { SharedLogWindow } from '../../src/broker/shared-log-window.js';
import { RateLimitedLog } from '../../src/ingest/rate-limited-log.js';

function recorder(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = {
    warn: (fields: Record<string, unknown>) => lines.push(fields),
  } as unknown as Logger;
  return { log, lines };
}

test('two pipelines sharing a window log a reason once per window between them, with the count', () => {
  let now = 1_000;
  const shared = { buffer: SharedLogWindow.buffer(2), reasons: ['bad_json', 'cache_full'] };
  const a = new RateLimitedLog(60_000, () => now, shared);
  const b = new RateLimitedLog(60_000, () => now, shared);
  const { log, lines } = recorder();
  a.warn(log, 'bad_json', { from: 'a' }, 'rejected');
  b.warn(log, 'bad_json', { from: 'b' }, 'rejected');
  b.warn(log, 'bad_json', { from: 'b' }, 'rejected');
  b.warn(log, 'cache_full', { from: 'b' }, 'full');
  assert.deepEqual(
    lines.map((l) => [l.from, l.reason, l.suppressedSinceLast]),
    [
      ['a', 'bad_json', 0],
      ['b', 'cache_full', 0],
    ],
  );
  now += 60_000;
  a.warn(log, 'bad_json', { from: 'a' }, 'rejected');
  assert.deepEqual(lines.at(-1), { from: 'a', reason: 'bad_json', suppressedSinceLast: 2 });
});

test('a reason outside the shared table keeps a window of its own', () => {
  const shared = { buffer: SharedLogWindow.buffer(1), reasons: ['bad_json'] };
  const a = new RateLimitedLog(60_000, () => 5, shared);
  const b = new RateLimitedLog(60_000, () => 5, shared);
  const { log, lines } = recorder();
  a.warn(log, 'other', {}, 'x');
  b.warn(log, 'other', {}, 'x');
  a.warn(log, 'other', {}, 'x');
  assert.equal(lines.length, 2, 'one line per instance');
});

test('the window holds across threads: one line from four workers hammering one reason', async () => {
  const buffer = SharedLogWindow.buffer(1);
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { pathToFileURL } = require('node:url');
    import(pathToFileURL(workerData.module).href).then(({ RateLimitedLog }) => {
      const log = new RateLimitedLog(3_600_000, Date.now, { buffer: workerData.buffer, reasons: ['bad_json'] });
      let lines = 0;
      const sink = { warn: () => lines++ };
      for (let i = 0; i < 20000; i++) log.warn(sink, 'bad_json', {}, 'x');
      parentPort.postMessage(lines);
    });`;
  const module = new URL('../../src/ingest/rate-limited-log.js', import.meta.url).pathname;
  const workers = Array.from(
    { length: 4 },
    () => new Worker(code, { eval: true, workerData: { buffer, module } }),
  );
  const counts = await Promise.all(
    workers.map(async (w) => (await once(w, 'message'))[0] as number),
  );
  assert.equal(
    counts.reduce((s, n) => s + n, 0),
    1,
    `lines per worker: ${counts.join(', ')}`,
  );
});
