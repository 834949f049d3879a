import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectBoard } from '../../src/board/detect.js';
import { nodeHostFs } from '../../src/board/host-fs.js';
import { resolvePin } from '../../src/board/pins.js';
import { raspberryPi5 } from '../../src/board/profiles/raspberry-pi.js';
import { scanUsbSerial } from '../../src/board/usb-serial.js';
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

test('LattePanda 3 Delta: DMI model, the 32U4 found on USB by VID:PID, its pins and I2C', async () => {
  const d = await detectBoard({ root: fixture('lattepanda-3-delta') });
  assert.equal(d.profile.id, 'lattepanda-3-delta');
  assert.equal(d.matchedBy, 'dmi');
  assert.equal(d.profile.bootLayout, 'none');
  assert.equal(d.i2c[0]?.bus, 0);
  assert.equal(d.gpioBackend, 'firmata');
  assert.deepEqual(d.missing, []);
  const co = d.coprocessor;
  assert.ok(co);
  assert.equal(co.mcu, 'atmega32u4');
  assert.deepEqual(
    [co.usb.vid, co.usb.pid, co.usb.tty, co.usb.usbPath],
    ['3343', '803a', 'ttyACM0', '1-4'],
  );
  assert.equal(co.usb.product, 'LattePanda Leonardo');
  // udev's by-id link survives a re-enumeration as ttyACM1: it is the device to open.
  assert.match(co.device, /dev\/serial\/by-id\/usb-LattePanda_LattePanda_Leonardo-if00$/);
  assert.ok(d.header.every((h) => h.present && h.chip === 'firmata'));
  assert.deepEqual(resolvePin(d.profile, 'D13'), {
    chip: 'firmata',
    line: 13,
    pin: 13,
    name: 'D13',
  });
  assert.equal(resolvePin(d.profile, 'A0').line, 18);
  assert.equal(resolvePin(d.profile, 'sda').line, 2);
  assert.equal(resolvePin(d.profile, 'A9').line, 9);
  assert.deepEqual(
    d.profile.i2c.map((b) => [b.bus, b.via, b.pins]),
    [[100, 'firmata', [2, 3]]],
  );
});

test('LattePanda Sigma with a stock-Leonardo 32U4 (2341:8036) and no udev by-id link', async () => {
  const d = await detectBoard({ root: fixture('lattepanda-sigma') });
  assert.equal(d.profile.id, 'lattepanda-sigma');
  assert.equal(d.coprocessor?.id.name, 'Arduino Leonardo');
  assert.equal(d.coprocessor?.device, join(fixture('lattepanda-sigma'), 'dev/ttyACM1'));
  assert.deepEqual(d.missing, []);
});

test('a LattePanda whose co-processor is not on USB says so; the header is not present', async () => {
  const d = await detectBoard({ root: fixture('generic-x86'), board: 'lattepanda-3-delta' });
  assert.equal(d.gpioBackend, 'none');
  assert.equal(d.coprocessor, undefined);
  assert.ok(d.header.every((h) => !h.present));
  const note = d.missing.find((m) => m.what.startsWith('co-processor atmega32u4'));
  assert.ok(note, JSON.stringify(d.missing));
  assert.match(note.what, /3343:803a or 2341:8036/);
  assert.match(note.why, /hal\.firmata\.device/);
});

test('hal.firmata.device overrides the USB search', async () => {
  const d = await detectBoard({
    root: fixture('generic-x86'),
    board: 'lattepanda',
    coprocessorDevice: '/dev/ttyS4',
  });
  assert.equal(d.gpioBackend, 'firmata');
  assert.equal(d.coprocessor?.device, '/dev/ttyS4');
});

test('a configured device is described as itself, not as the USB device with the expected id', async () => {
  const root = fixture('lattepanda-3-delta');
  // The CH340 on the same board, configured by hand: its own USB identity is reported.
  const ch340 = await detectBoard({ root, coprocessorDevice: join(root, 'dev/ttyUSB0') });
  assert.equal(ch340.coprocessor?.usb.tty, 'ttyUSB0');
  assert.deepEqual([ch340.coprocessor?.id.vid, ch340.coprocessor?.id.pid], ['1a86', '7523']);
  // Through a link to the co-processor's node: that is the co-processor.
  const byId = join(root, 'dev/serial/by-id/usb-LattePanda_LattePanda_Leonardo-if00');
  const co = await detectBoard({ root, coprocessorDevice: byId });
  assert.deepEqual([co.coprocessor?.usb.tty, co.coprocessor?.usb.usbPath], ['ttyACM0', '1-4']);
  assert.equal(co.coprocessor?.id.name, 'LattePanda Leonardo');
  // A device that is no USB serial device has no USB identity to show.
  const other = await detectBoard({ root, coprocessorDevice: '/dev/ttyS4' });
  assert.equal(other.coprocessor?.device, '/dev/ttyS4');
  assert.deepEqual(
    [other.coprocessor?.usb.vid, other.coprocessor?.usb.pid, other.coprocessor?.usb.usbPath],
    ['?', '?', '?'],
  );
});

test('an unrelated USB serial bridge is listed but never taken for the co-processor', async () => {
  const all = await scanUsbSerial(nodeHostFs, fixture('lattepanda-3-delta'));
  assert.deepEqual(
    all.map((d) => [d.tty, d.vid, d.pid, d.usbPath]),
    [
      ['ttyACM0', '3343', '803a', '1-4'],
      ['ttyUSB0', '1a86', '7523', '1-3'],
    ],
  );
});

test('an unknown machine is the generic profile, with what is missing', async () => {
  const d = await detectBoard({ root: fixture('generic-x86') });
  assert.equal(d.profile.id, 'generic');
  assert.equal(d.matchedBy, 'none');
  assert.equal(d.gpioBackend, 'none');
  assert.ok(d.missing.some((m) => m.what === 'GPIO'));
});

test('a root that does not exist is said first, not taken for a host without hardware', async () => {
  const d = await detectBoard({ root: '/nonexistent-edgeflow-root' });
  assert.equal(d.rootMissing, true);
  assert.equal(d.profile.id, 'generic');
  assert.equal(d.missing[0]?.what, 'root /nonexistent-edgeflow-root');
  assert.match(d.missing[0]?.why ?? '', /does not exist or is not a directory/);
  const present = await detectBoard({ root: fixture('generic-x86') });
  assert.equal(present.rootMissing, undefined);
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
