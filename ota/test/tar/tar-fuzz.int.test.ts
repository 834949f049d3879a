import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readlink, realpath, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { openBundle } from '../../src/bundle-reader.js';
import { OtaError } from '../../src/errors.js';
import { stagingSink } from '../../src/extract.js';
import { TarError, readTar } from '../../src/tar/tar-reader.js';
import { treeListing } from '../helpers/craft.js';
import { tempDir } from '../helpers/releases.js';
import {
  fixChecksum,
  int,
  memberLine,
  mutate,
  pick,
  prng,
  pythonMissing,
  pythonReadings,
  randomArchive,
} from '../helpers/tar-fuzz.js';
import type { Rand, Reading } from '../helpers/tar-fuzz.js';

// Property/fuzz tests of the one tar reader (issue 16, case 3). CI size is bounded; a longer run:
//   EDGEFLOW_FUZZ_N=20000 EDGEFLOW_FUZZ_SEED=<n> node --test ota/dist/test/tar/tar-fuzz.int.test.js
const N = Number(process.env.EDGEFLOW_FUZZ_N ?? 600);
const SEED = Number(process.env.EDGEFLOW_FUZZ_SEED ?? 16);

async function ours(bytes: Buffer, chunk: number): Promise<Reading> {
  const members: string[] = [];
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  try {
    for await (const e of readTar(parts)) {
      const h = createHash('sha256');
      let n = 0;
      for await (const c of e.body()) {
        h.update(c);
        n += c.length;
      }
      members.push(
        memberLine(e.name, e.type, e.size, e.linkname, e.type === 'file' ? h.digest('hex') : ''),
      );
      assert.equal(n, e.type === 'file' ? e.size : 0);
    }
    return { ok: true, members };
  } catch (e) {
    // Every malformed input is a TarError: never a TypeError, RangeError or a hang.
    if (!(e instanceof TarError)) throw e;
    return { ok: false, error: e.message };
  }
}

test(
  'the tar reader never accepts an archive Python reads differently',
  { skip: pythonMissing() ?? false },
  async (t) => {
    const dir = await tempDir('tar-fuzz-');
    const r = prng(SEED);
    const cases: { file: string; bytes: Buffer; applied: string[] }[] = [];
    for (let i = 0; i < N; i++) {
      const a = randomArchive(r);
      const m = i % 5 === 0 ? { bytes: a.bytes, applied: [] } : mutate(r, a);
      const file = `${String(i).padStart(6, '0')}.tar`;
      await writeFile(join(dir, file), m.bytes);
      cases.push({ file, ...m });
    }
    const py = await pythonReadings(
      dir,
      cases.map((c) => c.file),
    );
    let accepted = 0;
    let refused = 0;
    let pyOnly = 0;
    for (const [i, c] of cases.entries()) {
      const mine = await ours(c.bytes, 1 + int(r, 2048));
      const theirs = py.get(c.file);
      assert.ok(theirs, `no oracle result for ${c.file}`);
      if (!mine.ok) {
        refused++;
        if (theirs.ok) pyOnly++;
        continue;
      }
      accepted++;
      assert.ok(
        theirs.ok,
        `case ${i} (seed ${SEED}, ${c.applied.join(',')}): we accepted what Python refuses (${theirs.ok ? '' : theirs.error})`,
      );
      assert.deepEqual(
        mine.members,
        theirs.members,
        `case ${i} (seed ${SEED}, ${c.applied.join(',')}): members differ from Python's`,
      );
    }
    t.diagnostic(
      `seed ${SEED}: ${N} archives, ${accepted} accepted identically to Python, ${refused} refused (${pyOnly} of those Python reads: we are stricter)`,
    );
    // A generator that only made garbage would prove nothing.
    assert.ok(accepted >= N / 10, `only ${accepted} of ${N} archives were valid`);
    assert.ok(refused >= N / 10, `only ${refused} of ${N} archives were refused`);
  },
);

// ---- extraction: random bundles through the real staging sink ----

const NAMES = ['a', 'b', 'c', 'lib', 'up'];

function relPath(r: Rand): string {
  const segs: string[] = [];
  for (let i = 0, n = 1 + int(r, 3); i < n; i++) segs.push(pick(r, NAMES));
  return segs.join('/');
}

function linkTarget(r: Rand): string {
  if (r() < 0.05) return pick(r, ['/etc', '/tmp', '/']);
  const segs: string[] = [];
  for (let i = 0, n = 1 + int(r, 6); i < n; i++)
    segs.push(pick(r, ['..', '..', '.', ...NAMES, 'x']));
  return segs.join('/');
}

interface Entry {
  path: string;
  type: 'file' | 'symlink';
  body?: Buffer;
  target?: string;
}

function tarMember(name: string, typeflag: string, body?: Buffer, linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 8, 'latin1');
  h.write((body?.length ?? 0).toString(8).padStart(11, '0') + '\0', 124, 12, 'latin1');
  h.write('00000000000\0', 136, 12, 'latin1');
  h[156] = typeflag.charCodeAt(0);
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\x0000', 257, 8, 'latin1');
  fixChecksum(h);
  if (!body) return h;
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

