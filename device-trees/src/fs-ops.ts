/**
 * The read-side file operations of dt (board detection, overlay sources, the read-only
 * preflight), injected so tests can simulate a read-only or missing boot partition. Boot files
 * themselves are read and written through BootFiles (boot-files.ts), never by path.
 */
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';

export interface FsOps {
  readFile(path: string): Promise<Buffer>;
  mkdirp(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Throws (EROFS, EACCES, ENOENT) unless the directory is writable. */
  checkWritable(dir: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
}

/** Production implementation over node:fs/promises. */
export const nodeFsOps: FsOps = {
  readFile: (p) => fsp.readFile(p),
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
};
