import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { halConfigSchema } from '@edgeflow/hal';
import { HalSource } from '../../src/hal/hal-source.js';
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