/** A random release with links that point around (and out), as a bundle, often tampered with. */
function randomBundle(r: Rand): Buffer {
  const entries = new Map<string, Entry>();
  for (let i = 0, n = 1 + int(r, 7); i < n; i++) {
    const path = relPath(r);
    if (r() < 0.5) entries.set(path, { path, type: 'symlink', target: linkTarget(r) });
    else entries.set(path, { path, type: 'file', body: Buffer.from(`${path}:${i}`) });
  }
  const list = [...entries.values()];
  const files = list.map((e) =>
    e.type === 'file'
      ? {
          path: e.path,
          type: 'file',
          size: e.body?.length ?? 0,
          sha256: createHash('sha256')
            .update(e.body ?? Buffer.alloc(0))
            .digest('hex'),
          mode: 0o644,
        }
      : { path: e.path, type: 'symlink', target: e.target },
  );
  const manifest = Buffer.from(
    JSON.stringify({
      format: 1,
      name: 'fuzz',
      version: '1.0.0',
      boards: ['*'],
      rollout: 100,
      created: '2025-01-01T00:00:00.000Z',
      files,
    }),
  );
  const parts = [tarMember('manifest.json', '0', manifest)];
  for (const e of list) {
    if (r() < 0.15) parts.push(tarMember(`payload/${dirname(e.path)}/`, '5'));
    const name = r() < 0.1 ? `payload/${relPath(r)}` : `payload/${e.path}`;
    const type = r() < 0.1 ? pick(r, ['0', '2', '5', '1']) : e.type === 'file' ? '0' : '2';
    parts.push(
      type === '0'
        ? tarMember(name, type, e.body ?? Buffer.from('x'))
        : tarMember(name, type, undefined, e.target ?? linkTarget(r)),
    );
  }
  parts.push(Buffer.alloc(1024));
  if (r() < 0.1) parts.push(tarMember('payload/hidden', '0', Buffer.from('h')));
  return gzipSync(Buffer.concat(parts));
}

/** Where `rel`, taken from directory `from`, lands once every link on the way is followed. */
async function landsAt(from: string, rel: string, hops = { n: 0 }): Promise<string> {
  let cur = from;
  for (const seg of rel.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      cur = dirname(cur);
      continue;
    }
    const next = join(cur, seg);
    const st = await lstat(next).catch(() => undefined);
    if (!st?.isSymbolicLink()) {
      cur = next;
      continue;
    }
    if (++hops.n > 40) return from; // a loop stays where it is: the kernel answers ELOOP
    const t = await readlink(next);
    cur = await landsAt(t.startsWith('/') ? '/' : cur, t, hops);
  }
  return cur;
}

async function links(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const n of await readdir(join(root, rel))) {
    const p = rel ? `${rel}/${n}` : n;
    const st = await lstat(join(root, p));
    if (st.isSymbolicLink()) out.push(p);
    else if (st.isDirectory()) out.push(...(await links(root, p)));
  }
  return out;
}

test('random bundles never write or point outside staging', async (t) => {
  const scratch = await tempDir('tar-fuzz-x-');
  const outside = join(scratch, 'outside');
  await mkdir(join(outside, 'etc'), { recursive: true });
  await writeFile(join(outside, 'etc', 'passwd'), 'root:x:0:0\n');
  const before = await treeListing(outside);
  const r = prng(SEED + 1);
  const n = Math.max(50, Math.floor(N / 2));
  let extracted = 0;
  for (let i = 0; i < n; i++) {
    const file = join(scratch, `b${i}.tar.gz`);
    await writeFile(file, randomBundle(r));
    const staging = join(scratch, 'staging', String(i));
    await mkdir(staging, { recursive: true });
    const real = await realpath(staging);
    try {
      const b = await openBundle(file);
      try {
        await b.walkPayload(stagingSink(staging));
        extracted++;
      } finally {
        await b.close();
      }
    } catch (e) {
      // Every refusal carries an OTA code.
      assert.ok(e instanceof OtaError, `case ${i} (seed ${SEED + 1}): ${String(e)}`);
    }
    for (const l of await links(staging)) {
      const at = await landsAt(await realpath(join(staging, dirname(l))), l.split('/').pop() ?? '');
      assert.ok(
        at === real || at.startsWith(`${real}/`),
        `case ${i} (seed ${SEED + 1}): ${l} -> ${await readlink(join(staging, l))} lands at ${at}`,
      );
    }
  }
  assert.deepEqual(await treeListing(outside), before, 'something outside staging changed');
  t.diagnostic(`seed ${SEED + 1}: ${n} bundles, ${extracted} extracted, every link inside staging`);
  assert.ok(extracted >= n / 20, `only ${extracted} of ${n} bundles were extracted`);
});
