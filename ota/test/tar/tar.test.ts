import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TarError, readTar } from '../../src/tar/tar-reader.js';
import { writeTar } from '../../src/tar/tar-writer.js';
import type { TarWriteEntry } from '../../src/tar/tar-writer.js';
import { paxBody, parsePax } from '../../src/tar/header.js';
import { rawHeader } from '../helpers/craft.js';
import { fixChecksum } from '../helpers/tar-fuzz.js';

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

async function refusal(tar: Buffer): Promise<string> {
  try {
    for await (const e of readTar(chunks(tar, 512))) await collect(e.body());
  } catch (e) {
    assert.ok(e instanceof TarError, String(e));
    return e.message;
  }
  return 'accepted';
}

const END = Buffer.alloc(1024);
const member = (name: string, typeflag: string, body?: Buffer, linkname?: string): Buffer => {
  const b = body ?? Buffer.alloc(0);
  const pad = Buffer.alloc((512 - (b.length % 512)) % 512);
  return Buffer.concat([
    rawHeader({ name, typeflag, body: b, ...(linkname ? { linkname } : {}) }),
    b,
    pad,
  ]);
};

test('reader refuses each malformed archive for the reason it names', async () => {
  const ok = member('a', '0', Buffer.from('x'));
  assert.equal(await refusal(Buffer.concat([ok, END])), 'accepted');
  assert.equal(await refusal(Buffer.concat([ok, END, Buffer.alloc(8704)])), 'accepted');
  assert.equal(await refusal(Buffer.concat([END])), 'accepted', 'an empty archive is valid');
  assert.match(await refusal(Buffer.alloc(0)), /empty archive/);
  assert.match(await refusal(Buffer.concat([ok, END, ok])), /after the end-of-archive/);
  assert.match(
    await refusal(Buffer.concat([ok, END, Buffer.alloc(2 * 1024 * 1024)])),
    /more than 1048576 bytes after/,
  );
  assert.match(
    await refusal(Buffer.concat([member('d/', '5', Buffer.alloc(600)), END])),
    /"d\/" \(dir\) declares a 600-byte body/,
  );
  assert.match(
    await refusal(Buffer.concat([member('l', '2', Buffer.alloc(1), 't'), END])),
    /\(symlink\) declares a 1-byte body/,
  );
  const pax = (body: string) => member('PaxHeader', 'x', Buffer.from(body));
  assert.match(
    await refusal(Buffer.concat([pax('9 path=a\n'), pax('9 path=b\n'), ok, END])),
    /path of one member given twice/,
  );
  assert.match(
    await refusal(Buffer.concat([pax('9 path=a\n'), END])),
    /extended header with no member/,
  );
  assert.match(await refusal(Buffer.concat([pax('0x9 path=a\n'), ok, END])), /bad record length/);
  assert.match(await refusal(Buffer.concat([pax('9 path=aX'), ok, END])), /malformed record/);
  assert.match(
    await refusal(Buffer.concat([pax('18 hdrcharset=BIN\n'), ok, END])),
    /hdrcharset is not supported/,
  );
  assert.match(
    await refusal(Buffer.concat([member('g', 'g', Buffer.from('9 path=a\n')), ok, END])),
    /global pax header sets path/,
  );
  const longName = member('././@LongLink', 'L', Buffer.from('abc'));
  longName[512 + 10] = 0x41; // beyond the declared 3 bytes
  assert.match(await refusal(Buffer.concat([longName, ok, END])), /beyond its declared size/);
  assert.match(await refusal(Buffer.concat([member('s', 'S'), END])), /sparse/);
  const badUtf8 = member('a', '0');
  badUtf8[1] = 0xff;
  fixChecksum(badUtf8);
  assert.match(await refusal(Buffer.concat([badUtf8, END])), /name is not valid UTF-8/);
  const badUid = member('a', '0');
  badUid.write('9', 108, 1, 'latin1');
  fixChecksum(badUid);
  assert.match(await refusal(Buffer.concat([badUid, END])), /bad octal uid/);
  const prefixed = member('a', '0');
  prefixed.write('\0\0\0\0\0\0\0\0', 257, 8, 'latin1');
  prefixed.write('dir', 345, 3, 'latin1');
  fixChecksum(prefixed);
  assert.match(await refusal(Buffer.concat([prefixed, END])), /prefix outside a POSIX ustar/);
});

test('a v7 "file" whose name ends in "/" is a directory', async () => {
  const types: string[] = [];
  for await (const e of readTar(chunks(Buffer.concat([member('d/', '\0'), END]), 512)))
    types.push(e.type);
  assert.deepEqual(types, ['dir']);
});
