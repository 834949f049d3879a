import assert from 'node:assert/strict';
import { captureIo, type CapturedIo } from '@edgeflow/core/testing';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/cli.js';
import { SimWorld } from '../../src/sim/sim-world.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../test/fixtures/boards/${name}`, import.meta.url));

const io = (): CapturedIo => captureIo();

test('hal detect prints board and pin map for each fixture', async () => {
  const want: Record<string, RegExp> = {
    'rpi5-kernel-6.1': /pin 11 {2}GPIO17 +pinctrl-rp1:17 sysfs 416/,
    'rpi5-kernel-6.6': /pin 11 {2}GPIO17 +pinctrl-rp1:17 sysfs 588/,
    'jetson-orin-nano-jp6': /pin {2}7 {2}GPIO09 +tegra234-gpio:144/,
    'jetson-agx-orin-jp5': /pin 31 {2}CAN0_DOUT +tegra234-gpio-aon:0 sysfs 316/,
    'rock-5b-mainline': /pin {2}3 {2}GPIO4_B3 +gpio4:11 sysfs 651/,
    'orangepi-5-vendor': /pin {2}3 {2}GPIO1_B7 +gpio1:15 sysfs 47/,
    'lattepanda-3-delta': /board: +lattepanda/,
    'generic-x86': /board: +generic/,
  };
  for (const [dir, re] of Object.entries(want)) {
    const t = io();
    assert.equal(await runCli(['detect', '--root', fixture(dir)], t.io), 0);
    assert.match(t.out(), re, dir);
  }
});

test('hal detect --json', async () => {
  const t = io();
  assert.equal(await runCli(['detect', '--root', fixture('rpi5-kernel-6.6'), '--json'], t.io), 0);
  const j = JSON.parse(t.out()) as {
    id: string;
    bootLayout: string;
    chips: Array<{ name: string; label: string }>;
  };
  assert.equal(j.id, 'rpi5');
  assert.equal(j.bootLayout, 'rpi-config-txt');
  assert.equal(j.chips.find((c) => c.label === 'pinctrl-rp1')?.name, 'gpiochip0');
});

test('hal i2c scan and gpio get/set/watch on the simulator', async () => {
  const world = new SimWorld();
  let t = io();
  assert.equal(await runCli(['i2c', 'scan', '1', '--board', 'sim'], t.io, { simWorld: world }), 0);
  assert.equal(t.out(), 'i2c-1: 0x40 0x44 0x48 0x76\n');
  t = io();
  assert.equal(
    await runCli(['gpio', 'set', '11', '1', '--board', 'sim'], t.io, { simWorld: world }),
    0,
  );
  assert.match(t.out(), /GPIO17 \(edgeflow-sim:17\) set to 1/);
  world.gpio.drive(27, 1);
  t = io();
  assert.equal(
    await runCli(['gpio', 'get', 'GPIO27', '--board', 'sim'], t.io, { simWorld: world }),
    0,
  );
  assert.match(t.out(), /= 1/);
  t = io();
  const run = runCli(['gpio', 'watch', '13', '--count', '1', '--board', 'sim'], t.io, {
    simWorld: world,
  });
  await new Promise((r) => setImmediate(r));
  world.gpio.drive(27, 0);
  assert.equal(await run, 0);
  assert.match(t.out(), /falling 0 seq 1/);
});

test('usage errors exit 2, failures exit 1, --help exits 0', async () => {
  let t = io();
  assert.equal(await runCli(['gpio', 'set', '11', '7', '--board', 'sim'], t.io), 2);
  t = io();
  assert.equal(await runCli(['--bogus'], t.io), 2);
  t = io();
  assert.equal(await runCli(['gpio', 'get', '1', '--board', 'sim'], t.io), 1);
  assert.match(t.err(), /EDGEFLOW_HAL_UNKNOWN_PIN/);
  t = io();
  assert.equal(await runCli(['detect', '--help'], t.io), 0);
  assert.match(t.out(), /usage: edgeflow hal/);
});
