import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from './helpers/cli.js';
import { hostileBundle, treeListing, writeTarGz } from './helpers/craft.js';
import type { RawMember } from './helpers/craft.js';
import { makeBundle, makeKeys, makeRelease, tempDir } from './helpers/releases.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

test('keygen, build, sign, verify, inspect through runCli', async () => {
  const d = await tempDir();
  assert.equal((await cli(['keygen', '--out', join(d, 'k'), '--name', 'fleet'])).code, 0);
  const rel = await makeRelease(d, '1.2.3');
  const out = join(d, 'b.tar.gz');
  const built = await cli([
    'build',
    rel,
    '--out',
    out,
    '--name',
    'edgeflow',
    '--version',
    '1.2.3',
    '--board',
    'pi5',
    '--board',
    'rock-5b',
    '--min-agent',
    '0.1.0',
    '--rollout',
    '50',
  ]);
  assert.equal(built.code, 0, built.stderr);
  const unsigned = await cli(['verify', out, '--keys', join(d, 'k')]);
  assert.equal(unsigned.code, 1);
  assert.match(unsigned.stderr, /EDGEFLOW_OTA_MISSING_SIGNATURE/);
  assert.equal((await cli(['sign', out, '--key', join(d, 'k', 'fleet.key')])).code, 0);
  const v = await cli(['verify', out, '--keys', join(d, 'k'), '--json']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal((JSON.parse(v.stdout) as { version: string }).version, '1.2.3');
  const i = await cli(['inspect', out, '--json']);
  const m = (
    JSON.parse(i.stdout) as {
      manifest: { boards: string[]; rollout: number; files: { path: string; mode: number }[] };
    }
  ).manifest;
  assert.deepEqual(m.boards, ['pi5', 'rock-5b']);
  assert.equal(m.rollout, 50);
  assert.equal(m.files.find((f) => f.path === 'run.sh')?.mode, 0o755);
  assert.equal((await cli(['build', '--help'])).code, 0);
  assert.equal((await cli(['build'])).code, 2);
  assert.equal((await cli(['nope'])).code, 2);
  assert.equal((await cli(['verify', out, '--bogus'])).code, 2);
});

const hostile = hostileBundle;

test('hostile archives are refused by verify and install, and install writes nothing', async () => {
  const d = await tempDir();
  const keys = await makeKeys(d);
  const root = join(d, 'root');
  const cfg = join(d, 'cfg');
  await mkdir(cfg);
  await writeFile(join(cfg, 'a.yaml'), 'x: 1\n');
  const base = [
    '--root',
    root,
    '--keys',
    keys.keysDir,
    '--board',
    'test-board',
    '--device-id',
    'd',
    '--no-restart',
    '--config-dir',
    cfg,
    '--cache-dir',
    join(d, 'cache'),
  ];
  const v1 = await makeBundle(d, await makeRelease(d, '1.0.0'), '1.0.0', keys.privatePem);
  assert.equal((await cli(['install', v1, ...base])).code, 0);
  const body = Buffer.from('pwned');
  const f = (path: string, b = body) => ({
    path,
    type: 'file',
    size: b.length,
    sha256: sha(b),
    mode: 0o644,
  });
  const cases: [string, string, RawMember[], object[]][] = [
    ['absolute path', 'UNSAFE_ENTRY', [{ name: '/etc/evil', typeflag: '0', body }], [f('x')]],
    ['dot-dot', 'UNSAFE_ENTRY', [{ name: 'payload/../../evil', typeflag: '0', body }], [f('x')]],
    ['outside payload/', 'UNSAFE_ENTRY', [{ name: 'evil', typeflag: '0', body }], [f('x')]],
    [
      'hardlink',
      'UNSAFE_ENTRY',
      [{ name: 'payload/x', typeflag: '1', linkname: '/etc/passwd' }],
      [f('x')],
    ],
    ['fifo', 'UNSAFE_ENTRY', [{ name: 'payload/x', typeflag: '6' }], [f('x')]],
    ['char device', 'UNSAFE_ENTRY', [{ name: 'payload/x', typeflag: '3' }], [f('x')]],
    [
      'symlink escaping',
      'UNSAFE_ENTRY',
      [{ name: 'payload/l', typeflag: '2', linkname: '../../../etc' }],
      [{ path: 'l', type: 'symlink', target: '../../../etc' }],
    ],
    [
      'write through symlink',
      'UNSAFE_ENTRY',
      [
        { name: 'payload/l', typeflag: '2', linkname: 'sub' },
        { name: 'payload/l/x', typeflag: '0', body },
      ],
      [{ path: 'l', type: 'symlink', target: 'sub' }, f('l/x')],
    ],
    [
      'unlisted member',
      'DIGEST_MISMATCH',
      [
        { name: 'payload/x', typeflag: '0', body },
        { name: 'payload/y', typeflag: '0', body },
      ],
      [f('x')],
    ],
    [
      'tampered content',
      'DIGEST_MISMATCH',
      [{ name: 'payload/x', typeflag: '0', body: Buffer.from('PWNED') }],
      [f('x')],
    ],
    ['missing member', 'DIGEST_MISMATCH', [], [f('x')]],
    [
      'duplicate member',
      'UNSAFE_ENTRY',
      [
        { name: 'payload/x', typeflag: '0', body },
        { name: 'payload/x', typeflag: '0', body },
      ],
      [f('x')],
    ],
  ];
  for (const [what, code, members, files] of cases) {
    const b = await hostile(d, keys.privatePem, files, members);
    const ver = await cli(['verify', b, '--keys', keys.keysDir]);
    assert.equal(ver.code, 1, `${what}: verify accepted`);
    assert.match(ver.stderr, new RegExp(`EDGEFLOW_OTA_${code}`), `${what}: ${ver.stderr}`);
    const before = await treeListing(d);
    const inst = await cli(['install', b, ...base]);
    assert.equal(inst.code, 1, `${what}: install accepted`);
    assert.match(inst.stderr, new RegExp(`EDGEFLOW_OTA_${code}`), `${what}: ${inst.stderr}`);
    assert.deepEqual(await treeListing(d), before, `${what}: disk changed`);
  }
  await assert.rejects(readFile('/etc/evil'));
});

test('a tar produced by the writer with a long pax path installs intact', async () => {
  const d = await tempDir();
  const keys = await makeKeys(d);
  const rel = await makeRelease(d, '1.0.0');
  const deep = join(rel, 'x'.repeat(90), 'y'.repeat(90));
  await mkdir(deep, { recursive: true });
  await writeFile(join(deep, 'z'.repeat(120)), 'deep');
  const b = await makeBundle(d, rel, '1.0.0', keys.privatePem);
  const root = join(d, 'root');
  const r = await cli([
    'install',
    b,
    '--root',
    root,
    '--keys',
    keys.keysDir,
    '--board',
    'test-board',
    '--device-id',
    'd',
    '--no-restart',
    '--config-dir',
    join(d, 'c'),
    '--cache-dir',
    join(d, 'k'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    await readFile(join(root, 'current', 'x'.repeat(90), 'y'.repeat(90), 'z'.repeat(120)), 'utf8'),
    'deep',
  );
  void writeTarGz;
});
