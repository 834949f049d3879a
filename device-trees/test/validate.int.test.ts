/**
 * Integration: every overlay compiled with dtc and validated with fdtoverlay + fdtget against
 * real base DTBs from Debian's arm64 kernel package. In CI (CI=true) a missing tool or a failed
 * fetch fails the test; elsewhere it skips visibly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT } from '../src/overlay-source.js';
import { renderReport, validateAll } from '../src/validate.js';

const inCi = process.env['CI'] === 'true';

test('overlays compile and apply to Debian base DTBs (validation report)', async (t) => {
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
    const why = `fetching base DTBs failed (apt, network?):\n${fetch.stderr}`;
    if (inCi) assert.fail(why);
    t.skip(why);
    return;
  }
  const cache = join(PACKAGE_ROOT, '.cache');
  const kernel = (await readFile(join(cache, 'base/.complete'), 'utf8')).trim();
  const checks = await validateAll(PACKAGE_ROOT, cache);
  const report = renderReport(checks, kernel);
  await mkdir(join(PACKAGE_ROOT, 'build'), { recursive: true });
  await writeFile(join(PACKAGE_ROOT, 'build/validation-report.md'), report);
  await writeFile(
    join(PACKAGE_ROOT, 'build/validation-report.json'),
    JSON.stringify({ kernel, checks }, null, 2) + '\n',
  );
  t.diagnostic(report);

  const failed = checks.filter((c) => c.status === 'fail');
  assert.deepEqual(failed, [], 'no check may fail');
  // Every overlay of every board compiled.
  assert.equal(checks.filter((c) => c.check === 'compile' && c.status === 'pass').length, 32);
  // What must have run: rk3588 boards and Jetson apply on a base with symbols, everything checked.
  for (const board of ['rock-5b', 'orangepi-5', 'jetson-orin-nano']) {
    const props = checks.filter(
      (c) => c.board === board && c.check === 'properties' && c.base.startsWith('rebuilt'),
    );
    assert.equal(props.length, 8, board);
    assert.ok(
      props.every((c) => c.status === 'pass'),
      board,
    );
  }
  // The two rebuilt rk3588 bases are Debian's DTBs plus __symbols__, byte for byte.
  assert.ok(checks.filter((c) => c.check === 'base-identity').every((c) => c.status === 'pass'));
  // What cannot run says why: Debian's Pi 5 DTB has no RP1 labels.
  const pi = checks.filter((c) => c.board === 'rpi5' && c.check === 'apply');
  assert.ok(pi.every((c) => c.status === 'not-run' && /lacks the labels/.test(c.detail)));
});
