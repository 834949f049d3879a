/** Bad input: each a coded error, and nothing changed on disk. */
import { createErrorClass } from '@edgeflow/core';
import assert from 'node:assert/strict';
import { writeFile, readFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DtError, errorCatalog } from '../src/errors.js';
import { nodeFsOps, type FsOps } from '../src/fs-ops.js';
import { cli, deps, FIXTURES, fixtureRoot, snapshot } from './helpers.js';

async function unchanged(
  root: string,
  run: () => Promise<{ code: number; err: string }>,
  code: string,
) {
  const before = await snapshot(root);
  const r = await run();
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, new RegExp(code));
  assert.deepEqual(await snapshot(root), before, 'nothing changed');
  return r;
}

test('error catalog: every code is documented and errors are branded', () => {
  for (const [k, v] of Object.entries(errorCatalog)) {
    assert.match(k, /^EDGEFLOW_DT_[A-Z_]+$/);
    assert.ok(v.length > 20);
  }
  const e = new DtError('EDGEFLOW_DT_IO', 'x');
  assert.ok(e instanceof DtError);
  class CopiedDtError extends createErrorClass('DtError', errorCatalog) {}
  assert.ok(new CopiedDtError('EDGEFLOW_DT_IO', 'x') instanceof DtError);
});

test('overlay built for another board is refused', async () => {
  const root = await fixtureRoot('rock-5b');
  const r = await unchanged(
    root,
    () => cli(['install', join(FIXTURES, 'dtbo/rpi5-bme280.dtbo'), '--boot-root', root]),
    'EDGEFLOW_DT_WRONG_BOARD',
  );
  assert.match(r.err, /brcm,bcm2712/);
  // The root identifies as a ROCK 5B: --board orangepi-5 contradicts it.
  await unchanged(
    root,
    () => cli(['install', 'bme280', '--board', 'orangepi-5', '--boot-root', root]),
    'EDGEFLOW_DT_BOARD_MISMATCH',
  );
  // Forced, armbianEnv.txt still boots the ROCK 5B DTB: the Orange Pi 5 overlay does not belong.
  await unchanged(
    root,
    () => cli(['install', 'bme280', '--board', 'orangepi-5', '--force', '--boot-root', root]),
    'EDGEFLOW_DT_WRONG_BOARD',
  );
});

test('missing boot partition', async () => {
  const root = await fixtureRoot('lattepanda');
  await unchanged(
    root,
    () => cli(['install', 'bme280', '--board', 'rpi5', '--force', '--boot-root', root]),
    'EDGEFLOW_DT_BOOT_MISSING',
  );
});

test('read-only boot partition', async () => {
  const root = await fixtureRoot('rpi5');
  const ro: FsOps = {
    ...nodeFsOps,
    checkWritable: (dir) =>
      dir.includes('/boot')
        ? Promise.reject(
            Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' }),
          )
        : nodeFsOps.checkWritable(dir),
  };
  const r = await unchanged(
    root,
    () => cli(['install', 'bme280', '--boot-root', root], deps(ro)),
    'EDGEFLOW_DT_BOOT_READONLY',
  );
  assert.match(r.err, /remount|not writable/);
});

test('unparseable boot configs are refused, not guessed', async () => {
  const pi = await fixtureRoot('rpi5');
  await appendFile(join(pi, 'boot/firmware/config.txt'), '[pi5\ndtoverlay=foo\n');
  const r = await unchanged(
    pi,
    () => cli(['install', 'bme280', '--boot-root', pi]),
    'EDGEFLOW_DT_BOOT_CONFIG_UNPARSEABLE',
  );
  assert.match(r.err, /config\.txt:57: malformed \[filter\]/);

  const rk = await fixtureRoot('rock-5b');
  await appendFile(join(rk, 'boot/armbianEnv.txt'), 'user_overlays=a\nuser_overlays=b\n');
  await unchanged(
    rk,
    () => cli(['install', 'bme280', '--boot-root', rk]),
    'EDGEFLOW_DT_BOOT_CONFIG_UNPARSEABLE',
  );

  const j = await fixtureRoot('jetson-orin-nano');
  const conf = join(j, 'boot/extlinux/extlinux.conf');
  await writeFile(
    conf,
    (await readFile(conf, 'utf8')).replace('DEFAULT primary', 'DEFAULT missing'),
  );
  await unchanged(
    j,
    () => cli(['install', 'bme280', '--boot-root', j]),
    'EDGEFLOW_DT_BOOT_CONFIG_UNPARSEABLE',
  );
  const j2 = await fixtureRoot('jetson-orin-nano');
  await appendFile(join(j2, 'boot/extlinux/extlinux.conf'), 'KERNEL /boot/Image\n');
  await unchanged(
    j2,
    () => cli(['install', 'bme280', '--boot-root', j2]),
    'EDGEFLOW_DT_BOOT_CONFIG_UNPARSEABLE',
  );
});

test('unknown board, unknown overlay, LattePanda refuses with an explanation', async () => {
  const root = await fixtureRoot('rpi5');
  await unchanged(
    root,
    () => cli(['install', 'bme280', '--board', 'pi-zero', '--boot-root', root]),
    'EDGEFLOW_DT_UNKNOWN_BOARD',
  );
  await writeFile(join(root, 'proc/device-tree/compatible'), 'acme,widget\0');
  await unchanged(
    root,
    () => cli(['install', 'bme280', '--boot-root', root]),
    'EDGEFLOW_DT_UNKNOWN_BOARD',
  );
  await unchanged(
    root,
    () => cli(['install', 'nosuch', '--board', 'rpi5', '--boot-root', root]),
    'EDGEFLOW_DT_UNKNOWN_OVERLAY',
  );
  const lp = await fixtureRoot('lattepanda');
  const r = await unchanged(lp, () => cli(['install', 'bme280', '--boot-root', lp]), 'ACPI');
  assert.match(r.err, /Firmata/);
});

test('usage errors return 2 with EDGEFLOW_DT_USAGE and the usage, --help returns 0', async () => {
  for (const [argv, why] of [
    [['install'], /bad usage of install/],
    [['frobnicate'], /bad usage of frobnicate/],
    [
      ['list', '--bogus'],
      /unknown option --bogus; this command takes --board, --boot-root, --dry-run/,
    ],
    [[], /missing command/],
    [['remove', 'bme280', 'extra'], /unexpected arguments: extra/],
  ] as const) {
    const r = await cli([...argv]);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, /^edgeflow dt: EDGEFLOW_DT_USAGE: /);
    assert.match(r.err, why);
    assert.match(r.err, /usage: edgeflow dt/);
  }
  const h = await cli(['install', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /usage: edgeflow dt/);
});
