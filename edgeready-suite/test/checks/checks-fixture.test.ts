import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { detectBoard } from '@edgeflow/hal';
import { dtReadableCheck } from '../../src/checks/dt.js';
import { i2cCheck } from '../../src/checks/hw.js';
import { memoryCheck, thermalCheck } from '../../src/checks/res.js';
import type { CheckContext } from '../../src/checks/types.js';
import { runCheck } from './run-check.js';
import type { Sample } from '../../src/sample/series.js';

async function piRoot(withI2c: boolean): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'er-pi-'));
  await mkdir(join(root, 'proc/device-tree'), { recursive: true });
  await writeFile(
    join(root, 'proc/device-tree/compatible'),
    'raspberrypi,5-model-b\0brcm,bcm2712\0',
  );
  await writeFile(join(root, 'proc/device-tree/model'), 'Raspberry Pi 5 Model B Rev 1.0\0');
  await mkdir(join(root, 'dev'), { recursive: true });
  // The rpi5 profile routes i2c1 (header pins 3/5) and i2c0 (HAT EEPROM) to the header.
  await writeFile(join(root, 'dev/i2c-0'), '');
  if (withI2c) await writeFile(join(root, 'dev/i2c-1'), '');
  return root;
}

function ctx(root: string, series: Sample[] = []): CheckContext {
  return {
    opts: { root, board: 'auto' },
    state: { throttleStart: {} },
    series,
    board: () => detectBoard({ root, board: 'auto' }),
  } as unknown as CheckContext;
}

test('ER-DT-READABLE and ER-HW-I2C on a Raspberry Pi 5 root', async (t) => {
  const root = await piRoot(true);
  t.after(() => rm(root, { recursive: true, force: true }));
  const dt = await runCheck(dtReadableCheck, ctx(root));
  // A fixture root is not this host: the match is reported as simulated, never a plain pass.
  assert.equal(dt.status, 'simulated', dt.detail);
  assert.match(dt.detail, /read from --root/);
  assert.equal(dt.evidence.matched, 'raspberrypi,5-model-b');
  assert.equal((await runCheck(i2cCheck, ctx(root))).status, 'simulated');
  const bare = await piRoot(false);
  t.after(() => rm(bare, { recursive: true, force: true }));
  const i2c = await runCheck(i2cCheck, ctx(bare));
  assert.equal(i2c.status, 'fail');
  assert.match(i2c.detail, /i2c-1/);
});

test('ER-RES-THERMAL: skipped without zones, failed near the critical trip', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'er-th-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  assert.equal((await runCheck(thermalCheck, ctx(root))).status, 'skip');
  const tz = join(root, 'sys/class/thermal/thermal_zone0');
  await mkdir(tz, { recursive: true });
  await writeFile(join(tz, 'temp'), '60000\n');
  await writeFile(join(tz, 'trip_point_0_type'), 'critical\n');
  await writeFile(join(tz, 'trip_point_0_temp'), '85000\n');
  const hot = [0, 1, 2].map((i) => ({ t: i, a: i, seg: 0, tempC: 70 + i * 6 }));
  const r = await runCheck(thermalCheck, ctx(root, hot));
  assert.equal(r.status, 'fail', r.detail);
  const cool = await runCheck(thermalCheck, ctx(root, hot.slice(0, 1)));
  assert.equal(cool.status, 'simulated', cool.detail);
  assert.match(cool.detail, /read from --root/);
});

test('ER-RES-MEMORY judges each segment on its own (a restarted agent starts small)', async () => {
  const series: Sample[] = [];
  for (let seg = 0; seg < 2; seg++)
    for (let i = 0; i < 60; i++)
      series.push({ t: 0, a: (seg * 60 + i) * 60_000, seg, rss: 80e6 + i * 1000 });
  assert.equal((await runCheck(memoryCheck, ctx('/', series))).status, 'pass');
  const leak = series.map((s) => ({ ...s, rss: 80e6 + s.a * 100 }));
  assert.equal((await runCheck(memoryCheck, ctx('/', leak))).status, 'fail');
});

test('ER-RES-MEMORY leaves out the agent warming up (at least 5 min per segment), not a leak after it', async () => {
  // Measured shape under load: RSS rises ~130 MiB over the first ~2.5 min, then holds.
  const rss = (ms: number, leakPerMin: number): number =>
    220e6 + Math.min(ms, 150_000) * 900 + Math.max(0, ms - 150_000) * (leakPerMin / 60_000);
  const run = (minutes: number, leakPerMin = 0): Sample[] =>
    Array.from({ length: minutes * 12 + 1 }, (_, i) => ({
      t: i * 5_000,
      a: i * 5_000,
      seg: 0,
      rss: rss(i * 5_000, leakPerMin),
    }));
  const short = await runCheck(memoryCheck, ctx('/', run(2)));
  assert.equal(short.status, 'skip', short.detail);
  assert.match(short.detail, /first 5 min of each are the agent's warm-up/);
  const long = await runCheck(memoryCheck, ctx('/', run(40)));
  assert.equal(long.status, 'pass', long.detail);
  // The same warm-up followed by 4 MiB/min: a leak, whatever the warm-up.
  const leak = await runCheck(memoryCheck, ctx('/', run(40, 4 * 1024 * 1024)));
  assert.equal(leak.status, 'fail', leak.detail);
  assert.match(leak.detail, /fitted growth .* over 35\.0 min/);
  // A 6 min run is judged on its last minute only: flat, too short to pass, not a failure.
  const six = await runCheck(memoryCheck, ctx('/', run(6)));
  assert.equal(six.status, 'skip', six.detail);
});
