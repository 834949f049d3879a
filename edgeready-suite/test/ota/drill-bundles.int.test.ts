// `edgeready ota-drill-bundles` on real files: the pair verifies with the OTA library against
// the key's public half, the good bundle carries the release unchanged, the failing one differs
// only in bin/edgeflow, and the source release is left as it was.
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateKeyPair, keyIdOf, openBundle, type PayloadSink } from '@edgeflow/ota';
import { runCli } from '../../src/cli/run-cli.js';
import { FAILING_ENTRY } from '../../src/ota/drill-bundles.js';

const dir = await mkdtemp(join(tmpdir(), 'er-drill-bundles-'));
after(() => rm(dir, { recursive: true, force: true }));

function io() {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream,
      env: {},
    },
    out: () => out,
    err: () => err,
  };
}

/** Every payload file's sha256 (and link targets) of a bundle, after its signature verified. */
async function payload(file: string, pubPem: string): Promise<Record<string, string>> {
  const b = await openBundle(file);
  const pub = createPublicKey(pubPem);
  const files: Record<string, string> = {};
  try {
    b.verify(new Map([[keyIdOf(pub), pub]]));
    const sink: PayloadSink = {
      dir: () => Promise.resolve(),
      symlink: (path, target) => {
        files[path] = `-> ${target}`;
        return Promise.resolve();
      },
      file: async (path, _mode, chunks) => {
        const h = createHash('sha256');
        for await (const c of chunks) h.update(c);
        files[path] = h.digest('hex');
      },
    };
    await b.walkPayload(sink);
  } finally {
    await b.close();
  }
  return files;
}

test('ota-drill-bundles: the release re-signed, and its twin that fails before READY', async () => {
  const rel = join(dir, 'release');
  await mkdir(join(rel, 'bin'), { recursive: true });
  await mkdir(join(rel, 'agent/dist/src'), { recursive: true });
  await writeFile(join(rel, 'bin/edgeflow'), '#!/bin/sh\nexec node agent/dist/src/cli.js "$@"\n');
  await chmod(join(rel, 'bin/edgeflow'), 0o755);
  await writeFile(join(rel, 'agent/dist/src/cli.js'), 'console.log("agent")\n');
  await symlink('../agent/dist/src/cli.js', join(rel, 'bin/cli.js'));
  const entryBefore = await readFile(join(rel, 'bin/edgeflow'), 'utf8');
  const k = generateKeyPair();
  await writeFile(join(dir, 'drill.key'), k.privatePem, { mode: 0o600 });

  const a = io();
  const code = await runCli(
    [
      'ota-drill-bundles',
      '--from',
      rel,
      '--version',
      '1.4.0',
      '--key',
      join(dir, 'drill.key'),
      '--out',
      join(dir, 'out'),
      '--json',
    ],
    a.io,
  );
  assert.equal(code, 0, a.err());
  const made = JSON.parse(a.out()) as {
    good: { file: string; version: string };
    bad: { file: string; version: string };
    keyId: string;
  };
  assert.equal(made.keyId, k.keyId);
  assert.match(made.good.version, /^1\.4\.0-edgeready\.\d+\.1$/);
  assert.equal(made.bad.version, made.good.version.replace(/\.1$/, '.2'));
  const good = await payload(made.good.file, k.publicPem);
  const bad = await payload(made.bad.file, k.publicPem);
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  assert.deepEqual(good, {
    'agent/dist/src/cli.js': sha('console.log("agent")\n'),
    'bin/cli.js': '-> ../agent/dist/src/cli.js',
    'bin/edgeflow': sha(entryBefore),
  });
  assert.deepEqual(bad, { ...good, 'bin/edgeflow': sha(FAILING_ENTRY) });
  // The source release (hard-linked into the failing twin while it was built) is unchanged.
  assert.equal(await readFile(join(rel, 'bin/edgeflow'), 'utf8'), entryBefore);

  const b = io();
  await writeFile(join(dir, 'rsa.key'), 'not a key\n');
  assert.equal(
    await runCli(
      [
        'ota-drill-bundles',
        '--from',
        rel,
        '--version',
        '1.4.0',
        '--key',
        join(dir, 'rsa.key'),
        '--out',
        join(dir, 'o2'),
      ],
      b.io,
    ),
    1,
  );
  assert.match(b.err(), /EDGEFLOW_ER_OTA_DRILL.*not a PEM private key/);
  const c = io();
  assert.equal(
    await runCli(
      [
        'ota-drill-bundles',
        '--from',
        join(rel, 'agent'),
        '--version',
        '1.4.0',
        '--key',
        join(dir, 'drill.key'),
        '--out',
        join(dir, 'o3'),
      ],
      c.io,
    ),
    1,
  );
  assert.match(c.err(), /EDGEFLOW_ER_OTA_DRILL.*has no bin\/edgeflow/);
});
