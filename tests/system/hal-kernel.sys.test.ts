// HAL against real kernel drivers: boots Debian's amd64 kernel in QEMU with gpio-sim
// (built out of tree at test time) and i2c-stub, runs the in-guest suites
// (tests/qemu/guest/*.guest.ts) and reports each guest test here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootGuest, buildInitramfs, missingPrerequisites, prepareKernel } from '../qemu/harness.js';

const inCi = process.env.CI === 'true';

/**
 * HAL bugs this tier found, by guest test name (a file name stands for the file-level
 * failure node:test reports when the file times out). Such a result is reported as TODO
 * while it fails (visible, not silent) and fails here once it passes, so the entry gets
 * removed with the fix.
 */
const KNOWN_HAL_BUGS: Readonly<Record<string, string>> = {};

test('HAL on real kernel drivers (QEMU guest: gpio-sim, i2c-stub)', async (t) => {
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    const msg = `needs ${missing.join('; ')} (bash scripts/install-deps.sh as root installs the system packages)`;
    if (inCi) assert.fail(`CI must run the QEMU tier: ${msg}`);
    t.skip(msg);
    return;
  }
  const t0 = Date.now();
  const kernelDir = await prepareKernel();
  const t1 = Date.now();
  const initrd = await buildInitramfs(kernelDir);
  const t2 = Date.now();
  const run = await bootGuest({ kernelDir, initrd });
  t.diagnostic(
    `kernel ${(t1 - t0) / 1000} s, initramfs ${(t2 - t1) / 1000} s, guest ${run.seconds} s (${kernelDir})`,
  );
  const tail = `\n--- guest console (tail) ---\n${run.console.slice(-6000)}`;
  assert.ok(run.booted, `guest did not boot${run.timedOut === 'boot' ? ' in time' : ''}${tail}`);
  assert.equal(run.setupError, undefined, `guest setup failed: ${run.setupError}${tail}`);

  let knownFailures = 0;
  for (const r of run.results) {
    const bug = KNOWN_HAL_BUGS[r.name];
    await t.test(`guest: ${r.name}`, (st) => {
      if (r.status === 'skip' || r.status === 'todo') {
        st.skip(r.reason ?? 'skipped in the guest');
        return;
      }
      if (bug !== undefined) {
        assert.equal(r.status, 'fail', `known HAL bug now passes: remove it from KNOWN_HAL_BUGS`);
        knownFailures += 1;
        st.todo(`known HAL bug: ${bug}`);
        return;
      }
      assert.equal(r.status, 'pass', `failed in the guest:\n${r.detail}`);
    });
  }
  assert.equal(run.timedOut, undefined, `guest run timed out${tail}`);
  // Every guest file must have reported (a file that failed to load reports one failure).
  assert.ok(run.results.length >= 20, `the guest reported ${run.results.length} results${tail}`);
  const expectedExit = knownFailures > 0 ? 1 : 0;
  assert.equal(
    run.exitCode,
    expectedExit,
    `node --test in the guest exited with ${run.exitCode}${tail}`,
  );
});
