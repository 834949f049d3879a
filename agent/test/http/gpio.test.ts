import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { createHal, parseHalConfig, SimWorld } from '@edgeflow/hal';
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
    gpioTokens: ['ops'],
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

test('a declared line the HAL could not request yet: listed as pending, 503 with Retry-After, metric 0', async (t) => {
  // Another process holds the relay's line (header pin 11 = GPIO17) as the HAL starts.
  const world = new SimWorld();
  const held = world.gpio.request(
    17,
    {
      direction: 'input',
      bias: 'as-is',
      activeLow: false,
      edge: 'none',
      debounceNs: 0n,
      initialLevel: 0,
    },
    'other-daemon',
  );
  t.after(() => held.release());
  const hal = await createHal(
    parseHalConfig({
      board: 'sim',
      demo: false,
      gpio: [
        {
          name: 'relay',
          pin: 11,
          direction: 'output',
          retry: { minMs: 60_000, maxMs: 60_000, jitter: 0 },
        },
      ],
    }),
    { simWorld: world },
  );
  await hal.start();
  t.after(() => hal.stop());
  const metrics = createMetrics({
    cacheSize: () => 0,
    mqttClients: () => 0,
    defaultMetrics: false,
    fleet: { gpio: () => hal.gpio() },
  });
  const app = buildHttpServer({
    log: pino({ level: 'silent' }),
    cache: new SensorCache({ shards: 8 }),
    registry: metrics.registry,
    readiness: [],
    apiTokens: [{ name: 'ops', sha256: sha(TOKEN) }],
    gpioTokens: ['ops'],
    hal,
  });

  const [relay] = (await app.inject('/v1/gpio')).json().lines;
  assert.equal(relay.state, 'pending');
  assert.equal(relay.error.code, 'EDGEFLOW_HAL_LINE_BUSY');
  assert.equal(relay.retryInMs, 60_000);

  const res = await app.inject(put(1, `Bearer ${TOKEN}`));
  assert.equal(res.statusCode, 503, res.body);
  assert.equal(res.headers['retry-after'], '60');
  assert.equal(res.json().error.code, 'EDGEFLOW_GPIO_UNAVAILABLE');
  assert.match(
    res.json().error.message,
    /^GPIO line "relay" \(pin 11\) is not available yet: .*line already in use; attempt 1, next in 60000 ms$/,
  );
  assert.match(await metrics.registry.metrics(), /^edgeflow_hal_gpio_line_up\{line="relay"\} 0$/m);
});

test('a valid token not named in gpio.access.apiTokens is refused (the grant MQTT needs too)', async (t) => {
  const other = 'd'.repeat(64);
  const { app, hal, stop } = await setup([
    { name: 'ops', sha256: sha(TOKEN) },
    { name: 'viewer', sha256: sha(other) },
  ]);
  t.after(stop);
  const res = await app.inject(put(1, `Bearer ${other}`));
  assert.equal(res.statusCode, 403);
  assert.equal(res.json().error.code, 'EDGEFLOW_HTTP_FORBIDDEN');
  assert.match(res.json().error.message, /gpio\.access\.apiTokens/);
  assert.equal(await hal.getLine('relay'), 0);
});
