// ER-OTA-DRILL for real: systemd 252 as PID 1 (nspawn) runs the real agent as
// edgeflow-agent.service with the shipped units and OTA hooks; `edgeready run` runs inside the
// container as an operator runs it on a board. One device, drilled five times in a row: healthy,
// then each failure the check names. After every drill the device must be back on a committed
// release with the agent serving (the drill never leaves it on a trial or the failing release).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nspawnMissing } from '@edgeflow/ota/testing/nspawn';
import { makeBundle } from '@edgeflow/ota/testing/releases';
import type { Report } from '../../src/report/build.js';
import {
  AGENT_URL,
  IN_TEST,
  UNIT,
  bootDevice,
  edgeready,
  readReport,
  type Device,
} from './ota-drill-rig.js';

const missing = nspawnMissing();
const cliJs = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const TOOL = '/opt/edgeflow/tool/bin/edgeflow-ota';
/** Checks with a time limit may fail on a loaded machine; everything else must not. */
const TIME_LIMITED = new Set(['ER-MQTT-LATENCY', 'ER-MQTT-THROUGHPUT', 'ER-SYS-FSYNC']);

let d: Device;

/** A short functional run against the unit's agent; returns the report and the drill's row. */
async function drillRun(t: TestContext, name: string, extra: readonly string[]) {
  const t0 = Date.now();
  const r = edgeready(d, [
    'run',
    '--mode',
    'functional',
    '--out',
    `${IN_TEST}/runs/${name}`,
    '--board',
    'sim',
    '--agent-url',
    AGENT_URL,
    '--agent-token-file',
    `${IN_TEST}/token`,
    '--rate',
    '50',
    '--publishers',
    '1',
    ...extra,
  ]);
  t.diagnostic(
    `edgeready run ${extra.join(' ')}: exit ${r.status} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  const report = await readReport(d, name);
  const drill = report.checks.find((c) => c.id === 'ER-OTA-DRILL');
  assert.ok(drill, 'no ER-OTA-DRILL in the report');
  t.diagnostic(`ER-OTA-DRILL: ${drill.status}: ${drill.detail}`);
  t.diagnostic(`verdict: ${report.verdict}`);
  return { status: r.status, stderr: r.stderr, report, drill };
}

/** The drill left the device on a committed release, the unit's agent serving it. */
function assertRestored(expectCurrent?: RegExp): void {
  const s = d.run([TOOL, 'status', '--json']);
  assert.equal(s.status, 0, s.stderr);
  const st = JSON.parse(s.stdout) as { current: string; trial: unknown };
  assert.equal(st.trial, null, `left on a trial: ${s.stdout}`);
  if (expectCurrent) assert.match(st.current, expectCurrent);
  assert.equal(d.show('ActiveState'), 'active');
}

function failedChecks(report: Report): string[] {
  return report.checks.filter((c) => c.status === 'fail').map((c) => c.id);
}

/** A drill that fails: verdict fail, only the drill (and time limits under load) failing. */
function assertDrillFails(out: Awaited<ReturnType<typeof drillRun>>, reason: RegExp): void {
  assert.equal(out.status, 1, out.stderr.slice(-2000));
  assert.equal(out.report.verdict, 'fail');
  assert.equal(out.drill.status, 'fail');
  assert.match(out.drill.detail, reason);
  const others = failedChecks(out.report).filter((id) => id !== 'ER-OTA-DRILL');
  assert.deepEqual(
    others.filter((id) => !TIME_LIMITED.has(id)),
    [],
    JSON.stringify(others),
  );
}

describe(
  'ER-OTA-DRILL under systemd (nspawn, the real agent as edgeflow-agent.service)',
  { skip: missing ?? false, concurrency: 1, timeout: 1_800_000 },
  () => {
    before(async () => {
      d = await bootDevice((s) => process.stderr.write(`# ${s}\n`));
    });
    after(() => d?.c.stop());

    test('a healthy install: the drill is a real pass; the run stays pass (simulated) on the simulated board', async (t) => {
      const out = await drillRun(t, 'healthy', [
        '--ota-drill-key',
        `${IN_TEST}/fleet.key`,
        '--ota-drill-probation',
        '3s',
      ]);
      for (const c of out.report.checks) t.diagnostic(`  ${c.id}: ${c.status}`);
      const failed = failedChecks(out.report);
      if (failed.length === 0) {
        assert.equal(out.status, 3, out.stderr.slice(-2000));
        assert.equal(out.report.verdict, 'pass (simulated)');
      } else
        assert.deepEqual(
          failed.filter((id) => !TIME_LIMITED.has(id)),
          [],
        );
      assert.equal(out.drill.status, 'pass', out.drill.detail);
      assert.match(
        out.drill.detail,
        /^under systemd \(edgeflow-agent\): 1\.0\.0-edgeready\.\d+\.1 committed [\d.]+ s after its install, 1\.0\.0-edgeready\.\d+\.2 rolled back to 1\.0\.0-edgeready\.\d+\.1 and served again in [\d.]+ s \(restarted during trial after service result "exit-code" \(exited 1\)\); 1 automatic restart\(s\) by systemd$/,
      );
      // The drill's own evidence: the unit's journal with the failing start and the rollback.
      const ev = out.drill.executions.at(-1)?.evidence as {
        journal: string[];
        history: { event: string }[];
      };
      assert.ok(
        ev.journal.some((l) => l.includes('fails on purpose')),
        ev.journal.join('\n'),
      );
      assert.ok(
        ev.journal.some((l) => /rolled back .* -> 1\.0\.0-edgeready/.test(l)),
        ev.journal.join('\n'),
      );
      assert.deepEqual(
        ev.history.map((h) => h.event),
        ['installed', 'trial-started', 'committed', 'installed', 'trial-started', 'rolled-back'],
      );
      assertRestored(/^1\.0\.0-edgeready\.\d+\.1$/);
      // verify-report re-judges the drill from the archive's raw evidence.
      const dir = join(d.test, 'runs', 'healthy');
      const archive = (await readdir(dir)).find((f) => /^edgeready-ER-[A-Z2-7-]+\.tar$/.test(f));
      assert.ok(archive);
      const v = spawnSync(
        process.execPath,
        [
          cliJs,
          'verify-report',
          join(dir, archive),
          '--enrolment',
          join(dir, 'state/enrolment.json'),
        ],
        { encoding: 'utf8' },
      );
      t.diagnostic(
        v.stdout
          .split('\n')
          .filter((l) => /rejudge|ok:|REJECTED/.test(l))
          .join('\n'),
      );
      assert.equal(v.status, 0, v.stdout + v.stderr);
    });

    test('commit never happens: the "good" bundle fails its trial', async (t) => {
      const pair = drillBundles('never-commits');
      const out = await drillRun(t, 'no-commit', [
        '--ota-drill-bundle',
        pair.bad,
        '--ota-drill-bad',
        pair.bad,
        '--ota-drill-probation',
        '3s',
      ]);
      assertDrillFails(
        out,
        /^commit never happened: the good release 1\.0\.0-edgeready\.\d+\.2 was rolled back \(restarted during trial after service result "exit-code" \(exited 1\)\)$/,
      );
      assertRestored();
    });

    test('rollback never happens: the "failing" bundle is healthy and commits', async (t) => {
      const pair = drillBundles('never-rolls-back');
      await copyFile(
        await makeBundle(d.test, d.release, '1.0.1', d.keyPem, { boards: ['*'] }),
        join(d.test, 'healthy-1.0.1.tar.gz'),
      );
      const out = await drillRun(t, 'no-rollback', [
        '--ota-drill-bundle',
        pair.good,
        '--ota-drill-bad',
        `${IN_TEST}/healthy-1.0.1.tar.gz`,
        '--ota-drill-probation',
        '3s',
      ]);
      assertDrillFails(
        out,
        /^rollback never happened: the failing release 1\.0\.1 was committed \(then: rolled back 1\.0\.1 by hand \(edgeflow-ota rollback\)\)$/,
      );
      assertRestored(/^1\.0\.0-edgeready\.\d+\.1$/);
    });

    test('rollback too slow: longer than --ota-rollback-limit', async (t) => {
      const out = await drillRun(t, 'slow-rollback', [
        '--ota-drill-key',
        `${IN_TEST}/fleet.key`,
        '--ota-drill-probation',
        '3s',
        '--ota-rollback-limit',
        '0.5',
      ]);
      assertDrillFails(
        out,
        /^rollback too slow: [\d.]+ s from the install of 1\.0\.0-edgeready\.\d+\.2 until edgeflow-agent served 1\.0\.0-edgeready\.\d+\.1 again > 0\.5 s \(--ota-rollback-limit\)$/,
      );
      assertRestored(/^1\.0\.0-edgeready\.\d+\.1$/);
    });

    test('the agent on the wrong release: a unit pinned to a copy outside the OTA releases', async (t) => {
      const pin = [
        'cp -a "$(readlink -f /opt/edgeflow/current)" /opt/edgeflow/pinned',
        `mkdir -p /run/systemd/system/${UNIT}.d`,
        `printf '[Service]\\nExecStart=\\nExecStart=/opt/edgeflow/pinned/bin/edgeflow agent\\n' > /run/systemd/system/${UNIT}.d/zz-pinned.conf`,
        'systemctl daemon-reload',
        `systemctl restart ${UNIT}`,
      ].join(' && ');
      const p = d.run(['sh', '-c', pin]);
      assert.equal(p.status, 0, p.stderr);
      t.after(() => {
        d.run([
          'sh',
          '-c',
          `rm -rf /run/systemd/system/${UNIT}.d /opt/edgeflow/pinned && systemctl daemon-reload && systemctl restart ${UNIT}`,
        ]);
      });
      const out = await drillRun(t, 'wrong-release', [
        '--ota-drill-key',
        `${IN_TEST}/fleet.key`,
        '--ota-drill-probation',
        '3s',
      ]);
      assertDrillFails(
        out,
        /agent on the wrong release after the drill: edgeflow-agent \(PID \d+\) runs \/opt\/edgeflow\/node\/bin\/node \/opt\/edgeflow\/pinned\/bin\/\.\.\/agent\/dist\/src\/cli\.js agent, expected releases\/1\.0\.0-edgeready\.\d+\.1/,
      );
      // The pinned agent never ran the failing release, so nothing rolled it back either.
      assert.match(
        out.drill.detail,
        /rollback never happened: the failing release .* was committed/,
      );
      assertRestored(/^1\.0\.0-edgeready\.\d+\.1$/);
    });
  },
);

/** `edgeready ota-drill-bundles` on the host (where the key lives): paths inside the device. */
function drillBundles(name: string): { good: string; bad: string } {
  const r = spawnSync(
    process.execPath,
    [
      cliJs,
      'ota-drill-bundles',
      '--from',
      d.release,
      '--version',
      '1.0.0',
      '--key',
      join(d.test, 'fleet.key'),
      '--out',
      join(d.test, name),
      '--json',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const b = JSON.parse(r.stdout) as { good: { file: string }; bad: { file: string } };
  const inside = (f: string) => f.replace(d.test, IN_TEST);
  return { good: inside(b.good.file), bad: inside(b.bad.file) };
}

if (missing) test('ER-OTA-DRILL under systemd', (t) => t.skip(missing));
