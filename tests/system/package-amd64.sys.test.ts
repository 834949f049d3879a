import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildBundle, generateKeyPair } from '@edgeflow/ota';
import { bootPackagedBox, runUnbooted, UNIT } from './helpers/packaged-box.js';
import type { PackagedBox } from './helpers/packaged-box.js';
import { ensurePackages, packagingMissing, packagingWanted, rootfs } from './helpers/packages.js';

// The amd64 .deb in a fresh Debian 12 rootfs (mmdebstrap, cached) booted with systemd 252 in nspawn:
// install, a QoS 2 reading served, bad input refused, OTA over the packaged install (a never-READY
// bundle rolls back to the .deb's release, a good one commits), apt upgrade after that OTA update
// (reading and edited conffile kept), OTA after the apt upgrade, remove keeps data, purge deletes.
// Only timeouts are shortened, by a drop-in, so a never-READY release fails within seconds.
const TOOL = '/opt/edgeflow/tool/bin/edgeflow-ota';
const DROPIN = '[Service]\nTimeoutStartSec=20s\nRestartSec=500ms\n';

interface Reading {
  value: number;
  seq: number;
}

function reading(box: PackagedBox, port = 8080): Reading {
  const r = box.get('/v1/sensors/dev1/temp', port);
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as Reading;
}

/** OTA state from the OTA tool, which runs whatever release is current (even one that hangs). */
function otaState(box: PackagedBox): { current: string; previous: string | null; trial: unknown } {
  return JSON.parse(box.ok([TOOL, 'status', '--json'])) as {
    current: string;
    previous: string | null;
    trial: unknown;
  };
}

/** A bundle of a release directory, signed with the test key the box trusts. */
async function bundle(dir: string, out: string, version: string, key: string): Promise<void> {
  await buildBundle({ dir, out, name: 'edgeflow', version, boards: ['*'], privateKeyPem: key });
}

