import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { halConfigSchema } from '@edgeflow/hal';
import Fastify from 'fastify';
import { HalSource } from '../../src/hal/hal-source.js';
import { halStatusRoutes } from '../../src/hal/hal-routes.js';
import { createLogger } from '@edgeflow/core/log';
import { createMetrics } from '../../src/metrics/metrics.js';

const piFixture = fileURLToPath(
  new URL('../../../../hal/test/fixtures/boards/rpi5-kernel-6.6/proc', import.meta.url),
);

async function start(root: string, sensors: unknown[]) {
  const lines: string[] = [];
  const log = createLogger({
    service: 'edgeflow-agent',
    level: 'info',
    destination: { write: (s: string) => lines.push(s) },
  });
  const source = await HalSource.start(
    halConfigSchema.parse({ root, sensors, fallbackToSim: false }),
    {
      cache: { store: () => undefined },
      metrics: createMetrics({ cacheSize: () => 0, mqttClients: () => 0, defaultMetrics: false }),
      log,
    },
  );
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { source, records };
}

test('a recognised board whose devices are hidden is a warning that says what happens to the sensors', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ef-halsrc-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await cp(piFixture, join(root, 'proc'), { recursive: true });
  const { source, records } = await start(root, [
    { type: 'bme280', id: 'env', bus: 1, intervalMs: 60_000 },
  ]);
  t.after(() => source.stop());
  const warn = records().find((r) => r.event === 'hal.devices_missing');
  assert.ok(warn, JSON.stringify(records()));
  assert.equal(warn.level, 'warn');
  assert.equal(warn.board, 'rpi5');
  assert.deepEqual(warn.waitingSensors, ['env']);
  assert.match(
    String(warn.msg),
    /^board rpi5 recognised but \d+ of its devices are not visible \(under systemd: install edgeflow-agent\.service\.d\/hardware\.conf\); sensors env are polled with backoff and have no reading until their bus appears$/,
  );
});

test('an unrecognised host (generic profile) logs no device warning', async (t) => {
  const root = fileURLToPath(
    new URL('../../../../hal/test/fixtures/boards/generic-x86', import.meta.url),
  );
  const { source, records } = await start(root, []);
  t.after(() => source.stop());
  assert.equal(records().filter((r) => r.event === 'hal.devices_missing').length, 0);
  assert.ok(records().some((r) => r.event === 'hal.started'));
});

test('every configured sensor is accounted for: a dead one is failing with its HAL error; simulated sources say sim:', async (t) => {
  const lines: string[] = [];
  const log = createLogger({
    service: 'edgeflow-agent',
    level: 'info',
    destination: { write: (s: string) => lines.push(s) },
  });
  const stored: { key: string; source: string; quality: string }[] = [];
  const source = await HalSource.start(
    halConfigSchema.parse({
      board: 'sim',
      sensors: [
        { type: 'sht3x', id: 'climate', address: 0x44, intervalMs: 50 },
        // Nothing answers at 0x45 on the simulator's bus.
        { type: 'sht3x', id: 'dead', address: 0x45, intervalMs: 50 },
      ],
    }),
    {
      cache: {
        store: (key, input) =>
          void stored.push({ key, source: input.source, quality: input.quality }),
      },
      metrics: createMetrics({ cacheSize: () => 0, mqttClients: () => 0, defaultMetrics: false }),
      log,
    },
  );
  t.after(() => source.stop());
  const app = Fastify();
  halStatusRoutes(app, () => source);
  t.after(() => app.close());
  type Body = {
    simulated: boolean;
    sensors: { id: string; state: string; source: string; lastError: { code: string } | null }[];
  };
  let body: Body | undefined;
  for (let i = 0; i < 100; i++) {
    body = (await app.inject({ method: 'GET', url: '/v1/hal/sensors' })).json<Body>();
    if (body.sensors.every((s) => s.state !== 'pending')) break;
    await new Promise((r) => setTimeout(r, 20)); // the first polls run on the HAL's timers
  }
  assert.equal(body?.simulated, true);
  assert.deepEqual(
    body?.sensors.map((s) => [s.id, s.state, s.source, s.lastError?.code ?? null]),
    [
      ['climate', 'ok', 'sim:i2c-1/0x44/sht3x', null],
      ['dead', 'failing', 'sim:i2c-1/0x45/sht3x', 'EDGEFLOW_HAL_I2C_NO_ACK'],
    ],
  );
  assert.ok(
    stored.length > 0 && stored.every((r) => r.source.startsWith('sim:')),
    JSON.stringify(stored),
  );
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const simWarn = records.find((r) => r['event'] === 'hal.simulated');
  assert.equal(simWarn?.['level'], 'warn');
});

test('a hal.root that does not exist is a warning naming the path, and nothing is simulated', async (t) => {
  const { source, records } = await start('/nonexistent-edgeflow-root', []);
  t.after(() => source.stop());
  const warn = records().find((r) => r.event === 'hal.root_missing');
  assert.ok(warn, JSON.stringify(records()));
  assert.equal(warn.level, 'warn');
  assert.equal(warn.root, '/nonexistent-edgeflow-root');
  assert.match(String(warn.msg), /^hal\.root \/nonexistent-edgeflow-root does not exist: /);
  assert.equal(source.hal.board.profile.id, 'generic');
  assert.equal(records().filter((r) => r.event === 'hal.simulated').length, 0);
});
