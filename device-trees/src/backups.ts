/**
 * Backups of the boot files `edgeflow dt` changes, for a byte-exact rollback. They live in a
 * root-only directory outside every StateDirectory (default `<boot root>/var/lib/edgeflow-dt`,
 * 0700): nothing another uid can plant is ever read back. A backup's manifest names files only
 * relative to the boot root, and only files the installer manages for the board (its boot config
 * and `edgeflow-*.dtbo` overlays): the restore path is confined by construction.
 */
import { createHash } from 'node:crypto';
import { Dir, UnsafePathError } from '@edgeflow/ota/safe-fs';
import { z } from 'zod';
import { BOARDS, BOARD_IDS, type BoardId } from './boards.js';
import { asDtError } from './boot-files.js';
import { dtError } from './errors.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const ID = /^\d{6}$/;
const BACKUP_MODE = 0o600;

const manifestSchema = z.strictObject({
  version: z.literal(2),
  created: z.string().max(64),
  action: z.string().max(200),
  board: z.enum(BOARD_IDS),
  files: z
    .array(
      z.strictObject({
        rel: z.string().max(255),
        existed: z.boolean(),
        sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/)
          .nullable(),
      }),
    )
    .max(16),
});
type Manifest = z.infer<typeof manifestSchema>;

/** One file of a backup: its content before the change (null: it did not exist). */
export interface BackedUpFile {
  readonly rel: string;
  readonly before: Buffer | null;
}

/** A loaded backup. */
export interface Backup {
  readonly id: string;
  readonly action: string;
  readonly files: readonly BackedUpFile[];
}

/** The files the installer manages on `board`: its boot config and its own overlays. */
export function managedRel(board: BoardId, rel: string): boolean {
  const info = BOARDS[board];
  if (rel === info.configPath) return true;
  const dir = `${info.dtboDir}/`;
  return rel.startsWith(dir) && /^edgeflow-[a-z0-9][a-z0-9-]*\.dtbo$/.test(rel.slice(dir.length));
}

function bad(dir: string, why: string): Error {
  return dtError(
    'EDGEFLOW_DT_BAD_BACKUP',
    `backup ${dir}: ${why}; not rolling back. Inspect it, then remove that backup directory`,
  );
}

/** The backups directory of one boot root. */
export class BackupStore {
  readonly #dir: Dir;

  private constructor(dir: Dir) {
    this.#dir = dir;
  }

  /** Opens (with `create`: makes, 0700) `<stateDir>/backups`; it must be root's alone. */
  static async open(stateDir: string, create: boolean): Promise<BackupStore | undefined> {
    let d: Dir;
    try {
      d = await Dir.open(`${stateDir}/backups`, create ? { create: 0o700 } : {});
    } catch (e) {
      if (!create && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw asDtError(e);
    }
    if (!d.trusted) {
      await d.close();
      throw asDtError(
        new UnsafePathError(
          d.path,
          `can be changed by another user (owner uid ${d.uid}, mode 0${d.mode.toString(8)}): backups must be root's alone`,
        ),
      );
    }
    return new BackupStore(d);
  }

  /** Backup ids, oldest first. */
  async ids(): Promise<string[]> {
    return (await this.#dir.names()).filter((n) => ID.test(n));
  }

  /** Writes a new backup (files first, manifest last: a backup without one is incomplete). */
  async create(
    action: string,
    board: BoardId,
    files: readonly BackedUpFile[],
    now: Date,
  ): Promise<string> {
    const last = (await this.ids()).at(-1) ?? '000000';
    const id = String(Number(last) + 1).padStart(6, '0');
    const d = await this.#dir.makeDir(id, 0o700);
    try {
      const manifest: Manifest = {
        version: 2,
        created: now.toISOString(),
        action,
        board,
        files: [],
      };
      for (const [i, f] of files.entries()) {
        if (f.before) await d.writeFileAtomic(`file-${i}`, f.before, BACKUP_MODE);
        manifest.files.push({
          rel: f.rel,
          existed: f.before !== null,
          sha256: f.before ? sha(f.before) : null,
        });
      }
      await d.writeFileAtomic(
        'manifest.json',
        `${JSON.stringify(manifest, null, 2)}\n`,
        BACKUP_MODE,
      );
    } catch (e) {
      await d.close();
      await this.discard(id).catch(() => undefined);
      throw asDtError(e);
    }
    await d.close();
    await this.#dir.sync();
    return id;
  }

  /**
   * The newest complete backup (skipping ones a crash left without a manifest), checked: the
   * manifest must parse, be for `board`, name only files the installer manages, and every saved
   * file must match its sha256. Undefined when there is none.
   */
  async newest(board: BoardId): Promise<Backup | undefined> {
    for (const id of (await this.ids()).reverse()) {
      const d = await this.#dir.child(id).catch((e: unknown) => {
        throw asDtError(e);
      });
      try {
        const raw = await d.readFile('manifest.json', { maxBytes: 64 * 1024 });
        if (!raw) continue;
        return { id, ...(await load(d, raw, board)) };
      } catch (e) {
        throw asDtError(e);
      } finally {
        await d.close();
      }
    }
    return undefined;
  }

  /** Removes backup `id`. */
  async discard(id: string): Promise<void> {
    await this.#dir.removeTree(id);
    await this.#dir.sync();
  }

  /** Where the backups are (for messages). */
  get path(): string {
    return this.#dir.path;
  }

  async close(): Promise<void> {
    await this.#dir.close();
  }
}

async function load(
  d: Dir,
  raw: Buffer,
  board: BoardId,
): Promise<{ action: string; files: BackedUpFile[] }> {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw bad(d.path, 'manifest.json is not JSON');
  }
  const r = manifestSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw bad(d.path, `manifest.json: ${i?.path.join('.') ?? ''}: ${i?.message ?? 'invalid'}`);
  }
  const m = r.data;
  if (m.board !== board) throw bad(d.path, `it was made for board ${m.board}, not ${board}`);
  const files: BackedUpFile[] = [];
  for (const [i, f] of m.files.entries()) {
    if (!managedRel(board, f.rel))
      throw bad(
        d.path,
        `it names ${JSON.stringify(f.rel)}, not a file edgeflow dt manages on ${board}`,
      );
    if (!f.existed) {
      files.push({ rel: f.rel, before: null });
      continue;
    }
    const before = await d.readFile(`file-${i}`, { maxBytes: 16 * 1024 * 1024 });
    if (!before || f.sha256 !== sha(before))
      throw bad(d.path, `file-${i} (${f.rel}) is missing or corrupt (sha256 mismatch)`);
    files.push({ rel: f.rel, before });
  }
  return { action: m.action, files };
}
