// ER-DT-OVERLAYS against a Raspberry Pi 5 boot root: the real `edgeflow dt install` (dtc)
// installs an overlay, then the check reads the running tree a fixture /proc/device-tree shows.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { detectBoard } from '@edgeflow/hal';
import { defaultEdgeflowCli, edgeflowRunner } from '../../src/agent/edgeflow-cli.js';
import { dtOverlaysCheck } from '../../src/checks/dt.js';
import type { CheckContext } from '../../src/checks/types.js';
import { runCheck } from './run-check.js';

const cli = defaultEdgeflowCli();
const dtc = spawnSync('dtc', ['--version']).status === 0;

function ctx(root: string): CheckContext {
  return {
    opts: { root, board: 'rpi5' },
    edgeflow: edgeflowRunner(cli as string),
    board: () => detectBoard({ root, board: 'rpi5' }),
  } as unknown as CheckContext;
}

test(
  'ER-DT-OVERLAYS: an installed overlay must show up in the running tree',
  {
    skip:
      cli === undefined
        ? 'the agent CLI is not built'
        : dtc
          ? false
          : 'needs dtc: apt-get install device-tree-compiler',
  },
  async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'er-dt-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const dt = join(root, 'proc/device-tree');
    await mkdir(join(dt, 'soc/i2c@74000'), { recursive: true });
    await writeFile(join(dt, 'compatible'), 'raspberrypi,5-model-b\0brcm,bcm2712\0');
    await writeFile(join(dt, 'model'), 'Raspberry Pi 5 Model B Rev 1.0\0');
    await mkdir(join(root, 'boot/firmware/overlays'), { recursive: true });
    await writeFile(join(root, 'boot/firmware/config.txt'), '[all]\ndtparam=i2c_arm=on\n');
    const run = edgeflowRunner(cli as string);
    const inst = await run(['dt', 'install', 'bme280', '--board', 'rpi5', '--boot-root', root]);
    assert.equal(inst.code, 0, inst.stderr);

    // Booted before the install (config.txt is newer): the overlay waits for a reboot.
    const bootSec = Math.floor(Date.now() / 1000) - 3600;
    await mkdir(join(root, 'proc'), { recursive: true });
    await writeFile(join(root, 'proc/stat'), `cpu  1 2 3 4\nbtime ${bootSec}\n`);
    let r = await runCheck(dtOverlaysCheck, ctx(root));
    assert.equal(r.status, 'fail', r.detail);
    assert.match(r.detail, /installed after the last boot.*bme280 \(bosch,bme280\)/);

    // Booted after the install and still absent: the overlay did not apply.
    await utimes(join(root, 'boot/firmware/config.txt'), bootSec - 60, bootSec - 60);
    r = await runCheck(dtOverlaysCheck, ctx(root));
    assert.equal(r.status, 'fail', r.detail);
    assert.match(r.detail, /although the board booted after/);

    // The device node is in the running tree: it passes, with the evidence per overlay, as
    // `simulated` because the tree is a fixture root, not this host's.
    await mkdir(join(dt, 'soc/i2c@74000/bme280@76'), { recursive: true });
    await writeFile(join(dt, 'soc/i2c@74000/bme280@76/compatible'), 'bosch,bme280\0');
    r = await runCheck(dtOverlaysCheck, ctx(root));
    assert.equal(r.status, 'simulated', r.detail);
    assert.match(
      r.detail,
      /1 overlay\(s\) installed; the devices of 1 are in the running tree — read from --root/,
    );
    const ev = r.evidence as { overlays: { name: string; devices: string[]; live: boolean }[] };
    assert.deepEqual(
      ev.overlays.map((o) => [o.name, o.devices, o.live]),
      [['bme280', ['bosch,bme280'], true]],
    );
  },
);
