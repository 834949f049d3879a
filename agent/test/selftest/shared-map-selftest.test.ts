import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharedShardedMap } from '@edgeflow/sharded-map';
import Fastify from 'fastify';
import { accessGrant, createAuthGuard } from '../../src/http/auth.js';
import { counterOf, recordFor } from '../../src/selftest/record-codec.js';
import { createHash } from 'node:crypto';
import { validateConfig } from '../../src/config/load.js';
import type { AgentContext } from '../../src/lifecycle/context.js';
import { selfTestHttp, selfTestRoutes } from '../../src/selftest/routes.js';
import {
  runSharedMapSelfTest,
  type SelfTestTarget,
} from '../../src/selftest/shared-map-selftest.js';
import { SharedShardedMap as BrokenMap } from './broken-seqlock-map.js';
import { READING_RECORD } from '../../src/cache/reading-record.js';
import { INTERNAL_KEY_PREFIX, SensorCache } from '../../src/cache/sensor-cache.js';

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
  selfTestRoutes(app, createAuthGuard([], accessGrant('selftest', [])), {
    sharedMapSelfTest: () => undefined,
  });
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

test('the agent runs its self-test only for a token named in selftest.access.apiTokens (default: none)', async (t) => {
  const token = (c: string) => c.repeat(64);
  const sha = (c: string) => createHash('sha256').update(token(c)).digest('hex');
  const apiTokens = [
    { name: 'er', sha256: sha('e') },
    { name: 'ops', sha256: sha('o') },
  ];
  for (const grant of [null, ['er']]) {
    const config = validateConfig(
      {
        http: { apiTokens },
        ...(grant === null ? {} : { selftest: { access: { apiTokens: grant } } }),
      },
      'test',
    );
    const app = Fastify();
    t.after(() => app.close());
    const cache = new SensorCache({ shards: 8, capacity: 4096 });
    await selfTestHttp.register(app, { config, cache } as unknown as AgentContext);
    const post = (c: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/selftest/shared-map',
        headers: { authorization: `Bearer ${token(c)}` },
      });
    for (const c of grant === null ? ['e', 'o'] : ['o']) {
      const r = await post(c);
      assert.equal(r.statusCode, 403, `token ${c}: ${r.body}`);
      assert.equal(r.json<{ error: { code: string } }>().error.code, 'EDGEFLOW_HTTP_FORBIDDEN');
      assert.match(r.body, /add it to selftest\.access\.apiTokens/);
    }
    if (grant !== null) {
      const r = await post('e');
      assert.equal(r.statusCode, 200, `the granted token runs it: ${r.body}`);
      assert.equal(r.json<{ kind: string }>().kind, 'shared-sharded-map');
    }
  }
});

test('the self-test on the sensor cache itself (string fields included), its keys never listed', async () => {
  const cache = new SensorCache({ shards: 8, capacity: 4096 });
  cache.store('d/t', { value: 1, unit: 'Cel', ts: 1, source: 'mqtt:c', quality: 'good' });
  for (const n of [0, 1, 70_000])
    assert.equal(counterOf(READING_RECORD, recordFor(READING_RECORD, n)), n);
  const seen: string[] = [];
  const watching = setInterval(() => seen.push(...cache.list().map((r) => r.key)), 5);
  const r = await runSharedMapSelfTest(
    { map: cache.map, layout: READING_RECORD, prefix: `${INTERNAL_KEY_PREFIX}selftest/` },
    SMALL,
  );
  clearInterval(watching);
  assert.equal(r.lostUpdates, 0);
  assert.equal(r.casSum, r.expectedCasSum);
  assert.equal(r.tornReads, 0);
  assert.deepEqual(r.probe, { attempts: 3, returnedInsideWrite: 0 });
  assert.deepEqual([...new Set(seen)], ['d/t'], 'self-test keys are never listed as sensors');
  assert.equal(cache.size, 1, 'and are gone afterwards');
});
