import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { detectBoard } from '../../src/board/detect.js';
import { resolvePin } from '../../src/board/pins.js';
import { raspberryPi5 } from '../../src/board/profiles/raspberry-pi.js';
import { isHalError } from '../../src/errors.js';

// Fixtures are source files: resolve them from the compiled test's location.
const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../test/fixtures/boards/${name}`, import.meta.url));

const cases = [
  {
    dir: 'rpi5-kernel-6.1',
    id: 'rpi5',
    pin: 11,
    chip: 'pinctrl-rp1',
    line: 17,
    sysfs: 416,
    chipName: 'gpiochip4',
  },
  {
    dir: 'rpi5-kernel-6.6',
    id: 'rpi5',
    pin: 11,
    chip: 'pinctrl-rp1',
    line: 17,
    sysfs: 588,
    chipName: 'gpiochip0',
  },
  {
    dir: 'jetson-orin-nano-jp6',
    id: 'jetson-orin-nano',
    pin: 7,
    chip: 'tegra234-gpio',
    line: 144,
    sysfs: undefined,
    chipName: 'gpiochip0',
  },
  {
    dir: 'jetson-agx-orin-jp5',
    id: 'jetson-agx-orin',
    pin: 31,
    chip: 'tegra234-gpio-aon',
    line: 0,
    sysfs: 316,
    chipName: 'gpiochip1',
  },
  {
    dir: 'rock-5b-mainline',
    id: 'rock-5b',
    pin: 3,
    chip: 'gpio4',
    line: 11,
    sysfs: 651,
    chipName: 'gpiochip4',
  },
  {
    dir: 'orangepi-5-vendor',
    id: 'orangepi-5',
    pin: 3,
    chip: 'gpio1',
    line: 15,
    sysfs: 47,
    chipName: 'gpiochip1',
  },
] as const;

for (const c of cases) {
  test(`detects ${c.id} from ${c.dir} and maps pin ${c.pin}`, async () => {
    const d = await detectBoard({ root: fixture(c.dir) });
    assert.equal(d.profile.id, c.id);
    assert.equal(d.matchedBy, 'compatible');
    assert.equal(d.gpioBackend, 'cdev');
    const h = d.header.find((p) => p.pin === c.pin);
    assert.ok(h);
    assert.equal(h.chip, c.chip);
    assert.equal(h.line, c.line);
    assert.equal(h.present, true);
    assert.equal(h.sysfsNumber, c.sysfs);
    assert.equal(d.chips.find((x) => x.label === c.chip)?.name, c.chipName);
  });
}

test('pi 5: the same pin resolves identically across the 6.1 -> 6.6 renumbering', async () => {
  const old = await detectBoard({ root: fixture('rpi5-kernel-6.1') });
  const neu = await detectBoard({ root: fixture('rpi5-kernel-6.6') });
  assert.deepEqual(
    old.header.map((h) => [h.pin, h.chip, h.line]),
    neu.header.map((h) => [h.pin, h.chip, h.line]),
  );
  // The compat symlink gpiochip4 -> gpiochip0 must not list the chip twice.
  assert.equal(neu.chips.filter((c) => c.label === 'pinctrl-rp1').length, 1);
  assert.equal(old.profile.bootLayout, 'rpi-config-txt');
});

test('jetson JetPack 6 exposes no sysfs; pad names resolve as aliases', async () => {
  const d = await detectBoard({ root: fixture('jetson-orin-nano-jp6') });
  assert.ok(d.chips.every((c) => c.sysfsBase === undefined));
  assert.equal(d.profile.bootLayout, 'jetson-extlinux');
  assert.deepEqual(resolvePin(d.profile, 'PAC.06'), {
    chip: 'tegra234-gpio',
    line: 144,
    pin: 7,
    name: 'GPIO09',
  });
});

test('lattepanda is matched by DMI and has no device tree layout', async () => {
  const d = await detectBoard({ root: fixture('lattepanda-3-delta') });
  assert.equal(d.profile.id, 'lattepanda');
  assert.equal(d.matchedBy, 'dmi');
  assert.equal(d.profile.bootLayout, 'none');
  assert.equal(d.i2c[0]?.bus, 0);
});

test('an unknown machine is the generic profile, with what is missing', async () => {
  const d = await detectBoard({ root: fixture('generic-x86') });
  assert.equal(d.profile.id, 'generic');
  assert.equal(d.matchedBy, 'none');
  assert.equal(d.gpioBackend, 'none');
  assert.ok(d.missing.some((m) => m.what === 'GPIO'));
});

test('a forced unknown profile id is a typed error', async () => {
  await assert.rejects(detectBoard({ root: fixture('generic-x86'), board: 'nope' }), (e) =>
    isHalError(e, 'EDGEFLOW_HAL_BOARD_UNKNOWN'),
  );
});

test('resolvePin accepts numbers, names, aliases and label:offset; rejects unknown pins', () => {
  assert.equal(resolvePin(raspberryPi5, 11).line, 17);
  assert.equal(resolvePin(raspberryPi5, 'gpio17').line, 17);
  assert.equal(resolvePin(raspberryPi5, 'BCM17').line, 17);
  assert.deepEqual(resolvePin(raspberryPi5, 'pinctrl-rp1:5'), {
    chip: 'pinctrl-rp1',
    line: 5,
    name: 'pinctrl-rp1:5',
  });
  assert.throws(
    () => resolvePin(raspberryPi5, 1),
    (e) => isHalError(e, 'EDGEFLOW_HAL_UNKNOWN_PIN') && /"1"/.test(e.message),
  );
  assert.throws(
    () => resolvePin(raspberryPi5, 'GPIO99'),
    (e) => isHalError(e, 'EDGEFLOW_HAL_UNKNOWN_PIN'),
  );
});
