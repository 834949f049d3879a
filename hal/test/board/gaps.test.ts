import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { detectBoard, simDetected } from '../../src/board/detect.js';
import { deviceGaps } from '../../src/board/gaps.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../test/fixtures/boards/${name}`, import.meta.url));

/** A Pi 5 as the sandboxed agent sees it without the hardware drop-in: device tree, no /dev. */
async function piWithoutDevices(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'ef-gaps-'));
  await mkdir(join(root, 'proc'), { recursive: true });
  await cp(join(fixture('rpi5-kernel-6.6'), 'proc'), join(root, 'proc'), { recursive: true });
  return root;
}

test('a recognised board without its devices lists each gap and the sensors left waiting', async (t) => {
  const root = await piWithoutDevices();
  t.after(() => rm(root, { recursive: true, force: true }));
  const board = await detectBoard({ root }, { cdevInfo: undefined });
  assert.equal(board.profile.id, 'rpi5');
  const gaps = deviceGaps(board, [
    { id: 'env', bus: 1 },
    { id: 'far', bus: 7 },
  ]);
  assert.deepEqual(gaps.waitingSensors, ['env', 'far']);
  const text = gaps.missing.join('\n');
  assert.match(text, /^GPIO: no \/dev\/gpiochip\*/m);
  assert.match(text, /^gpio chip "pinctrl-rp1"/m);
  assert.match(text, /i2c1 \(\/dev\/i2c-1, pins 3\/5\): absent: enable it with dtparam=i2c_arm=on/);
  assert.match(text, /^\/dev\/i2c-7 \(sensor far\): absent$/m);
  assert.doesNotMatch(text, /TPM|optional/, 'TPM and optional buses are not setup gaps');
});

test('no gaps on a complete board, on the simulator, or on an unrecognised host', async () => {
  const full = await detectBoard({ root: fixture('rpi5-kernel-6.6') }, { cdevInfo: undefined });
  assert.deepEqual(deviceGaps(full, [{ id: 'env', bus: 1 }]).waitingSensors, []);
  assert.deepEqual(deviceGaps(simDetected(), [{ id: 'x', bus: 5 }]), {
    missing: [],
    waitingSensors: [],
  });
  const generic = await detectBoard({ root: fixture('generic-x86') });
  assert.equal(generic.matchedBy, 'none');
  assert.deepEqual(deviceGaps(generic, []), { missing: [], waitingSensors: [] });
});
