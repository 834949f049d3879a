import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, fixtureRoot } from './helpers.js';

/** Replaces the fixture root's /proc/device-tree/compatible. */
async function compatible(root: string, list: string[]): Promise<void> {
  await writeFile(join(root, 'proc/device-tree/compatible'), `${list.join('\0')}\0`);
}

test('--board auto (the default) names the board with the HAL identification: CM5 is rpi5', async () => {
  const root = await fixtureRoot('rpi5');
  await compatible(root, ['raspberrypi,5-compute-module', 'brcm,bcm2712']);
  const r = await cli(['install', 'bme280', '--boot-root', root, '--dry-run']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /\+dtoverlay=edgeflow-bme280/);
});

test('every Orin Nano/NX SKU on the devkit carrier is jetson-orin-nano (SKU wildcard)', async () => {
  const root = await fixtureRoot('jetson-orin-nano');
  await compatible(root, ['nvidia,p3768-0000+p3767-0003', 'nvidia,p3767-0003', 'nvidia,tegra234']);
  const r = await cli(['list', '--boot-root', root]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /bme280/);
});

test('a board the HAL knows but dt has no overlays for is refused by its profile id', async () => {
  const root = await fixtureRoot('jetson-orin-nano');
  await compatible(root, ['nvidia,p3737-0000+p3701-0000', 'nvidia,tegra234']);
  const r = await cli(['list', '--boot-root', root]);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /EDGEFLOW_DT_UNKNOWN_BOARD: board jetson-agx-orin under .* \(\/proc\/device-tree\/compatible is \["nvidia,p3737-0000\+p3701-0000","nvidia,tegra234"\]\) has no overlays here; supported: rpi5, rock-5b, orangepi-5, jetson-orin-nano, lattepanda \(or pass --board\)/,
  );
});
