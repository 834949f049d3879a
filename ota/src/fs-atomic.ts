import { randomBytes } from 'node:crypto';
import { lstat, readlink, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDir } from '@edgeflow/core';
import { ioError } from './errors.js';

/**
 * Points symlink `link` at `target` atomically: a new symlink is created beside it and renamed
 * over it (rename(2) replaces the old link in one step), then the directory is fsynced.
 */
export async function switchSymlink(link: string, target: string): Promise<void> {
  const tmp = join(dirname(link), `.${basename(link)}.new-${randomBytes(4).toString('hex')}`);
  try {
    await symlink(target, tmp);
    await rename(tmp, link);
    await fsyncDir(dirname(link));
  } catch (e) {
    await rm(tmp, { force: true });
    throw ioError('cannot switch symlink', link, e);
  }
}

/** Reads a symlink, or undefined when it does not exist. */
export async function readLinkOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await readlink(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('cannot read symlink', p, e);
  }
}

/** True when a path exists (without following a final symlink). */
export async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}
