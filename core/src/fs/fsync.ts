import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * fsyncs a directory, so that the entries created, renamed or removed in it survive a power
 * cut: on Linux a rename is durable only once its directory is (fsync(2), "Calling fsync() does
 * not necessarily ensure that the entry in the directory containing the file has also reached
 * disk"). Opened with O_DIRECTORY so that a file in its place is an error, not a silent no-op.
 */
export async function fsyncDir(dir: string): Promise<void> {
  await syncOpened(dir, constants.O_RDONLY | constants.O_DIRECTORY);
}

/** fsyncs one regular file's data and metadata (opened read-only, without following a link). */
export async function fsyncFile(path: string): Promise<void> {
  await syncOpened(path, constants.O_RDONLY | constants.O_NOFOLLOW);
}

async function syncOpened(path: string, flags: number): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * fsyncs every regular file and directory of a tree, deepest first, then the root itself (after
 * an extraction or a copy). Symbolic links are not followed: their own entry is made durable by
 * the fsync of the directory that holds them.
 */
export async function fsyncTree(root: string): Promise<void> {
  for (const e of await readdir(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) await fsyncTree(p);
    else if (e.isFile()) await fsyncFile(p);
  }
  await fsyncDir(root);
}
