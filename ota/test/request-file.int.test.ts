import assert from 'node:assert/strict';
import { chmod, link, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { OtaError } from '../src/errors.js';
import { readRequestFile } from '../src/request-file.js';
import { installFromRequest } from '../src/request-install.js';
import { tempDir } from './helpers/releases.js';
import { localRig } from './helpers/rig.js';

const policy = { allowHttp: true, maxBytes: 10 ** 6 };
const body = JSON.stringify({
  format: 1,
  id: 'r1',
  url: 'http://127.0.0.1:9/b.tar.gz',
  sha256: 'b'.repeat(64),
  requestedBy: 'ops',
  requestedAt: '2025-06-01T00:00:00.000Z',
});

async function requestDir(): Promise<{ dir: string; file: string }> {
  const dir = join(await tempDir('ota-req-'), 'ota');
  await mkdir(dir, { mode: 0o700 });
  return { dir, file: join(dir, 'request.json') };
}

const unsafe = (re: RegExp) => (e: unknown) =>
  e instanceof OtaError && e.code === 'EDGEFLOW_OTA_REQUEST_UNSAFE_FILE' && re.test(e.message);

test('a 0600 request file in a private directory is read; none is undefined', async () => {
  const { dir, file } = await requestDir();
  assert.equal(await readRequestFile(file, policy), undefined);
  assert.equal(await readRequestFile(join(dir, 'nope', 'request.json'), policy), undefined);
  await writeFile(file, body, { mode: 0o600 });
  assert.equal((await readRequestFile(file, policy))?.id, 'r1');
});

test('unsafe request files are refused before their content is read', async () => {
  const { dir, file } = await requestDir();
  await writeFile(file, body, { mode: 0o644 });
  await chmod(file, 0o644);
  await assert.rejects(readRequestFile(file, policy), unsafe(/has mode 0644, expected 0600/));
  await chmod(file, 0o600);
  await chmod(dir, 0o777);
  await assert.rejects(readRequestFile(file, policy), unsafe(/group- or world-writable/));
  await chmod(dir, 0o700);
  await link(file, join(dir, 'other'));
  await assert.rejects(readRequestFile(file, policy), unsafe(/2 hard links/));
  await assert.rejects(readRequestFile(file, policy, 4242), unsafe(/expected 4242/));

  const s = await requestDir();
  await writeFile(join(s.dir, 'target.json'), body, { mode: 0o600 });
  await symlink(join(s.dir, 'target.json'), s.file);
  await assert.rejects(readRequestFile(s.file, policy), unsafe(/is a symlink/));

  const d = await requestDir();
  const real = join(d.dir, '..', 'real');
  await mkdir(real, { mode: 0o700 });
  await writeFile(join(real, 'request.json'), body, { mode: 0o600 });
  const viaLink = join(d.dir, 'linked');
  await symlink(real, viaLink);
  await assert.rejects(
    readRequestFile(join(viaLink, 'request.json'), policy),
    unsafe(/symlink or not a directory/),
  );
});

test('a refused request file records a failed result without its id and changes nothing else', async () => {
  const rig = await localRig();
  const { file } = await requestDir();
  await writeFile(file, body, { mode: 0o600 });
  await chmod(file, 0o640);
  await assert.rejects(
    installFromRequest(rig.paths, { ...rig.opts('unused'), requestFile: file, policy }, rig.deps),
    unsafe(/expected 0600/),
  );
  const r = JSON.parse(await readFile(rig.paths.requestResultFile, 'utf8')) as Record<
    string,
    unknown
  >;
  assert.equal(r.id, null);
  assert.equal(r.state, 'failed');
  assert.equal(r.code, 'EDGEFLOW_OTA_REQUEST_UNSAFE_FILE');
  assert.equal(rig.deps.restarts, 0);
});
