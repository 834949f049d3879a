import { createWriteStream } from 'node:fs';
import { lstat, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import { signManifest } from '../../src/keys.js';
import { BLOCK, encodeHeader } from '../../src/tar/header.js';
import { writeTar } from '../../src/tar/tar-writer.js';
import type { TarWriteEntry } from '../../src/tar/tar-writer.js';

/** A raw member for hostile archives: any typeflag, any name. */
export interface RawMember {
  name: string;
  typeflag: string;
  body?: Buffer;
  linkname?: string;
  mode?: number;
}

/** Encodes a header with an arbitrary typeflag (fixing the checksum). */
export function rawHeader(m: RawMember): Buffer {
  const h = encodeHeader({
    name: m.name,
    type: 'file',
    mode: m.mode ?? 0o644,
    size: m.body?.length ?? 0,
    mtime: 0,
    ...(m.linkname ? { linkname: m.linkname } : {}),
  });
  h[156] = m.typeflag.charCodeAt(0);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return h;
}

/** What follows the members: the end-of-archive blocks, then `trailer`; `cut` truncates the tar. */
export interface RawTail {
  /** Bytes after the two zero blocks (hidden data, padding). */
  readonly trailer?: Buffer;
  /** Keep only the first `cut` bytes of the tar (before gzip); negative: drop that many at the end. */
  readonly cut?: number;
  /** Keep only the first `gzipCut` bytes of the gzip stream. */
  readonly gzipCut?: number;
}

/** Writes a gzip tar of raw members (no checks at all). */
export async function writeRawTarGz(
  out: string,
  members: readonly RawMember[],
  tail: RawTail = {},
): Promise<void> {
  const parts: Buffer[] = [];
  for (const m of members) {
    parts.push(rawHeader(m));
    if (m.body) {
      parts.push(m.body);
      const r = m.body.length % BLOCK;
      if (r) parts.push(Buffer.alloc(BLOCK - r));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  if (tail.trailer) parts.push(tail.trailer);
  let tar = Buffer.concat(parts);
  if (tail.cut !== undefined)
    tar = tar.subarray(0, tail.cut < 0 ? tar.length + tail.cut : tail.cut);
  const gz = gzipSync(tar);
  await writeFile(out, tail.gzipCut === undefined ? gz : gz.subarray(0, tail.gzipCut));
}

/** A bundle header (manifest over `files`, signed with `privatePem`) followed by raw members. */
export async function hostileBundle(
  dir: string,
  privatePem: string,
  files: object[],
  members: readonly RawMember[],
  tail: RawTail = {},
): Promise<string> {
  const manifest = Buffer.from(
    JSON.stringify({
      format: 1,
      name: 'edgeflow',
      version: '2.0.0',
      boards: ['test-board'],
      rollout: 100,
      created: '2025-01-01T00:00:00.000Z',
      files,
    }),
  );
  const sig = Buffer.from(JSON.stringify(signManifest(manifest, privatePem)));
  const out = join(dir, `h-${Math.random().toString(36).slice(2)}.tar.gz`);
  await writeRawTarGz(
    out,
    [
      { name: 'manifest.json', typeflag: '0', body: manifest },
      { name: 'manifest.sig', typeflag: '0', body: sig },
      ...members,
    ],
    tail,
  );
  return out;
}

/** Writes a gzip tar through the production writer. */
export async function writeTarGz(out: string, entries: TarWriteEntry[]): Promise<void> {
  await pipeline(Readable.from(writeTar(entries)), createGzip(), createWriteStream(out));
}

/** Every path under a root with type, size, content digest or link target: to prove "nothing changed". */
export async function treeListing(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    for (const n of (await readdir(join(root, rel))).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const p = join(root, r);
      const st = await lstat(p);
      if (st.isSymbolicLink()) out.push(`${r} -> ${await readlink(p)}`);
      else if (st.isDirectory()) {
        out.push(`${r}/`);
        await walk(r);
      } else out.push(`${r} ${st.size} ${(await readFile(p)).toString('base64').slice(0, 64)}`);
    }
  }
  await walk('');
  return out;
}
