/**
 * Integration: the checks that fail say why and stop there. An overlay source dtc refuses is a
 * compile failure with dtc's message and no apply or properties check; an fdtoverlay that
 * refuses (its input cut short) is an apply failure with its message and no properties check.
 * Real dtc and fdtoverlay on the real base DTBs (skipped visibly without them, as
 * validate.int.test.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCommand, type RunFn } from '../src/dtc.js';
import { PACKAGE_ROOT } from '../src/overlay-source.js';
import { validateAll } from '../src/validate.js';

const inCi = process.env['CI'] === 'true';

test('a refused overlay fails its compile check only; a refused apply fails its apply check only', async (t) => {
  if (spawnSync('dtc', ['--version']).status !== 0 || spawnSync('fdtoverlay', ['--help']).error) {
    const why = 'needs dtc and fdtoverlay: run scripts/install-deps.sh (device-tree-compiler)';
    if (inCi) assert.fail(why);
    t.skip(why);
    return;
  }
  const fetch = spawnSync('bash', [join(PACKAGE_ROOT, 'scripts/fetch-base-dtbs.sh')], {
    encoding: 'utf8',
  });
  if (fetch.status !== 0) {
    if (inCi) assert.fail(fetch.stderr);
    t.skip(`fetching base DTBs failed (apt, network?):\n${fetch.stderr}`);
    return;
  }
  const root = await mkdtemp(join(tmpdir(), 'ef-dt-validate-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await cp(join(PACKAGE_ROOT, 'overlays'), join(root, 'overlays'), { recursive: true });
  await writeFile(join(root, 'overlays/rock-5b/bme280.dts'), '/dts-v1/;\n/plugin/;\n/ { broken\n');
  // The real fdtoverlay, given a copy of the sht3x overlay cut to 16 bytes (its header only).
  const run: RunFn = async (cmd, args) => {
    if (cmd !== 'fdtoverlay' || !String(args.at(-1)).endsWith('rock-5b/sht3x.dtbo'))
      return runCommand(cmd, args);
    const cut = join(root, 'cut.dtbo');
    await cp(String(args.at(-1)), cut);
    await truncate(cut, 16);
    return runCommand(cmd, [...args.slice(0, -1), cut]);
  };
  const checks = (await validateAll(root, join(PACKAGE_ROOT, '.cache'), run)).filter(
    (c) => c.board === 'rock-5b',
  );
  const of = (overlay: string) => checks.filter((c) => c.overlay === overlay);
  const bme = of('bme280');
  assert.deepEqual(
    bme.map((c) => [c.check, c.status]),
    [['compile', 'fail']],
  );
  assert.match(bme[0]?.detail ?? '', /syntax error|bme280\.dts/);
  const sht = of('sht3x').filter((c) => c.base.startsWith('rebuilt'));
  assert.deepEqual(
    sht.map((c) => [c.check, c.status]),
    [['apply', 'fail']],
    JSON.stringify(sht),
  );
  assert.notEqual(sht[0]?.detail, '', 'fdtoverlay says why');
  // Negative control: the other overlays of the board still pass on the rebuilt base.
  assert.ok(
    of('i2c-header')
      .filter((c) => c.base.startsWith('rebuilt'))
      .every((c) => c.status === 'pass'),
  );
});
