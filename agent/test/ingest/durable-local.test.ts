import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SensorCache } from '../../src/cache/sensor-cache.js';
import { SnapshotStore } from '../../src/cache/snapshot.js';
import { durableLocalStore } from '../../src/ingest/durable-local.js';
import { DurableLog } from '../../src/wal/durable-log.js';

const log = pino({ level: 'silent' });

async function open(dir: string) {
  const cache = new SensorCache({ shards: 4, now: () => 1000 });
  const { durable } = await DurableLog.open(
    { dir: join(dir, 'wal'), maxSegmentBytes: 1 << 20 },
    { cache, snapshots: new SnapshotStore(dir), log, now: () => 1000 },
  );
  return { cache, durable };
}

test('HAL readings go through the log: applied after the commit, replayed after a crash', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-local-'));
  const first = await open(dir);
  const errors: number[] = [];
  const store = durableLocalStore(
    {
      durable: first.durable,
      cache: first.cache,
      metrics: { walErrors: { inc: () => errors.push(1) } as never },
      log,
      now: () => 2000,
    },
    60_000,
  );
  const input = {
    value: 21.5,
    unit: 'Cel',
    ts: 1500,
    source: 'hal:bme280',
    quality: 'good',
  } as const;
  store('hal.env/temperature', input);
  store('hal.env/temperature', { ...input, value: 22 });
  assert.equal(first.cache.get('hal.env/temperature'), undefined, 'not before the fsync');
  await new Promise<void>((r) => first.durable.write({ t: 'p' }, undefined, () => r()));
  assert.equal(first.cache.get('hal.env/temperature')?.seq, 2);
  // No close(): the process "crashed"; the reopened log replays both readings.
  const second = await open(dir);
  const r = second.cache.get('hal.env/temperature');
  assert.equal(r?.seq, 2);
  assert.equal(r?.value, 22);
  assert.equal(r?.receivedAt, 2000, 'replayed with the original receive time');
  assert.deepEqual(errors, []);
  await second.durable.close();
});
