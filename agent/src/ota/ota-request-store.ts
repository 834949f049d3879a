import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
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
  const fsyncDir = async (): Promise<void> => {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  };
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
      const path = join(dir, name);
      const tmp = join(dir, `.${name}.new`);
      await rm(tmp, { force: true });
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(data);
        await fh.chmod(0o600); // the umask cannot widen 0600, but an inherited ACL could
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      await fsyncDir();
    },
    async remove(name) {
      await rm(join(dir, name), { force: true });
      await fsyncDir().catch(() => undefined);
    },
  };
}
