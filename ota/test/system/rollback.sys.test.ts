import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { INSTALL_STEPS } from '../../src/deps.js';
import type { Behavior } from '../helpers/releases.js';
import { makeBundle, makeKeys, makeRelease, tempDir } from '../helpers/releases.js';
import { bootContainer, devInstall, nspawnMissing } from '../helpers/nspawn.js';
import type { Container } from '../helpers/nspawn.js';

// Scenarios under a real systemd 252 (PID 1 in systemd-nspawn), with the unit files that ship in
// systemd/ bound in unchanged; only timeouts are shortened, by a drop-in.
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const TOOL = '/opt/edgeflow/tool/bin/edgeflow-ota';
const UNIT = 'edgeflow-agent.service';
const TEST_DROPIN = `[Service]
WatchdogSec=3s
TimeoutStartSec=6s
RestartSec=500ms
`;

interface Rig {
  c: Container;
  host: string;
  ota(
    args: string[],
    env?: Record<string, string>,
  ): { status: number; stdout: string; stderr: string };
  state(): Promise<{
    current: string | null;
    trial: unknown;
    history: { event: string; version: string; reason?: string }[];
  }>;
  journal(): string;
  active(): boolean;
}

async function rig(t: TestContext, v2: Behavior): Promise<Rig> {
  const host = await tempDir('ota-sys-');
  const opt = join(host, 'opt');
  await mkdir(join(opt, 'bundles'), { recursive: true });
  await mkdir(join(opt, 'keys'), { recursive: true });
  const keys = await makeKeys(host);
  await copyFile(join(keys.keysDir, 'test.pub'), join(opt, 'keys', 'test.pub'));
  for (const [v, b] of [
    ['1.0.0', 'good'],
    ['1.1.0', v2],
  ] as const) {
    const rel = await makeRelease(host, v, b);
    const bundle = await makeBundle(host, rel, v, keys.privatePem);
    await copyFile(bundle, join(opt, 'bundles', `${v}.tar.gz`));
  }
  await writeFile(join(host, 'zz-test-timeouts.conf'), TEST_DROPIN);
  // A volatile /etc is a first boot: systemd would enable every unit by preset and start the agent
  // before the test installed anything.
  await writeFile(join(host, 'test.preset'), 'disable *\n');
  const sd = join(repo, 'systemd');
  const etc = '/etc/systemd/system';
  const binds = [
    `--bind=${opt}:/opt/edgeflow`,
    ...devInstall(repo, host, { current: false }),
    ...[
      'edgeflow-agent.service',
      'edgeflow-ota-rollback.service',
      'edgeflow-ota-check.service',
      'edgeflow-ota-check.timer',
    ].map((u) => `--bind-ro=${join(sd, u)}:${etc}/${u}`),
    `--bind-ro=${join(sd, 'edgeflow-agent.service.d/ota.conf')}:${etc}/${UNIT}.d/ota.conf`,
    `--bind-ro=${join(host, 'zz-test-timeouts.conf')}:${etc}/${UNIT}.d/zz-test-timeouts.conf`,
    `--bind-ro=${join(host, 'test.preset')}:/etc/systemd/system-preset/00-edgeflow-test.preset`,
  ];
  const c = await bootContainer(binds, join(host, 'console.log'), (s) => t.diagnostic(s));
  t.after(() => c.stop());
  const r: Rig = {
    c,
    host,
    ota: (args, env) => c.exec([TOOL, ...args], env),
    async state() {
      const s = r.ota(['status', '--json']); // reconciles an agent-reported commit
      assert.equal(s.status, 0, s.stderr);
      return JSON.parse(await readFile(join(opt, 'state', 'ota.json'), 'utf8')) as Awaited<
        ReturnType<Rig['state']>
      >;
    },
    journal: () => c.exec(['journalctl', '-u', UNIT, '-o', 'cat', '--no-pager']).stdout,
    active: () => c.exec(['systemctl', 'is-active', UNIT]).stdout.trim() === 'active',
  };
  const install = (v: string, env?: Record<string, string>) =>
    r.ota(
      [
        'install',
        `/opt/edgeflow/bundles/${v}.tar.gz`,
        '--board',
        'test-board',
        '--device-id',
        'dev-1',
        '--probation',
        '2',
        '--deadline',
        '120',
      ],
      env,
    );
  const i1 = install('1.0.0');
  assert.equal(i1.status, 0, i1.stderr);
  await c.waitFor('1.0.0 READY', () =>
    r.journal().includes('test-release 1.0.0: READY=1 sent') && r.active() ? true : undefined,
  );
  (r as Rig & { install: typeof install }).install = install;
  return r;
}

function install2(
  r: Rig,
  env?: Record<string, string>,
): { status: number; stdout: string; stderr: string } {
  return (
    r as Rig & { install: (v: string, env?: Record<string, string>) => ReturnType<Rig['ota']> }
  ).install('1.1.0', env);
}

function lastIndex(s: string, needle: string): number {
  return s.lastIndexOf(needle);
}

const missing = nspawnMissing();

