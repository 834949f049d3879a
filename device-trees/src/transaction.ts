/**
 * Transactional application of a set of file changes: back up every file first, then write
 * atomically; on a failure half-way, put back what was already written. `rollback` restores the
 * newest backup byte for byte and discards it, so repeated rollbacks walk back in time. Boot
 * files are reached through {@link BootFiles} (no link followed below the boot root), backups
 * through {@link BackupStore} (root-only, confined to the files the installer manages).
 */
import { dirname, join } from 'node:path';
import { BackupStore } from './backups.js';
import type { BoardId } from './boards.js';
import type { BootFiles } from './boot-files.js';
import { DtError, dtError } from './errors.js';
import type { FsOps } from './fs-ops.js';

/** One file the operation changes. `null` = absent (before: new file; after: delete). */
export interface FileChange {
  /** Path relative to the boot root: the only thing used to reach the file. */
  readonly rel: string;
  /** The same file as an absolute path, for messages and the read-only preflight. */
  readonly path: string;
  readonly before: Buffer | null;
  readonly after: Buffer | null;
}

function ioError(err: unknown, path: string): DtError {
  if (err instanceof DtError) return err;
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

/** Number of backups available for rollback. */
export async function backupCount(stateDir: string): Promise<number> {
  const store = await BackupStore.open(stateDir, false);
  if (!store) return 0;
  try {
    return (await store.ids()).length;
  } finally {
    await store.close();
  }
}

async function write(boot: BootFiles, c: FileChange, content: Buffer | null): Promise<void> {
  if (content) await boot.write(c.rel, content);
  else await boot.remove(c.rel);
}

/** Back up, then apply `changes` (additions first, deletions last). */
export async function applyChanges(
  boot: BootFiles,
  stateDir: string,
  board: BoardId,
  action: string,
  changes: readonly FileChange[],
  now: () => Date,
): Promise<void> {
  const store = (await BackupStore.open(stateDir, true)) as BackupStore;
  try {
    let id: string;
    try {
      id = await store.create(action, board, changes, now());
    } catch (err) {
      throw ioError(err, store.path);
    }
    const order = [
      ...changes.filter((c) => c.after !== null),
      ...changes.filter((c) => c.after === null),
    ];
    const done: FileChange[] = [];
    try {
      for (const c of order) {
        await write(boot, c, c.after);
        done.push(c);
      }
    } catch (err) {
      for (const c of done.reverse()) await write(boot, c, c.before).catch(() => undefined);
      await store.discard(id).catch(() => undefined);
      throw ioError(err, (err as { path?: string }).path ?? 'boot partition');
    }
  } finally {
    await store.close();
  }
}

/** The changes a rollback would make (newest backup vs. what is on disk now). */
export async function planRollback(
  boot: BootFiles,
  root: string,
  stateDir: string,
  board: BoardId,
): Promise<{ id: string; action: string; changes: FileChange[] }> {
  const store = await BackupStore.open(stateDir, false);
  let b;
  try {
    b = await store?.newest(board);
  } finally {
    await store?.close();
  }
  if (!store || !b)
    throw dtError('EDGEFLOW_DT_NO_BACKUP', `no backup under ${join(stateDir, 'backups')}`);
  const changes: FileChange[] = [];
  for (const f of b.files) {
    const now = await boot.read(f.rel);
    const after = f.before;
    if (!(now === null && after === null) && !(now && after && now.equals(after)))
      changes.push({ rel: f.rel, path: join(root, f.rel), before: now, after });
  }
  return { id: b.id, action: b.action, changes };
}

/** Restore the newest backup, then discard it. */
export async function rollback(
  boot: BootFiles,
  fs: FsOps,
  root: string,
  stateDir: string,
  board: BoardId,
): Promise<{ id: string; action: string; changes: FileChange[] }> {
  const plan = await planRollback(boot, root, stateDir, board);
  await preflight(
    fs,
    plan.changes.map((c) => dirname(c.path)),
  );
  try {
    for (const c of plan.changes) await write(boot, c, c.after);
  } catch (err) {
    throw ioError(err, 'boot partition');
  }
  const store = (await BackupStore.open(stateDir, false)) as BackupStore;
  try {
    await store.discard(plan.id);
  } finally {
    await store.close();
  }
  return plan;
}
