import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from './helpers/cli.js';
import { hostileBundle, rawHeader, treeListing } from './helpers/craft.js';
import type { RawMember, RawTail } from './helpers/craft.js';
import { makeBundle, makeKeys, makeRelease, tempDir } from './helpers/releases.js';

// The holes of the bundle reader (issue 16, case 3): each hostile bundle is signed with a trusted
// key, so only the reader's own checks stand between it and the disk. Each must be refused by
// `verify` and `install` with an EDGEFLOW_OTA_* code, no stack trace, and no change on disk.

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const body = Buffer.from('payload bytes\n');
const file = (path: string, b = body): object => ({
  path,
  type: 'file',
  size: b.length,
  sha256: sha(b),
  mode: 0o644,
});

interface Device {
  dir: string;
  privatePem: string;
  keysDir: string;
  install(bundle: string): Promise<{ code: number; stdout: string; stderr: string }>;
}

async function device(): Promise<Device> {
  const dir = await tempDir();
  const keys = await makeKeys(dir);
  const args = (b: string): string[] => [
    'install',
    b,
    '--root',
    join(dir, 'root'),
    '--keys',
    keys.keysDir,
    '--board',
    'test-board',
    '--device-id',
    'd',
    '--no-restart',
    '--config-dir',
    join(dir, 'cfg'),
    '--cache-dir',
    join(dir, 'cache'),
    '--report-file',
    join(dir, 'report.json'),
  ];
  const v1 = await makeBundle(dir, await makeRelease(dir, '1.0.0'), '1.0.0', keys.privatePem);
  const first = await cli(args(v1));
  assert.equal(first.code, 0, first.stderr);
  return {
    dir,
    privatePem: keys.privatePem,
    keysDir: keys.keysDir,
    install: (b) => cli(args(b)),
  };
}

async function refused(
  d: Device,
  what: string,
  files: object[],
  members: RawMember[],
  code: RegExp,
  tail: RawTail = {},
): Promise<string> {
  const b = await hostileBundle(d.dir, d.privatePem, files, members, tail);
  const v = await cli(['verify', b, '--keys', d.keysDir]);
  assert.equal(v.code, 1, `${what}: verify accepted it`);
  assert.match(v.stderr, code, `${what}: ${v.stderr}`);
  assert.doesNotMatch(v.stderr, /\n\s+at /, `${what}: stack trace printed`);
  const before = await treeListing(d.dir);
  const i = await d.install(b);
  assert.equal(i.code, 1, `${what}: install accepted it`);
  assert.match(i.stderr, code, `${what}: ${i.stderr}`);
  assert.doesNotMatch(i.stderr, /\n\s+at /, `${what}: stack trace printed`);
  assert.deepEqual(await treeListing(d.dir), before, `${what}: the disk changed`);
  return v.stderr;
}

test('case 3a: a chain of relative symlinks that escapes through an earlier link is refused', async () => {
  const d = await device();
  const links = [
    { path: 'a/b/c/up', type: 'symlink', target: '../../..' },
    { path: 'esc', type: 'symlink', target: 'a/b/c/up/../../../x' },
  ];
  const err = await refused(
    d,
    'link through link',
    links,
    [
      { name: 'payload/a/b/c/up', typeflag: '2', linkname: '../../..' },
      { name: 'payload/esc', typeflag: '2', linkname: 'a/b/c/up/../../../x' },
    ],
    /EDGEFLOW_OTA_UNSAFE_ENTRY/,
  );
  assert.match(err, /esc/);
  // The same escape with the links listed in the other order, and through a link to a directory.
  await refused(
    d,
    'link through a later link',
    [
      { path: 'esc', type: 'symlink', target: 'lib/../../../etc' },
      { path: 'lib', type: 'symlink', target: 'a/b' },
    ],
    [
      { name: 'payload/esc', typeflag: '2', linkname: 'lib/../../../etc' },
      { name: 'payload/lib', typeflag: '2', linkname: 'a/b' },
    ],
    /EDGEFLOW_OTA_UNSAFE_ENTRY/,
  );
  await refused(
    d,
    'link loop',
    [
      { path: 'p', type: 'symlink', target: 'q' },
      { path: 'q', type: 'symlink', target: 'p' },
    ],
    [
      { name: 'payload/p', typeflag: '2', linkname: 'q' },
      { name: 'payload/q', typeflag: '2', linkname: 'p' },
    ],
    /EDGEFLOW_OTA_UNSAFE_ENTRY/,
  );
});

