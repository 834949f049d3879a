import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { asOtaError } from './boundary.js';
import { OtaError, ioError } from './errors.js';
import { acquireLock } from './lock.js';
import { packagedVersion } from './package-pin.js';
import type { OtaPaths } from './paths.js';
import { Dir, UnsafePathError } from './safe-fs/index.js';

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

/**
 * Creates the directories of the layout (scratch and snapshots 0700) and checks that each can be
 * changed by root only: the OTA tool runs as root and trusts what it finds there.
 */
export async function ensureLayout(paths: OtaPaths): Promise<void> {
  const dirs: [string, number][] = [
    [paths.root, 0o755],
    [paths.releases, 0o755],
    [paths.staging, 0o700],
    [paths.snapshots, 0o700],
    [paths.stateDir, 0o755],
  ];
  for (const [d, mode] of dirs) {
    let dir: Dir;
    try {
      dir = await Dir.open(d, { create: mode });
    } catch (e) {
      throw e instanceof UnsafePathError ? asOtaError(e, d) : ioError('cannot create', d, e);
    }
    await dir.close();
    if (!dir.trusted)
      throw new OtaError(
        'EDGEFLOW_OTA_UNSAFE_PATH',
        `${d} can be changed by a user other than root (owner uid ${dir.uid}, mode 0${dir.mode.toString(8)}): the OTA root must be root's alone`,
      );
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

/**
 * Removes release directories other than the listed versions (keeps the disk bounded to A/B), and
 * never the Debian package's release: dpkg owns those files (package-pin.ts).
 */
export async function pruneReleases(paths: OtaPaths, keep: ReadonlySet<string>): Promise<void> {
  const pinned = await packagedVersion(paths);
  const names = await readdir(paths.releases).catch(() => [] as string[]);
  for (const n of names)
    if (!keep.has(n) && n !== pinned)
      await rm(join(paths.releases, n), { recursive: true, force: true });
}
