import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DataDirLock } from '../../src/lifecycle/data-dir-lock.js';

const lockModule = fileURLToPath(new URL('../../src/lifecycle/data-dir-lock.js', import.meta.url));

test('a second agent on the same data directory is refused, naming the holder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-lock-'));
  const alias = join(await mkdtemp(join(tmpdir(), 'ef-lock-alias-')), 'data');
  await symlink(dir, alias);
  const first = await DataDirLock.acquire(dir);
  await assert.rejects(DataDirLock.acquire(alias), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'EDGEFLOW_DATA_DIR_LOCKED');
    assert.match(err.message, new RegExp(`pid ${process.pid}`));
    return true;
  });
  const other = await DataDirLock.acquire(await mkdtemp(join(tmpdir(), 'ef-lock-')));
  await other.release();
  await first.release();
  const again = await DataDirLock.acquire(dir);
  await again.release();
});

test('the lock of a SIGKILLed agent is free at once (nothing stale on disk)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-lock-'));
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { DataDirLock } = await import(${JSON.stringify(lockModule)});
       await DataDirLock.acquire(${JSON.stringify(dir)});
       process.stdout.write('locked\\n');
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`holder exited ${String(code)}`)));
  });
  await assert.rejects(DataDirLock.acquire(dir), /in use by another agent \(pid \d+\)/);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  const lock = await DataDirLock.acquire(dir);
  await lock.release();
});
