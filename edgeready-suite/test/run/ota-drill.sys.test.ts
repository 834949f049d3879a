import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nspawnMissing } from '@edgeflow/ota/testing/nspawn';
import { bootDevice, edgeready, readReport, AGENT_URL, IN_TEST, type Device } from './ota-drill-rig.js';

const missing = nspawnMissing();

/** A short functional run against the unit's agent, with the drill options given. */
function run(d: Device, name: string, extra: readonly string[]) {
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
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

describe('ER-OTA-DRILL under systemd (nspawn, the real agent as edgeflow-agent.service)', { skip: missing ?? false, concurrency: 1 }, () => {
  test('a healthy install: the real drill passes; the run is still pass (simulated) on the simulated board', { timeout: 900_000 }, async (t) => {
    const d = await bootDevice((s) => t.diagnostic(s));
    t.after(() => d.c.stop());
    const r = run(d, 'healthy', ['--ota-drill-key', `${IN_TEST}/fleet.key`, '--ota-drill-probation', '3s']);
    t.diagnostic(`edgeready run: exit ${r.status} in ${r.seconds.toFixed(1)} s\n${r.stderr.slice(-3000)}`);
    const report = await readReport(d, 'healthy');
    const drill = report.checks.find((c) => c.id === 'ER-OTA-DRILL');
    t.diagnostic(`ER-OTA-DRILL: ${drill?.status} ${drill?.detail}`);
    for (const c of report.checks) t.diagnostic(`${c.id}: ${c.status} ${c.detail.slice(0, 300)}`);
    t.diagnostic(`verdict ${report.verdict}`);
    assert.equal(drill?.status, 'pass', drill?.detail);
  });
});

if (missing) test('ER-OTA-DRILL under systemd', (t) => t.skip(missing));
