import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEV_NODE,
  DEV_SRC,
  bootContainer,
  devInstall,
  nspawnMissing,
} from '@edgeflow/ota/testing/nspawn';
import { makeBundle, makeKeys, makeRelease, tempDir } from '@edgeflow/ota/testing/releases';

// The privilege boundary under the real systemd 252 (issue 16): the agent's own uid (the
// DynamicUser= of the shipped unit) does its worst inside its StateDirectory — its cache swapped
// for a link to root's trusted keys, a dt backup planted naming a file of root's, `.new` links,
// its trial report turned into a FIFO, its install request into a link — and then provokes an
// OTA rollback (its trial release exits) and a dt rollback. A full listing with hashes of the
// container's writable trees, taken before and after, must differ only inside the intended
// roots: the OTA layout, the agent's own StateDirectory, the boot files and dt's backups.

const repo = fileURLToPath(new URL('../../../', import.meta.url));
// The units exec /opt/edgeflow/tool/bin/edgeflow-ota: devInstall lays out that launcher tree, with
// the repository at DEV_SRC and the test's Node at DEV_NODE.
const TOOL = '/opt/edgeflow/tool/bin/edgeflow-ota';
const EDGEFLOW = `${DEV_SRC}/agent/dist/src/cli.js`;
const UNIT = 'edgeflow-agent.service';
const etc = '/etc/systemd/system';

/** Trees the listing covers, and the roots a rollback may change inside them. */
const LISTED = ['/etc', '/opt/edgeflow', '/root', '/srv', '/boot', '/var/lib'];
const INTENDED = [
  // OTA: releases, the current link, snapshots, state, scratch (docs/ota.md "On-disk layout").
  '/opt/edgeflow/current',
  '/opt/edgeflow/releases',
  '/opt/edgeflow/snapshots',
  '/opt/edgeflow/state',
  '/opt/edgeflow/staging',
  '/opt/edgeflow/downloads',
  // The agent's own StateDirectory (its cache is restored there) and dt's own roots.
  '/var/lib/private/edgeflow',
  '/boot/firmware',
  '/var/lib/edgeflow-dt',
  // Not ours: the tool, the repository, Node and the bundles are read-only binds (devInstall);
  // systemd's bookkeeping changes on its own.
  '/opt/edgeflow/tool',
  DEV_SRC,
  '/opt/edgeflow/node',
  '/opt/edgeflow/bundles',
  '/var/lib/systemd',
];

// Runs inside the container as root: every entry under LISTED (links not followed) with type,
// owner, mode, size and sha256, one line each.
const LISTER = `import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
const [listed, skip] = JSON.parse(process.argv[2]);
const out = [];
async function walk(p) {
  if (skip.some((s) => p === s || p.startsWith(s + '/'))) return;
  let st;
  try { st = await lstat(p); } catch { return; }
  const meta = [st.uid, st.gid, (st.mode & 0o7777).toString(8)].join(' ');
  if (st.isSymbolicLink()) out.push(p + ' link ' + meta + ' -> ' + (await readlink(p)));
  else if (st.isDirectory()) {
    out.push(p + ' dir ' + meta);
    for (const n of (await readdir(p)).sort()) await walk(p + '/' + n);
  } else if (st.isFile())
    out.push(p + ' file ' + meta + ' ' + createHash('sha256').update(await readFile(p)).digest('hex'));
  else out.push(p + ' other ' + meta);
}
for (const r of listed) await walk(r);
process.stdout.write(out.join('\\n') + '\\n');
`;

