import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DataDirLock } from '../../src/lifecycle/data-dir-lock.js';

const lockModule = fileURLToPath(new URL('../../src/lifecycle/data-dir-lock.js', import.meta.url));

const locked = (pid: number | RegExp) => (err: Error & { code?: string }) => {
  assert.equal(err.code, 'EDGEFLOW_DATA_DIR_LOCKED');
  assert.match(err.message, typeof pid === 'number' ? new RegExp(`\\(pid ${pid}\\)`) : pid);
  return true;
};

test('a second agent on the same data directory is refused, naming the holder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-lock-'));
  const alias = join(await mkdtemp(join(tmpdir(), 'ef-lock-alias-')), 'data');
  await symlink(dir, alias);
  const first = await DataDirLock.acquire(dir);
  await assert.rejects(DataDirLock.acquire(alias), locked(process.pid));
  // The PID comes from inside the protected directory: a 0600 file of the agent's user.
  const file = await stat(join(dir, 'agent.lock'));
  assert.equal(file.mode & 0o777, 0o600);
  assert.equal(await readFile(join(dir, 'agent.lock'), 'utf8'), `${process.pid}\n`);
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
  await assert.rejects(DataDirLock.acquire(dir), locked(child.pid ?? -1));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  const lock = await DataDirLock.acquire(dir);
  await lock.release();
  // The new holder's PID replaced the dead one's.
  assert.equal(await readFile(join(dir, 'agent.lock'), 'utf8'), `${process.pid}\n`);
});

test('a PID left in the file by a process that is gone is not named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-lock-'));
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  }).stdout;
  const first = await DataDirLock.acquire(dir);
  await first.release();
  await writeFile(join(dir, 'agent.lock'), `${gone}\n`);
  // The holder has just locked and not yet written its PID: what is there is a dead one's.
  await assert.rejects(
    DataDirLock.acquire(dir, () => Promise.resolve('held')),
    locked(/in use by another agent; stop it first/),
  );
});

test('a name another local process binds first does not keep the agent from starting', async (t) => {
  // What the previous lock used: an abstract socket named after the directory's real path,
  // which any local user can bind and answer with any PID.
  const dir = await mkdtemp(join(tmpdir(), 'ef-lock-'));
  const name = `\0edgeflow-agent-${createHash('sha256').update(dir).digest('hex').slice(0, 32)}`;
  const squatter = createServer((sock) => sock.end('1\n'));
  await new Promise<void>((resolve) => squatter.listen(name, resolve));
  t.after(() => squatter.close());
  const lock = await DataDirLock.acquire(dir);
  await lock.release();
});

test('another user cannot take the lock first, even in a data directory others can enter', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run a process as another user (nobody)');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'ef-lock-'));
  await chmod(dir, 0o755); // more open than the agent makes it (0700): the file's mode holds
  const first = await DataDirLock.acquire(dir);
  await first.release();
  // `nobody` tries to open and flock the lock file (as it could bind a socket name before).
  const r = spawnSync('flock', ['--nonblock', join(dir, 'agent.lock'), 'true'], {
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
  });
  assert.notEqual(r.status, 0, 'nobody could lock the file');
  assert.match(r.stderr, /Permission denied/);
  const lock = await DataDirLock.acquire(dir);
  await lock.release();
});

test('a lock file the agent did not make is refused, not trusted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-lock-'));
  await writeFile(join(dir, 'agent.lock'), '1\n', { mode: 0o644 });
  await chmod(join(dir, 'agent.lock'), 0o644);
  await assert.rejects(DataDirLock.acquire(dir), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'EDGEFLOW_DATA_DIR');
    assert.match(err.message, /agent\.lock has mode 644: others may hold it open; remove it/);
    return true;
  });
  const link = await mkdtemp(join(tmpdir(), 'ef-lock-'));
  await symlink(join(dir, 'agent.lock'), join(link, 'agent.lock'));
  await assert.rejects(
    DataDirLock.acquire(link),
    (err: Error & { code?: string }) =>
      err.code === 'EDGEFLOW_DATA_DIR' &&
      /cannot open the lock file .* \(ELOOP\)/.test(err.message),
  );
});

test('without flock(1) the agent says so instead of running unlocked', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ef-lock-'));
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await assert.rejects(
      DataDirLock.acquire(dir),
      (err: Error & { code?: string }) =>
        err.code === 'EDGEFLOW_DATA_DIR' &&
        /cannot lock the data directory with flock\(1\) \(util-linux\): spawn flock ENOENT/.test(
          err.message,
        ),
    );
  } finally {
    process.env.PATH = path;
  }
});
