import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasReusePort, ingestWorkerCount } from '../../../src/ingest/workers/worker-count.js';

const cfg = (workers: number | 'auto', embedded = true) =>
  ({ ingest: { workers }, mqtt: { embedded } }) as Parameters<typeof ingestWorkerCount>[0];

test('auto is one worker per core, at most 4', () => {
  assert.equal(ingestWorkerCount(cfg('auto'), { cores: 2, nodeVersion: '24.1.0' }).count, 2);
  assert.equal(ingestWorkerCount(cfg('auto'), { cores: 8, nodeVersion: '24.1.0' }).count, 4);
  assert.equal(ingestWorkerCount(cfg('auto'), { cores: 1, nodeVersion: '24.1.0' }).count, 1);
  assert.equal(ingestWorkerCount(cfg(6), { cores: 2, nodeVersion: '24.1.0' }).count, 6);
});

test('without SO_REUSEPORT (Node < 22.12) or without the embedded broker: one, with the reason', () => {
  assert.equal(hasReusePort('22.11.0'), false);
  assert.equal(hasReusePort('22.12.0'), true);
  assert.equal(hasReusePort('23.0.0'), false);
  assert.equal(hasReusePort('23.1.0'), true);
  assert.equal(hasReusePort('20.19.0'), false);
  const old = ingestWorkerCount(cfg(2), { nodeVersion: '22.11.0' });
  assert.deepEqual(old.count, 1);
  assert.match(old.reason ?? '', /Node 22\.11\.0 has no SO_REUSEPORT/);
  const ext = ingestWorkerCount(cfg(2, false), { nodeVersion: '24.1.0' });
  assert.equal(ext.count, 1);
  assert.match(ext.reason ?? '', /external subscriber runs on the main thread/);
  assert.equal(ingestWorkerCount(cfg(1)).reason, undefined, 'asked for one: no reason to log');
});
