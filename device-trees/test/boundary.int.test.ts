/**
 * The privilege boundary of `edgeflow dt` (issue 16, cases 2 and 5): backups that another uid can
 * plant, links in place of files and directories, and boot configs whose bytes and line endings
 * the installer must not damage. Attacker steps run as a simulated agent uid (root needed).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { agentStateDir, agentUidMissing, asAgent } from '@edgeflow/ota/testing/agent-uid';
import { cli, fixtureRoot } from './helpers.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const PI_CONFIG = 'boot/firmware/config.txt';
const PI_DTBO = 'boot/firmware/overlays/edgeflow-bme280.dtbo';

/** Root-owned files outside the boot root that nothing may touch. */
async function victim(
  root: string,
): Promise<{ dir: string; file: string; listing: () => Promise<string> }> {
  const dir = join(dirname(root), `${root.split('/').pop() ?? 'x'}-victim`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'shadow');
  await writeFile(file, 'root:secret\n');
  const listing = async () => {
    const out: string[] = [];
    for (const n of (await readdir(dir)).sort())
      out.push(`${n} ${sha(await readFile(join(dir, n)))}`);
    return out.join('\n');
  };
  return { dir, file, listing };
}

describe('dt and directories another uid controls', { skip: agentUidMissing() ?? false }, () => {
  test('case 2: a backup manifest planted in the agent state directory is never read by rollback', async () => {
    const root = await fixtureRoot('rpi5');
    const v = await victim(root);
    const before = await v.listing();
    // The old backup location is the agent's StateDirectory under the boot root.
    const state = join(root, 'var/lib/edgeflow');
    await agentStateDir(state, [dirname(root), root, join(root, 'var'), join(root, 'var/lib')]);
    asAgent(
      `import { mkdir, writeFile } from 'node:fs/promises';
       const d = ${JSON.stringify(join(state, 'dt/backups/000001'))};
       await mkdir(d, { recursive: true });
       await writeFile(d + '/file-0', 'attacker\\n');
       await writeFile(d + '/manifest.json', JSON.stringify({ version: 1, created: 'x', action: 'install x',
         files: [{ rel: ${JSON.stringify(PI_CONFIG)}, path: ${JSON.stringify(v.file)}, existed: true,
                   sha256: ${JSON.stringify(sha('attacker\n'))} }] }));`,
    );
    const r = await cli(['rollback', '--board', 'rpi5', '--boot-root', root]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.err, /EDGEFLOW_DT_NO_BACKUP/);
    assert.equal(await v.listing(), before, 'rollback wrote outside the boot root');
  });

  test('case 2: a backup whose manifest names a file outside the managed set is refused', async () => {
    const root = await fixtureRoot('rpi5');
    const v = await victim(root);
    assert.equal((await cli(['install', 'bme280', '--boot-root', root])).code, 0);
    // Even a root-owned backup (as if written by an older tool) cannot steer the restore.
    const dir = join(root, 'var/lib/edgeflow-dt/backups/000001');
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
      files: { rel: string }[];
    };
    for (const rel of [
      '../' + v.file.split('/').slice(-2).join('/'),
      'etc/shadow',
      PI_CONFIG + '/../x',
    ]) {
      (m.files[0] as { rel: string }).rel = rel;
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
      const r = await cli(['rollback', '--boot-root', root]);
      assert.equal(r.code, 1, `${rel}: ${r.out}`);
      assert.match(r.err, /EDGEFLOW_DT_BAD_BACKUP/, rel);
    }
    assert.match(await v.listing(), /shadow/);
    assert.equal(await readFile(v.file, 'utf8'), 'root:secret\n');
  });

  test('case 2: a planted <file>.new link is not written through', async () => {
    const root = await fixtureRoot('rpi5');
    const v = await victim(root);
    const before = await v.listing();
    const state = join(root, 'var/lib/edgeflow');
    await agentStateDir(state, [dirname(root), root, join(root, 'var'), join(root, 'var/lib')]);
    asAgent(
      `import { mkdir, symlink } from 'node:fs/promises';
       const d = ${JSON.stringify(join(state, 'dt/backups/000001'))};
       await mkdir(d, { recursive: true });
       for (const n of ['file-0.new', 'file-1.new', 'manifest.json.new'])
         await symlink(${JSON.stringify(v.file)}, d + '/' + n);`,
    );
    // The same trick on the boot partition (were it writable by someone else).
    await symlink(v.file, join(root, `${PI_CONFIG}.new`));
    const r = await cli(['install', 'bme280', '--boot-root', root]);
    assert.equal(r.code, 0, r.err);
    assert.equal(await v.listing(), before, 'a write went through a planted link');
    assert.ok((await lstat(join(root, `${PI_CONFIG}.new`))).isSymbolicLink());
  });

  test('case 2: a symlinked overlays/ directory is refused, nothing written outside the boot root', async () => {
    const root = await fixtureRoot('rpi5');
    const v = await victim(root);
    const before = await v.listing();
    await symlink(v.dir, join(root, 'boot/firmware/overlays'));
    const r = await cli(['install', 'bme280', '--boot-root', root]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.err, /EDGEFLOW_DT_UNSAFE_PATH.*overlays/);
    assert.equal(await v.listing(), before);
    await rm(join(root, 'boot/firmware/overlays'));
    await symlink(v.file, join(root, PI_CONFIG + '.lnk'));
  });
});