test('the agent uid does its worst in its StateDirectory; an OTA rollback and a dt rollback change nothing outside the intended roots', async (t) => {
  const missing = nspawnMissing();
  if (missing !== undefined) {
    if (process.env.CI === 'true') assert.fail(missing);
    t.skip(missing);
    return;
  }
  const started = Date.now();
  const host = await tempDir('ef-boundary-sys-');
  const opt = join(host, 'opt');
  const srv = join(host, 'srv');
  await mkdir(join(opt, 'bundles'), { recursive: true });
  await mkdir(join(opt, 'keys'), { recursive: true });
  await mkdir(srv, { recursive: true });
  const keys = await makeKeys(host);
  await copyFile(join(keys.keysDir, 'test.pub'), join(opt, 'keys', 'test.pub'));
  for (const [v, b] of [
    ['1.0.0', 'good'],
    ['1.1.0', 'attacker'],
  ] as const) {
    const bundle = await makeBundle(host, await makeRelease(host, v, b), v, keys.privatePem);
    await copyFile(bundle, join(opt, 'bundles', `${v}.tar.gz`));
  }
  await writeFile(join(srv, 'lister.mjs'), LISTER);
  const fixtures = join(repo, 'device-trees/test/fixtures');
  await copyFile(join(fixtures, 'roots/rpi5/boot/firmware/config.txt'), join(srv, 'config.txt'));
  await copyFile(join(fixtures, 'dtbo/rpi5-bme280.dtbo'), join(srv, 'bme280.dtbo'));
  await writeFile(
    join(host, 'zz-test.conf'),
    '[Service]\nWatchdogSec=3s\nTimeoutStartSec=6s\nRestartSec=500ms\n',
  );
  await writeFile(join(host, 'test.preset'), 'disable *\n');
  const sd = join(repo, 'systemd');
  const c = await bootContainer(
    [
      `--bind=${opt}:/opt/edgeflow`,
      ...devInstall(repo, host, { current: false }),
      `--bind-ro=${srv}:/srv`,
      ...[UNIT, 'edgeflow-ota-rollback.service', 'edgeflow-ota-check.service'].map(
        (u) => `--bind-ro=${join(sd, u)}:${etc}/${u}`,
      ),
      `--bind-ro=${join(sd, 'edgeflow-agent.service.d/ota.conf')}:${etc}/${UNIT}.d/ota.conf`,
      `--bind-ro=${join(host, 'zz-test.conf')}:${etc}/${UNIT}.d/zz-test.conf`,
      `--bind-ro=${join(host, 'test.preset')}:/etc/systemd/system-preset/00-edgeflow-test.preset`,
    ],
    join(host, 'console.log'),
    (s) => t.diagnostic(s),
  );
  t.after(() => c.stop());
  const ok = (argv: string[]): string => {
    const r = c.exec(argv);
    assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const journal = (): string =>
    c.exec(['journalctl', '-u', UNIT, '-o', 'cat', '--no-pager']).stdout;
  const listing = (): string[] =>
    ok([DEV_NODE, '/srv/lister.mjs', JSON.stringify([LISTED, INTENDED])])
      .trim()
      .split('\n');

  // Root's things the attack aims at, and the board's boot files with one overlay installed.
  ok(['sh', '-c', 'echo "root data" > /root/victim && chmod 600 /root/victim']);
  ok(['sh', '-c', 'mkdir -p /boot/firmware && cp /srv/config.txt /boot/firmware/config.txt']);
  const dtInstall = ok([
    DEV_NODE,
    EDGEFLOW,
    'dt',
    'install',
    '/srv/bme280.dtbo',
    '--board',
    'rpi5',
  ]);
  assert.match(dtInstall, /installed bme280 on rpi5/);
  const bootBefore = ok(['sha256sum', '/srv/config.txt']).split(' ')[0];

  // 1.0.0 runs as the agent's dynamic user and has a cache worth restoring.
  const install = (v: string): string =>
    ok([
      TOOL,
      'install',
      `/opt/edgeflow/bundles/${v}.tar.gz`,
      '--board',
      'test-board',
      '--device-id',
      'dev-1',
      '--probation',
      '60',
      '--deadline',
      '600',
    ]);
  install('1.0.0');
  await c
    .waitFor('1.0.0 READY', () =>
      journal().includes('test-release 1.0.0: READY=1 sent') ? true : undefined,
    )
    .catch((e: unknown) => assert.fail(`${String(e)}\n${journal()}`));
  ok([
    'systemd-run',
    '--quiet',
    '--wait',
    '-p',
    'DynamicUser=yes',
    '-p',
    'User=edgeflow-agent',
    '-p',
    'StateDirectory=edgeflow',
    '-p',
    'UMask=0077',
    'sh',
    '-c',
    'mkdir -p /var/lib/edgeflow/cache && echo 1.0.0-cache > /var/lib/edgeflow/cache/snapshot.json',
  ]);
  const agentUid = Number(ok(['stat', '-c', '%u', '/var/lib/private/edgeflow']).trim());
  assert.ok(agentUid > 0);
  const before = listing();
  assert.ok(before.some((l) => l.startsWith('/opt/edgeflow/keys/test.pub file 0 0 644 ')));
  assert.ok(before.some((l) => l.startsWith('/root/victim file 0 0 600 ')));

  // 1.1.0, on trial, is the attacker: it swaps and plants, then exits; the restart rolls back.
  install('1.1.0');
  await c.waitFor(
    'the rollback and 1.0.0 READY again',
    () => {
      const j = journal();
      const rb = j.lastIndexOf('rolled back 1.1.0 -> 1.0.0');
      return rb >= 0 && j.lastIndexOf('test-release 1.0.0: READY=1 sent') > rb ? true : undefined;
    },
    90_000,
  );
  const j = journal();
  for (const step of [
    'cache -> /opt/edgeflow/keys',
    'planted dt backup naming /root/victim',
    'dt .new links -> /root/victim',
    'install request -> link to /root/victim',
  ])
    assert.ok(
      j.includes(`test-release 1.1.0: attack: ${step}`),
      `the attack did not happen: ${step}\n${j}`,
    );
  t.diagnostic(
    j.includes('attack: trial report -> FIFO')
      ? 'the trial report was a FIFO: the hooks did not block on it'
      : 'mkfifo is refused to the agent by its unit (SystemCallFilter): no FIFO report',
  );

  // The request link is refused by the root-side tool, not followed.
  const req = c.exec([
    TOOL,
    'install',
    '--request',
    '/var/lib/edgeflow/ota/request.json',
    '--board',
    'test-board',
    '--device-id',
    'dev-1',
    '--no-restart',
  ]);
  assert.equal(req.status, 1);
  assert.match(req.stderr, /EDGEFLOW_OTA_REQUEST_UNSAFE_FILE/);

  // dt rollback: its own backup restores the boot files; the planted one is never read.
  const dtRollback = ok([DEV_NODE, EDGEFLOW, 'dt', 'rollback', '--board', 'rpi5']);
  assert.match(dtRollback, /rolled back "install bme280"/);
  assert.equal(ok(['sha256sum', '/boot/firmware/config.txt']).split(' ')[0], bootBefore);

  // Nothing outside the intended roots changed; inside, the cache is a fresh agent-owned copy.
  const after = listing();
  const gone = before.filter((l) => !after.includes(l));
  const added = after.filter((l) => !before.includes(l));
  assert.deepEqual({ gone, added }, { gone: [], added: [] }, 'outside the intended roots');
  const cache = ok(['stat', '-c', '%F %u', '/var/lib/private/edgeflow/cache']).trim();
  assert.equal(cache, `directory ${agentUid}`);
  assert.equal(ok(['cat', '/var/lib/private/edgeflow/cache/snapshot.json']).trim(), '1.0.0-cache');
  const state = JSON.parse(await readFile(join(opt, 'state', 'ota.json'), 'utf8')) as {
    current: string;
  };
  assert.equal(state.current, '1.0.0');
  t.diagnostic(
    `privilege boundary under systemd: ${((Date.now() - started) / 1000).toFixed(1)} s, ${before.length} entries listed`,
  );
});
