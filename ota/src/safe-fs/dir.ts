import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';

/**
 * Root-side file access that cannot be redirected by an unprivileged user (docs/ota.md, "The
 * privilege boundary"). A {@link Dir} is a directory held open; every operation on a name in it
 * goes through `/proc/self/fd/<fd>/<name>`, which the kernel resolves relative to the open
 * directory (openat(2) semantics: no component above it is looked up again), and the name
 * itself is never followed by the calls used here (O_NOFOLLOW, lstat, unlink, rename, mkdir,
 * symlink). Node has no openat; the /proc magic link is the kernel's own equivalent.
 */

const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const O_READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const O_CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** The sticky bit (S_ISVTX, inode(7)); not in Node's fs.constants. */
const S_ISVTX = 0o1000;
/** Symlinks followed while opening one trusted path (Linux's own limit is 40). */
const MAX_HOPS = 40;
/** Deepest tree walked (a deeper one is refused, not recursed into without bound). */
export const MAX_DEPTH = 64;

/** A path a root-side tool refuses to use; `reason` says why, in words for an operator. */
export class UnsafePathError extends Error {
  readonly code = 'UNSAFE_PATH';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} ${reason}`);
    this.name = 'UnsafePathError';
  }
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** Whose directories are trusted: root's, and the invoking user's own (for a non-root run). */
const SELF = process.geteuid?.() ?? 0;

/**
 * True for a directory only root (or the invoking user) can change: owned by root (or that user)
 * and not writable by group or others, or sticky (like /tmp, where others cannot rename or
 * remove its owner's entries).
 */
function rootOnly(st: Stats): boolean {
  return (
    (st.uid === 0 || st.uid === SELF) && ((st.mode & 0o022) === 0 || (st.mode & S_ISVTX) !== 0)
  );
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** A name inside one directory: never empty, ".", ".." or containing "/" or NUL. */
function checkName(dir: string, name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0'))
    throw new UnsafePathError(join(dir, name), 'is not a plain file name');
}

export interface ReadOptions {
  /** Larger files are refused (never read into memory). */
  readonly maxBytes: number;
  /** Refuse a file with more than one hard link (a name given to someone else's file). */
  readonly singleLink?: boolean;
}

/** A directory opened without following links; see the module comment. */
export class Dir {
  readonly #fh: FileHandle;
  /** The path it was reached by (for messages; never used to reach it again). */
  readonly path: string;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  /**
   * This directory and every one above it can be changed by root only: a path through it names
   * what root put there. False from the first directory another user owns or may write.
   */
  readonly trusted: boolean;
  /**
   * Owner of the first untrusted directory on the way here (the agent's state directory), the
   * only uid whose files are read below it; undefined while trusted.
   */
  readonly foreignOwner: number | undefined;

  private constructor(fh: FileHandle, path: string, st: Stats, parent: Dir | undefined) {
    this.#fh = fh;
    this.path = path;
    this.uid = st.uid;
    this.gid = st.gid;
    this.mode = st.mode & 0o7777;
    const mine = rootOnly(st);
    this.trusted = (parent?.trusted ?? true) && mine;
    this.foreignOwner =
      parent && !parent.trusted ? parent.foreignOwner : this.trusted ? undefined : st.uid;
  }

  static async #wrap(fh: FileHandle, path: string, parent: Dir | undefined): Promise<Dir> {
    try {
      const st = await fh.stat();
      if (!st.isDirectory()) throw new UnsafePathError(path, 'is not a directory');
      return new Dir(fh, path, st, parent);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /**
   * Opens an absolute path one component at a time from "/". A symlink is followed only where
   * nobody but root could have put it (a root-owned link in a directory only root can change,
   * e.g. systemd's /var/lib/edgeflow -> private/edgeflow); below the first directory another
   * user controls no link is followed at all. With `create`, missing directories are made (mode
   * `create`), but only where root alone controls the parent. ENOENT passes through as is.
   */
  static async open(path: string, opts: { readonly create?: number } = {}): Promise<Dir> {
    const abs = isAbsolute(path) ? path : resolve(path);
    const queue = abs.split('/').filter((s) => s !== '' && s !== '.');
    const stack: Dir[] = [await Dir.#wrap(await fsp.open('/', O_DIR), '/', undefined)];
    let hops = 0;
    try {
      while (queue.length > 0) {
        const name = queue.shift() as string;
        const cur = stack.at(-1) as Dir;
        if (name === '..') {
          if (stack.length > 1) await (stack.pop() as Dir).close();
          continue;
        }
        const next = await cur.#step(name, opts.create);
        if (typeof next !== 'string') {
          stack.push(next);
          continue;
        }
        if (++hops > MAX_HOPS) throw new UnsafePathError(abs, 'has too many symlinks');
        const parts = next.split('/').filter((s) => s !== '' && s !== '.');
        if (next.startsWith('/')) while (stack.length > 1) await (stack.pop() as Dir).close();
        queue.unshift(...parts);
      }
      return stack.pop() as Dir;
    } finally {
      for (const d of stack) await d.close();
    }
  }

  /** Opens child `name`, or returns the target of a link that may be followed. */
  async #step(name: string, create: number | undefined): Promise<Dir | string> {
    try {
      return await this.child(name);
    } catch (e) {
      if (!(e instanceof UnsafePathError)) {
        if (errno(e) !== 'ENOENT' || create === undefined) throw e;
        if (!this.trusted)
          throw new UnsafePathError(
            join(this.path, name),
            'is missing and will not be created here: another user controls the directory',
          );
        await fsp.mkdir(this.#at(name), create).catch((err: unknown) => {
          if (errno(err) !== 'EEXIST') throw err;
        });
        return this.child(name);
      }
      const st = await this.lstat(name);
      if (!st?.isSymbolicLink()) throw e;
      if (!this.trusted || (st.uid !== 0 && st.uid !== SELF))
        throw new UnsafePathError(
          join(this.path, name),
          'is a symlink that another user could have put there: not followed',
        );
      return fsp.readlink(this.#at(name));
    }
  }

  /** The kernel path of `name` inside this directory (resolved through the open descriptor). */
  #at(name: string): string {
    checkName(this.path, name);
    return `/proc/self/fd/${this.#fh.fd}/${name}`;
  }

  /** Path of `name` for messages. */
  show(name: string): string {
    return join(this.path, name);
  }

  /** Opens sub-directory `name`; a symlink or non-directory there is an UnsafePathError. */
  async child(name: string): Promise<Dir> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(this.#at(name), O_DIR);
    } catch (e) {
      if (errno(e) === 'ENOTDIR' || errno(e) === 'ELOOP') {
        const st = await this.lstat(name);
        throw new UnsafePathError(
          this.show(name),
          st?.isSymbolicLink() ? 'is a symlink, not a directory' : 'is not a directory',
        );
      }
      throw e;
    }
    return Dir.#wrap(fh, this.show(name), this);
  }

  /** {@link child}, or undefined when nothing has that name. */
  async childIfExists(name: string): Promise<Dir | undefined> {
    try {
      return await this.child(name);
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  /**
   * Creates directory `name` (it must not exist) and opens it. The result is checked to be ours
   * and empty: in a directory another user controls, a name can be swapped between two calls.
   */
  async makeDir(name: string, mode: number): Promise<Dir> {
    await fsp.mkdir(this.#at(name), mode);
    const d = await this.child(name);
    if (d.uid !== (process.getuid?.() ?? d.uid) || (await d.names()).length > 0) {
      await d.close();
      throw new UnsafePathError(this.show(name), 'was replaced while being created');
    }
    return d;
  }

  /** Opens `name`, creating it (mode) when missing. */
  async ensureDir(name: string, mode: number): Promise<Dir> {
    try {
      return await this.child(name);
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
    }
    try {
      return await this.makeDir(name, mode);
    } catch (e) {
      if (errno(e) === 'EEXIST') return this.child(name);
      throw e;
    }
  }

  /** Entry names, sorted. */
  async names(): Promise<string[]> {
    return (await fsp.readdir(`/proc/self/fd/${this.#fh.fd}`)).sort();
  }

  /** lstat of `name`, undefined when missing. */
  async lstat(name: string): Promise<Stats | undefined> {
    try {
      return await fsp.lstat(this.#at(name));
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  /**
   * Opens regular file `name` for reading: never through a link (O_NOFOLLOW), never blocking on
   * a FIFO (O_NONBLOCK), checked on the open descriptor: a regular file, and below an untrusted
   * directory owned by {@link foreignOwner} (not a name given to root's file). Undefined if missing.
   */
  async openRead(name: string): Promise<{ fh: FileHandle; st: Stats } | undefined> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(this.#at(name), O_READ);
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      if (errno(e) === 'ELOOP') throw new UnsafePathError(this.show(name), 'is a symlink');
      if (errno(e) === 'ENXIO') throw new UnsafePathError(this.show(name), 'is a socket');
      throw e;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new UnsafePathError(this.show(name), 'is not a regular file');
      if (this.foreignOwner !== undefined && st.uid !== this.foreignOwner)
        throw new UnsafePathError(
          this.show(name),
          `is owned by uid ${st.uid}, not by uid ${this.foreignOwner} who owns the directory`,
        );
      return { fh, st };
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Reads a small regular file (see {@link openRead}); undefined when missing. */
  async readFile(name: string, o: ReadOptions): Promise<Buffer | undefined> {
    const r = await this.openRead(name);
    if (!r) return undefined;
    try {
      if (o.singleLink && r.st.nlink !== 1)
        throw new UnsafePathError(this.show(name), `has ${r.st.nlink} hard links, expected 1`);
      if (r.st.size > o.maxBytes)
        throw new UnsafePathError(this.show(name), `is ${r.st.size} bytes, at most ${o.maxBytes}`);
      const buf = Buffer.alloc(o.maxBytes + 1);
      let n = 0;
      for (;;) {
        const { bytesRead } = await r.fh.read(buf, n, buf.length - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
        if (n > o.maxBytes)
          throw new UnsafePathError(this.show(name), `grew beyond ${o.maxBytes} bytes`);
      }
      return buf.subarray(0, n);
    } finally {
      await r.fh.close();
    }
  }

  /** Creates a new file: O_EXCL (never an existing file) and O_NOFOLLOW; mode set with fchmod. */
  async createFile(name: string, mode: number): Promise<FileHandle> {
    const fh = await fsp.open(this.#at(name), O_CREATE, 0o600);
    try {
      await fh.chmod(mode);
    } catch (e) {
      await fh.close();
      throw e;
    }
    return fh;
  }

  /**
   * Replaces `name` atomically: a new file under a random name (O_EXCL), fsync, rename over
   * `name`, fsync this directory. A crash leaves the old or the new content.
   */
  async writeFileAtomic(name: string, data: string | Uint8Array, mode: number): Promise<void> {
    checkName(this.path, name);
    const tmp = `.${name}.new-${randomBytes(6).toString('hex')}`;
    const fh = await this.createFile(tmp, mode);
    try {
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(this.#at(tmp), this.#at(name));
    } catch (e) {
      await this.unlinkIfExists(tmp).catch(() => undefined);
      throw e;
    }
    await this.sync();
  }

  /** rename(2) of `name` to `toName` in `to` (both resolved through their descriptors). */
  async rename(name: string, to: Dir, toName: string): Promise<void> {
    await fsp.rename(this.#at(name), to.#at(toName));
  }

  /** {@link rename}; false when `name` does not exist. */
  async renameIfExists(name: string, to: Dir, toName: string): Promise<boolean> {
    try {
      await this.rename(name, to, toName);
      return true;
    } catch (e) {
      if (errno(e) === 'ENOENT') return false;
      throw e;
    }
  }

  /** Removes a non-directory entry (a link itself, never its target); false when missing. */
  async unlinkIfExists(name: string): Promise<boolean> {
    try {
      await fsp.unlink(this.#at(name));
      return true;
    } catch (e) {
      if (errno(e) === 'ENOENT') return false;
      throw e;
    }
  }

  async symlink(target: string, name: string): Promise<void> {
    await fsp.symlink(target, this.#at(name));
  }

  async readlink(name: string): Promise<string> {
    return fsp.readlink(this.#at(name));
  }

  /** Changes the owner of `name` itself (a link's own owner, never its target's). */
  async lchown(name: string, uid: number, gid: number): Promise<void> {
    await fsp.lchown(this.#at(name), uid, gid);
  }

  /** Owner and mode of this directory, through its descriptor. */
  async chown(uid: number, gid: number): Promise<void> {
    await this.#fh.chown(uid, gid);
  }

  async chmod(mode: number): Promise<void> {
    await this.#fh.chmod(mode);
  }

  /**
   * Removes `name` and everything below it without following a link: each directory is opened
   * (O_NOFOLLOW) before its entries are removed through it, so a directory swapped for a link
   * meanwhile only loses the link. Missing is fine.
   */
  async removeTree(name: string, depth = 0): Promise<void> {
    const st = await this.lstat(name);
    if (!st) return;
    if (!st.isDirectory()) {
      await this.unlinkIfExists(name);
      return;
    }
    if (depth >= MAX_DEPTH)
      throw new UnsafePathError(this.show(name), `is nested deeper than ${MAX_DEPTH} levels`);
    let d: Dir | undefined;
    try {
      d = await this.childIfExists(name);
    } catch (e) {
      if (!(e instanceof UnsafePathError)) throw e;
      await this.unlinkIfExists(name); // swapped for a link or file since the lstat
      return;
    }
    if (!d) return;
    try {
      for (const n of await d.names()) await d.removeTree(n, depth + 1);
    } finally {
      await d.close();
    }
    try {
      await fsp.rmdir(this.#at(name));
    } catch (e) {
      if (errno(e) === 'ENOENT') return;
      if (errno(e) === 'ENOTDIR') await this.unlinkIfExists(name);
      else throw e;
    }
  }

  /** fsync of the directory (entries created, renamed or removed in it become durable). */
  async sync(): Promise<void> {
    await this.#fh.sync();
  }

  async close(): Promise<void> {
    await this.#fh.close().catch(() => undefined);
  }
}
