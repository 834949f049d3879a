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

test('bad query strings are 400 with the bad field named', async () => {
  const app = setup();
  for (const url of [
    '/v1/sensors?prefix=a&prefix=b',
    '/v1/sensors?limit=3',
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
