import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { createHal, parseHalConfig } from '@edgeflow/hal';
import { SensorCache } from '../../src/cache/sensor-cache.js';
import { buildHttpServer } from '../../src/http/server.js';
import { createMetrics } from '../../src/metrics/metrics.js';

const TOKEN = 'a'.repeat(16) + 'b'.repeat(48);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

async function setup(tokens = [{ name: 'ops', sha256: sha(TOKEN) }]) {
  const hal = await createHal(
    parseHalConfig({
      board: 'sim',
      demo: false,
      gpio: [
        { name: 'relay', pin: 11, direction: 'output' },
        { name: 'button', pin: 'GPIO27', direction: 'input', edge: 'none' },
      ],
    }),
    {},
  );
  await hal.start();
  const cache = new SensorCache({ shards: 8 });
  const metrics = createMetrics({
    cacheSize: () => 0,
    mqttClients: () => 0,
    defaultMetrics: false,
  });
  const app = buildHttpServer({
    log: pino({ level: 'silent' }),
    cache,
    registry: metrics.registry,
    readiness: [],
    apiTokens: tokens,
    hal,
  });
  return { app, hal, stop: () => hal.stop() };
}

const put = (value: unknown, auth?: string) => ({
  method: 'PUT' as const,
  url: '/v1/gpio/relay',
  headers: auth === undefined ? {} : { authorization: auth },
  payload: { value },
});

test('GET /v1/gpio lists the declared lines', async (t) => {
  const { app, stop } = await setup();
  t.after(stop);
  const res = await app.inject('/v1/gpio');
  assert.equal(res.statusCode, 200);
  assert.deepEqual(
    res.json().lines.map((l: { name: string; direction: string }) => [l.name, l.direction]),
    [
      ['relay', 'output'],
      ['button', 'input'],
    ],
  );
});

test('setting an output needs a valid Bearer token', async (t) => {
  const { app, hal, stop } = await setup();
  t.after(stop);
  const none = await app.inject(put(1));
  assert.equal(none.statusCode, 401);
  assert.equal(none.json().error.code, 'EDGEFLOW_HTTP_UNAUTHORIZED');
  const wrong = await app.inject(put(1, `Bearer ${'c'.repeat(64)}`));
  assert.equal(wrong.statusCode, 401);
  assert.equal(await hal.getLine('relay'), 0, 'nothing changed');
  const ok = await app.inject(put(1, `Bearer ${TOKEN}`));
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal(await hal.getLine('relay'), 1);
});

test('bad bodies, unknown lines and inputs are refused with codes', async (t) => {
  const { app, stop } = await setup();
  t.after(stop);
  const auth = `Bearer ${TOKEN}`;
  const bad = await app.inject(put(2, auth));
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(bad.json().error.details, ['body.value: must be 0 or 1']);
  const unknown = await app.inject({ ...put(1, auth), url: '/v1/gpio/ghost' });
  assert.equal(unknown.json().error.code, 'EDGEFLOW_GPIO_NOT_FOUND');
  const input = await app.inject({ ...put(1, auth), url: '/v1/gpio/button' });
  assert.equal(input.statusCode, 409);
  assert.equal(input.json().error.code, 'EDGEFLOW_GPIO_NOT_OUTPUT');
});

test('with no token configured, state-changing routes are off (403)', async (t) => {
  const { app, stop } = await setup([]);
  t.after(stop);
  const res = await app.inject(put(1, `Bearer ${TOKEN}`));
  assert.equal(res.statusCode, 403);
  assert.equal(res.json().error.code, 'EDGEFLOW_HTTP_AUTH_DISABLED');
});
