// The GpioChip contract suite against real gpio-sim chips, through the real `cdev`
// backend (our N-API addon, GPIO uAPI v2) and the `sysfs` backend (onoff).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { detectBoard, loadCdevBinding, openGpioChip } from '@edgeflow/hal';
import { gpioSimPads, kernelHas, loadContract, simBank } from './env.js';

const gpioChipContract = await loadContract();
// As the CLI and createHal do: chip labels of /dev/gpiochip* come from the addon's ioctl.
const cdev = loadCdevBinding();
if (!cdev.ok) throw new Error(`the cdev addon does not load in the guest: ${cdev.reason}`);
const detected = await detectBoard(
  { root: '/' },
  { cdevInfo: (path) => cdev.binding.chipInfo(path) },
);

const cdevBank = simBank(0);
gpioChipContract('cdev on gpio-sim', async () => ({
  chip: await openGpioChip(detected, cdevBank.label, 'cdev'),
  pads: gpioSimPads(cdevBank),
}));

const sysfsBank = simBank(1);
if (kernelHas('CONFIG_GPIO_SYSFS') && existsSync('/sys/class/gpio/export')) {
  gpioChipContract('sysfs (onoff) on gpio-sim', async () => ({
    chip: await openGpioChip(detected, sysfsBank.label, 'sysfs'),
    pads: gpioSimPads(sysfsBank),
  }));
} else {
  test('sysfs (onoff) on gpio-sim', (t) => {
    t.skip('this kernel has no CONFIG_GPIO_SYSFS: the sysfs backend cannot run here');
  });
}

test('detection finds both gpio-sim chips by label, with a sysfs base where sysfs exists', (t) => {
  t.diagnostic(JSON.stringify(detected.chips));
  assert.equal(detected.gpioBackend, 'cdev');
  for (const label of [cdevBank.label, sysfsBank.label]) {
    const chip = detected.chips.find((c) => c.label === label);
    assert.ok(chip, `${label} not detected`);
    assert.equal(chip.lines, 16);
    assert.match(chip.devPath ?? '', /^\/dev\/gpiochip\d+$/);
    if (kernelHas('CONFIG_GPIO_SYSFS')) assert.ok(Number.isInteger(chip.sysfsBase), 'sysfs base');
  }
  // Two chips, each found once (the /dev and the sysfs views merged).
  assert.equal(detected.chips.length, 2);
});
