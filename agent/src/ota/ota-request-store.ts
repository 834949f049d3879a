import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { atomicWriteFile, fsyncDir } from '@edgeflow/core';
import { join } from 'node:path';

/**
 * The agent's OTA request directory `<dataDir>/ota/`: `request.json` (the pending request, read
 * by the root-side tool) and `seen.json` (recent request ids, against replays). Injected so that
 * the request logic is tested on an in-memory store.
 */
export interface RequestStore {
  /** File content, or undefined when the file does not exist. */
  read(name: string): Promise<string | undefined>;
  /** Replaces the file atomically with mode 0600 (write `.new`, fsync, rename, fsync dir). */
  write(name: string, data: string): Promise<void>;
  remove(name: string): Promise<void>;
}

/** The production store on the agent's data directory (directory 0700, files 0600). */
export function fileRequestStore(dir: string): RequestStore {
  return {
    async read(name) {
      try {
        return await readFile(join(dir, name), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async write(name, data) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // The root-side tool refuses a group/world-writable directory: make sure it is not one.
      await chmod(dir, 0o700);
      // fchmod 0600 after creation: the umask cannot widen it, but an inherited ACL could.
      await atomicWriteFile(join(dir, name), data, { mode: 0o600 });
    },
    async remove(name) {
      await rm(join(dir, name), { force: true });
      await fsyncDir(dir).catch(() => undefined);
    },
  };
}
