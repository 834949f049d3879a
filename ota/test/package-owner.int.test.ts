import assert from 'node:assert/strict';
import { cp, mkdir, readlink, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { OtaError } from '../src/errors.js';
import { install } from '../src/install.js';
import { configurePackage, removePackage } from '../src/package-owner.js';
import { loadState } from '../src/state.js';
import { commitNow } from '../src/trial.js';
import { makeBundle, makeRelease } from './helpers/releases.js';
import { localRig } from './helpers/rig.js';
import type { LocalRig } from './helpers/rig.js';

// The apt/OTA ownership rule (docs/install.md "apt and OTA") on a real directory tree: dpkg is
// played by creating and deleting releases/<v>/ exactly as an unpack or an upgrade does.

/** dpkg unpacking the package's release V (and deleting the old package release on upgrade). */
async function dpkgUnpack(r: LocalRig, version: string, replaces?: string): Promise<void> {
  const rel = join(r.paths.releases, version);
  await mkdir(join(rel, 'bin'), { recursive: true });
  await writeFile(join(rel, 'bin', 'edgeflow'), `#!/bin/sh\necho ${version}\n`);
  if (replaces) await rm(join(r.paths.releases, replaces), { recursive: true, force: true });
}

async function otaInstall(r: LocalRig, version: string): Promise<void> {
  const b = await makeBundle(r.dir, await makeRelease(r.dir, version), version, r.privatePem);
  await install(r.paths, r.opts(b), r.deps);
}

async function current(r: LocalRig): Promise<string> {
  return readlink(r.paths.current);
}

test('fresh install: the package release becomes current, committed, pinned', async () => {
  const r = await localRig();
  await dpkgUnpack(r, '1.0.0');
  const d = await configurePackage(r.paths, '1.0.0', r.deps);
  assert.deepEqual([d.current, d.switched], ['1.0.0', true]);
  assert.equal(await current(r), 'releases/1.0.0');
  const s = await loadState(r.paths);
  assert.deepEqual([s.current, s.previous, s.trial], ['1.0.0', null, null]);
});

test('OTA over the package: the package release is never pruned (dpkg owns it)', async () => {
  const r = await localRig();
  await dpkgUnpack(r, '1.0.0');
  await configurePackage(r.paths, '1.0.0', r.deps);
  await otaInstall(r, '1.1.0');
  await commitNow(r.paths, r.deps);
  await otaInstall(r, '1.2.0');
  // OTA keeps current and previous (1.2.0, 1.1.0); without the pin it would delete 1.0.0.
  assert.deepEqual((await readdir(r.paths.releases)).sort(), ['1.0.0', '1.1.0', '1.2.0']);
  await commitNow(r.paths, r.deps);
  await otaInstall(r, '1.3.0');
  assert.deepEqual((await readdir(r.paths.releases)).sort(), ['1.0.0', '1.2.0', '1.3.0']);
});

test('apt upgrade after an OTA update: a newer package release takes over', async () => {
  const r = await localRig();
  await dpkgUnpack(r, '1.0.0');
  await configurePackage(r.paths, '1.0.0', r.deps);
  await otaInstall(r, '1.1.0');
  await commitNow(r.paths, r.deps);
  await dpkgUnpack(r, '1.2.0', '1.0.0');
  const d = await configurePackage(r.paths, '1.2.0', r.deps);
  assert.deepEqual([d.current, d.switched], ['1.2.0', true]);
  assert.equal(await current(r), 'releases/1.2.0');
  // What dpkg just unpacked is neither current nor previous until now: recovery must not prune it.
  assert.deepEqual((await readdir(r.paths.releases)).sort(), ['1.1.0', '1.2.0']);
  const s = await loadState(r.paths);
  assert.deepEqual([s.current, s.previous, s.trial], ['1.2.0', '1.1.0', null]);
  // ... and an OTA update after that apt upgrade installs over it as usual.
  await otaInstall(r, '1.3.0');
  assert.equal((await loadState(r.paths)).trial?.from, '1.2.0');
});

test('apt upgrade to an older package than the OTA release: OTA keeps running it', async () => {
  const r = await localRig();
  await dpkgUnpack(r, '1.0.0');
  await configurePackage(r.paths, '1.0.0', r.deps);
  await otaInstall(r, '1.5.0'); // on trial, rollback target: the package's 1.0.0
  await cp(join(r.paths.snapshots, '1.0.0'), join(r.dir, 'snap-copy'), { recursive: true });
  await dpkgUnpack(r, '1.1.0', '1.0.0');
  const d = await configurePackage(r.paths, '1.1.0', r.deps);
  assert.deepEqual([d.current, d.switched], ['1.5.0', false]);
  assert.deepEqual((await readdir(r.paths.releases)).sort(), ['1.1.0', '1.5.0']);
  assert.equal(await current(r), 'releases/1.5.0');
  const s = await loadState(r.paths);
  // The rollback target moved from the deleted 1.0.0 to the new package release, snapshot too.
  assert.deepEqual([s.current, s.previous, s.trial?.from], ['1.5.0', '1.1.0', '1.1.0']);
  assert.deepEqual(
    await readdir(join(r.paths.snapshots, '1.1.0')),
    await readdir(join(r.dir, 'snap-copy')),
  );
});

test('a newer package supersedes a trial; an incomplete unpack is refused', async () => {
  const r = await localRig();
  await dpkgUnpack(r, '1.0.0');
  await configurePackage(r.paths, '1.0.0', r.deps);
  await otaInstall(r, '1.1.0');
  await dpkgUnpack(r, '2.0.0', '1.0.0');
  const d = await configurePackage(r.paths, '2.0.0', r.deps);
  assert.match(d.reason, /supersedes the trial of 1\.1\.0/);
  assert.equal((await loadState(r.paths)).trial, null);
  await assert.rejects(
    configurePackage(r.paths, '3.0.0', r.deps),
    (e: unknown) => e instanceof OtaError && e.code === 'EDGEFLOW_OTA_PACKAGE_RELEASE_MISSING',
  );
  await assert.rejects(
    configurePackage(r.paths, 'latest', r.deps),
    (e: unknown) => e instanceof OtaError && e.code === 'EDGEFLOW_OTA_USAGE',
  );
});

test('remove drops what OTA added, keeps the package release (dpkg deletes it) and the state', async () => {
  const r = await localRig();
  await dpkgUnpack(r, '1.0.0');
  await configurePackage(r.paths, '1.0.0', r.deps);
  await otaInstall(r, '1.1.0');
  await removePackage(r.paths, r.deps);
  assert.deepEqual(await readdir(r.paths.releases), ['1.0.0']);
  await assert.rejects(readlink(r.paths.current), { code: 'ENOENT' });
  assert.equal((await loadState(r.paths)).current, '1.1.0', 'history kept until purge');
  // Reinstalled later: the state names a release that is gone; the package's runs again.
  const d = await configurePackage(r.paths, '1.0.0', r.deps);
  assert.deepEqual([d.current, d.switched], ['1.0.0', true]);
});