test('amd64 .deb under systemd: install, serve, bad input, OTA, apt upgrade, remove, purge', async (t) => {
  const missing = packagingMissing('amd64');
  if (missing !== undefined) {
    if (process.env.CI === 'true' && packagingWanted('amd64')) assert.fail(missing);
    t.skip(missing);
    return;
  }
  const out = ensurePackages('amd64', ['1.0.0', '1.2.0']);
  const armOut = ensurePackages('arm64', ['1.0.0']);
  const dir = rootfs('amd64');
  const deb = (v: string): string => `/srv/debs/edgeflow_${v}_amd64.deb`;

  await t.test('postinst without a running systemd (image build, chroot) succeeds', () => {
    const r = runUnbooted(
      dir,
      [`--bind-ro=${out}:/srv/debs`],
      [
        'sh',
        '-c',
        `dpkg -i ${deb('1.0.0')} && readlink /opt/edgeflow/current && edgeflow --help && ls /etc/systemd/system/multi-user.target.wants/ && stat -c 'mode %U:%G %a %n' /etc/edgeflow /etc/edgeflow/config.yaml`,
      ],
    );
    assert.equal(r.status, 0, r.out);
    // The package's own sysusers.d made the group (nothing of the repository is bound in).
    assert.match(r.out, /^mode root:edgeflow 750 \/etc\/edgeflow$/m);
    assert.match(r.out, /^mode root:edgeflow 640 \/etc\/edgeflow\/config\.yaml$/m);
    assert.match(r.out, /^releases\/1\.0\.0$/m);
    assert.match(r.out, /Usage: edgeflow <command>/);
    assert.match(r.out, /edgeflow-agent\.service/, 'enabled for the next boot');
  });

  const box = await bootPackagedBox(t, dir, out, { dropin: DROPIN });
  const keys = generateKeyPair();
  await writeFile(join(box.host, 'test.pub'), keys.publicPem);
  await copyFile(join(armOut, 'edgeflow_1.0.0_arm64.deb'), join(box.host, 'arm64.deb'));

  await t.test('install: the agent is active and serves a QoS 2 reading', async () => {
    box.ok(['dpkg', '-i', deb('1.0.0')]);
    await box.waitActive('agent active after install');
    t.diagnostic(`start-to-READY ${box.startToReadyMs().toFixed(0)} ms (amd64 container)`);
    box.publish('sensors/dev1/temp', '21.5');
    assert.deepEqual(((r) => [r.value, r.seq])(reading(box)), [21.5, 1]);
    assert.match(box.ok(['edgeflow', '--help']), /Usage: edgeflow <command>/);
    assert.match(box.ok(['edgeready', '--help']), /usage: edgeready/);
    assert.match(box.ok(['edgeflow', 'ota', 'status']), /1\.0\.0/);
    assert.equal(otaState(box).current, '1.0.0');
    assert.equal(box.ok(['readlink', '/opt/edgeflow/current']).trim(), 'releases/1.0.0');
    // The package's sysusers.d and tmpfiles.d, applied before the agent started (its unit needs
    // the edgeflow group; the config and device-tree backups are root's).
    box.ok(['test', '-f', '/usr/lib/sysusers.d/edgeflow.conf']);
    box.ok(['test', '-f', '/usr/lib/tmpfiles.d/edgeflow-ota.conf']);
    assert.deepEqual(
      box
        .ok([
          'stat',
          '-c',
          '%U:%G %a %n',
          '/etc/edgeflow',
          '/var/lib/edgeflow-dt',
          '/opt/edgeflow/state',
        ])
        .trim()
        .split('\n'),
      [
        'root:edgeflow 750 /etc/edgeflow',
        'root:root 700 /var/lib/edgeflow-dt',
        'root:root 755 /opt/edgeflow/state',
      ],
    );
  });

  await t.test(
    'bad input: a foreign-arch and a truncated .deb are refused, 1.0.0 keeps running',
    async () => {
      const pid = box.show('MainPID');
      const arm = box.c.exec(['dpkg', '-i', '/srv/test/arm64.deb']);
      assert.notEqual(arm.status, 0);
      assert.match(arm.stderr, /package architecture \(arm64\) does not match system \(amd64\)/);
      assert.equal(box.show('MainPID'), pid, 'a refused architecture touches nothing');
      const size = statSync(join(out, 'edgeflow_1.2.0_amd64.deb')).size;
      box.ok(['sh', '-c', `head -c ${Math.floor(size / 2)} ${deb('1.2.0')} > /tmp/cut.deb`]);
      const cut = box.c.exec(['dpkg', '-i', '/tmp/cut.deb']);
      assert.notEqual(cut.status, 0);
      t.diagnostic(`truncated .deb: ${cut.stderr.trim().split('\n')[0]}`);
      assert.match(cut.stderr, /unexpected end of file|corrupted|error reading/i);
      assert.equal(
        box.ok(['dpkg-query', '-W', '-f=${Status}', 'edgeflow']),
        'install ok installed',
      );
      assert.equal(box.ok(['dpkg-query', '-W', '-f=${Version}', 'edgeflow']), '1.0.0');
      // dpkg unwound the unpack and ran the old postinst with abort-upgrade, whose debhelper part
      // restarts the agent: the installed 1.0.0 runs again, with its data.
      await box.waitActive('1.0.0 running after the failed upgrade');
      assert.equal(box.ok(['readlink', '/opt/edgeflow/current']).trim(), 'releases/1.0.0');
      assert.equal(reading(box).seq, 1);
    },
  );

  await t.test(
    'OTA over the packaged install: never-READY rolls back to the .deb, 1.1.0 commits',
    async () => {
      box.ok(['cp', '/srv/test/test.pub', '/etc/edgeflow/keys/test.pub']);
      const never = join(box.host, 'never');
      await mkdir(join(never, 'bin'), { recursive: true });
      await writeFile(join(never, 'bin', 'edgeflow'), '#!/bin/sh\nexec sleep infinity\n', {
        mode: 0o755,
      });
      await bundle(never, join(box.host, 'never-1.0.5.tar.gz'), '1.0.5', keys.privatePem);
      await bundle(join(out, 'release'), join(box.host, '1.1.0.tar.gz'), '1.1.0', keys.privatePem);
      const install = (file: string): string =>
        box.ok([
          'edgeflow',
          'ota',
          'install',
          `/srv/test/${file}`,
          '--board',
          'test-board',
          '--device-id',
          'dev-1',
          '--probation',
          '3',
          '--deadline',
          '300',
        ]);
      install('never-1.0.5.tar.gz');
      await box.c.waitFor(
        'rollback to the package release',
        () => {
          const s = otaState(box);
          return s.current === '1.0.0' && s.trial === null && box.show('SubState') === 'running'
            ? true
            : undefined;
        },
        120_000,
      );
      assert.match(box.ok(['cat', '/opt/edgeflow/state/ota.json']), /"rolled-back"/);
      assert.equal(reading(box).seq, 1, 'the reading survived the failed trial');
      install('1.1.0.tar.gz');
      await box.c.waitFor(
        '1.1.0 committed',
        () => {
          const s = otaState(box);
          return s.current === '1.1.0' && s.trial === null ? true : undefined;
        },
        120_000,
      );
      assert.equal(otaState(box).previous, '1.0.0');
      assert.equal(reading(box).value, 21.5);
    },
  );

  await t.test(
    'apt upgrade after the OTA update: newer package runs, reading and conffile kept',
    async () => {
      // The user's edit: the HTTP API on 8081. The conffile reaches the agent as a credential.
      box.ok([
        'sh',
        '-c',
        'printf "http:\\n  listen:\\n    port: 8081\\n" >> /etc/edgeflow/config.yaml',
      ]);
      box.ok(['dpkg', '-i', deb('1.2.0')]);
      await box.waitActive('agent active after upgrade');
      const s = otaState(box);
      assert.deepEqual([s.current, s.previous], ['1.2.0', '1.1.0']);
      assert.match(box.ok(['cat', '/etc/edgeflow/config.yaml']), /port: 8081/);
      await box.c.waitFor('the API on the edited port', () =>
        box.get('/healthz', 8081).status === 200 ? true : undefined,
      );
      assert.deepEqual(((r) => [r.value, r.seq])(reading(box, 8081)), [21.5, 1]);
    },
  );

  await t.test(
    'OTA update after the apt upgrade commits; the package release stays on disk',
    async () => {
      await bundle(join(out, 'release'), join(box.host, '1.3.0.tar.gz'), '1.3.0', keys.privatePem);
      box.ok([
        TOOL,
        'install',
        '/srv/test/1.3.0.tar.gz',
        '--board',
        'test-board',
        '--device-id',
        'dev-1',
        '--probation',
        '3',
      ]);
      await box.c.waitFor(
        '1.3.0 committed',
        () =>
          ((s) => (s.current === '1.3.0' && s.trial === null ? true : undefined))(otaState(box)),
        120_000,
      );
      assert.deepEqual(box.ok(['ls', '/opt/edgeflow/releases']).trim().split('\n'), [
        '1.2.0',
        '1.3.0',
      ]);
      assert.equal(reading(box, 8081).seq, 1);
    },
  );

  await t.test('remove keeps the data, purge deletes it', () => {
    box.ok(['dpkg', '-r', 'edgeflow']);
    assert.notEqual(box.c.exec(['systemctl', 'is-active', UNIT]).status, 0);
    box.ok(['test', '-d', '/var/lib/private/edgeflow']);
    box.ok(['test', '-f', '/etc/edgeflow/config.yaml']);
    // dpkg removed the package release (and the emptied directory); OTA's went in prerm.
    assert.equal(
      box.ok(['sh', '-c', 'ls -A /opt/edgeflow/releases 2>/dev/null || true']).trim(),
      '',
    );
    assert.notEqual(box.c.exec(['test', '-e', '/usr/bin/edgeflow']).status, 0);
    box.ok(['dpkg', '-P', 'edgeflow']);
    for (const p of [
      '/var/lib/private/edgeflow',
      '/var/lib/edgeflow',
      '/opt/edgeflow',
      '/etc/edgeflow',
    ])
      assert.notEqual(box.c.exec(['test', '-e', p]).status, 0, `${p} is gone after purge`);
  });
});