test('case 3b: a directory member not listed in the manifest, or one declaring a body, is refused', async () => {
  const d = await device();
  await refused(
    d,
    'unlisted directory',
    [file('x')],
    [
      { name: 'payload/extra/', typeflag: '5' },
      { name: 'payload/x', typeflag: '0', body },
    ],
    /EDGEFLOW_OTA_UNSAFE_ENTRY.*extra/,
  );
  // 64 MiB of zeros as the "body" of a directory: refused at its header, never decompressed.
  const err = await refused(
    d,
    'directory with a body',
    [file('a/x')],
    [
      { name: 'payload/a/', typeflag: '5', body: Buffer.alloc(64 * 1024 * 1024) },
      { name: 'payload/a/x', typeflag: '0', body },
    ],
    /EDGEFLOW_OTA_(BAD_BUNDLE|UNSAFE_ENTRY)/,
  );
  assert.match(err, /payload\/a.*67108864/);
  await refused(
    d,
    'symlink with a body',
    [{ path: 'l', type: 'symlink', target: 'x' }, file('x')],
    [
      { name: 'payload/l', typeflag: '2', linkname: 'x', body: Buffer.alloc(4096) },
      { name: 'payload/x', typeflag: '0', body },
    ],
    /EDGEFLOW_OTA_(BAD_BUNDLE|UNSAFE_ENTRY)/,
  );
});

test('case 3c: anything after the end-of-archive blocks but zero padding is refused', async () => {
  const d = await device();
  const hidden = hostileMember('payload/hidden', Buffer.from('smuggled'));
  const members: RawMember[] = [{ name: 'payload/x', typeflag: '0', body }];
  await refused(d, 'hidden member', [file('x')], members, /EDGEFLOW_OTA_BAD_BUNDLE.*end/, {
    trailer: hidden,
  });
  await refused(d, 'garbage', [file('x')], members, /EDGEFLOW_OTA_BAD_BUNDLE/, {
    trailer: Buffer.concat([Buffer.alloc(512), Buffer.from('x')]),
  });
  // GNU tar pads to a 10240-byte record with zeros: that stays accepted.
  const ok = await hostileBundle(d.dir, d.privatePem, [file('x')], members, {
    trailer: Buffer.alloc(10240 - 3 * 512),
  });
  const v = await cli(['verify', ok, '--keys', d.keysDir]);
  assert.equal(v.code, 0, v.stderr);
});

test('case 3d: a tar or gzip cut mid-member gets an EDGEFLOW_OTA code and no stack trace', async () => {
  const d = await device();
  const big = Buffer.alloc(5000, 7);
  const members: RawMember[] = [{ name: 'payload/x', typeflag: '0', body: big }];
  const ok = await hostileBundle(d.dir, d.privatePem, [file('x', big)], members);
  const whole = (await readFile(ok)).length;
  // Cut 3000 bytes before the end of x's 5000-byte body (the end blocks are 1024 bytes).
  await refused(d, 'tar cut', [file('x', big)], members, /EDGEFLOW_OTA_BAD_BUNDLE.*truncated/, {
    cut: -(1024 + 120 + 3000),
  });
  await refused(d, 'gzip cut', [file('x', big)], members, /EDGEFLOW_OTA_BAD_BUNDLE/, {
    gzipCut: whole - 30,
  });
  const gz = await hostileBundle(d.dir, d.privatePem, [file('x', big)], members);
  const bytes = await readFile(gz);
  bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0xff;
  await writeFile(gz, bytes);
  const v = await cli(['verify', gz, '--keys', d.keysDir]);
  assert.equal(v.code, 1);
  assert.match(v.stderr, /EDGEFLOW_OTA_BAD_BUNDLE/);
  assert.doesNotMatch(v.stderr, /\n\s+at /);
});

/** One raw ustar member (header + padded body), for data hidden after the end of the archive. */
function hostileMember(name: string, b: Buffer): Buffer {
  const pad = Buffer.alloc((512 - (b.length % 512)) % 512);
  return Buffer.concat([rawHeader({ name, typeflag: '0', body: b }), b, pad]);
}
