import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The nspawn rig is the OTA tier's (one implementation of the RECIPES.md recipe).
import { DEV_NODE, bootContainer, devInstall, nspawnMissing } from '@edgeflow/ota/testing/nspawn';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const UNIT = 'edgeflow-agent.service';
const etc = '/etc/systemd/system';

/**
 * The shipped unit, unchanged, running the real agent under systemd 252 as PID 1: READY=1
 * under Type=notify with all the hardening (DynamicUser, SystemCallFilter, PrivateUsers, ...),
 * a QoS 2 reading stored and served, watchdog pings keeping it alive, a SIGSTOPped agent
 * killed by the watchdog and restarted, and a clean exit 0 on stop. Only timeouts are shortened
 * by a drop-in.
 */
test('the shipped unit runs the real agent under systemd: ready, serving, journald priorities, watchdog, clean stop, bad config not restarted', async (t) => {
  const missing = nspawnMissing();
  if (missing !== undefined) {
    if (process.env.CI === 'true') assert.fail(missing);
    t.skip(missing);
    return;
  }
  const host = await mkdtemp(join(tmpdir(), 'ef-agent-sys-'));
  await writeFile(join(host, 'test.preset'), 'disable *\n');
  await writeFile(join(host, 'zz-test.conf'), '[Service]\nWatchdogSec=4s\nRestartSec=200ms\n');
  const c = await bootContainer(
    [
      ...devInstall(repo, host, { current: true }),
      `--bind-ro=${join(repo, 'systemd', UNIT)}:${etc}/${UNIT}`,
      `--bind-ro=${join(host, 'zz-test.conf')}:${etc}/${UNIT}.d/zz-test.conf`,
      `--bind-ro=${join(host, 'test.preset')}:/etc/systemd/system-preset/00-edgeflow-test.preset`,
    ],
    join(host, 'console.log'),
    (s) => t.diagnostic(s),
  );
  t.after(() => c.stop());
  const show = (prop: string): string =>
    c.exec(['systemctl', 'show', '-P', prop, UNIT]).stdout.trim();
  const journal = (): string =>
    c.exec(['journalctl', '-u', UNIT, '--no-pager', '-o', 'cat']).stdout;

  const start = c.exec(['systemctl', 'start', UNIT]);
  assert.equal(start.status, 0, `systemctl start: ${start.stderr}\n${journal()}`);
  assert.equal(show('ActiveState'), 'active');
  assert.match(journal(), /"event":"agent.listening"/);

  // journald files each record with its priority (the `<N>` prefix, SyslogLevelPrefix=yes):
  // `-p warning` shows the warning (no TPM in the container) and none of the info lines.
  const warnings = (): string =>
    c.exec(['journalctl', '-u', UNIT, '-p', 'warning', '--no-pager', '-o', 'cat']).stdout;
  const warned = await c.waitFor('a warn line under -p warning', () =>
    /"level":"warn"/.test(warnings()) ? warnings() : undefined,
  );
  assert.match(warned, /"event":"attestation.unavailable"/);
  assert.doesNotMatch(warned, /"level":"info"/);
  assert.match(
    c.exec(['journalctl', '-u', UNIT, '-p', 'info', '--no-pager', '-o', 'cat']).stdout,
    /"event":"agent.listening"/,
  );

  const pub = c.exec([
    'mosquitto_pub',
    '-h',
    '127.0.0.1',
    '-q',
    '2',
    '-t',
    'sensors/dev1/temp',
    '-m',
    '21.5',
  ]);
  assert.equal(pub.status, 0, pub.stderr);
  const get = c.exec([
    DEV_NODE,
    '-e',
    "fetch('http://127.0.0.1:8080/v1/sensors/dev1/temp').then(r=>r.text()).then(t=>process.stdout.write(t))",
  ]);
  const reading = JSON.parse(get.stdout) as { value: number; seq: number };
  assert.deepEqual([reading.value, reading.seq], [21.5, 1]);

  // Two watchdog periods pass with the agent pinging: still the same process.
  const pid = show('MainPID');
  await new Promise((r) => setTimeout(r, 9000));
  assert.equal(show('MainPID'), pid, 'watchdog pings keep the agent alive');
  assert.equal(show('NRestarts'), '0');

  // A frozen event loop stops the pings: systemd kills and restarts the agent.
  c.exec(['kill', '-STOP', pid]);
  await c.waitFor(
    'a watchdog restart',
    () => (Number(show('NRestarts')) >= 1 ? true : undefined),
    30_000,
  );
  await c.waitFor(
    'active again',
    () => (show('ActiveState') === 'active' ? true : undefined),
    30_000,
  );
  assert.match(journal(), /[Ww]atchdog timeout/);
  // The reading survived the kill (WAL).
  const again = JSON.parse(
    c.exec([
      DEV_NODE,
      '-e',
      "fetch('http://127.0.0.1:8080/v1/sensors/dev1/temp').then(r=>r.text()).then(t=>process.stdout.write(t))",
    ]).stdout,
  ) as { seq: number };
  assert.equal(again.seq, 1);

  const stop = c.exec(['systemctl', 'stop', UNIT]);
  assert.equal(stop.status, 0, stop.stderr);
  assert.equal(show('ExecMainStatus'), '0', 'SIGTERM: clean exit 0');
  assert.match(journal(), /"event":"agent.stopped"/);

  // A bad configuration exits 78 and is not restarted (RestartPreventExitStatus=78): the unit
  // fails at once instead of five restarts into the start limit; the error is at priority err.
  c.exec(['mkdir', '-p', `/run/systemd/system/${UNIT}.d`]);
  c.exec([
    'sh',
    '-c',
    `printf '[Service]\\nEnvironment=EDGEFLOW_HTTP_PORT=80a\\n' > /run/systemd/system/${UNIT}.d/zz-bad.conf`,
  ]);
  c.exec(['systemctl', 'daemon-reload']);
  const bad = c.exec(['systemctl', 'start', UNIT]);
  assert.notEqual(bad.status, 0);
  assert.equal(show('ExecMainStatus'), '78');
  assert.equal(show('ActiveState'), 'failed', 'not waiting to restart');
  assert.equal(show('NRestarts'), '0');
  const errors = await c.waitFor('the config error under -p err', () => {
    const out = c.exec(['journalctl', '-u', UNIT, '-p', 'err', '--no-pager', '-o', 'cat']).stdout;
    return /EDGEFLOW_CONFIG_INVALID/.test(out) ? out : undefined;
  });
  assert.match(errors, /http\.listen\.port \(from EDGEFLOW_HTTP_PORT="80a"\): must be an integer/);
});
