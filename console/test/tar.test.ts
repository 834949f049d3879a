import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTar } from '../src/lib/tar.js';

async function gnuTar(files: Record<string, string>): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'console-tar-'));
  for (const [n, c] of Object.entries(files)) await writeFile(join(dir, n), c);
  const out = join(dir, 'a.tar');
  const r = spawnSync('tar', ['--format=ustar', '-cf', out, '-C', dir, ...Object.keys(files)]);
  assert.equal(r.status, 0, String(r.stderr));
  return new Uint8Array(await readFile(out));
}

test('reads the members of a ustar archive written by GNU tar', async () => {
  const big = 'x'.repeat(1300);
  const members = readTar(
    await gnuTar({ 'report.json': '{"verdict":"pass"}', 'timeseries.jsonl': big }),
  );
  assert.deepEqual(
    members.map((m) => [m.name, new TextDecoder().decode(m.data)]),
    [
      ['report.json', '{"verdict":"pass"}'],
      ['timeseries.jsonl', big],
    ],
  );
});

test('refuses a changed header, a cut member and a missing end', async () => {
  const buf = await gnuTar({ 'report.json': `{"a":"${'y'.repeat(1000)}"}` });
  const changed = buf.slice();
  changed[0] = 'R'.charCodeAt(0);
  assert.throws(() => readTar(changed), /checksum/);
  assert.throws(() => readTar(buf.slice(0, 900)), /cut short/);
  assert.throws(() => readTar(buf.slice(0, 1536)), /end-of-archive/);
});
