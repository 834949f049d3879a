import { open, readFile, rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
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
export async function acquireLock(file: string, waitMs = 30_000): Promise<() => Promise<void>> {
  // Holders are short (a status, a hook, an install); waiting beats failing a systemd hook.
  const until = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
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
        if (Date.now() >= until)
          throw new OtaError('EDGEFLOW_OTA_LOCKED', `${file} is held by pid ${pid}`);
        await delay(Math.min(50 * 2 ** Math.min(attempt, 4), 500));
        continue;
      }
      await rm(file, { force: true });
    }
  }
}
