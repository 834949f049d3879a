import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Random tar archives for the reader's differential fuzz test: members of every type the format
 * has (and some it does not), built byte by byte so fields can hold what no writer would put
 * there, then mutated. Deterministic from a seed (printed by the test, replayable).
 */

/** mulberry32: small, fast, good enough to pick mutations; seeded for replay. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
export const int = (r: Rand, n: number): number => Math.floor(r() * n);
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)] as T;

const SEGS = ['a', 'b', 'c', '..', '.', 'payload', 'x'.repeat(60), 'é', ''];

/** A member name from a small alphabet, so that collisions, "..", "." and long names happen. */
export function randomName(r: Rand): string {
  const n = 1 + int(r, 4);
  const segs: string[] = [];
  for (let i = 0; i < n; i++) segs.push(pick(r, SEGS));
  return segs.join('/');
}

interface RawHeader {
  name: Buffer;
  prefix?: Buffer;
  typeflag: string;
  size: number;
  linkname?: Buffer;
  magic: 'posix' | 'gnu' | 'v7';
}

function field(b: Buffer, off: number, len: number, v: Buffer): void {
  v.copy(b, off, 0, Math.min(len, v.length));
}

function octalField(b: Buffer, off: number, len: number, n: number): void {
  b.write(
    n
      .toString(8)
      .padStart(len - 1, '0')
      .slice(-(len - 1)) + '\0',
    off,
    len,
    'latin1',
  );
}

/** Recomputes the header checksum (bytes 148-155 counted as spaces, POSIX ustar). */
export function fixChecksum(h: Buffer, at = 0): void {
  h.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += h[at + i] ?? 0;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', at + 148, 8, 'latin1');
}

function header(o: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  field(b, 0, 100, o.name);
  octalField(b, 100, 8, 0o644);
  octalField(b, 108, 8, 0);
  octalField(b, 116, 8, 0);
  octalField(b, 124, 12, o.size);
  octalField(b, 136, 12, 0);
  b[156] = o.typeflag.charCodeAt(0);
  if (o.linkname) field(b, 157, 100, o.linkname);
  if (o.magic === 'posix') b.write('ustar\x0000', 257, 8, 'latin1');
  if (o.magic === 'gnu') b.write('ustar  \0', 257, 8, 'latin1');
  if (o.prefix) field(b, 345, 155, o.prefix);
  fixChecksum(b);
  return b;
}

