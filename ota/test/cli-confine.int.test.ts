import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from './helpers/cli.js';
import { inRollout } from '../src/rollout.js';
import { makeBundle, makeKeys, makeRelease, tempDir } from './helpers/releases.js';

/** What the host's own OTA-side directories look like (must not change). */
function hostState(): string {
  return ['/etc/edgeflow', '/var/lib/edgeflow/cache', '/var/lib/edgeflow/ota-trial.json']
    .map((p) => {
      const st = statSync(p, { throwIfNoEntry: false });
      return `${p}=${st === undefined ? 'absent' : `${st.mtimeMs}/${st.ino}`}`;
    })
    .join(' ');
}

test('install, status and rollback with --root keep every path under the scratch root', async () => {
  const dir = await tempDir();
  const root = join(dir, 'scratch');
  await mkdir(join(root, 'etc/edgeflow'), { recursive: true });
  await writeFile(join(root, 'etc/edgeflow/edgeflow.yaml'), 'release: one\n');
  await mkdir(join(root, 'var/lib/edgeflow/cache'), { recursive: true });
  await writeFile(join(root, 'var/lib/edgeflow/cache/snapshot.bin'), 'cache-one');
  const keys = await makeKeys(dir);
  const b1 = await makeBundle(dir, await makeRelease(dir, '1.0.0'), '1.0.0', keys.privatePem, {
    boards: ['rpi5'],
  });
  const b2 = await makeBundle(dir, await makeRelease(dir, '1.1.0'), '1.1.0', keys.privatePem, {
    boards: ['rpi5'],
  });
  const before = hostState();
  const common = [
    '--root',
    root,
    '--keys',
    keys.keysDir,
    '--board',
    'rpi5',
    '--device-id',
    'd',
    '--no-restart',
  ];
  let r = await cli(['install', b1, ...common, '--commit']);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(['install', b2, ...common]);
  assert.equal(r.code, 0, r.stderr);
  // The config as 1.0.0 ran with it was snapshotted from the scratch root's etc/edgeflow.
  assert.equal(
    await readFile(join(root, 'snapshots/1.0.0/config/edgeflow.yaml'), 'utf8'),
    'release: one\n',
  );
  await writeFile(join(root, 'etc/edgeflow/edgeflow.yaml'), 'release: two\n');
  r = await cli(['rollback', '--root', root, '--no-restart']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /rolled back 1\.1\.0 -> 1\.0\.0/);
  assert.equal(await readFile(join(root, 'etc/edgeflow/edgeflow.yaml'), 'utf8'), 'release: one\n');
  r = await cli(['status', '--root', root, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { current: string }).current, '1.0.0');
  assert.equal(
    hostState(),
    before,
    "the host's /etc/edgeflow and /var/lib/edgeflow were not touched",
  );
});

async function bundleFor(boards: string[]) {
  const dir = await tempDir();
  const keys = await makeKeys(dir);
  const bundle = await makeBundle(dir, await makeRelease(dir, '2.0.0'), '2.0.0', keys.privatePem, {
    boards,
  });
  return { dir, keys, bundle };
}

/** An image's system root (`<image>/opt/edgeflow` is the OTA root) with a device tree. */
async function image(dir: string, compatible: string[] | undefined): Promise<string> {
  const img = join(dir, 'image');
  await mkdir(join(img, 'opt/edgeflow'), { recursive: true });
  if (compatible !== undefined) {
    await mkdir(join(img, 'proc/device-tree'), { recursive: true });
    await writeFile(join(img, 'proc/device-tree/compatible'), `${compatible.join('\0')}\0`);
  }
  return join(img, 'opt/edgeflow');
}

test('--board auto (the default) detects the board; manifests list profile ids or compatible patterns', async () => {
  const orin = ['nvidia,p3768-0000+p3767-0003', 'nvidia,p3767-0003', 'nvidia,tegra234'];
  const install = async (boards: string[], compat: string[] | undefined, extra: string[] = []) => {
    const b = await bundleFor(boards);
    const root = await image(b.dir, compat);
    return cli([
      'install',
      b.bundle,
      '--root',
      root,
      '--keys',
      b.keys.keysDir,
      '--device-id',
      'd',
      '--no-restart',
      '--commit',
      ...extra,
    ]);
  };
  // Every Orin Nano/NX SKU through one pattern, detected under the image's system root.
  let r = await install(['nvidia,p3768-0000+p3767-*'], orin);
  assert.equal(r.code, 0, r.stderr);
  r = await install(['jetson-orin-nano'], orin);
  assert.equal(r.code, 0, r.stderr);
  // A manifest naming boards the old way (a compatible string) still fits --board rpi5.
  r = await install(['raspberrypi,5-model-b'], undefined, ['--board', 'rpi5']);
  assert.equal(r.code, 0, r.stderr);
  r = await install(['rpi5'], orin);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /EDGEFLOW_OTA_WRONG_BOARD: bundle edgeflow 2\.0\.0 is for rpi5, this board is jetson-orin-nano/,
  );
  r = await install(['rpi5'], undefined);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /EDGEFLOW_OTA_WRONG_BOARD: cannot identify the board under .*image .*; pass --board <profile id>/,
  );
});

test('every path option a subcommand takes is in its --help, with its root-derived default', async () => {
  for (const c of ['install', 'status', 'commit', 'rollback', 'prestart', 'poststop', 'check']) {
    const r = await cli([c, '--help']);
    assert.equal(r.code, 0);
    for (const flag of [
      '--root',
      '--keys',
      '--state-dir',
      '--report-file',
      '--config-dir',
      '--cache-dir',
      '--log-level',
      '--log-format',
    ]) {
      assert.ok(r.stdout.includes(flag), `${c} --help lacks ${flag}`);
    }
    assert.match(r.stdout, /<system root>\/etc\/edgeflow/);
  }
});

test('the device id comes from the system root; a staged rollout without one is refused by name', async () => {
  const b = await bundleFor(['rpi5']);
  const root = await image(b.dir, undefined);
  const args = [
    'install',
    b.bundle,
    '--root',
    root,
    '--keys',
    b.keys.keysDir,
    '--board',
    'rpi5',
    '--no-restart',
    '--commit',
  ];
  // 100 % rollout: no id needed, the host's /etc/machine-id is not read.
  let r = await cli(args);
  assert.equal(r.code, 0, r.stderr);
  const staged = await makeBundle(
    b.dir,
    await makeRelease(b.dir, '2.1.0'),
    '2.1.0',
    b.keys.privatePem,
    { boards: ['rpi5'], rollout: 50 },
  );
  r = await cli([...args.slice(0, 1), staged, ...args.slice(2)]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /EDGEFLOW_OTA_USAGE: edgeflow 2\.1\.0 is rolled out to 50% of devices and this one has no id/,
  );
  // The image's own machine id decides its bucket (found one inside the 50 %).
  const id = Array.from({ length: 50 }, (_, i) => `image-${i}`).find((x) =>
    inRollout('edgeflow', x, 50),
  );
  await mkdir(join(root, '../../etc'), { recursive: true });
  await writeFile(join(root, '../../etc/machine-id'), `${id}\n`);
  r = await cli([...args.slice(0, 1), staged, ...args.slice(2)]);
  assert.equal(r.code, 0, r.stderr);
});
