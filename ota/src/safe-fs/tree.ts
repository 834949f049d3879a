import { MAX_DEPTH, UnsafePathError } from './dir.js';
import type { Dir } from './dir.js';

/** How {@link copyEntry} treats owners; see docs/ota.md "The privilege boundary". */
export interface CopyOptions {
  /**
   * Owner given to every copied entry. Absent: each entry keeps the owner it had (a root-side
   * copy of root's own tree, where owners are not the agent's to choose).
   */
  readonly chownTo?: { readonly uid: number; readonly gid: number };
  /** Called for each entry left out (a FIFO, someone else's file, a link swapped in). */
  readonly onSkip: (path: string, why: string) => void;
}

/**
 * Copies entry `name` of `from` to `toName` in `to`, recursively, never following a link:
 * regular files (content, mode & 0777), directories and symlinks (their target text) only.
 * Below an untrusted directory only entries owned by its {@link Dir.foreignOwner} are read
 * (checked on the opened descriptor), so a hard link to root's file or anything root put there
 * is never copied on. New entries are created by root with O_EXCL / mkdir, 0600 / 0700 until
 * filled, then given their mode and owner. Returns false when the entry was skipped.
 */
export async function copyEntry(
  from: Dir,
  name: string,
  to: Dir,
  toName: string,
  o: CopyOptions,
  depth = 0,
): Promise<boolean> {
  const st = await from.lstat(name);
  if (!st) return false;
  const where = from.show(name);
  if (from.foreignOwner !== undefined && st.uid !== from.foreignOwner) {
    o.onSkip(where, `owned by uid ${st.uid}, not by the directory's owner ${from.foreignOwner}`);
    return false;
  }
  const owner = o.chownTo ?? { uid: st.uid, gid: st.gid };
  if (st.isSymbolicLink()) {
    await to.symlink(await from.readlink(name), toName);
    await to.lchown(toName, owner.uid, owner.gid);
    return true;
  }
  if (st.isDirectory()) return copyDir(from, name, to, toName, o, depth, owner);
  if (!st.isFile()) {
    o.onSkip(where, 'not a regular file, directory or symlink');
    return false;
  }
  let src;
  try {
    src = await from.openRead(name);
  } catch (e) {
    if (!(e instanceof UnsafePathError)) throw e;
    o.onSkip(where, e.reason);
    return false;
  }
  if (!src) return false;
  const out = await to.createFile(toName, 0o600);
  try {
    const buf = Buffer.allocUnsafe(1 << 16);
    for (let pos = 0; ;) {
      const { bytesRead } = await src.fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      await out.write(buf, 0, bytesRead);
      pos += bytesRead;
    }
    await out.chmod(src.st.mode & 0o777);
    await out.chown(owner.uid, owner.gid);
    await out.sync();
  } finally {
    await out.close();
    await src.fh.close();
  }
  return true;
}

async function copyDir(
  from: Dir,
  name: string,
  to: Dir,
  toName: string,
  o: CopyOptions,
  depth: number,
  owner: { uid: number; gid: number },
): Promise<boolean> {
  if (depth >= MAX_DEPTH) {
    o.onSkip(from.show(name), `nested deeper than ${MAX_DEPTH} levels`);
    return false;
  }
  let src: Dir;
  try {
    const d = await from.childIfExists(name);
    if (!d) return false;
    src = d;
  } catch (e) {
    if (!(e instanceof UnsafePathError)) throw e;
    o.onSkip(from.show(name), e.reason);
    return false;
  }
  try {
    if (src.foreignOwner !== undefined && src.uid !== src.foreignOwner) {
      o.onSkip(src.path, `owned by uid ${src.uid}, not by the directory's owner`);
      return false;
    }
    const dst = await to.makeDir(toName, 0o700);
    try {
      await copyTree(src, dst, o, depth + 1);
      await dst.chmod(src.mode & 0o777);
      await dst.chown(o.chownTo?.uid ?? owner.uid, o.chownTo?.gid ?? owner.gid);
      await dst.sync();
    } finally {
      await dst.close();
    }
    return true;
  } finally {
    await src.close();
  }
}

/** Copies every entry of `from` into `to` (see {@link copyEntry}), then fsyncs `to`. */
export async function copyTree(from: Dir, to: Dir, o: CopyOptions, depth = 0): Promise<void> {
  for (const n of await from.names()) await copyEntry(from, n, to, n, o, depth);
  await to.sync();
}
