import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmod,
  lchown,
  lstat,
  mkdir,
  readFile,
  readdir,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Dir, UnsafePathError, copyTree } from '../../src/safe-fs/index.js';
import { AGENT_UID, agentStateDir, agentUidMissing, asAgent } from '../helpers/agent-uid.js';
import { tempDir } from '../helpers/releases.js';

// Every check of the safe directory walk, each made to fail for the reason it names.

const unsafe = (re: RegExp) => (e: unknown) => e instanceof UnsafePathError && re.test(e.message);

async function scene(): Promise<{ base: string; agent: string; victim: string }> {
  const base = await tempDir('safe-fs-');
  const agent = join(base, 'agent');
  const victim = join(base, 'victim');
  await mkdir(victim);
  await writeFile(join(victim, 'keep'), 'root\n');
  await agentStateDir(agent, [base]);
  return { base, agent, victim };
}

describe('safe-fs Dir', { skip: agentUidMissing() ?? false }, () => {
  test('a root-owned link in a root-only directory is followed, and trust is inherited', async () => {
    const { base, agent } = await scene();
    await symlink('agent', join(base, 'state-link'));
    const d = await Dir.open(join(base, 'state-link'));
    assert.equal(d.trusted, false);
    assert.equal(d.foreignOwner, AGENT_UID);
    await d.close();
    const t = await Dir.open(join(base, 'victim', '..', 'victim'));
    assert.equal(t.trusted, true);
    assert.equal(t.foreignOwner, undefined);
    assert.deepEqual(await t.names(), ['keep']);
    await t.close();
    assert.ok(agent);
  });

  test('a link inside a directory the agent owns is never followed', async () => {
    const { agent, victim } = await scene();
    asAgent(
      `import { symlink } from 'node:fs/promises';
       await symlink(${JSON.stringify(victim)}, ${JSON.stringify(join(agent, 'cache'))});`,
    );
    await assert.rejects(Dir.open(join(agent, 'cache')), unsafe(/another user could have put/));
    const a = await Dir.open(agent);
    await assert.rejects(a.child('cache'), unsafe(/is a symlink, not a directory/));
    await assert.rejects(a.openRead('cache'), unsafe(/is a symlink/));
    await a.close();
  });

  test('a link owned by someone other than root is not followed even in a root-only directory', async () => {
    const { base, victim } = await scene();
    await symlink(victim, join(base, 'odd'));
    await lchown(join(base, 'odd'), AGENT_UID, AGENT_UID);
    await assert.rejects(Dir.open(join(base, 'odd')), unsafe(/another user could have put/));
  });

  test('a group- or world-writable directory is untrusted; create only where root alone controls', async () => {
    const { base } = await scene();
    await mkdir(join(base, 'shared'));
    await chmod(join(base, 'shared'), 0o777);
    const d = await Dir.open(join(base, 'shared'));
    assert.equal(d.trusted, false);
    await d.close();
    await assert.rejects(
      Dir.open(join(base, 'shared', 'x', 'y'), { create: 0o700 }),
      unsafe(/will not be created here/),
    );
    const made = await Dir.open(join(base, 'own', 'x'), { create: 0o700 });
    assert.ok(made.trusted);
    assert.equal((await lstat(join(base, 'own', 'x'))).mode & 0o777, 0o700);
    await made.close();
    await mkdir(join(base, 'sticky'));
    await chmod(join(base, 'sticky'), 0o1777);
    const s = await Dir.open(join(base, 'sticky'));
    assert.ok(s.trusted, 'sticky: others cannot rename root entries');
    await s.close();
  });

  test('openRead: a FIFO does not block, a file the agent does not own is refused', async () => {
    const { base, agent } = await scene();
    asAgent(
      `import { execFileSync } from 'node:child_process';
       import { writeFile } from 'node:fs/promises';
       execFileSync('mkfifo', [${JSON.stringify(join(agent, 'fifo'))}]);
       await writeFile(${JSON.stringify(join(agent, 'mine'))}, 'agent');`,
    );
    await writeFile(join(base, 'secret'), 'root only', { mode: 0o600 });
    const { link } = await import('node:fs/promises');
    await link(join(base, 'secret'), join(agent, 'hard'));
    const a = await Dir.open(agent);
    await assert.rejects(a.openRead('fifo'), unsafe(/not a regular file/));
    await assert.rejects(
      a.readFile('hard', { maxBytes: 100 }),
      unsafe(/owned by uid 0, not by uid/),
    );
    assert.equal((await a.readFile('mine', { maxBytes: 100 }))?.toString(), 'agent');
    await assert.rejects(a.readFile('mine', { maxBytes: 2 }), unsafe(/at most 2/));
    assert.equal(await a.readFile('none', { maxBytes: 2 }), undefined);
    await a.close();
  });

  test('createFile and writeFileAtomic never write through a planted link', async () => {
    const { agent, victim } = await scene();
    asAgent(
      `import { symlink } from 'node:fs/promises';
       await symlink(${JSON.stringify(join(victim, 'keep'))}, ${JSON.stringify(join(agent, 'out'))});`,
    );
    const a = await Dir.open(agent);
    await assert.rejects(
      a.createFile('out', 0o644),
      (e: unknown) => (e as { code?: string }).code === 'EEXIST',
    );
    await a.writeFileAtomic('out', 'replaced', 0o644);
    assert.equal(await readFile(join(victim, 'keep'), 'utf8'), 'root\n');
    assert.ok((await lstat(join(agent, 'out'))).isFile(), 'the link itself was replaced');
    await a.close();
  });

  test('removeTree removes links, never their targets', async () => {
    const { agent, victim } = await scene();
    asAgent(
      `import { mkdir, symlink } from 'node:fs/promises';
       await mkdir(${JSON.stringify(join(agent, 't', 'sub'))}, { recursive: true });
       await symlink(${JSON.stringify(victim)}, ${JSON.stringify(join(agent, 't', 'sub', 'v'))});
       await symlink(${JSON.stringify(victim)}, ${JSON.stringify(join(agent, 't2'))});`,
    );
    const a = await Dir.open(agent);
    await a.removeTree('t');
    await a.removeTree('t2');
    assert.deepEqual(await readdir(agent), []);
    assert.deepEqual(await readdir(victim), ['keep']);
    await a.close();
  });

  test('copyTree from the agent copies only its regular files, dirs and link texts', async () => {
    const { base, agent, victim } = await scene();
    asAgent(
      `import { execFileSync } from 'node:child_process';
       import { mkdir, symlink, writeFile } from 'node:fs/promises';
       const a = ${JSON.stringify(agent)};
       await mkdir(a + '/d');
       await writeFile(a + '/d/f', 'data', { mode: 0o640 });
       await symlink(${JSON.stringify(victim)}, a + '/l');
       execFileSync('mkfifo', [a + '/p']);`,
    );
    await mkdir(join(agent, 'rootdir'));
    await writeFile(join(agent, 'rootdir', 'x'), 'root');
    const out = join(base, 'out');
    await mkdir(out);
    const from = await Dir.open(agent);
    const to = await Dir.open(out);
    const skipped: string[] = [];
    await copyTree(from, to, { onSkip: (p) => skipped.push(p.slice(agent.length)) });
    assert.deepEqual(skipped.sort(), ['/p', '/rootdir']);
    assert.deepEqual(await readdir(out), ['d', 'l']);
    assert.equal(await readFile(join(out, 'd', 'f'), 'utf8'), 'data');
    assert.equal((await lstat(join(out, 'd', 'f'))).mode & 0o777, 0o640);
    assert.equal((await lstat(join(out, 'd', 'f'))).uid, AGENT_UID);
    assert.ok((await lstat(join(out, 'l'))).isSymbolicLink());
    await from.close();
    await to.close();
    execFileSync('rm', ['-rf', out]);
  });
});
