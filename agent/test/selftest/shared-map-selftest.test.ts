import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharedShardedMap } from '@edgeflow/sharded-map';
import Fastify from 'fastify';
import { createAuthGuard } from '../../src/http/auth.js';
import { counterOf, recordFor } from '../../src/selftest/record-codec.js';
import { selfTestRoutes } from '../../src/selftest/routes.js';
import {
  runSharedMapSelfTest,
  type SelfTestTarget,
} from '../../src/selftest/shared-map-selftest.js';
import { SharedShardedMap as BrokenMap } from './broken-seqlock-map.js';

// A layout like a cache record's: every width the codec handles.
const layout = { value: 'f64', ts: 'f64', seq: 'u32', quality: 'u8' } as const;
const SMALL = { writes: 4000, casOps: 800, keys: 64, probes: 3, probeHoldMs: 300 };

test('records derive every field from one counter; a mixed record has none', () => {
  for (const n of [0, 1, 255, 256, 70_000])
    assert.equal(counterOf(layout, recordFor(layout, n)), n);
  const torn = { ...recordFor(layout, 7), seq: recordFor(layout, 8).seq as number };
  assert.equal(counterOf(layout, torn), undefined);
});

test('the self-test on a SharedShardedMap: nothing lost, CAS exact, no torn read, every probe read waits', async () => {
  const map = new SharedShardedMap({ capacity: 4096, shards: 16, record: layout, maxOwners: 16 });
  const r = await runSharedMapSelfTest({ map, layout, prefix: '\u0000selftest/' }, SMALL);
  assert.equal(r.lostUpdates, 0);
  assert.equal(r.casSum, r.expectedCasSum);
  assert.equal(r.tornReads, 0);
  assert.deepEqual(r.probe, { attempts: 3, returnedInsideWrite: 0 });
  assert.equal(map.size, 0, 'the self-test leaves none of its keys behind');
  map.close();
});

test('the self-test catches a map without a seqlock every time: each probe read returns inside the write, torn', async () => {
  const map = new BrokenMap({ record: layout });
  const target = { map, layout, prefix: 'st/' } as unknown as SelfTestTarget<typeof layout>;
  const mapModule = new URL('./broken-seqlock-map.js', import.meta.url).href;
  for (let run = 0; run < 3; run++) {
    // CAS and disjoint writers off: an unlocked map can spin forever on its own torn records.
    const r = await runSharedMapSelfTest(target, { ...SMALL, writes: 0, casOps: 0, mapModule });
    assert.deepEqual(r.probe, { attempts: 3, returnedInsideWrite: 3 }, `run ${run}`);
    assert.ok(r.tornReads >= 3, `run ${run}: ${r.tornReads} torn reads`);
  }
});

test('POST /v1/selftest/shared-map: a token is needed; an agent whose cache is not shared answers 409', async () => {
  const app = Fastify();
  selfTestRoutes(app, createAuthGuard([]), { sharedMapSelfTest: () => undefined });
  const none = await app.inject({ method: 'POST', url: '/v1/selftest/shared-map' });
  assert.equal(none.statusCode, 403);
  const open = Fastify();
  selfTestRoutes(open, () => Promise.resolve(), { sharedMapSelfTest: () => undefined });
  const r = await open.inject({ method: 'POST', url: '/v1/selftest/shared-map' });
  assert.equal(r.statusCode, 409);
  assert.equal(r.json<{ error: { code: string } }>().error.code, 'EDGEFLOW_SELFTEST_UNSUPPORTED');
  await app.close();
  await open.close();
});
