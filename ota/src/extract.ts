import { lstat, mkdir, open, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PayloadSink } from './bundle-reader.js';
import { OtaError, ioError } from './errors.js';

/**
 * A sink that writes a verified payload into a fresh staging directory. It never follows a
 * symlink: parents are created by us and checked with lstat, files are created with O_EXCL, and
 * modes come from the signed manifest (0644/0755), not from the tar header.
 * `onFirstFile` lets tests kill the process mid-extraction.
 */
export function stagingSink(staging: string, onFirstFile?: () => Promise<void>): PayloadSink {
  const madeDirs = new Set<string>(['']);
  let first = true;

  async function ensureParent(rel: string): Promise<void> {
    const segs = rel.split('/').slice(0, -1);
    let cur = '';
    for (const s of segs) {
      cur = cur ? `${cur}/${s}` : s;
      if (madeDirs.has(cur)) continue;
      const p = join(staging, cur);
      try {
        await mkdir(p, { mode: 0o755 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const st = await lstat(p);
        if (!st.isDirectory()) {
          throw new OtaError(
            'EDGEFLOW_OTA_UNSAFE_ENTRY',
            `${cur} is needed as a directory but is a ${st.isSymbolicLink() ? 'symlink' : 'file'}`,
          );
        }
      }
      madeDirs.add(cur);
    }
  }

  // A failure of the disk (or a clash the manifest checks should have caught) names the path.
  const guard = async (path: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      throw e instanceof OtaError ? e : ioError('cannot extract', join(staging, path), e);
    }
  };

  return {
    dir: (path) => guard(path, () => ensureParent(`${path}/x`)),
    symlink: (path, target) =>
      guard(path, async () => {
        await ensureParent(path);
        await symlink(target, join(staging, path));
      }),
    file: (path, mode, chunks) => guard(path, () => writeFile(path, mode, chunks)),
  };

  async function writeFile(
    path: string,
    mode: 0o644 | 0o755,
    chunks: AsyncIterable<Buffer>,
  ): Promise<void> {
    await ensureParent(path);
    const fh = await open(join(staging, path), 'wx', 0o600);
    try {
      for await (const c of chunks) {
        await fh.write(c);
        if (first) {
          first = false;
          await onFirstFile?.();
        }
      }
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}