function padded(body: Buffer): Buffer {
  return Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

function pax(fields: [string, string][]): Buffer {
  let out = '';
  for (const [k, v] of fields) {
    const rec = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(rec) + 1;
    while (String(len).length + Buffer.byteLength(rec) !== len)
      len = String(len).length + Buffer.byteLength(rec);
    out += `${len}${rec}`;
  }
  return Buffer.from(out);
}

/** One archive: its bytes and where each header starts (for targeted mutations). */
export interface Archive {
  bytes: Buffer;
  headers: number[];
}

/** A random archive of 1-6 members, with metadata headers and odd types mixed in. */
export function randomArchive(r: Rand): Archive {
  const parts: Buffer[] = [];
  const headers: number[] = [];
  let off = 0;
  const push = (b: Buffer, isHeader = false): void => {
    if (isHeader) headers.push(off);
    parts.push(b);
    off += b.length;
  };
  const magic = pick(r, ['posix', 'posix', 'posix', 'gnu', 'v7'] as const);
  const members = 1 + int(r, 6);
  for (let i = 0; i < members; i++) {
    const name = randomName(r);
    const meta = int(r, 8);
    if (meta === 0) {
      const recs: [string, string][] = [['path', randomName(r)]];
      if (r() < 0.3) recs.push(['linkpath', randomName(r)]);
      if (r() < 0.2) recs.push(['size', String(int(r, 700))]);
      if (r() < 0.1) recs.push([pick(r, ['comment', 'hdrcharset', 'GNU.sparse.name']), 'v']);
      const body = pax(recs);
      push(
        header({ name: Buffer.from('PaxHeader'), typeflag: 'x', size: body.length, magic }),
        true,
      );
      push(padded(body));
    } else if (meta === 1) {
      const body = Buffer.from(`${randomName(r)}${r() < 0.3 ? '\0junk' : ''}\0`);
      const t = pick(r, ['L', 'K']);
      push(
        header({ name: Buffer.from('././@LongLink'), typeflag: t, size: body.length, magic }),
        true,
      );
      push(padded(body));
    } else if (meta === 2) {
      const body = pax([[pick(r, ['comment', 'path', 'mtime']), randomName(r)]]);
      push(header({ name: Buffer.from('global'), typeflag: 'g', size: body.length, magic }), true);
      push(padded(body));
    }
    const typeflag = pick(r, ['0', '0', '0', '\0', '5', '2', '2', '1', '6', '3', '7', 'S', 'Z']);
    const isFile = typeflag === '0' || typeflag === '\0' || typeflag === '7';
    const bodyLen = isFile || r() < 0.1 ? int(r, 1500) : 0;
    const body = Buffer.alloc(bodyLen);
    for (let j = 0; j < bodyLen; j++) body[j] = int(r, 256);
    let nameBuf = Buffer.from(typeflag === '5' && r() < 0.5 ? `${name}/` : name);
    let prefix: Buffer | undefined;
    if (nameBuf.length > 100 && magic === 'posix') {
      prefix = nameBuf.subarray(0, Math.min(155, nameBuf.length - 100));
      nameBuf = nameBuf.subarray(prefix.length);
    }
    push(
      header({
        name: nameBuf,
        ...(prefix ? { prefix } : {}),
        typeflag,
        size: bodyLen,
        linkname: Buffer.from(typeflag === '2' || typeflag === '1' ? randomName(r) : ''),
        magic,
      }),
      true,
    );
    if (bodyLen > 0) push(padded(body));
  }
  push(Buffer.alloc(1024));
  return { bytes: Buffer.concat(parts), headers };
}

/** 0-3 random mutations: byte flips, header fields (checksum fixed), cuts, trailers, blocks. */
export function mutate(r: Rand, a: Archive): { bytes: Buffer; applied: string[] } {
  let b = Buffer.from(a.bytes);
  const applied: string[] = [];
  const n = int(r, 4);
  for (let i = 0; i < n; i++) {
    const h = a.headers.length > 0 ? pick(r, a.headers) : 0;
    const kind = int(r, 9);
    if (kind === 0 && b.length > 0) {
      const at = int(r, b.length);
      b[at] = (b[at] ?? 0) ^ (1 << int(r, 8));
      applied.push(`flip@${at}`);
    } else if (kind === 1 && h + 512 <= b.length) {
      const at = h + pick(r, [0, 50, 99, 124, 130, 156, 157, 257, 263, 345, 400]);
      b[at] = pick(r, [0, 0x2f, 0x2e, 0x30 + int(r, 10), int(r, 256)]);
      fixChecksum(b, h);
      applied.push(`field@${at - h}`);
    } else if (kind === 2 && h + 512 <= b.length) {
      octalField(b, h + 124, 12, pick(r, [0, 1, 511, 512, 513, int(r, 5000), 2 ** 33 - 1]));
      fixChecksum(b, h);
      applied.push('size');
    } else if (kind === 3 && h + 512 <= b.length) {
      b[h + 156] = pick(r, ['0', '1', '2', '5', '6', 'x', 'g', 'L', 'K', '\0', 'Q']).charCodeAt(0);
      fixChecksum(b, h);
      applied.push('type');
    } else if (kind === 4) {
      b = b.subarray(0, int(r, b.length + 1));
      applied.push('cut');
    } else if (kind === 5) {
      const tail = pick(r, [
        Buffer.alloc(512 * (1 + int(r, 20))),
        Buffer.from('garbage'),
        randomArchive(r).bytes,
      ]);
      b = Buffer.concat([b, tail]);
      applied.push('trailer');
    } else if (kind === 6 && b.length >= 1024) {
      b = b.subarray(0, b.length - 1024);
      applied.push('no-end');
    } else if (kind === 7 && b.length >= 512) {
      const blk = int(r, b.length / 512) * 512;
      b = Buffer.concat([b.subarray(0, blk + 512), b.subarray(blk)]);
      applied.push(`dup@${blk}`);
    } else if (kind === 8 && h + 512 <= b.length) {
      b.write(pick(r, ['ustar\x0000', 'ustar  \0', '\0\0\0\0\0\0\0\0']), h + 257, 8, 'latin1');
      fixChecksum(b, h);
      applied.push('magic');
    }
  }
  return { bytes: b, applied };
}

/** What a reader saw: its members, or that it refused the archive. */
export type Reading = { ok: true; members: string[] } | { ok: false; error: string };

/** One line per member, comparable across readers (dir names without a trailing "/"). */
export function memberLine(
  name: string,
  type: string,
  size: number,
  linkname: string,
  sha256: string,
): string {
  // Trailing slashes name the same path; readers differ in which ones they keep.
  const n = name.replace(/\/+$/, '');
  return JSON.stringify([
    Buffer.from(n).toString('hex'),
    type,
    size,
    Buffer.from(linkname).toString('hex'),
    sha256,
  ]);
}

const ORACLE = String.raw`
import hashlib, json, os, sys, tarfile
KIND = {b'0': 'file', b'\0': 'file', b'7': 'file', b'5': 'dir', b'2': 'symlink', b'1': 'hardlink'}
def hexname(s):
    return s.encode('utf-8', 'surrogateescape').hex()
for path in sys.argv[1:]:
    out = {'file': os.path.basename(path)}
    try:
        members = []
        with tarfile.open(path, 'r:') as tf:
            for m in tf:
                kind = KIND.get(m.type, 'other')
                digest = ''
                if kind == 'file':
                    data = tf.extractfile(m).read()
                    if len(data) != m.size:
                        raise EOFError('short body')
                    digest = hashlib.sha256(data).hexdigest()
                name = m.name.rstrip('/')
                members.append(json.dumps([hexname(name), kind, m.size, hexname(m.linkname), digest], separators=(',', ':')))
        out.update(ok=True, members=members)
    except Exception as e:
        out.update(ok=False, error=type(e).__name__ + ': ' + str(e))
    print(json.dumps(out, ensure_ascii=True))
`;

/** Python's tarfile (/usr/bin/python3) as the oracle: one process reads every archive. */
export async function pythonReadings(dir: string, files: string[]): Promise<Map<string, Reading>> {
  const script = join(dir, 'oracle.py');
  await writeFile(script, ORACLE);
  const r = spawnSync('/usr/bin/python3', [script, ...files.map((f) => join(dir, f))], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`python oracle failed: ${r.stderr}`);
  const out = new Map<string, Reading>();
  for (const line of r.stdout.trim().split('\n')) {
    const j = JSON.parse(line) as { file: string; ok: boolean; members?: string[]; error?: string };
    out.set(
      j.file,
      j.ok ? { ok: true, members: j.members ?? [] } : { ok: false, error: j.error ?? '' },
    );
  }
  return out;
}

/** Why the oracle cannot run here, or undefined. */
export function pythonMissing(): string | undefined {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import tarfile, hashlib, json'], {
    encoding: 'utf8',
  });
  return r.status === 0 ? undefined : 'needs /usr/bin/python3 (scripts/install-deps.sh: python3)';
}
