import { spawn } from 'node:child_process';
import { close, constants, fstat, ftruncate, open, read, write } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AgentError } from '../errors.js';

const openFd = promisify(open);
const closeFd = promisify(close);
const fstatFd = promisify(fstat);
const truncateFd = promisify(ftruncate);
const readFd = promisify(read);
const writeFd = promisify(write);

/** The lock file inside the data directory. */
export const LOCK_FILE = 'agent.lock';

/** flock(1)'s exit status when the lock is held elsewhere (`--conflict-exit-code`). */
const HELD = 75;

/** How the lock is taken on a descriptor; the default runs util-linux's flock(1). */
export type FlockFd = (fd: number) => Promise<'locked' | 'held'>;

/**
 * One agent per data directory. Two agents appending to the same write-ahead log and writing
 * the same snapshot would corrupt both, and a second `edgeflow agent` started by hand next to
 * the systemd service is an easy mistake.
 *
 * The lock is flock(2) on `<dataDir>/agent.lock`, a file only the agent's user can open (mode
 * 0600, checked, inside the 0700 data directory): another local user can neither take it first
 * nor answer for it, unlike a name in a shared namespace (an abstract socket), which anyone can
 * bind. A flock belongs to the open file description, so the kernel releases it when the
 * process dies (kill -9 included) and nothing goes stale; the holder writes its PID into the
 * file for the error a second agent prints.
 *
 * Node has no flock binding. The descriptor is handed to flock(1) as its fd 3 (`flock -n 3`):
 * the child locks the shared open file description and exits, and the lock stays with the
 * agent's descriptor, which is kept open for the life of the process (opened O_CLOEXEC by
 * libuv, so no other child inherits it and outlives the agent holding the lock). util-linux is
 * essential on Debian (BusyBox's flock takes the same form); no native addon is needed.
 */
export class DataDirLock {
  #fd: number | undefined;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Takes the lock or throws EDGEFLOW_DATA_DIR_LOCKED naming the holder. */
  static async acquire(dataDir: string, flock: FlockFd = flockFd): Promise<DataDirLock> {
    const real = await realpath(dataDir);
    const path = join(real, LOCK_FILE);
    const fd = await openLockFile(path);
    try {
      if ((await flock(fd)) === 'held') {
        const holder = await holderPid(fd);
        throw new AgentError(
          'EDGEFLOW_DATA_DIR_LOCKED',
          `data directory ${real} is in use by another agent${holder ? ` (pid ${holder})` : ''}; stop it first or give this one its own --data-dir`,
        );
      }
      await truncateFd(fd, 0);
      await writeFd(fd, `${process.pid}\n`, 0);
    } catch (err) {
      await closeFd(fd).catch(() => undefined);
      throw err;
    }
    return new DataDirLock(fd);
  }

  /** Releases the lock (closing the descriptor is what releases a flock). */
  async release(): Promise<void> {
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) await closeFd(fd);
  }
}

/**
 * Opens (or creates, 0600) the lock file without following a link, and checks that only its
 * owner can open it: one that others may read or write was not made by an agent (umask only
 * removes bits from 0600), and someone else could hold a descriptor of it and so the lock.
 * The owner is not compared with this process's user: with mode 0600 only the owner and root
 * can have opened it, and root starting an agent by hand on the service's directory must get
 * EDGEFLOW_DATA_DIR_LOCKED, not a complaint about the owner.
 */
async function openLockFile(path: string): Promise<number> {
  let fd: number;
  try {
    fd = await openFd(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new AgentError(
      'EDGEFLOW_DATA_DIR',
      `cannot open the lock file ${path} (${code}); it must be a file of the agent's user (remove it if another user or a link left it there)`,
      { cause: err },
    );
  }
  const st = await fstatFd(fd);
  const why = !st.isFile()
    ? 'is not a regular file'
    : (st.mode & 0o077) !== 0
      ? `has mode ${(st.mode & 0o777).toString(8)}: others may hold it open`
      : undefined;
  if (why !== undefined) {
    await closeFd(fd);
    throw new AgentError(
      'EDGEFLOW_DATA_DIR',
      `the lock file ${path} ${why}; remove it (the agent creates its own, mode 0600)`,
    );
  }
  return fd;
}

/** The PID the holder wrote, when that process is alive (it writes it just after locking). */
async function holderPid(fd: number): Promise<string | undefined> {
  const buf = Buffer.alloc(32);
  const { bytesRead } = await readFd(fd, buf, 0, buf.length, 0);
  const pid = /^(\d+)\n/.exec(buf.subarray(0, bytesRead).toString('utf8'))?.[1];
  if (pid === undefined) return undefined;
  try {
    process.kill(Number(pid), 0);
    return pid;
  } catch (err) {
    // EPERM: alive, another user's (root's agent on a shared directory); ESRCH: a stale PID.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/** flock(1) on the inherited descriptor: `flock --nonblock --exclusive 3`. */
function flockFd(fd: number): Promise<'locked' | 'held'> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const child = spawn(
      'flock',
      ['--nonblock', '--exclusive', '--conflict-exit-code', `${HELD}`, '3'],
      {
        stdio: ['ignore', 'ignore', 'pipe', fd],
      },
    );
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (err) => reject(lockFailed(err.message, err)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve('locked');
      else if (code === HELD) resolve('held');
      else reject(lockFailed(stderr.trim() || `flock exited with ${code ?? signal}`));
    });
  });
}

function lockFailed(why: string, cause?: unknown): AgentError {
  return new AgentError(
    'EDGEFLOW_DATA_DIR',
    `cannot lock the data directory with flock(1) (util-linux): ${why}`,
    cause === undefined ? {} : { cause },
  );
}
