import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/releases.js';

const sd = fileURLToPath(new URL('../../../systemd/', import.meta.url));
const units = [
  'edgeflow-agent.service',
  'edgeflow-ota-rollback.service',
  'edgeflow-ota-check.service',
  'edgeflow-ota-check.timer',
  'edgeflow-ota-request.path',
  'edgeflow-ota-request.service',
];
const missing =
  spawnSync('systemd-analyze', ['--version']).status === 0
    ? undefined
    : 'needs systemd-analyze (systemd)';

/**
 * The units, unchanged except that the launchers they run (/opt/edgeflow/current/bin/edgeflow,
 * /opt/edgeflow/tool/bin/edgeflow-ota: `verify` requires executables to exist) are stubs in `d`.
 */
async function unitDir(): Promise<string> {
  const d = await tempDir('ota-units-');
  await mkdir(join(d, 'edgeflow-agent.service.d'));
  for (const bin of ['current/bin/edgeflow', 'tool/bin/edgeflow-ota']) {
    await mkdir(join(d, 'opt', bin, '..'), { recursive: true });
    await writeFile(join(d, 'opt', bin), '#!/bin/sh\n');
    await chmod(join(d, 'opt', bin), 0o755);
  }
  const copy = async (name: string): Promise<void> => {
    const text = await readFile(join(sd, name), 'utf8');
    await writeFile(join(d, name), text.replaceAll('/opt/edgeflow/', `${d}/opt/`));
  };
  for (const u of units) await copy(u);
  await copy('edgeflow-agent.service.d/ota.conf');
  await copy('edgeflow-agent.service.d/config.conf');
  return d;
}

test(
  'systemd-analyze verify is silent on the OTA units and the agent with its OTA drop-in',
  { skip: missing ?? false },
  async () => {
    const d = await unitDir();
    // verify exits 0 on parse warnings, so any output is a failure.
    const r = spawnSync('systemd-analyze', ['verify', ...units], {
      cwd: d,
      env: { ...process.env, SYSTEMD_UNIT_PATH: `${d}:` },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '');
  },
);

test(
  'the agent with the OTA drop-in keeps a security exposure of 2.0 or lower',
  { skip: missing ?? false },
  async (t) => {
    const d = await unitDir();
    const r = spawnSync(
      'systemd-analyze',
      ['security', '--offline=true', 'edgeflow-agent.service'],
      { cwd: d, env: { ...process.env, SYSTEMD_UNIT_PATH: `${d}:` }, encoding: 'utf8' },
    );
    const m = /Overall exposure level for edgeflow-agent\.service: ([\d.]+)/.exec(r.stdout);
    assert.ok(m, r.stdout + r.stderr);
    t.diagnostic(`exposure ${m[1]}`);
    assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]}`);
  },
);

test(
  'tmpfiles.d and sysusers.d entries parse and apply to an empty root',
  { skip: missing ?? false },
  async () => {
    const root = await tempDir('ota-tmpfiles-');
    // sysusers first, as at boot: tmpfiles gives /etc/edgeflow to its edgeflow group.
    await mkdir(join(root, 'etc'));
    const su = spawnSync(
      'systemd-sysusers',
      [`--root=${root}`, join(sd, 'sysusers.d/edgeflow.conf')],
      { encoding: 'utf8' },
    );
    assert.equal(su.status, 0, su.stderr);
    assert.doesNotMatch(su.stderr, /error|invalid/i);
    const conf = join(sd, 'tmpfiles.d/edgeflow-ota.conf');
    const tf = spawnSync('systemd-tmpfiles', [`--root=${root}`, '--create', conf], {
      encoding: 'utf8',
    });
    assert.equal(tf.status, 0, tf.stderr);
    assert.equal(tf.stderr.trim(), '');
    assert.ok(existsSync(join(root, 'opt/edgeflow/state')));
    const gid = /^edgeflow:x:(\d+):/m.exec(readFileSync(join(root, 'etc/group'), 'utf8'))?.[1];
    const cfg = statSync(join(root, 'etc/edgeflow'));
    assert.deepEqual([cfg.uid, cfg.gid, cfg.mode & 0o7777], [0, Number(gid), 0o750]);
    assert.equal(statSync(join(root, 'var/lib/edgeflow-dt')).mode & 0o7777, 0o700);
    assert.equal(statSync(join(root, 'opt/edgeflow/snapshots')).mode & 0o7777, 0o700);
  },
);
