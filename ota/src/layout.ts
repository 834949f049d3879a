import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError } from './errors.js';
import { acquireLock } from './lock.js';
import type { OtaPaths } from './paths.js';

/** `releases/<version>` as an absolute path. */
export function releaseDir(paths: OtaPaths, version: string): string {
  return join(paths.releases, version);
}

/** The relative target the `current` symlink holds for a version (relative: the root can move). */
export function currentTarget(version: string): string {
  return `releases/${version}`;
}

/** Version a `current` link target points to, if it has the expected shape. */
export function versionOfTarget(target: string | undefined): string | undefined {
  const m = /^(?:.*\/)?releases\/([^/]+)\/?$/.exec(target ?? '');
  return m?.[1];
}

/** Creates the root-owned directories of the layout. */
export async function ensureLayout(paths: OtaPaths): Promise<void> {
  for (const d of [paths.root, paths.releases, paths.staging, paths.snapshots, paths.stateDir]) {
    try {
      await mkdir(d, { recursive: true, mode: 0o755 });
    } catch (e) {
      throw ioError('cannot create', d, e);
    }
  }
}

/** Runs `fn` holding the OTA lock. */
export async function withLock<T>(paths: OtaPaths, fn: () => Promise<T>): Promise<T> {
  await ensureLayout(paths);
  const release = await acquireLock(paths.lockFile);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** Removes release directories other than the listed versions (keeps the disk bounded to A/B). */
export async function pruneReleases(paths: OtaPaths, keep: ReadonlySet<string>): Promise<void> {
  const names = await readdir(paths.releases).catch(() => [] as string[]);
  for (const n of names)
    if (!keep.has(n)) await rm(join(paths.releases, n), { recursive: true, force: true });
}
