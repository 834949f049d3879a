import { captureIo, type CapturedIo } from '@edgeflow/core/testing';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/cli.js';
import { SimWorld } from '../../src/sim/sim-world.js';
import type { I2cTransport } from '../../src/i2c/types.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../../test/fixtures/boards/${name}`, import.meta.url));
const halCli = fileURLToPath(new URL('../../src/cli/cli.js', import.meta.url));

const io = (): CapturedIo => captureIo();

test('i2c scan of a bus the host does not expose is EDGEFLOW_HAL_BUS_NOT_FOUND (exit 1), not "no devices"', async (t) => {
  // The Pi 5 fixture with /dev/i2c-1 removed: the header bus is not enabled in config.txt.
  const root = await mkdtemp(join(tmpdir(), 'ef-hal-nobus-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await cp(fixture('rpi5-kernel-6.6'), root, { recursive: true });
  await rm(join(root, 'dev/i2c-1'));
  let opened = false;
  const transport = () => {
    opened = true;
    return Promise.reject(new Error('must not open a missing bus'));
  };
  const r = io();
  assert.equal(
    await runCli(['i2c', 'scan', '1', '--root', root], r.io, { i2cTransport: transport }),
    1,
  );
  assert.equal(
    r.err(),
    'edgeflow hal: EDGEFLOW_HAL_BUS_NOT_FOUND: i2c-1: /dev/i2c-1 does not exist (no I2C bus is visible); ' +
      "it is the header's i2c1: enable it with dtparam=i2c_arm=on in config.txt\n",
  );
  assert.equal(r.out(), '');
  assert.equal(opened, false);
});

test('i2c scan of a bus that exists under --root scans it', async () => {
  const found: number[] = [];
  const transport = (bus: number): Promise<I2cTransport> => {
    found.push(bus);
    return Promise.resolve({
      scan: () => Promise.resolve([0x76]),
      close: () => Promise.resolve(),
    } as unknown as I2cTransport);
  };
  const r = io();
  assert.equal(
    await runCli(['i2c', 'scan', '1', '--root', fixture('rpi5-kernel-6.6')], r.io, {
      i2cTransport: transport,
    }),
    0,
    r.err(),
  );
  assert.deepEqual(found, [1]);
  assert.equal(r.out(), 'i2c-1: 0x76\n');
});

test('the simulator answers only on its own bus (1)', async () => {
  const world = new SimWorld();
  const bad = io();
  assert.equal(
    await runCli(['i2c', 'scan', '3', '--board', 'sim'], bad.io, { simWorld: world }),
    1,
  );
  assert.equal(
    bad.err(),
    'edgeflow hal: EDGEFLOW_HAL_BUS_NOT_FOUND: i2c-3: the simulator has no such bus (buses present: 1)\n',
  );
  const good = io();
  assert.equal(
    await runCli(['i2c', 'scan', '1', '--board', 'sim'], good.io, { simWorld: world }),
    0,
  );
  assert.equal(good.out(), 'i2c-1: 0x40 0x44 0x48 0x76\n');
  await assert.rejects(world.i2cTransport(0), { code: 'EDGEFLOW_HAL_BUS_NOT_FOUND' });
});

test('gpio watch on the simulator runs until stopped (SIGINT), then says so and exits 0', async () => {
  const script = `const { runCli } = await import(${JSON.stringify(new URL(`file://${halCli}`).href)});
    process.exitCode = await runCli(process.argv.slice(1), { stdout: process.stdout, stderr: process.stderr, env: process.env });`;
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', script, 'gpio', 'watch', '40', '--board', 'sim'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('watching')) resolve();
    });
    void exited.then(() => reject(new Error(`exited before watching: ${err}`)));
  });
  // Nothing happens on the pin: the watch must keep waiting, not end when the event loop is
  // empty (it used to exit 0.76 s after start). A second is far more than that took.
  const early = await Promise.race([
    exited.then(() => 'exited'),
    sleep(1000).then(() => 'running'),
  ]);
  assert.equal(early, 'running', `watch ended by itself: ${out}${err}`);
  child.kill('SIGINT');
  const [code] = await exited;
  assert.equal(code, 0, err);
  assert.match(out, /^watching GPIO21 \(edgeflow-sim:21\), initial 0\nstopped after 0 edges\n$/);
});
