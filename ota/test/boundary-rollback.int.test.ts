import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { install } from '../src/install.js';
import { loadState } from '../src/state.js';
import { check, prestart } from '../src/trial.js';
import { AGENT_UID, agentUidMissing, asAgent } from './helpers/agent-uid.js';
import { treeListing } from './helpers/craft.js';
import { makeBundle, makeRelease } from './helpers/releases.js';
import { agentRig } from './helpers/rig.js';
import type { LocalRig } from './helpers/rig.js';

// The privilege boundary of the root-side OTA hooks (issue 16, case 1): the agent owns its state
// directory and can put anything there; the rollback it can provoke must change nothing outside
// the intended roots. Every attacker step runs as the agent uid, never as root.

async function bundle(r: LocalRig, version: string): Promise<string> {
  return makeBundle(r.dir, await makeRelease(r.dir, version), version, r.privatePem);
}

/** A root-owned directory the agent must never be able to change through a rollback. */
async function victim(r: LocalRig): Promise<string> {
  const v = join(r.dir, 'victim');
  await mkdir(join(v, 'sub'), { recursive: true });
  await writeFile(join(v, 'important'), 'root data\n');
  await writeFile(join(v, 'sub', 'y'), 'y\n');
  return v;
}

/** Installs 1.0.0 (committed), then 1.1.0 on trial with its first start counted. */
async function onTrial(r: LocalRig): Promise<void> {
  await install(r.paths, r.opts(await bundle(r, '1.0.0')), r.deps);
  asAgent(
    `import { writeFile } from 'node:fs/promises';
     await writeFile(${JSON.stringify(join(r.paths.cacheDir, 'planted.pub'))}, 'agent key');`,
  );
  await install(r.paths, r.opts(await bundle(r, '1.1.0')), r.deps);
  assert.equal((await prestart(r.paths, r.deps)).action, 'trial-started');
}

describe('OTA rollback and the agent state directory', { skip: agentUidMissing() ?? false }, () => {
  test('case 1: OTA rollback does not follow a symlinked cache directory', async () => {
    const r = await agentRig();
    const v = await victim(r);
    await onTrial(r);
    // The compromised trial release swaps its cache for a link to a root-owned directory, then
    // fails its trial (the restart is the second start: prestart rolls back).
    asAgent(
      `import { rm, symlink } from 'node:fs/promises';
       await rm(${JSON.stringify(r.paths.cacheDir)}, { recursive: true });
       await symlink(${JSON.stringify(v)}, ${JSON.stringify(r.paths.cacheDir)});`,
    );
    const before = await treeListing(v);
    const d = await prestart(r.paths, r.deps);
    assert.equal(d.action, 'rolled-back');
    assert.deepEqual(await treeListing(v), before, 'the rollback changed a root-owned directory');
    // The 1.0.0 cache came back as a fresh directory handed to the agent, not through the link.
    const st = await lstat(r.paths.cacheDir);
    assert.ok(st.isDirectory(), 'cache is a real directory again');
    assert.equal(st.uid, AGENT_UID);
    assert.deepEqual((await readdir(r.paths.cacheDir)).sort(), ['planted.pub', 'snapshot.bin']);
    assert.equal((await lstat(join(r.paths.cacheDir, 'snapshot.bin'))).uid, AGENT_UID);
    assert.equal((await loadState(r.paths)).current, '1.0.0');
  });

  test('a symlink planted inside the cache is restored as a link, never followed', async () => {
    const r = await agentRig();
    const v = await victim(r);
    asAgent(
      `import { mkdir, symlink } from 'node:fs/promises';
       await mkdir(${JSON.stringify(join(r.paths.cacheDir, 'deep'))});
       await symlink(${JSON.stringify(v)}, ${JSON.stringify(join(r.paths.cacheDir, 'deep', 'v'))});
       await symlink(${JSON.stringify(join(v, 'important'))}, ${JSON.stringify(join(r.paths.cacheDir, 'f'))});`,
    );
    await onTrial(r);
    // The trial release swaps the directory holding a link for a link to the victim itself.
    asAgent(
      `import { rm, symlink } from 'node:fs/promises';
       await rm(${JSON.stringify(join(r.paths.cacheDir, 'deep'))}, { recursive: true });
       await symlink(${JSON.stringify(v)}, ${JSON.stringify(join(r.paths.cacheDir, 'deep'))});`,
    );
    const before = await treeListing(v);
    assert.equal((await check(r.paths, r.deps, true)).action, 'rolled-back');
    assert.deepEqual(await treeListing(v), before);
    assert.ok((await lstat(join(r.paths.cacheDir, 'deep', 'v'))).isSymbolicLink());
    assert.ok((await lstat(join(r.paths.cacheDir, 'f'))).isSymbolicLink());
    assert.deepEqual(await readdir(r.paths.snapshots), [], 'snapshots pruned after the rollback');
  });

  test("a hard link or FIFO in the cache is not copied (root never reads what isn't the agent's)", async () => {
    const r = await agentRig();
    await writeFile(join(r.dir, 'secret'), 'root only\n', { mode: 0o600 });
    // A root-owned file given a second name in the agent's directory (as if fs.protected_hardlinks
    // were off): the snapshot must not read it and hand it to the agent on rollback.
    const { link } = await import('node:fs/promises');
    await link(join(r.dir, 'secret'), join(r.paths.cacheDir, 'stolen'));
    asAgent(
      `import { execFileSync } from 'node:child_process';
       execFileSync('mkfifo', [${JSON.stringify(join(r.paths.cacheDir, 'fifo'))}]);`,
    );
    await onTrial(r);
    assert.equal((await check(r.paths, r.deps, true)).action, 'rolled-back');
    const names = (await readdir(r.paths.cacheDir)).sort();
    assert.deepEqual(names, ['planted.pub', 'snapshot.bin']);
    assert.equal(await readFile(join(r.dir, 'secret'), 'utf8'), 'root only\n');
  });

  test('a FIFO or a link in place of the trial report neither blocks nor misleads the hooks', async () => {
    const r = await agentRig();
    await onTrial(r);
    await writeFile(join(r.dir, 'fake-report.json'), JSON.stringify({ version: '1.1.0' }));
    asAgent(
      `import { execFileSync } from 'node:child_process';
       execFileSync('mkfifo', [${JSON.stringify(r.paths.reportFile)}]);`,
    );
    assert.equal((await check(r.paths, r.deps)).action, 'trial-continues');
    asAgent(
      `import { rm, symlink } from 'node:fs/promises';
       await rm(${JSON.stringify(r.paths.reportFile)});
       await symlink('/dev/zero', ${JSON.stringify(r.paths.reportFile)});`,
    );
    assert.equal((await check(r.paths, r.deps)).action, 'trial-continues');
    assert.equal((await loadState(r.paths)).trial?.version, '1.1.0');
  });
});
