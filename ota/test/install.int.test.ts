import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { otaOnAgentStart } from '../src/agent-hooks.js';
import { OtaError } from '../src/errors.js';
import { install } from '../src/install.js';
import { loadState } from '../src/state.js';
import { check, commitNow, poststop, prestart, rollbackNow } from '../src/trial.js';
import { treeListing } from './helpers/craft.js';
import { makeBundle, makeKeys, makeRelease } from './helpers/releases.js';
import { localRig } from './helpers/rig.js';
import type { LocalRig } from './helpers/rig.js';

async function bundle(
  r: LocalRig,
  version: string,
  extra: { boards?: string[]; rollout?: number; key?: string | null } = {},
): Promise<string> {
  const key = extra.key === null ? undefined : (extra.key ?? r.privatePem);
  return makeBundle(r.dir, await makeRelease(r.dir, version), version, key, extra);
}

/** The device side of the disk: OTA root, config and cache (bundles are built beside them). */
async function device(r: LocalRig): Promise<string[][]> {
  return Promise.all(
    [r.paths.root, r.paths.configDir, r.paths.cacheDir].map((d) => treeListing(d)),
  );
}

async function refused(r: LocalRig, code: string, fn: () => Promise<unknown>): Promise<void> {
  const before = await device(r);
  await assert.rejects(fn, (e: unknown) => e instanceof OtaError && e.code === code);
  assert.deepEqual(await device(r), before, `${code}: disk changed`);
}

async function installed(r: LocalRig, v: string): Promise<string> {
  return (await readFile(join(r.paths.current, 'run.sh'), 'utf8')).trim().split(' ')[1] ?? v;
}

test('refusals carry a code and leave the disk unchanged', async () => {
  const r = await localRig();
  await install(r.paths, r.opts(await bundle(r, '1.0.0')), r.deps);
  const v2 = await bundle(r, '2.0.0');
  const other = await makeKeys(r.dir, 'other');
  await refused(r, 'EDGEFLOW_OTA_MISSING_SIGNATURE', async () =>
    install(r.paths, r.opts(await bundle(r, '2.0.0', { key: null })), r.deps),
  );
  await refused(r, 'EDGEFLOW_OTA_UNKNOWN_KEY', async () =>
    install(r.paths, r.opts(await bundle(r, '2.0.0', { key: other.privatePem })), r.deps),
  );
  await refused(r, 'EDGEFLOW_OTA_WRONG_BOARD', async () =>
    install(r.paths, r.opts(await bundle(r, '2.0.0', { boards: ['pi5'] })), r.deps),
  );
  await refused(r, 'EDGEFLOW_OTA_DOWNGRADE', async () =>
    install(r.paths, r.opts(await bundle(r, '0.9.0')), r.deps),
  );
  await refused(r, 'EDGEFLOW_OTA_ALREADY_INSTALLED', async () =>
    install(r.paths, r.opts(await bundle(r, '1.0.0')), r.deps),
  );
  await refused(r, 'EDGEFLOW_OTA_NOT_IN_ROLLOUT', async () =>
    install(r.paths, r.opts(await bundle(r, '2.0.0', { rollout: 0 })), r.deps),
  );
  await refused(r, 'EDGEFLOW_OTA_INCOMPATIBLE', async () => {
    const { buildBundle } = await import('../src/bundle-writer.js');
    const out = join(r.dir, 'compat.tar.gz');
    await buildBundle({
      dir: await makeRelease(r.dir, '2.0.0'),
      out,
      name: 'edgeflow',
      version: '2.0.0',
      boards: ['test-board'],
      minAgentVersion: '3.0.0',
      privateKeyPem: r.privatePem,
    });
    return install(r.paths, r.opts(out, { agentVersion: '2.9.9' }), r.deps);
  });
  const noSpace = { ...r.deps, freeBytes: () => Promise.resolve(1000) };
  await refused(r, 'EDGEFLOW_OTA_NO_SPACE', () => install(r.paths, r.opts(v2), noSpace));
  // Tampered signature bytes.
  const { signBundle } = await import('../src/bundle-writer.js');
  const resigned = join(r.dir, 'resigned.tar.gz');
  await signBundle(v2, resigned, other.privatePem);
  await refused(r, 'EDGEFLOW_OTA_UNKNOWN_KEY', () => install(r.paths, r.opts(resigned), r.deps));
  // Installs once allowed.
  await install(r.paths, r.opts(await bundle(r, '2.0.0')), r.deps);
  await refused(r, 'EDGEFLOW_OTA_TRIAL_RUNNING', () => install(r.paths, r.opts(v2), r.deps));
  await commitNow(r.paths, r.deps);
  const down = await install(
    r.paths,
    r.opts(await bundle(r, '1.5.0'), { allowDowngrade: true }),
    r.deps,
  );
  assert.equal(down.version, '1.5.0');
  assert.equal(await installed(r, '1.5.0'), '1.5.0');
});

