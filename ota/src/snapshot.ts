import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { copyTreeDurable, exists, fsyncDir } from './fs-atomic.js';
import type { OtaPaths } from './paths.js';

/** The directories snapshotted with a release: name inside the snapshot -> live path. */
function parts(paths: OtaPaths): [string, string][] {
  return [
    ['config', paths.configDir],
    ['cache', paths.cacheDir],
  ];
}

/**
 * Copies config and cache into `snapshots/<version>/` (built beside it, then renamed in), taken
 * before switching away from `version` so a rollback to it restores what it last ran with.
 */
export async function takeSnapshot(paths: OtaPaths, version: string): Promise<void> {
  await mkdir(paths.snapshots, { recursive: true });
  const dest = join(paths.snapshots, version);
  const tmp = join(paths.snapshots, `.tmp-${version}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  for (const [name, live] of parts(paths)) {
    if (await exists(live)) await copyTreeDurable(live, join(tmp, name));
  }
  await fsyncDir(tmp);
  await rm(dest, { recursive: true, force: true });
  await rename(tmp, dest);
  await fsyncDir(paths.snapshots);
}

/**
 * Restores config and cache from `snapshots/<version>/`. Each directory is copied beside the live
 * one, then swapped in with two renames; `finishRestores` completes a swap a crash interrupted.
 * Idempotent, so a rollback interrupted by power loss is simply redone.
 */
export async function restoreSnapshot(paths: OtaPaths, version: string): Promise<boolean> {
  const src = join(paths.snapshots, version);
  if (!(await exists(src))) return false;
  await finishRestores(paths);
  for (const [name, live] of parts(paths)) {
    const from = join(src, name);
    if (!(await exists(from))) continue;
    const incoming = `${live}.ota-restore`;
    const old = `${live}.ota-old`;
    await rm(incoming, { recursive: true, force: true });
    await mkdir(dirname(live), { recursive: true });
    await copyTreeDurable(from, incoming);
    if (await exists(live)) await rename(live, old);
    await rename(incoming, live);
    await fsyncDir(dirname(live));
    await rm(old, { recursive: true, force: true });
  }
  return true;
}

/** Completes restore swaps that a crash interrupted (live dir missing, `.ota-restore` complete). */
export async function finishRestores(paths: OtaPaths): Promise<void> {
  for (const [, live] of parts(paths)) {
    const incoming = `${live}.ota-restore`;
    const old = `${live}.ota-old`;
    if (!(await exists(live)) && (await exists(incoming))) await rename(incoming, live);
    if (!(await exists(live)) && (await exists(old))) await rename(old, live);
    await rm(incoming, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
}

/** Removes snapshots other than those of the listed versions. */
export async function pruneSnapshots(paths: OtaPaths, keep: ReadonlySet<string>): Promise<void> {
  let names: string[] = [];
  try {
    names = await readdir(paths.snapshots);
  } catch {
    return;
  }
  for (const n of names)
    if (!keep.has(basename(n)))
      await rm(join(paths.snapshots, n), { recursive: true, force: true });
}
