import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { AgentError } from '../errors.js';

/**
 * One agent per data directory. Two agents appending to the same write-ahead log and writing
 * the same snapshot would corrupt both, and a second `edgeflow agent` started by hand next to
 * the systemd service is an easy mistake.
 *
 * The lock is a listening socket in Linux's abstract namespace named after the directory's
 * real path: the kernel releases it when the process dies (kill -9 included), nothing is left
 * on disk to go stale, and no PID can be recycled into a false "locked". A second agent
 * connects to it and learns the holder's PID for the error message. Abstract sockets are per
 * network namespace: agents in different containers do not see each other's (they do not
 * share a data directory either, unless a volume is mounted into both).
 */
export class DataDirLock {
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Takes the lock or throws EDGEFLOW_DATA_DIR_LOCKED naming the holder. */
  static async acquire(dataDir: string): Promise<DataDirLock> {
    const real = await realpath(dataDir);
    const name = `\0edgeflow-agent-${createHash('sha256').update(real).digest('hex').slice(0, 32)}`;
    const server = createServer((sock) => sock.end(`${process.pid}\n`));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(name, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      const holder = await holderPid(name);
      throw new AgentError(
        'EDGEFLOW_DATA_DIR_LOCKED',
        `data directory ${real} is in use by another agent${holder ? ` (pid ${holder})` : ''}; stop it first or give this one its own --data-dir`,
      );
    }
    server.unref(); // the lock must not keep the process alive
    return new DataDirLock(server);
  }

  release(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

function holderPid(name: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let data = '';
    const sock = connect(name);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(undefined);
    }, 1000);
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(/^\d+$/.test(data.trim()) ? data.trim() : undefined);
    });
    sock.on('error', () => undefined);
  });
}
