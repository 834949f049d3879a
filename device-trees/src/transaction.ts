/**
 * Transactional application of a set of file changes: back up every file first, then write
 * atomically; on a failure half-way, put back what was already written. `rollback` restores the
 * newest backup byte for byte and discards it, so repeated rollbacks walk back in time.
 */
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { dtError } from './errors.js';
import type { FsOps } from './fs-ops.js';

/** One file the operation changes. `null` = absent (before: new file; after: delete). */
export interface FileChange {
  /** Path relative to the boot root, as shown in diffs. */
  readonly rel: string;
  readonly path: string;
  readonly before: Buffer | null;
  readonly after: Buffer | null;
}

interface ManifestFile {
  rel: string;
  path: string;
  existed: boolean;
  sha256: string | null;
}

interface Manifest {
  version: 1;
  created: string;
  action: string;
  files: ManifestFile[];
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function ioError(err: unknown, path: string) {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return dtError(
      'EDGEFLOW_DT_BOOT_READONLY',
      `${path} is not writable (${code}); nothing was changed`,
      err,
    );
  }
  if (code === 'ENOENT')
    return dtError('EDGEFLOW_DT_BOOT_MISSING', `${path} does not exist; nothing was changed`, err);
  return dtError('EDGEFLOW_DT_IO', `${path}: ${(err as Error).message}`, err);
}

/** Fail before writing anything when a directory the change touches is not writable. */
export async function preflight(fs: FsOps, dirs: readonly string[]): Promise<void> {
  for (const dir of new Set(dirs)) {
    try {
      await fs.checkWritable(dir);
    } catch (err) {
      throw ioError(err, dir);
    }
  }
}

async function backupDirs(fs: FsOps, stateDir: string): Promise<string[]> {
  const dir = join(stateDir, 'backups');
  if (!(await fs.exists(dir))) return [];
  return (await fs.readdir(dir)).filter((n) => /^\d{6}$/.test(n)).sort();
}

/** Number of backups available for rollback. */
export async function backupCount(fs: FsOps, stateDir: string): Promise<number> {
  return (await backupDirs(fs, stateDir)).length;
}

/** Back up, then apply `changes` (additions first, deletions last). */
export async function applyChanges(
  fs: FsOps,
  stateDir: string,
  action: string,
  changes: readonly FileChange[],
  now: () => Date,
): Promise<void> {
  const existing = await backupDirs(fs, stateDir);
  const next = String(Number(existing.at(-1) ?? '0') + 1).padStart(6, '0');
  const dir = join(stateDir, 'backups', next);
  const manifest: Manifest = { version: 1, created: now().toISOString(), action, files: [] };
  try {
    await fs.mkdirp(dir);
    for (const [i, c] of changes.entries()) {
      if (c.before) await fs.writeFileAtomic(join(dir, `file-${i}`), c.before);
      manifest.files.push({
        rel: c.rel,
        path: c.path,
        existed: c.before !== null,
        sha256: c.before ? sha(c.before) : null,
      });
    }
    // The manifest is written last: a backup without one is incomplete and ignored by rollback.
    await fs.writeFileAtomic(
      join(dir, 'manifest.json'),
      Buffer.from(JSON.stringify(manifest, null, 2) + '\n'),
    );
  } catch (err) {
    await fs.rmrf(dir).catch(() => undefined);
    throw ioError(err, dir);
  }
  const order = [
    ...changes.filter((c) => c.after !== null),
    ...changes.filter((c) => c.after === null),
  ];
  const done: FileChange[] = [];
  try {
    for (const c of order) {
      if (c.after) {
        await fs.mkdirp(dirname(c.path));
        await fs.writeFileAtomic(c.path, c.after);
      } else if (await fs.exists(c.path)) {
        await fs.unlink(c.path);
      }
      done.push(c);
    }
  } catch (err) {
    for (const c of done.reverse()) {
      if (c.before) await fs.writeFileAtomic(c.path, c.before).catch(() => undefined);
      else await fs.unlink(c.path).catch(() => undefined);
    }
    await fs.rmrf(dir).catch(() => undefined);
    throw ioError(err, (err as { path?: string }).path ?? 'boot partition');
  }
}

/** The changes a rollback would make (newest backup vs. what is on disk now). */
export async function planRollback(
  fs: FsOps,
  stateDir: string,
): Promise<{ id: string; action: string; changes: FileChange[] }> {
  const dirs = await backupDirs(fs, stateDir);
  for (const id of dirs.reverse()) {
    const dir = join(stateDir, 'backups', id);
    let manifest: Manifest;
    try {
      manifest = JSON.parse((await fs.readFile(join(dir, 'manifest.json'))).toString()) as Manifest;
    } catch {
      continue;
    }
    const changes: FileChange[] = [];
    for (const [i, f] of manifest.files.entries()) {
      const before = (await fs.exists(f.path)) ? await fs.readFile(f.path) : null;
      const after = f.existed ? await fs.readFile(join(dir, `file-${i}`)) : null;
      if (after && f.sha256 !== sha(after)) {
        throw dtError(
          'EDGEFLOW_DT_IO',
          `backup ${dir}/file-${i} of ${f.rel} is corrupt (sha256 mismatch); not rolling back`,
        );
      }
      if (!(before === null && after === null) && !(before && after && before.equals(after))) {
        changes.push({ rel: f.rel, path: f.path, before, after });
      }
    }
    return { id, action: manifest.action, changes };
  }
  throw dtError('EDGEFLOW_DT_NO_BACKUP', `no backup under ${join(stateDir, 'backups')}`);
}

/** Restore the newest backup, then discard it. */
export async function rollback(
  fs: FsOps,
  stateDir: string,
): Promise<{ id: string; action: string; changes: FileChange[] }> {
  const plan = await planRollback(fs, stateDir);
  await preflight(
    fs,
    plan.changes.map((c) => dirname(c.path)),
  );
  try {
    for (const c of plan.changes) {
      if (c.after) {
        await fs.mkdirp(dirname(c.path));
        await fs.writeFileAtomic(c.path, c.after);
      } else {
        await fs.unlink(c.path);
      }
    }
  } catch (err) {
    throw ioError(err, 'boot partition');
  }
  await fs.rmrf(join(stateDir, 'backups', plan.id));
  return plan;
}
