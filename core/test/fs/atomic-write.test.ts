import { mock, test } from 'node:test';
import { readlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicReplace, atomicWriteFile } from '../../src/fs/atomic-write.js';
import { fsyncDir, fsyncFile, fsyncTree } from '../../src/fs/fsync.js';

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'edgeflow-core-'));
}

test('atomicWriteFile creates the file with the mode asked for, regardless of the umask', async (t) => {
  const dir = await scratch();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = join(dir, 'state.json');
  await atomicWriteFile(p, '{"a":1}\n', { mode: 0o644 });
  assert.equal(await readFile(p, 'utf8'), '{"a":1}\n');
  assert.equal((await stat(p)).mode & 0o777, 0o644);
  await atomicWriteFile(p, 'second');
  assert.equal(await readFile(p, 'utf8'), 'second');
  assert.equal((await stat(p)).mode & 0o777, 0o600, 'the default mode is owner-only');
  assert.deepEqual(await readdir(dir), ['state.json'], 'no temporary file is left');
});

test('a failing fill leaves the old content and no temporary file', async (t) => {
  const dir = await scratch();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = join(dir, 'report');
  await atomicWriteFile(p, 'old');
  await assert.rejects(
    atomicReplace(p, async (fh) => {
      await fh.write('half of the new');
      throw new Error('disk full');
    }),
    /disk full/,
  );
  assert.equal(await readFile(p, 'utf8'), 'old');
  assert.deepEqual(await readdir(dir), ['report']);
});

test('a symbolic link planted as <path>.new is removed, never written through', async (t) => {
  const dir = await scratch();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const victim = join(dir, 'victim');
  await writeFile(victim, 'precious');
  const p = join(dir, 'state');
  await symlink(victim, `${p}.new`);
  await atomicWriteFile(p, 'new state');
  assert.equal(await readFile(victim, 'utf8'), 'precious');
  assert.equal(await readFile(p, 'utf8'), 'new state');
  assert.deepEqual((await readdir(dir)).sort(), ['state', 'victim']);
});

test('a stale <path>.new left by a crash is replaced', async (t) => {
  const dir = await scratch();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = join(dir, 'snapshot');
  await writeFile(`${p}.new`, 'torn half of an earlier write');
  await atomicWriteFile(p, 'whole');
  assert.equal(await readFile(p, 'utf8'), 'whole');
  assert.deepEqual(await readdir(dir), ['snapshot']);
});

test('overlapping writes of one path are applied one after the other, last one wins', async (t) => {
  const dir = await scratch();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = join(dir, 'snapshot');
  const bodies = Array.from({ length: 8 }, (_, i) => `body ${i} `.repeat(10_000));
  await Promise.all(bodies.map((b) => atomicWriteFile(p, b)));
  assert.equal(await readFile(p, 'utf8'), bodies.at(-1));
  assert.deepEqual(await readdir(dir), ['snapshot']);
});

test('createDir makes the parent directory; without it a missing parent is an error', async (t) => {
  const dir = await scratch();
  t.after(() => rm(dir, { recursive: true, force: true }));
  await assert.rejects(atomicWriteFile(join(dir, 'a', 'f'), 'x'), { code: 'ENOENT' });
  await atomicWriteFile(join(dir, 'a', 'b', 'f'), 'x', { createDir: true });
  assert.equal(await readFile(join(dir, 'a', 'b', 'f'), 'utf8'), 'x');
});

test('fsyncDir refuses a file, fsyncFile refuses a link, fsyncTree walks a tree', async (t) => {
  const dir = await scratch();
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'f'), 'x');
  await symlink(join(dir, 'f'), join(dir, 'l'));
  await assert.rejects(fsyncDir(join(dir, 'f')), { code: 'ENOTDIR' });
  await assert.rejects(fsyncFile(join(dir, 'l')), { code: 'ELOOP' });
  await fsyncFile(join(dir, 'f'));
  await atomicWriteFile(join(dir, 'sub', 'deeper', 'g'), 'y', { createDir: true });
  await fsyncTree(dir);
});

test('createDir makes each directory it creates durable in its parent', async (t) => {
  const dir = await scratch();
  t.after(() => rm(dir, { recursive: true, force: true }));
  // Which paths get fsynced: FileHandle.sync, with the path read back from /proc/self/fd.
  const probe = await open(dir, 'r');
  const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const synced: string[] = [];
  const original = proto.sync;
  mock.method(proto, 'sync', function (this: { fd: number }) {
    synced.push(readlinkSync(`/proc/self/fd/${this.fd}`));
    return original.call(this);
  });
  t.after(() => mock.restoreAll());
  await atomicWriteFile(join(dir, 'a', 'b', 'f'), 'x', { createDir: true });
  // The entries of b/ (in a/) and of a/ (in dir) are durable, then the file and its entry.
  assert.deepEqual(synced, [
    join(dir, 'a'),
    dir,
    join(dir, 'a', 'b', 'f.new'),
    join(dir, 'a', 'b'),
  ]);
  synced.length = 0;
  await atomicWriteFile(join(dir, 'a', 'b', 'f'), 'y', { createDir: true });
  assert.deepEqual(synced, [join(dir, 'a', 'b', 'f.new'), join(dir, 'a', 'b')], 'nothing new made');
});