async function expectRollback(t: TestContext, behavior: Behavior, reason: RegExp): Promise<void> {
  const started = Date.now();
  const r = await rig(t, behavior);
  const i = install2(r);
  assert.equal(i.status, 0, i.stderr);
  let state: Awaited<ReturnType<Rig['state']>> | undefined;
  const end = Date.now() + 90_000;
  for (;;) {
    state = await r.state();
    if (state.history.some((h) => h.event === 'rolled-back') && r.active()) break;
    assert.ok(Date.now() < end, `no rollback: ${JSON.stringify(state)}\n${r.journal()}`);
    await new Promise((res) => setTimeout(res, 250));
  }
  const rb = state.history.find((h) => h.event === 'rolled-back');
  assert.equal(state.current, '1.0.0');
  assert.equal(state.trial, null);
  assert.match(rb?.reason ?? '', reason);
  const j = r.journal();
  await r.c.waitFor('1.0.0 READY after rollback', () =>
    lastIndex(r.journal(), 'test-release 1.0.0: READY=1 sent') >
    lastIndex(r.journal(), 'rolled back 1.1.0 -> 1.0.0')
      ? true
      : undefined,
  );
  assert.ok(j.includes('rolled back 1.1.0 -> 1.0.0'), j);
  t.diagnostic(`scenario ${behavior}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

describe('OTA under a real systemd (nspawn)', { skip: missing ?? false, concurrency: 1 }, () => {
  test('a good release is committed after its probation window', async (t) => {
    const started = Date.now();
    const r = await rig(t, 'good');
    assert.equal(install2(r).status, 0);
    await r.c.waitFor('commit', () =>
      r.journal().includes('test-release 1.1.0: trial committed') ? true : undefined,
    );
    const s = await r.state();
    assert.equal(s.current, '1.1.0');
    assert.equal(s.trial, null);
    assert.ok(s.history.some((h) => h.event === 'committed' && h.version === '1.1.0'));
    assert.ok(!s.history.some((h) => h.event === 'rolled-back'));
    assert.ok(r.active());
    t.diagnostic(`scenario good-commits: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  test('crash after READY rolls back', (t) => expectRollback(t, 'crash-after-ready', /exit-code/));
  test('never READY (start timeout) rolls back', (t) =>
    expectRollback(t, 'never-ready', /timeout/));
  test('event-loop hang -> watchdog -> rolls back', (t) => expectRollback(t, 'hang', /watchdog/));
  test('failed health check rolls back', (t) =>
    expectRollback(t, 'bad-health', /health check failed/));

  test('a committed release that restarts once stays', async (t) => {
    const started = Date.now();
    const r = await rig(t, 'good');
    assert.equal(install2(r).status, 0);
    await r.c.waitFor('commit', () =>
      r.journal().includes('test-release 1.1.0: trial committed') ? true : undefined,
    );
    assert.equal((await r.state()).trial, null);
    const before = r.c.exec(['systemctl', 'show', '-p', 'MainPID', '--value', UNIT]).stdout.trim();
    r.c.exec(['systemctl', 'kill', '--signal=SIGKILL', UNIT]);
    await r.c.waitFor('restart', () => {
      const pid = r.c.exec(['systemctl', 'show', '-p', 'MainPID', '--value', UNIT]).stdout.trim();
      return pid !== before && pid !== '0' && r.active() ? true : undefined;
    });
    const s = await r.state();
    assert.equal(s.current, '1.1.0');
    assert.ok(!s.history.some((h) => h.event === 'rolled-back'), JSON.stringify(s.history));
    t.diagnostic(
      `scenario committed-restart-stays: ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });

  test('OnFailure rollback service rolls back a trial and restarts the agent', async (t) => {
    const started = Date.now();
    const r = await rig(t, 'good');
    assert.equal(
      r.ota([
        'install',
        '/opt/edgeflow/bundles/1.1.0.tar.gz',
        '--board',
        'test-board',
        '--device-id',
        'dev-1',
        '--probation',
        '600',
      ]).status,
      0,
    );
    await r.c.waitFor('1.1.0 READY', () =>
      r.journal().includes('test-release 1.1.0: READY=1 sent') ? true : undefined,
    );
    const res = r.c.exec(['systemctl', 'start', 'edgeflow-ota-rollback.service']);
    assert.equal(res.status, 0, res.stderr);
    const s = await r.state();
    assert.equal(s.current, '1.0.0');
    assert.match(
      s.history.find((h) => h.event === 'rolled-back')?.reason ?? '',
      /service failed during trial/,
    );
    await r.c.waitFor('1.0.0 back', () =>
      lastIndex(r.journal(), 'test-release 1.0.0: READY=1 sent') >
      lastIndex(r.journal(), 'test-release 1.1.0: READY=1 sent')
        ? true
        : undefined,
    );
    t.diagnostic(`scenario onfailure-service: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  for (const step of INSTALL_STEPS.filter((s) => s !== 'downloaded')) {
    test(`installer killed (SIGKILL) at "${step}": the next start runs a working release`, async (t) => {
      const started = Date.now();
      const r = await rig(t, 'good');
      const i = install2(r, { EDGEFLOW_OTA_TEST_KILL_AT: step });
      assert.notEqual(i.status, 0, `installer was not killed at ${step}`);
      // Power loss: the service restarts with whatever the disk holds.
      r.c.exec(['systemctl', 'restart', UNIT]);
      await r.c.waitFor('a release READY', () => (r.active() ? true : undefined));
      const s = await r.state();
      assert.ok(s.current === '1.0.0' || s.current === '1.1.0', JSON.stringify(s));
      const link = r.c.exec(['readlink', '/opt/edgeflow/current']).stdout.trim();
      assert.equal(link, `releases/${s.current}`);
      const run = r.c.exec(['/opt/edgeflow/current/run.sh']);
      assert.equal(run.stdout.trim(), s.current);
      await r.c.waitFor(`${s.current} READY`, () =>
        r
          .journal()
          .split('\n')
          .filter((l) => l.includes(`test-release ${s.current ?? ''}: READY=1 sent`)).length >=
        (s.current === '1.0.0' ? 2 : 1)
          ? true
          : undefined,
      );
      t.diagnostic(
        `scenario kill-at-${step}: ${((Date.now() - started) / 1000).toFixed(1)} s -> ${s.current}`,
      );
    });
  }
});

if (missing) test('OTA under a real systemd (nspawn)', (t) => t.skip(missing));
