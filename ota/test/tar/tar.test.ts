import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readTar } from '../../src/tar/tar-reader.js';
import { writeTar } from '../../src/tar/tar-writer.js';
import type { TarWriteEntry } from '../../src/tar/tar-writer.js';
import { paxBody, parsePax } from '../../src/tar/header.js';
import { rawHeader } from '../helpers/craft.js';

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of gen) parts.push(c);
  return Buffer.concat(parts);
}

function chunks(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

test('writer and reader round-trip files, dirs, symlinks and long names (pax), in any chunking', async () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(130)}.txt`;
  const entries: TarWriteEntry[] = [
    { name: 'a.txt', type: 'file', mode: 0o644, mtime: 1, body: Buffer.from('hello') },
    { name: 'dir/', type: 'dir', mode: 0o755, mtime: 1 },
    { name: 'dir/link', type: 'symlink', mode: 0o777, mtime: 1, linkname: '../a.txt' },
    { name: long, type: 'file', mode: 0o755, mtime: 1, body: Buffer.alloc(1500, 7) },
    { name: 'empty', type: 'file', mode: 0o644, mtime: 1, body: Buffer.alloc(0) },
  ];
  const tar = await collect(writeTar(entries));
  assert.equal(tar.length % 512, 0);
  for (const size of [1, 7, 512, 100_000]) {
    const got: { name: string; type: string; body: string; link: string }[] = [];
    for await (const e of readTar(chunks(tar, size))) {
      got.push({
        name: e.name,
        type: e.type,
        body: (await collect(e.body())).toString('hex').slice(0, 8),
        link: e.linkname,
      });
    }
    assert.deepEqual(
      got.map((g) => [g.name, g.type, g.link]),
      [
        ['a.txt', 'file', ''],
        ['dir/', 'dir', ''],
        ['dir/link', 'symlink', '../a.txt'],
        [long, 'file', ''],
        ['empty', 'file', ''],
      ],
    );
    assert.equal(got[0]?.body, Buffer.from('hell').toString('hex'));
  }
});

test('reader skips bodies the caller does not read', async () => {
  const tar = await collect(
    writeTar([
      { name: 'big', type: 'file', mode: 0o644, mtime: 0, body: Buffer.alloc(5000, 1) },
      { name: 'next', type: 'file', mode: 0o644, mtime: 0, body: Buffer.from('ok') },
    ]),
  );
  const names: string[] = [];
  for await (const e of readTar(chunks(tar, 333))) {
    names.push(e.name);
    if (e.name === 'next') assert.equal((await collect(e.body())).toString(), 'ok');
  }
  assert.deepEqual(names, ['big', 'next']);
});

test('reader rejects a bad header checksum and a truncated archive', async () => {
  const h = rawHeader({ name: 'x', typeflag: '0', body: Buffer.from('abc') });
  h[0] = 'y'.charCodeAt(0);
  await assert.rejects(async () => {
    for await (const _ of readTar(chunks(h, 512))) {
      // no member expected
    }
  }, /checksum/);
  const ok = rawHeader({ name: 'x', typeflag: '0', body: Buffer.from('abc') });
  await assert.rejects(async () => {
    for await (const e of readTar(chunks(ok, 512))) await collect(e.body());
  }, /truncated/);
});

test('reader reports special types so the caller can refuse them', async () => {
  const tar = Buffer.concat([
    rawHeader({ name: 'fifo', typeflag: '6' }),
    rawHeader({ name: 'dev', typeflag: '3' }),
    rawHeader({ name: 'hl', typeflag: '1', linkname: 'x' }),
    Buffer.alloc(1024),
  ]);
  const types: string[] = [];
  for await (const e of readTar(chunks(tar, 512))) types.push(`${e.name}:${e.type}`);
  assert.deepEqual(types, ['fifo:other', 'dev:other', 'hl:hardlink']);
});

test('pax records round-trip, including lengths that change digit count', () => {
  for (const len of [1, 90, 95, 96, 97, 98, 99, 100, 995, 996, 1000]) {
    const v = 'v'.repeat(len);
    assert.deepEqual(parsePax(paxBody({ path: v })), { path: v });
  }
});
