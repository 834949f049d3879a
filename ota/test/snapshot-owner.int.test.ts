import assert from 'node:assert/strict';
import { chown, lstat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { restoreSnapshot, takeSnapshot } from '../src/snapshot.js';
import { localRig } from './helpers/rig.js';

// Found by the packaged system test: a rollback restored the agent's cache as root, and the agent
// (DynamicUser=, owner of its StateDirectory) then died with EACCES on its own WAL directory.
test(
  'a restored cache belongs to the owner of the cache directory, config stays root',
  { skip: process.getuid?.() === 0 ? false : 'needs root (chown)' },
  async () => {
    const r = await localRig();
    await mkdir(join(r.paths.cacheDir, 'wal'));
    await writeFile(join(r.paths.cacheDir, 'wal', 'seg-1'), 'records');
    await takeSnapshot(r.paths, '1.0.0', r.deps.log);
    // As systemd leaves it: the agent's dynamic uid owns /var/lib/edgeflow/cache.
    await chown(r.paths.cacheDir, 4242, 4243);
    assert.equal(await restoreSnapshot(r.paths, '1.0.0', r.deps.log), true);
    for (const p of ['wal', 'wal/seg-1', 'snapshot.bin']) {
      const st = await lstat(join(r.paths.cacheDir, p));
      assert.deepEqual([st.uid, st.gid], [4242, 4243], p);
    }
    assert.equal((await lstat(join(r.paths.configDir, 'edgeflow.yaml'))).uid, 0);
  },
);
