import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { downloadBundle } from '../src/download.js';
import { OtaError } from '../src/errors.js';
import { install } from '../src/install.js';
import { makeBundle, makeRelease, tempDir } from './helpers/releases.js';
import { localRig } from './helpers/rig.js';
import { serveFile } from './helpers/server.js';

const isCode = (code: string) => (e: unknown) => e instanceof OtaError && e.code === code;

test('an interrupted download resumes with Range and the digest is checked', async (t) => {
  const d = await tempDir();
  const rel = await makeRelease(d, '1.0.0');
  // Some incompressible payload so the cut lands mid-file.
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    join(rel, 'blob.bin'),
    createHash('sha512').update('x').digest().toString('hex').repeat(2000),
  );
  const file = await makeBundle(d, rel, '1.0.0', undefined);
  const sha = createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
  const srv = await serveFile(file, { cutAfter: 1000 });
  t.after(() => srv.close());
  const dir = join(d, 'dl');
  await assert.rejects(
    downloadBundle({ url: srv.url, sha256: sha, dir, maxBytes: 10 ** 7 }),
    isCode('EDGEFLOW_OTA_DOWNLOAD_FAILED'),
  );
  assert.equal((await stat(join(dir, `${sha}.part`))).size, 1000);
  const got = await downloadBundle({ url: srv.url, sha256: sha, dir, maxBytes: 10 ** 7 });
  assert.deepEqual(srv.seen, [undefined, 'bytes=1000-']);
  assert.equal(
    createHash('sha256')
      .update(await readFile(got))
      .digest('hex'),
    sha,
  );
  assert.deepEqual(await readdir(dir), [`${sha}.tar.gz`]);
});

test('wrong digest, size bound and HTTP errors are refused', async (t) => {
  const d = await tempDir();
  const file = await makeBundle(d, await makeRelease(d, '1.0.0'), '1.0.0', undefined);
  const srv = await serveFile(file);
  t.after(() => srv.close());
  const dir = join(d, 'dl');
  await assert.rejects(
    downloadBundle({ url: srv.url, sha256: 'f'.repeat(64), dir, maxBytes: 10 ** 7 }),
    isCode('EDGEFLOW_OTA_DIGEST_MISMATCH'),
  );
  await assert.rejects(
    downloadBundle({ url: srv.url, sha256: 'e'.repeat(64), dir, maxBytes: 100 }),
    isCode('EDGEFLOW_OTA_TOO_LARGE'),
  );
  await assert.rejects(
    downloadBundle({ url: `${srv.base}/missing`, sha256: 'e'.repeat(64), dir, maxBytes: 10 ** 7 }),
    isCode('EDGEFLOW_OTA_DOWNLOAD_FAILED'),
  );
  assert.deepEqual(await readdir(dir), []);
});

test('install from an http URL needs --sha256 and verifies the signature', async (t) => {
  const r = await localRig();
  const file = await makeBundle(r.dir, await makeRelease(r.dir, '1.0.0'), '1.0.0', r.privatePem);
  const srv = await serveFile(file);
  t.after(() => srv.close());
  await assert.rejects(install(r.paths, r.opts(srv.url), r.deps), isCode('EDGEFLOW_OTA_USAGE'));
  const sha = createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
  const res = await install(r.paths, r.opts(srv.url, { sha256: sha }), r.deps);
  assert.equal(res.version, '1.0.0');
  assert.deepEqual(
    await readdir(r.paths.downloads),
    [],
    'the downloaded bundle is removed after install',
  );
});
