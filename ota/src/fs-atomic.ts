import { randomBytes } from 'node:crypto';
import { cp, lstat, open, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ioError } from './errors.js';

/** fsyncs a directory so a rename/creation inside it survives power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncs one file. */
export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replaces `path` atomically: `fill(tmp)` writes `<path>.new-<rand>`, which is fsynced and renamed
 * over `path`, then the directory is fsynced. A crash leaves the old or the new file, never half.
 */
export async function atomicReplace(
  path: string,
  fill: (tmp: string) => Promise<void>,
): Promise<void> {
  const tmp = `${path}.new-${randomBytes(4).toString('hex')}`;
  try {
    await fill(tmp);
    await fsyncFile(tmp);
    await rename(tmp, path);
    await fsyncDir(dirname(path));
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Atomic write of a small file (write `.new`, fsync, rename, fsync dir). */
export async function atomicWriteFile(
  path: string,
  data: string | Buffer,
  mode = 0o644,
): Promise<void> {
  await atomicReplace(path, async (tmp) => {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.chmod(mode);
    } finally {
      await fh.close();
    }
  });
}

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

/** fsyncs every file and directory of a tree (after extraction or a copy). */
export async function fsyncTree(root: string): Promise<void> {
  for (const e of await readdir(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) await fsyncTree(p);
    else if (e.isFile()) await fsyncFile(p);
  }
  await fsyncDir(root);
}

/** Copies a directory tree (symlinks as links, modes kept) and fsyncs the copy. */
export async function copyTreeDurable(from: string, to: string): Promise<void> {
  await cp(from, to, {
    recursive: true,
    verbatimSymlinks: true,
    preserveTimestamps: true,
    errorOnExist: true,
    force: false,
  });
  const st = await lstat(to);
  if (st.isDirectory()) await fsyncTree(to);
  else if (st.isFile()) await fsyncFile(to);
}