test('trial: first start counted, healthy probation commits via the agent report, a later restart stays', async () => {
  const r = await localRig();
  await install(r.paths, r.opts(await bundle(r, '1.0.0')), r.deps);
  await install(r.paths, r.opts(await bundle(r, '1.1.0')), r.deps);
  assert.equal((await prestart(r.paths, r.deps)).action, 'trial-started');
  const t = await otaOnAgentStart({ ...r.paths, now: () => r.deps.clock.ms });
  assert.ok(t.inTrial);
  assert.equal(await t.onHealth(true), 'trial', 'health before READY does not count');
  await t.onReady();
  assert.equal(await t.onHealth(true), 'trial');
  r.deps.clock.ms += 59_000;
  assert.equal(await t.onHealth(true), 'trial');
  r.deps.clock.ms += 1_000;
  assert.equal(await t.onHealth(true), 'committed');
  assert.equal((await check(r.paths, r.deps)).action, 'committed');
  const s = await loadState(r.paths);
  assert.equal(s.trial, null);
  assert.equal(s.current, '1.1.0');
  await poststop(r.paths, { result: 'signal', exitCode: 'killed', exitStatus: 'KILL' }, r.deps);
  assert.equal((await prestart(r.paths, r.deps)).action, 'none');
  assert.equal((await loadState(r.paths)).current, '1.1.0');
});

test('trial: an operator commit before the probation ends is finalised by root; refused before READY', async () => {
  const r = await localRig();
  await install(r.paths, r.opts(await bundle(r, '1.0.0')), r.deps);
  await install(r.paths, r.opts(await bundle(r, '1.1.0')), r.deps);
  await prestart(r.paths, r.deps);
  const t = await otaOnAgentStart({ ...r.paths, now: () => r.deps.clock.ms });
  assert.equal(await t.commitNow(), 'trial', 'no commit before READY');
  assert.equal(t.report()?.committedAt, null);
  await t.onReady();
  assert.equal(await t.commitNow(), 'committed');
  assert.equal(await t.rejectNow('too late'), 'committed', 'a committed trial cannot be rejected');
  assert.notEqual(t.report()?.committedAt, null);
  assert.equal((await check(r.paths, r.deps)).action, 'committed');
  assert.equal((await loadState(r.paths)).current, '1.1.0');
});

test('trial: an operator rejection is reported as the failure and rolled back by root', async () => {
  const r = await localRig();
  await install(r.paths, r.opts(await bundle(r, '1.0.0')), r.deps);
  await install(r.paths, r.opts(await bundle(r, '1.1.0')), r.deps);
  await prestart(r.paths, r.deps);
  const t = await otaOnAgentStart({ ...r.paths, now: () => r.deps.clock.ms });
  await t.onReady();
  assert.equal(await t.rejectNow('rolled back by operator'), 'rollback');
  assert.equal(await t.commitNow(), 'rollback', 'a rejected trial cannot be committed');
  assert.equal(t.report()?.failure, 'rolled back by operator');
  const d = await check(r.paths, r.deps);
  assert.equal(d.action, 'rolled-back');
  assert.match(d.action === 'rolled-back' ? d.reason : '', /operator/);
  assert.equal((await loadState(r.paths)).current, '1.0.0');
});

