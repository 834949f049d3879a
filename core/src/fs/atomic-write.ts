import { constants } from 'node:fs';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fsyncDir } from './fsync.js';

/** How {@link atomicWriteFile} and {@link atomicReplace} create the new file. */
export interface AtomicWriteOptions {
  /**
   * Permission bits of the new file, set with fchmod after creation so the umask cannot widen
   * or narrow them. Default 0o600: readable by the owner only, unless the caller says otherwise.
   */
  readonly mode?: number;
  /** Create the parent directory (and its parents) first. Default false. */
  readonly createDir?: boolean;
}

// O_EXCL: never write into a file that is already there (a stale or planted `.new`);
// O_NOFOLLOW: never write through a symbolic link planted in the temporary file's place.
const CREATE_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Writers of the same path in this process, chained: the temporary name `<path>.new` is fixed
 * (a crash leaves at most one to clean up, by the next write), so two overlapping writes of one
 * file (a periodic snapshot and the final one at stop) must not share it. Keyed by the resolved
 * path; an entry is dropped when its chain is idle.
 */
const writers = new Map<string, Promise<void>>();

async function serialised(path: string, write: () => Promise<void>): Promise<void> {
  const key = resolve(path);
  const previous = writers.get(key) ?? Promise.resolve();
  const mine = previous.then(write, write);
  const tail = mine.catch(() => undefined);
  writers.set(key, tail);
  try {
    await mine;
  } finally {
    if (writers.get(key) === tail) writers.delete(key);
  }
}

/**
 * mkdir -p, and every directory it created made durable in its parent: the rename's directory
 * fsync covers the file's entry, not the entry of a directory created for it (fsync(2)).
 */
async function makeDirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = resolve(dir); ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === resolve(first)) return;
  }
}

async function createExclusive(tmp: string, mode: number): Promise<FileHandle> {
  try {
    return await open(tmp, CREATE_FLAGS, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Left by a crash between create and rename (or planted). unlink(2) removes a link itself,
    // never its target; if something recreates the name before the second try, that try fails.
    await unlink(tmp);
    return await open(tmp, CREATE_FLAGS, mode);
  }
}

/**
 * Replaces `path` so that a crash or power cut at any point leaves either the old or the new
 * content, never a mix (the balena-supervisor sequence): create `<path>.new` exclusively and
 * without following links, let `fill` write it through the handle, fsync it, rename it over
 * `path`, fsync the directory. On any failure the temporary file is removed and `path` is left
 * as it was. `fill` must not close the handle; to stream into it, use
 * `createWriteStream('', { fd: fh.fd, autoClose: false })` (a stream made by
 * `fh.createWriteStream()` keeps a reference that makes the final close wait forever).
 */
export async function atomicReplace(
  path: string,
  fill: (fh: FileHandle) => Promise<void>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  const dir = dirname(path);
  if (options.createDir === true) await makeDirDurable(dir);
  await serialised(path, async () => {
    const tmp = `${path}.new`;
    const fh = await createExclusive(tmp, mode);
    try {
      try {
        await fh.chmod(mode);
        await fill(fh);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await fsyncDir(dir);
  });
}

/** {@link atomicReplace} with the whole content at hand (a state file, a snapshot, a report). */
export async function atomicWriteFile(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await atomicReplace(path, (fh) => fh.writeFile(data), options);
}