describe('boot config bytes', () => {
  test('case 5: bytes outside the managed block are preserved exactly (Latin-1)', async () => {
    const root = await fixtureRoot('rpi5');
    const cfg = join(root, PI_CONFIG);
    const original = Buffer.concat([
      await readFile(cfg),
      Buffer.from('# caf', 'latin1'),
      Buffer.from([0xe9]),
      Buffer.from(' du coin\n', 'latin1'),
    ]);
    await writeFile(cfg, original);
    assert.equal((await cli(['install', 'bme280', '--boot-root', root])).code, 0);
    const after = await readFile(cfg);
    assert.ok(
      after.subarray(0, original.length).equals(original),
      'bytes before the block changed',
    );
    assert.equal((await cli(['remove', 'bme280', '--boot-root', root])).code, 0);
    assert.ok((await readFile(cfg)).equals(original), 'remove did not give back the exact bytes');
  });

  test('case 5: the managed block is recognised with CRLF line endings; remove leaves no dtoverlay= line', async () => {
    const root = await fixtureRoot('rpi5');
    const cfg = join(root, PI_CONFIG);
    assert.equal((await cli(['install', 'bme280', '--boot-root', root])).code, 0);
    // Edited on Windows: every line now ends in CRLF.
    await writeFile(cfg, (await readFile(cfg, 'utf8')).replace(/\n/g, '\r\n'));
    const again = await cli(['install', 'bme280', '--boot-root', root]);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /already installed/);
    const rm1 = await cli(['remove', 'bme280', '--boot-root', root]);
    assert.equal(rm1.code, 0, rm1.err);
    const text = await readFile(cfg, 'utf8');
    assert.doesNotMatch(text, /edgeflow-bme280/, 'a dtoverlay= line survived its .dtbo');
    assert.doesNotMatch(text, /[^\r]\n/, 'line endings were mixed by the edit');
    await assert.rejects(lstat(join(root, PI_DTBO)));
  });

  test('case 5: mixed line endings are refused with a code and a hint', async () => {
    const root = await fixtureRoot('rpi5');
    const cfg = join(root, PI_CONFIG);
    await writeFile(cfg, `# a\r\n${await readFile(cfg, 'utf8')}`);
    const r = await cli(['install', 'bme280', '--boot-root', root]);
    assert.equal(r.code, 1);
    assert.match(r.err, /EDGEFLOW_DT_BOOT_CONFIG_ENCODING.*mixes/);
  });

  test('case 5: remove refuses to delete a .dtbo a line outside the block still enables', async () => {
    const root = await fixtureRoot('rpi5');
    const cfg = join(root, PI_CONFIG);
    assert.equal((await cli(['install', 'bme280', '--boot-root', root])).code, 0);
    await writeFile(cfg, `dtoverlay=edgeflow-bme280,addr=0x77\n${await readFile(cfg, 'utf8')}`);
    const r = await cli(['remove', 'bme280', '--boot-root', root]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.err, /EDGEFLOW_DT_OVERLAY_STILL_ENABLED.*config\.txt:1/);
    assert.ok((await lstat(join(root, PI_DTBO))).isFile());
  });

  test('case 5: --board contradicting the detected board is refused unless --force', async () => {
    const root = await fixtureRoot('rpi5');
    const r = await cli(['install', 'bme280', '--board', 'rock-5b', '--boot-root', root]);
    assert.equal(r.code, 1);
    assert.match(r.err, /EDGEFLOW_DT_BOARD_MISMATCH.*rpi5.*--force/);
    const f = await cli([
      'install',
      'bme280',
      '--board',
      'rock-5b',
      '--force',
      '--boot-root',
      root,
    ]);
    assert.doesNotMatch(f.err, /BOARD_MISMATCH/);
  });

  test("case 5: lattepanda's refusal prints its code", async () => {
    const lp = await fixtureRoot('lattepanda');
    const r = await cli(['install', 'bme280', '--boot-root', lp]);
    assert.equal(r.code, 1);
    assert.match(r.err, /EDGEFLOW_DT_NO_DEVICE_TREE/);
  });
});
