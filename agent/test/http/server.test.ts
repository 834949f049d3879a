import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SensorCache } from '../../src/cache/sensor-cache.js';
import { buildHttpServer } from '../../src/http/server.js';
import { createMetrics } from '../../src/metrics/metrics.js';

function setup(ready = true) {
  const cache = new SensorCache({ shards: 8, now: () => 7 });
  const metrics = createMetrics({
    cacheSize: () => cache.size,
    mqttClients: () => 3,
    defaultMetrics: false,
  });
  const app = buildHttpServer({
    log: pino({ level: 'silent' }),
    cache,
    registry: metrics.registry,
    readiness: [{ name: 'broker', ok: () => ready }],
    apiTokens: [],
  });
  cache.store('dev1/temp', { value: 21.5, unit: 'Cel', ts: 1000, source: 't', quality: 'good' });
  cache.store('dev2/hum', { value: 40, unit: '%RH', ts: 1000, source: 't', quality: 'good' });
  return app;
}

test('GET /v1/sensors/:device/:sensor returns the reading', async () => {
  const res = await setup().inject('/v1/sensors/dev1/temp');
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), {
    key: 'dev1/temp',
    value: 21.5,
    unit: 'Cel',
    ts: 1000,
    source: 't',
    quality: 'good',
    seq: 1,
    receivedAt: 7,
  });
});

test('an unknown sensor is a 404 with a JSON error', async () => {
  const res = await setup().inject('/v1/sensors/dev9/temp');
  assert.equal(res.statusCode, 404);
  assert.equal(res.json().error.code, 'EDGEFLOW_SENSOR_NOT_FOUND');
});

test('GET /v1/sensors lists all, or by prefix', async () => {
  const app = setup();
  assert.equal((await app.inject('/v1/sensors')).json().count, 2);
  const res = await app.inject('/v1/sensors?prefix=dev2/');
  assert.deepEqual(
    res.json().readings.map((r: { key: string }) => r.key),
    ['dev2/hum'],
  );
});

test('GET /v1/sensors is paged: a cache of 12,000 sensors never comes in one answer', async () => {
  const big = new SensorCache({ shards: 16, capacity: 20_000 });
  const server = buildHttpServer({
    log: pino({ level: 'silent' }),
    cache: big,
    registry: createMetrics({ cacheSize: () => 0, mqttClients: () => 0, defaultMetrics: false })
      .registry,
    readiness: [],
    apiTokens: [],
  });
  const reading = { value: 1, unit: null, ts: 1, source: 't', quality: 'good' as const };
  for (let i = 0; i < 12_000; i++) big.store(`d${i % 3}/s${String(i).padStart(5, '0')}`, reading);
  type Page = { count: number; total: number; readings: { key: string }[]; next?: string };
  const first = (await server.inject('/v1/sensors')).json<Page>();
  assert.equal(first.count, 1000, 'the default page');
  assert.equal(first.total, 12_000);
  assert.equal(first.next, first.readings.at(-1)?.key);
  const keys: string[] = [];
  let url = '/v1/sensors?limit=5000';
  for (let pages = 1; ; pages++) {
    const p = (await server.inject(url)).json<Page>();
    assert.ok(p.count <= 5000 && p.count === p.readings.length);
    keys.push(...p.readings.map((r) => r.key));
    if (p.next === undefined) {
      assert.equal(pages, 3);
      break;
    }
    url = `/v1/sensors?limit=5000&after=${encodeURIComponent(p.next)}`;
  }
  assert.deepEqual(
    keys,
    big.list().map((r) => r.key),
    'every sensor once, in key order',
  );
  const d1 = (await server.inject('/v1/sensors?prefix=d1/&limit=10')).json<Page>();
  assert.equal(d1.total, 4000);
  assert.ok(d1.readings.every((r) => r.key.startsWith('d1/')));
});

test('bad query strings are 400 with the bad field named', async () => {
  const app = setup();
  for (const url of [
    '/v1/sensors?prefix=a&prefix=b',
    '/v1/sensors?limit=0',
    '/v1/sensors?limit=5001',
    '/v1/sensors?limit=ten',
    '/v1/sensors?after=a&after=b',
    '/v1/sensors?page=2',
    `/v1/sensors?prefix=${'x'.repeat(200)}`,
  ]) {
    const res = await app.inject(url);
    assert.equal(res.statusCode, 400, url);
    assert.equal(res.json().error.code, 'EDGEFLOW_HTTP_BAD_REQUEST');
    assert.match(res.json().error.details[0], /^query\./);
  }
});

test('unknown routes are a 404 JSON error', async () => {
  const res = await setup().inject('/nope?x=1');
  assert.equal(res.statusCode, 404);
  assert.deepEqual(res.json(), {
    error: { code: 'EDGEFLOW_HTTP_NOT_FOUND', message: 'no route GET /nope' },
  });
});

test('malformed JSON bodies get a 400 JSON error', async () => {
  const res = await setup().inject({
    method: 'POST',
    url: '/v1/sensors',
    headers: { 'content-type': 'application/json' },
    payload: '{bad',
  });
  assert.ok(res.statusCode === 400 || res.statusCode === 404);
  assert.ok(res.json().error.code.startsWith('EDGEFLOW_HTTP_'));
});

test('/healthz is always ok; /readyz follows the checks', async () => {
  assert.equal((await setup().inject('/healthz')).statusCode, 200);
  assert.equal((await setup(true).inject('/readyz')).statusCode, 200);
  const res = await setup(false).inject('/readyz');
  assert.equal(res.statusCode, 503);
  assert.deepEqual(res.json(), { ready: false, checks: { broker: false } });
});

test('/metrics exposes the edgeflow_ series in Prometheus text format', async () => {
  const res = await setup().inject('/metrics');
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^text\/plain/);
  assert.match(res.body, /^edgeflow_cache_entries 2$/m);
  assert.match(res.body, /^edgeflow_mqtt_clients_connected 3$/m);
  assert.match(res.body, /^edgeflow_ingest_rejected_total\{reason="bad_json"\} 0$/m);
});
