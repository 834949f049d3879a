import { open, readFile, rm } from 'node:fs/promises';
import { OtaError, ioError } from './errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Exclusive lock file holding the owner's pid (O_EXCL create). A lock whose pid is dead is stale
 * (the installer was SIGKILLed) and is taken over, so power loss or kill -9 never wedges updates.
 */
export async function acquireLock(file: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o644);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        await rm(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw ioError('cannot create lock', file, e);
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new OtaError('EDGEFLOW_OTA_LOCKED', `${file} is held by pid ${pid}`);
      }
      await rm(file, { force: true });
    }
  }
  throw new OtaError('EDGEFLOW_OTA_LOCKED', `${file}: could not take over a stale lock`);
}