test('trial: a second start rolls back and restores config and cache', async () => {
  const r = await localRig();
  await install(r.paths, r.opts(await bundle(r, '1.0.0')), r.deps);
  await install(r.paths, r.opts(await bundle(r, '1.1.0')), r.deps);
  await writeFile(join(r.paths.configDir, 'edgeflow.yaml'), 'release: two\n');
  await writeFile(join(r.paths.configDir, 'new-only-in-two.yaml'), 'x');
  await writeFile(join(r.paths.cacheDir, 'snapshot.bin'), 'cache-two');
  await prestart(r.paths, r.deps);
  await poststop(r.paths, { result: 'watchdog', exitCode: 'dumped', exitStatus: 'ABRT' }, r.deps);
  const d = await prestart(r.paths, r.deps);
  assert.equal(d.action, 'rolled-back');
  assert.match(d.action === 'rolled-back' ? d.reason : '', /watchdog/);
  assert.equal(await readFile(join(r.paths.configDir, 'edgeflow.yaml'), 'utf8'), 'release: one\n');
  await assert.rejects(readFile(join(r.paths.configDir, 'new-only-in-two.yaml')));
  assert.equal(await readFile(join(r.paths.cacheDir, 'snapshot.bin'), 'utf8'), 'cache-one');
  assert.equal(await installed(r, '1.0.0'), '1.0.0');
  const s = await loadState(r.paths);
  assert.deepEqual([s.current, s.previous, s.trial], ['1.0.0', null, null]);
  assert.equal(s.history.at(-1)?.event, 'rolled-back');
});

test('trial: failed health, deadline and OnFailure each roll back; manual rollback restarts', async () => {
  for (const how of ['health', 'deadline', 'service-failed', 'manual'] as const) {
    const r = await localRig();
    await install(r.paths, r.opts(await bundle(r, '1.0.0')), r.deps);
    await install(r.paths, r.opts(await bundle(r, '1.1.0')), r.deps);
    await prestart(r.paths, r.deps);
    const t = await otaOnAgentStart({ ...r.paths, now: () => r.deps.clock.ms });
    await t.onReady();
    if (how === 'health') {
      assert.equal(await t.onHealth(false, 'ingest stalled'), 'rollback');
      assert.equal((await check(r.paths, r.deps)).action, 'rolled-back');
    } else if (how === 'deadline') {
      r.deps.clock.ms += 601_000;
      assert.equal(await t.onHealth(true), 'rollback');
      assert.equal((await check(r.paths, r.deps)).action, 'rolled-back');
    } else if (how === 'service-failed') {
      assert.equal((await check(r.paths, r.deps)).action, 'trial-continues');
      assert.equal((await check(r.paths, r.deps, true)).action, 'rolled-back');
    } else {
      assert.equal((await rollbackNow(r.paths, 'by hand', r.deps, true)).action, 'rolled-back');
    }
    assert.equal(r.deps.restarts, 1, how);
    const s = await loadState(r.paths);
    assert.equal(s.current, '1.0.0', how);
    assert.equal(await installed(r, '1.0.0'), '1.0.0');
  }
});

test('OnFailure on a committed release does nothing', async () => {
  const r = await localRig();
  await install(r.paths, r.opts(await bundle(r, '1.0.0')), r.deps);
  assert.equal((await check(r.paths, r.deps, true)).action, 'none');
  assert.equal(r.deps.restarts, 0);
  await assert.rejects(
    () => rollbackNow(r.paths, 'x', r.deps, false),
    (e: unknown) => e instanceof OtaError && e.code === 'EDGEFLOW_OTA_NO_PREVIOUS',
  );
  await assert.rejects(
    () => commitNow(r.paths, r.deps),
    (e: unknown) => e instanceof OtaError && e.code === 'EDGEFLOW_OTA_NO_TRIAL',
  );
});

test('re-installing a version after its rollback starts a fresh trial (no stale agent report)', async () => {
  const r = await localRig();
  await install(r.paths, r.opts(await bundle(r, '1.0.0')), r.deps);
  const v2 = await bundle(r, '1.1.0');
  await install(r.paths, r.opts(v2), r.deps);
  await prestart(r.paths, r.deps);
  const t = await otaOnAgentStart({ ...r.paths, now: () => r.deps.clock.ms });
  await t.onReady();
  assert.equal(await t.onHealth(false, 'bad'), 'rollback');
  assert.equal((await prestart(r.paths, r.deps)).action, 'rolled-back');
  await install(r.paths, r.opts(v2), r.deps);
  assert.equal((await prestart(r.paths, r.deps)).action, 'trial-started');
  assert.equal((await check(r.paths, r.deps)).action, 'trial-continues');
});
