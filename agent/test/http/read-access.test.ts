import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { pino } from 'pino';
import { createHal, parseHalConfig, type Hal } from '@edgeflow/hal';
import { SensorCache } from '../../src/cache/sensor-cache.js';
import { buildHttpServer } from '../../src/http/server.js';
import { isPublicPath } from '../../src/http/public-paths.js';
import { isLoopbackHost } from '../../src/http/read-access.js';
import { createMetrics } from '../../src/metrics/metrics.js';

const TOKEN = 'a'.repeat(64);
const sha = createHash('sha256').update(TOKEN).digest('hex');

function server(
  listenHost: string,
  publicRead: boolean,
  tokens = [{ name: 'ops', sha256: sha }],
  hal?: Hal,
) {
  const cache = new SensorCache({ shards: 4 });
  cache.store('dev1/temp', { value: 1, unit: null, ts: 1, source: 't', quality: 'good' });
  const metrics = createMetrics({
    cacheSize: () => 1,
    mqttClients: () => 0,
    defaultMetrics: false,
  });
  return buildHttpServer({
    log: pino({ level: 'silent' }),
    cache,
    registry: metrics.registry,
    readiness: [],
    apiTokens: tokens,
    gpioTokens: tokens.map((t) => t.name),
    readAccess: { listenHost, publicRead, exempt: isPublicPath },
    hal,
  });
}

const get = (app: ReturnType<typeof server>, url: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, headers: { host: '127.0.0.1:8080', ...headers } });

test('on a loopback listener reads are open, to loopback Host names only (DNS rebinding)', async () => {
  const app = server('127.0.0.1', false);
  for (const host of ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080', 'localhost']) {
    assert.equal((await get(app, '/v1/sensors', { host })).statusCode, 200, host);
  }
  const evil = await get(app, '/v1/sensors', { host: 'attacker.example:8080' });
  assert.equal(evil.statusCode, 421);
  assert.equal(evil.json().error.code, 'EDGEFLOW_HTTP_BAD_HOST');
  assert.equal((await get(app, '/metrics', { host: '10.0.0.5:8080' })).statusCode, 421);
  assert.equal((await get(app, '/healthz', { host: 'attacker.example' })).statusCode, 200);
});

test('on any other listener reads need a token unless http.publicRead is true', async () => {
  const app = server('0.0.0.0', false);
  const none = await get(app, '/v1/sensors');
  assert.equal(none.statusCode, 401);
  assert.equal(none.json().error.code, 'EDGEFLOW_HTTP_UNAUTHORIZED');
  assert.match(none.json().error.message, /publicRead/);
  assert.equal(
    (await get(app, '/v1/sensors', { authorization: `Bearer ${'b'.repeat(64)}` })).statusCode,
    401,
  );
  assert.equal(
    (await get(app, '/v1/sensors', { authorization: `Bearer ${TOKEN}` })).statusCode,
    200,
  );
  assert.equal((await get(app, '/metrics')).statusCode, 401);
  // Probes and the console's shell stay readable (they carry no data).
  assert.equal((await get(app, '/healthz')).statusCode, 200);
  assert.equal((await get(app, '/readyz')).statusCode, 200);
  const open = server('0.0.0.0', true);
  assert.equal((await get(open, '/v1/sensors', { host: 'gw.lan:8080' })).statusCode, 200);
});

test('with no token configured, a non-loopback listener refuses every read with its own code', async () => {
  const app = server('192.168.1.20', false, []);
  const r = await get(app, '/v1/sensors/dev1/temp');
  assert.equal(r.statusCode, 403);
  assert.equal(r.json().error.code, 'EDGEFLOW_HTTP_READ_CLOSED');
});

test('publicRead opens reads, never writes: switching an output still needs the token', async (t) => {
  const hal = await createHal(
    parseHalConfig({
      board: 'sim',
      demo: false,
      gpio: [{ name: 'relay', pin: 11, direction: 'output' }],
    }),
    {},
  );
  await hal.start();
  t.after(() => hal.stop());
  const app = server('0.0.0.0', true, [{ name: 'ops', sha256: sha }], hal);
  const put = (headers: Record<string, string>) =>
    app.inject({ method: 'PUT', url: '/v1/gpio/relay', headers, payload: { value: 1 } });
  assert.equal((await get(app, '/v1/gpio')).statusCode, 200);
  const refused = await put({});
  assert.equal(refused.statusCode, 401);
  assert.equal(await hal.getLine('relay'), 0, 'the line did not change');
  assert.equal((await put({ authorization: `Bearer ${TOKEN}` })).statusCode, 200);
  assert.equal(await hal.getLine('relay'), 1);
});

test('loopback names', () => {
  for (const h of [
    '127.0.0.1',
    '127.1.2.3',
    '::1',
    '[::1]',
    'localhost',
    'a.localhost',
    '::ffff:127.0.0.1',
  ])
    assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'gw.lan', '128.0.0.1', 'localhost.example.com'])
    assert.ok(!isLoopbackHost(h), h);
});
