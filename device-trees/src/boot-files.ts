/**
 * The boot root and every file `edgeflow dt` reads or writes below it (docs/device-trees.md,
 * "The privilege boundary"). Paths are relative to the boot root and reached component by
 * component through directory descriptors, never following a link below the root (a symlinked
 * `overlays/` or a planted `config.txt.new` is refused, not written through); every directory on
 * the way must be one only root (or the invoking user) can change. Writes are atomic: a new file
 * under a random name (O_EXCL|O_NOFOLLOW), fsync, rename, fsync of the directory.
 */
import { Dir, UnsafePathError } from '@edgeflow/ota/safe-fs';
import { dtError } from './errors.js';

/** Boot files are read by the bootloader and by `edgeflow dt status` as any user. */
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;
/** Larger than any boot config or overlay EdgeFlow writes; a bigger file is not one of them. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** UnsafePathError -> EDGEFLOW_DT_UNSAFE_PATH; anything else passes through. */
export function asDtError(e: unknown): unknown {
  if (!(e instanceof UnsafePathError)) return e;
  return dtError(
    'EDGEFLOW_DT_UNSAFE_PATH',
    `${e.message}: refusing to read or write through it; check who made it (ls -la) and restore a plain directory or file`,
    e,
  );
}

function checkTrusted(d: Dir): void {
  if (!d.trusted)
    throw new UnsafePathError(
      d.path,
      `can be changed by another user (owner uid ${d.uid}, mode 0${d.mode.toString(8)})`,
    );
}

/** Files below one boot root; see the module comment. */
export class BootFiles {
  readonly #root: Dir;

  private constructor(root: Dir) {
    this.#root = root;
  }

  /** Opens the boot root (the operator's path; a root-owned link on the way is followed). */
  static async open(root: string): Promise<BootFiles> {
    try {
      const d = await Dir.open(root);
      try {
        checkTrusted(d);
      } catch (e) {
        await d.close();
        throw e;
      }
      return new BootFiles(d);
    } catch (e) {
      throw asDtError(e);
    }
  }

  /** The directory holding `rel` (created with `create`), or undefined when missing. */
  async #parent(rel: string, create: boolean): Promise<{ dir: Dir; name: string } | undefined> {
    const segs = rel.split('/');
    const name = segs.pop() ?? '';
    let dir = this.#root;
    try {
      for (const s of segs) {
        const next = create ? await dir.ensureDir(s, DIR_MODE) : await dir.childIfExists(s);
        if (dir !== this.#root) await dir.close();
        if (!next) return undefined;
        dir = next;
        checkTrusted(dir);
      }
      return { dir, name };
    } catch (e) {
      if (dir !== this.#root) await dir.close();
      throw asDtError(e);
    }
  }

  async #with<T>(
    rel: string,
    create: boolean,
    fn: (d: Dir, name: string) => Promise<T>,
  ): Promise<T | undefined> {
    const p = await this.#parent(rel, create);
    if (!p) return undefined;
    try {
      return await fn(p.dir, p.name);
    } catch (e) {
      throw asDtError(e);
    } finally {
      if (p.dir !== this.#root) await p.dir.close();
    }
  }

  /** Content of regular file `rel`, or null when it does not exist (a link is refused). */
  async read(rel: string): Promise<Buffer | null> {
    return (
      (await this.#with(rel, false, (d, n) => d.readFile(n, { maxBytes: MAX_FILE_BYTES }))) ?? null
    );
  }

  /** True when `rel` exists (of any type: a link there is reported, never followed). */
  async exists(rel: string): Promise<boolean> {
    return (
      (await this.#with(rel, false, async (d, n) => (await d.lstat(n)) !== undefined)) ?? false
    );
  }

  /** Names in directory `rel` (empty when missing). */
  async list(rel: string): Promise<string[]> {
    // The last segment names an entry inside `rel`; only the directory is used.
    return (await this.#with(`${rel}/-`, false, (d) => d.names())) ?? [];
  }

  /** Replaces (or creates) `rel` atomically, creating its directories (0755) as needed. */
  async write(rel: string, data: Buffer): Promise<void> {
    await this.#with(rel, true, (d, n) => d.writeFileAtomic(n, data, FILE_MODE));
  }

  /** Removes file `rel` (a link itself, never its target) and fsyncs its directory. */
  async remove(rel: string): Promise<void> {
    await this.#with(rel, false, async (d, n) => {
      const st = await d.lstat(n);
      if (st?.isDirectory()) throw new UnsafePathError(d.show(n), 'is a directory, not a file');
      if (await d.unlinkIfExists(n)) await d.sync();
    });
  }

  async close(): Promise<void> {
    await this.#root.close();
  }
}
