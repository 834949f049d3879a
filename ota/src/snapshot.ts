import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
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
 * Restores config and cache from `snapshots/<version>/`. The live directories may be mount points
 * (ConfigurationDirectory=, StateDirectory= bind mounts), so they are never renamed: each entry is
 * copied beside its target as `.ota-restore-<name>` and renamed over it, and entries the snapshot
 * lacks are removed. Idempotent, so a rollback interrupted by power loss is simply redone.
 */
export async function restoreSnapshot(paths: OtaPaths, version: string): Promise<boolean> {
  const src = join(paths.snapshots, version);
  if (!(await exists(src))) return false;
  await finishRestores(paths);
  for (const [name, live] of parts(paths)) {
    const from = join(src, name);
    if (!(await exists(from))) continue;
    await mkdir(live, { recursive: true });
    const want = new Set(await readdir(from));
    for (const n of await readdir(live)) {
      if (!want.has(n)) await rm(join(live, n), { recursive: true, force: true });
    }
    for (const n of want) {
      const incoming = join(live, `${RESTORE_PREFIX}${n}`);
      await rm(incoming, { recursive: true, force: true });
      await copyTreeDurable(join(from, n), incoming);
      const target = join(live, n);
      const st = await lstat(target).catch(() => undefined);
      // rename(2) replaces a file or an empty dir; a non-empty dir has to go first.
      if (st?.isDirectory()) await rm(target, { recursive: true, force: true });
      await rename(incoming, target);
    }
    await fsyncDir(live);
  }
  return true;
}

const RESTORE_PREFIX = '.ota-restore-';

/** Removes restore copies a crash left behind (the rollback that made them is redone). */
export async function finishRestores(paths: OtaPaths): Promise<void> {
  for (const [, live] of parts(paths)) {
    for (const n of await readdir(live).catch(() => [] as string[])) {
      if (n.startsWith(RESTORE_PREFIX)) await rm(join(live, n), { recursive: true, force: true });
    }
  }
}

/** Removes snapshots other than those of the listed versions. */
export async function pruneSnapshots(paths: OtaPaths, keep: ReadonlySet<string>): Promise<void> {
  const names = await readdir(paths.snapshots).catch(() => [] as string[]);
  for (const n of names)
    if (!keep.has(basename(n)))
      await rm(join(paths.snapshots, n), { recursive: true, force: true });
}
