// GPIO detection on a real kernel, and the GpioChip contract suite against a real
// gpio-sim chip through the `sysfs` backend (onoff).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { openGpioChip } from '@edgeflow/hal';
import { detectGuest, gpioSimPads, kernelHas, loadContract, simBank } from './env.js';

const gpioChipContract = await loadContract();
const detected = await detectGuest();
const cdevBank = simBank(0);
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
