/**
 * The file operations the installer needs, injected so tests can simulate a read-only or
 * missing boot partition. Production writes are atomic: write `<file>.new`, fsync, rename over
 * the target, fsync the directory (a power cut leaves the old or the new file, never half).
 */
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname } from 'node:path';
import { atomicWriteFile, fsyncDir } from '@edgeflow/core';

export interface FsOps {
  readFile(path: string): Promise<Buffer>;
  /** Atomic replace (or create). */
  writeFileAtomic(path: string, data: Buffer): Promise<void>;
  /** Remove a file, then fsync its directory. */
  unlink(path: string): Promise<void>;
  mkdirp(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Throws (EROFS, EACCES, ENOENT) unless the directory is writable. */
  checkWritable(dir: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  rmrf(path: string): Promise<void>;
}

/** Production implementation over node:fs/promises. */
export const nodeFsOps: FsOps = {
  readFile: (p) => fsp.readFile(p),
  async writeFileAtomic(p, data) {
    // Boot files are read by the bootloader and by `edgeflow dt status` as any user: 0644.
    await atomicWriteFile(p, data, { mode: 0o644 });
  },
  async unlink(p) {
    await fsp.unlink(p);
    await fsyncDir(dirname(p));
  },
  async mkdirp(p) {
    await fsp.mkdir(p, { recursive: true });
  },
  async exists(p) {
    try {
      await fsp.access(p, constants.F_OK);
      return true;
    } catch {
      return false;
    }
  },
  async checkWritable(dir) {
    // access(W_OK) reports EROFS for a read-only mount even to root.
    await fsp.access(dir, constants.W_OK);
  },
  readdir: (p) => fsp.readdir(p),
  async rmrf(p) {
    await fsp.rm(p, { recursive: true, force: true });
  },
};
