import { createWriteStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
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

/** Writes a gzip tar of raw members (no checks at all). */
export async function writeRawTarGz(out: string, members: readonly RawMember[]): Promise<void> {
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
  await pipeline(Readable.from([Buffer.concat(parts)]), createGzip(), createWriteStream(out));
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
